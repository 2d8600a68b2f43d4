"""Importing hubs from the back office's hub page (in process): the upload shows what would
happen and every problem by line and column, saves nothing; the confirmation imports the
valid rows and the registry says so; refusals change nothing."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import func
from sqlmodel import select

from base.settings import Settings
from domain.hubs import load_demo_network
from domain.registry import to_csv
from store.db import session_scope
from store.models import Hub
from tests.web.conftest import csrf_of, sign_in


def import_file() -> str:
    """Two new hubs, one changed demo hub, one unchanged, one row with an unknown code."""
    demo = load_demo_network()
    new = [
        demo[0].model_copy(update={"id": f"imported-{i}", "name": f"Imported Hub {i}"})
        for i in (1, 2)
    ]
    changed = demo[1].model_copy(update={"staff": demo[1].staff + 1})
    lines = "".join(to_csv([*new, changed, demo[2], demo[3]])).splitlines()
    lines[5] = lines[5].replace(f",{demo[3].organisation_type},", ",guild,", 1)
    return "\n".join(lines) + "\n"


def _hubs(settings: Settings) -> int:
    with session_scope(settings.database_url) as session:
        return int(session.exec(select(func.count()).select_from(Hub)).one())


async def _preview(web: httpx.AsyncClient, name: str, content: str) -> httpx.Response:
    token = csrf_of((await web.get("/hubs")).text)
    return await web.post(
        "/hubs/import/preview",
        data={"csrf_token": token},
        files={"file": (name, content.encode(), "text/csv")},
    )


async def test_upload_previews_counts_and_problems_then_confirm_imports_the_valid_rows(
    web: httpx.AsyncClient, web_settings: Settings
) -> None:
    await sign_in(web, "office")
    before = _hubs(web_settings)
    r = await _preview(web, "hubs.csv", import_file())
    assert r.status_code == 200, r.text
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r.text))
    assert "Rows read 5" in text and "New hubs 2" in text and "Hubs changed 1" in text
    assert "Hubs unchanged 1" in text and "Rows rejected 1" in text
    assert "6 8 (organisation_type) " in text  # line 6, column 8
    assert "unknown organisation type code &#39;guild&#39;" in r.text
    assert _hubs(web_settings) == before  # nothing saved yet

    sha = re.search(r'name="sha256" value="([0-9a-f]{64})"', r.text)
    assert sha
    r = await web.post(
        "/hubs/import",
        data={"csrf_token": csrf_of(r.text), "sha256": sha.group(1), "kind": "csv"},
    )
    assert r.status_code == 303 and r.headers["location"] == "/hubs?imported=2%2C1%2C1%2C1"
    assert _hubs(web_settings) == before + 2
    page = (await web.get(r.headers["location"])).text
    assert "Imported: 2 new hubs, 1 changed, 1 unchanged, 1 row left out." in page
    assert 'href="/hubs/imported-1"' in page


async def test_upload_of_another_kind_or_empty_is_refused_and_saves_nothing(
    web: httpx.AsyncClient, web_settings: Settings
) -> None:
    await sign_in(web, "office")
    before = _hubs(web_settings)
    r = await _preview(web, "hubs.xlsx", "id,name\n")
    assert r.status_code == 422 and "neither .csv nor .json" in r.text
    r = await _preview(web, "hubs.csv", "")
    assert r.status_code == 422 and "Choose a .csv or .json file" in r.text
    assert _hubs(web_settings) == before


async def test_confirm_without_a_staged_file_or_token_changes_nothing(
    web: httpx.AsyncClient, web_settings: Settings
) -> None:
    await sign_in(web, "office")
    before = _hubs(web_settings)
    token = csrf_of((await web.get("/hubs")).text)
    r = await web.post(
        "/hubs/import", data={"csrf_token": token, "sha256": "0" * 64, "kind": "csv"}
    )
    assert r.status_code == 422 and "upload it again" in r.text
    r = await web.post("/hubs/import", data={"sha256": "0" * 64, "kind": "csv"})
    assert r.status_code == 403
    assert _hubs(web_settings) == before


async def test_the_legal_helpdesk_cannot_import(web: httpx.AsyncClient) -> None:
    await sign_in(web, "counsel")
    token = csrf_of((await web.get("/templates")).text)
    r = await web.post(
        "/hubs/import/preview",
        data={"csrf_token": token},
        files={"file": ("hubs.csv", import_file().encode(), "text/csv")},
    )
    assert r.status_code == 403
