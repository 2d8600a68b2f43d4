"""One-time links end to end: two uses at once give one step, and a sign link is bound to the
version it was sent for."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import Stack
from tests.e2e.helpers import PARTNER, act, link_token, read, start_case

pytestmark = pytest.mark.e2e
SIGNER = "Ana Ribeiro"


async def to_signing(stack: Stack) -> tuple[str, str]:
    cid = (await start_case(stack))["id"]
    r = await act(stack, f"hub_member:{PARTNER}", cid, "accept-invitation")
    assert r.status_code == 200, r.text
    r = await act(stack, "legal", cid, "approve-draft")
    assert r.status_code == 200, r.text
    return cid, r.json()["draft"]["sha256"]


async def test_two_uses_of_one_link_at_once_give_one_step(stack: Stack) -> None:
    cid, sha = await to_signing(stack)
    token = await link_token(stack, cid, "sign")
    body = {"document_sha256": sha, "signer_name": SIGNER}
    first, second = await asyncio.gather(
        stack.http.post(f"/v1/links/{token}", json=body),
        stack.http.post(f"/v1/links/{token}", json=body),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 410], (
        first.text,
        second.text,
    )
    r = await stack.http.get(f"/v1/cases/{cid}/timeline", headers=stack.auth("back_office"))
    signed = [e for e in r.json()["items"] if e["type"] == "signed"]
    assert [e["data"]["party"] for e in signed] == ["client"]


async def test_a_refused_use_gives_the_link_back(stack: Stack) -> None:
    cid, sha = await to_signing(stack)
    token = await link_token(stack, cid, "sign")
    wrong = await stack.http.post(f"/v1/links/{token}", json={"document_sha256": "0" * 64})
    assert wrong.status_code == 409, wrong.text
    right = await stack.http.post(
        f"/v1/links/{token}", json={"document_sha256": sha, "signer_name": SIGNER}
    )
    assert right.status_code == 200, right.text


async def test_a_link_for_version_1_cannot_sign_version_2(stack: Stack) -> None:
    cid, _ = await to_signing(stack)
    v1_link = await link_token(stack, cid, "sign")
    r = await act(
        stack, f"hub_signatory:{PARTNER}", cid, "decline-to-sign", {"reason": "name the DPO"}
    )
    assert r.status_code == 200, r.text
    r = await act(stack, "hub_member:tagus-ai", cid, "revise-draft", {"scope": "With a DPO."})
    assert r.status_code == 200, r.text
    r = await act(stack, "legal", cid, "approve-draft")
    assert r.status_code == 200 and r.json()["draft"]["version"] == 2, r.text
    v2_sha = r.json()["draft"]["sha256"]

    r = await stack.http.post(
        f"/v1/links/{v1_link}", json={"document_sha256": v2_sha, "signer_name": SIGNER}
    )
    assert r.status_code == 410, r.text
    assert "version 1" in r.json()["detail"]
    signatures = (await read(stack, "back_office", cid))["signatures"]
    assert all(s["party"] != "client" for s in signatures), signatures
