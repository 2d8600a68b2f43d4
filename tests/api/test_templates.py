"""The template library, documents outside cases, published versions and provenance."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import docx
import httpx
import pytest

from base.settings import Settings
from dihflow.cli import main
from documents.library import verify
from documents.rendering import docx_text
from store.db import session_scope

SPECIFIC = "specific_collaboration_agreement"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def specific_variables(**changes: object) -> dict:  # type: ignore[type-arg]
    party = {"country": "Portugal", "representative": ""}
    variables = {
        "case_ref": "ADHOC-1",
        "version": 1,
        "issued_on": str(date(2026, 11, 24)),
        "title": "Data audit for a hospital",
        "need": "An audit of imaging data before an AI pilot.",
        "scope": "Data audit and recommendations.",
        "lead": {"id": "tagus-ai", "name": "Tagus AI Hub", "role": "lead", **party},
        "partners": [{"id": "spree-trust", "name": "Spree Trust Lab", "role": "partner", **party}],
        "client": {"id": "client", "name": "Hospital Exemplo", "role": "client", **party},
        "tasks": [
            {"party": "Tagus AI Hub", "description": "Audit", "cost_share_pct": 60},
            {"party": "Spree Trust Lab", "description": "Assessment", "cost_share_pct": 40},
        ],
        "start_date": "2026-12-01",
        "end_date": "2027-03-31",
        "framework_reference": "FCA 2026",
    }
    return variables | changes


async def test_templates_are_listed_with_their_variables_schema(
    api: httpx.AsyncClient, keys
) -> None:  # type: ignore[no-untyped-def]
    listing = (await api.get("/v1/templates", headers=bearer(keys["hub_member"]))).json()["items"]
    names = {t["name"] for t in listing}
    assert {SPECIFIC, "co_development_agreement", "mutual_nda"} <= names
    detail = (await api.get(f"/v1/templates/{SPECIFIC}", headers=bearer(keys["legal"]))).json()
    assert detail["version"] == 1 and {"client", "tasks", "lead"} <= set(
        detail["variables_schema"]["properties"]
    )
    missing = await api.get("/v1/templates/nope", headers=bearer(keys["legal"]))
    assert missing.status_code == 404


async def test_helpdesk_generates_a_document_and_it_verifies(
    api: httpx.AsyncClient,
    keys,
    api_settings: Settings,
    capsys: pytest.CaptureFixture[str],
    monkeypatch,
) -> None:  # type: ignore[no-untyped-def]
    body = {
        "template": SPECIFIC,
        "variables": specific_variables(
            client={
                "id": "client",
                "name": "ACME {{ 7*7 }} <w:p> & Co",
                "role": "client",
                "country": "Portugal",
            }
        ),
    }
    headers = bearer(keys["legal"]) | {"Idempotency-Key": "doc-1"}
    r = await api.post("/v1/documents", json=body, headers=headers)
    assert r.status_code == 201, r.text
    info = r.json()
    again = await api.post("/v1/documents", json=body, headers=headers)
    assert again.json()["id"] == info["id"]  # the same key and body: the same document
    file = await api.get(info["download_url"], headers=bearer(keys["legal"]))
    assert file.headers["x-document-sha256"] == info["sha256"]
    text = docx_text(file.content)
    assert "ACME {{ 7*7 }} <w:p> & Co" in text and "49" not in text.split("ACME")[1][:20]
    assert docx.Document(io.BytesIO(file.content))  # a real .docx
    mine = (await api.get("/v1/documents", headers=bearer(keys["legal"]))).json()["items"]
    assert [d["id"] for d in mine] == [info["id"]]

    with session_scope(api_settings.database_url) as session:
        assert verify(session, api_settings.documents_dir, info["id"]) == []
    monkeypatch.setenv("DIHFLOW_DATABASE_URL", api_settings.database_url)
    monkeypatch.setenv("DIHFLOW_DOCUMENTS_DIR", str(api_settings.documents_dir))
    monkeypatch.setenv("DIHFLOW_VAR_DIR", str(api_settings.var_dir))
    assert main(["documents", "verify", info["id"]]) == 0
    assert info["sha256"] in capsys.readouterr().out

    stored = next(Path(api_settings.documents_dir).rglob(f"{info['sha256']}.docx"))
    stored.write_bytes(stored.read_bytes() + b"tampered")
    assert main(["documents", "verify", info["id"]]) == 1
    assert "changed after rendering" in capsys.readouterr().out


async def test_bad_variables_are_422_naming_each_field(api: httpx.AsyncClient, keys) -> None:  # type: ignore[no-untyped-def]
    variables = specific_variables(version="first", colour="red")
    del variables["scope"]
    r = await api.post(
        "/v1/documents",
        json={"template": SPECIFIC, "variables": variables},
        headers=bearer(keys["legal"]),
    )
    assert r.status_code == 422
    assert {"version", "colour", "scope"} <= {e["field"] for e in r.json()["errors"]}


async def test_only_legal_generates_documents(api: httpx.AsyncClient, keys) -> None:  # type: ignore[no-untyped-def]
    body = {"template": SPECIFIC, "variables": specific_variables()}
    for who in ("hub_member", "back_office"):
        assert (
            await api.post("/v1/documents", json=body, headers=bearer(keys[who]))
        ).status_code == 403


def small_template(text: str) -> bytes:
    document = docx.Document()
    document.add_heading("Letter of intent", level=1)
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


async def publish(api: httpx.AsyncClient, key: str, content: bytes, schema: dict, example: dict):  # type: ignore[no-untyped-def, type-arg]
    return await api.post(
        "/v1/templates/mutual_nda/versions",
        headers=bearer(key),
        data={
            "schema": json.dumps(schema),
            "example": json.dumps(example),
            "description": "short NDA",
        },
        files={"file": ("nda.docx", content, "application/octet-stream")},
    )


SCHEMA = {
    "type": "object",
    "properties": {"party": {"type": "string"}, "years": {"type": "integer"}},
    "required": ["party", "years"],
    "additionalProperties": False,
}


async def test_helpdesk_publishes_a_version_and_earlier_ones_stay(
    api: httpx.AsyncClient, keys
) -> None:  # type: ignore[no-untyped-def]
    content = small_template("{{ party }} keeps secrets for {{ years }} years.")
    r = await publish(api, keys["legal"], content, SCHEMA, {"party": "Tagus", "years": 3})
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 2
    listed = (await api.get("/v1/templates/mutual_nda", headers=bearer(keys["legal"]))).json()
    assert listed["version"] == 2 and listed["variables_schema"] == SCHEMA
    old = await api.get(
        "/v1/templates/mutual_nda", params={"version": 1}, headers=bearer(keys["legal"])
    )
    assert old.json()["version"] == 1 and "parties" in old.json()["variables_schema"]["properties"]
    doc = await api.post(
        "/v1/documents",
        json={"template": "mutual_nda", "version": 2, "variables": {"party": "Fjord", "years": 5}},
        headers=bearer(keys["legal"]),
    )
    assert doc.status_code == 201 and doc.json()["template_version"] == "2"
    text = docx_text(
        (await api.get(doc.json()["download_url"], headers=bearer(keys["legal"]))).content
    )
    assert "Fjord keeps secrets for 5 years." in text
    wrong = await api.post(
        "/v1/documents",
        json={
            "template": "mutual_nda",
            "version": 2,
            "variables": {"party": "Fjord", "years": "five"},
        },
        headers=bearer(keys["legal"]),
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "years"


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("{{ party }} and {{ secret_clause }}", "schema.properties"),  # undeclared variable
        ("{{ party.__class__.__mro__ }} {{ years }}", "variables"),  # refused by the sandbox
        ("{% if party %}unclosed", "file"),  # broken template
    ],
    ids=["undeclared-variable", "sandbox-escape", "broken-template"],
)
async def test_unsafe_or_inconsistent_version_is_refused(
    api: httpx.AsyncClient, keys, text: str, field: str
) -> None:  # type: ignore[no-untyped-def]
    r = await publish(
        api, keys["legal"], small_template(text), SCHEMA, {"party": "Tagus", "years": 3}
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field
    listed = (await api.get("/v1/templates/mutual_nda", headers=bearer(keys["legal"]))).json()
    assert listed["version"] == 1  # nothing was published


async def test_only_legal_publishes_versions(api: httpx.AsyncClient, keys) -> None:  # type: ignore[no-untyped-def]
    r = await publish(
        api, keys["back_office"], small_template("{{ party }}"), SCHEMA, {"party": "x", "years": 1}
    )
    assert r.status_code == 403


async def test_same_idempotency_key_publishes_one_version(api: httpx.AsyncClient, keys) -> None:  # type: ignore[no-untyped-def]
    content = small_template("{{ party }} for {{ years }} years.")
    fields = {"schema": json.dumps(SCHEMA), "example": json.dumps({"party": "x", "years": 1})}
    headers = bearer(keys["legal"]) | {"Idempotency-Key": "nda-v2"}

    async def send():  # type: ignore[no-untyped-def]
        return await api.post(
            "/v1/templates/mutual_nda/versions",
            headers=headers,
            data=fields,
            files={"file": ("nda.docx", content, "application/octet-stream")},
        )

    first, again = await send(), await send()
    assert first.status_code == again.status_code == 201
    assert first.json()["version"] == again.json()["version"] == 2
    listing = (await api.get("/v1/templates", headers=bearer(keys["legal"]))).json()["items"]
    assert next(t for t in listing if t["name"] == "mutual_nda")["versions"] == [1, 2]


async def test_verify_detects_a_changed_template(
    api: httpx.AsyncClient, keys, api_settings: Settings, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import shutil

    import documents.library as library
    from documents.rendering import TEMPLATES_DIR

    body = {"template": SPECIFIC, "variables": specific_variables()}
    doc = (await api.post("/v1/documents", json=body, headers=bearer(keys["legal"]))).json()
    changed = tmp_path / "agreements"
    shutil.copytree(TEMPLATES_DIR, changed)
    template = changed / f"{SPECIFIC}.docx"
    edited = docx.Document(str(template))
    edited.add_paragraph("An extra clause slipped in.")
    edited.save(str(template))
    monkeypatch.setattr(library, "TEMPLATES_DIR", changed)
    with session_scope(api_settings.database_url) as session:
        problems = verify(session, api_settings.documents_dir, doc["id"])
    assert any("template" in p and "changed" in p for p in problems)
    assert any("re-rendering gives different bytes" in p for p in problems)


async def test_a_runaway_template_is_a_422_naming_the_limit_and_nothing_is_published(
    api: httpx.AsyncClient, keys, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from documents import bounded

    monkeypatch.setattr(bounded, "DEFAULT", bounded.Limits(cpu_seconds=1, wall_seconds=30))
    loops = (
        "{% for i in range(100000) %}{% for j in range(100000) %}{{ party }}{% endfor %}"
        "{% endfor %}"
    )
    r = await publish(
        api,
        keys["legal"],
        small_template(loops + " {{ years }}"),
        SCHEMA,
        {"party": "T", "years": 3},
    )
    assert r.status_code == 422, r.text
    assert "CPU" in r.text
    listed = (await api.get("/v1/templates/mutual_nda", headers=bearer(keys["legal"]))).json()
    assert listed["version"] == 1


@pytest.mark.parametrize(
    ("text", "example"),
    [
        ("{{ party.__class__.__mro__ }} {{ years }}", {"party": "Tagus", "years": 3}),
        ("{{ party }} for {{ years }} years", {"party": "Tagus", "years": "three"}),
    ],
    ids=["refused-by-the-sandbox", "example-not-fitting"],
)
async def test_a_refused_version_leaves_no_file_in_the_store(
    api: httpx.AsyncClient, api_settings, keys, text: str, example: dict
) -> None:  # type: ignore[no-untyped-def, type-arg]
    import hashlib

    content = small_template(text)
    r = await publish(api, keys["legal"], content, SCHEMA, example)
    assert r.status_code == 422, r.text
    digest = hashlib.sha256(content).hexdigest()
    assert not (api_settings.documents_dir / digest[:2] / f"{digest}.docx").exists()
