"""Downloads go through the file store interface: a store that is not a directory (as an
object store would be) serves them too."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.documents.test_file_store import MemoryFiles


@pytest.mark.asyncio
async def test_the_api_serves_a_document_through_the_store_it_is_given(
    api: httpx.AsyncClient, api_settings, keys, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Documents downloads ask ``files_for`` for the store: a store that is not a directory
    serves them too."""
    from sqlmodel import select

    import api.routes.templates as templates_routes
    from store.db import session_scope
    from store.models import Document

    body = {"template": "mutual_nda", "variables": _nda_example()}
    legal = {"Authorization": f"Bearer {keys['legal']}"}
    made = await api.post("/v1/documents", json=body, headers=legal)
    assert made.status_code == 201, made.text
    with session_scope(api_settings.database_url) as session:
        doc = session.exec(select(Document).where(Document.id == made.json()["id"])).one()
        key, content = doc.path, (Path(api_settings.documents_dir) / doc.path).read_bytes()
    memory = MemoryFiles(tmp_path / "cache")
    memory.blobs[key] = content
    monkeypatch.setattr(templates_routes, "files_for", lambda settings: memory)
    (Path(api_settings.documents_dir) / key).unlink()  # only the other store has it now
    r = await api.get(made.json()["download_url"], headers=legal)
    assert r.status_code == 200 and r.content == content


def _nda_example() -> dict:  # type: ignore[type-arg]
    import json

    from documents.rendering import TEMPLATES_DIR

    return json.loads((TEMPLATES_DIR / "mutual_nda.example.json").read_text())  # type: ignore[no-any-return]
