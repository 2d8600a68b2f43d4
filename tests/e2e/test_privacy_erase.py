"""`dihflow privacy erase --email`: an external contact's name, address, IP and user agent are
replaced by a pseudonym in the store, the documents' metadata and the outbox of ended cases; the
timeline still verifies with an erasure event; signed documents are listed, not altered; a case
still running is reported, not erased."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from dihflow.cli import main
from domain.timeline import TimelineEvent, verify_chain
from store.db import session_scope
from store.models import Document, OutboxMessage, Signature
from store.privacy import pseudonym_for
from tests.conftest import Stack
from tests.e2e.helpers import LEAD, PARTNER, act, link_token, mail_sent, read, start_case

pytestmark = pytest.mark.e2e
PERSON = {
    "name": "Quinta do Vale Erasmo",
    "country": "PT",
    "contact_name": "Rita Erasmo",
    "email": "rita.erasmo@quinta.example",
}


def personal_in(text: str) -> list[str]:
    return [v for v in (PERSON["email"], PERSON["contact_name"], PERSON["name"]) if v in text]


async def test_erasure_pseudonymises_ended_cases_and_keeps_signed_documents(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    case = await start_case(stack, client=PERSON, title="Vineyard yield forecasting")
    cid = case["id"]
    assert (await act(stack, f"hub_member:{PARTNER}", cid, "accept-invitation")).status_code == 200
    draft = (await act(stack, "legal", cid, "approve-draft")).json()["draft"]
    sign = {"document_sha256": draft["sha256"]}
    for who in (f"hub_signatory:{LEAD}", f"hub_signatory:{PARTNER}"):
        assert (await act(stack, who, cid, "sign", sign)).status_code == 200
    token = await link_token(stack, cid, "sign")
    r = await stack.http.post(
        f"/v1/links/{token}",
        json={**sign, "signer_name": PERSON["contact_name"]},
        headers={"User-Agent": "Vineyard-Browser/1.0"},
    )
    assert r.status_code == 200, r.text
    r = await act(stack, f"hub_member:{LEAD}", cid, "cancel", {"reason": "the client withdrew"})
    assert r.status_code == 200, r.text
    running = (await start_case(stack, client=PERSON, title="Cellar sensors"))["id"]
    await mail_sent(stack, cid)
    with session_scope(stack.settings.database_url) as session:
        signed_files = {
            d.id: d.sha256 for d in session.exec(select(Document).where(Document.case_id == cid))
        }

    for name, value in {
        "DIHFLOW_DATABASE_URL": stack.settings.database_url,
        "DIHFLOW_VAR_DIR": str(stack.settings.var_dir),
        "DIHFLOW_OUTBOX_DIR": str(stack.settings.outbox_dir),
        "DIHFLOW_DOCUMENTS_DIR": str(stack.settings.documents_dir),
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["privacy", "erase", "--email", PERSON["email"].upper()]) == 3
    said = capsys.readouterr().out
    assert (
        f"still running, not erased (their workflows hold the data until they end): {running}"
        in said
    )
    assert "kept as signed evidence" in said and draft["document_id"] in said

    pseudonym = pseudonym_for(PERSON["email"])
    seen = await read(stack, "back_office", cid)
    assert seen["client"]["name"] == pseudonym and seen["client"]["email"].startswith(pseudonym)
    assert personal_in(json.dumps(seen)) == []
    with session_scope(stack.settings.database_url) as session:
        signature = session.exec(
            select(Signature).where(Signature.case_id == cid, Signature.party == "client")
        ).one()
        assert (signature.signer_name, signature.ip, signature.user_agent) == (pseudonym, "", "")
        documents = session.exec(select(Document).where(Document.case_id == cid)).all()
        assert personal_in(json.dumps([d.variables for d in documents])) == []
        assert {d.id: d.sha256 for d in documents} == signed_files  # evidence untouched
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.case_id == cid)).all()
        assert rows and personal_in(json.dumps([(r.recipient, r.payload) for r in rows])) == []
    r = await stack.http.get(f"/v1/cases/{cid}/timeline", headers=stack.auth("back_office"))
    events = [TimelineEvent(**e) for e in r.json()["items"]]
    assert verify_chain(events, cid) == [] and events[-1].type == "personal_data_erased"
    assert events[-1].hash == (await read(stack, "back_office", cid))["head_hash"]
    # the running case keeps its data until it ends
    assert (await read(stack, "back_office", running))["client"]["email"] == PERSON["email"]

    assert main(["privacy", "erase", "--email", PERSON["email"]]) == 3  # again: nothing more
    again = await stack.http.get(f"/v1/cases/{cid}/timeline", headers=stack.auth("back_office"))
    assert len(again.json()["items"]) == len(events)
