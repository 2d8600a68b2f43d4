"""The Legal queue, Templates, Hubs and Network pages in process (ASGI, a real SQLite store):
what each shows, who may open it, and that a form without its token changes nothing. The
steps that reach a workflow are driven in the browser test against the real stack."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, date, datetime, timedelta

import docx
import httpx
import pytest
from sqlmodel import func, select

from base.settings import Settings
from documents.files import store_file
from domain.cases import DraftComment
from domain.digests import sha256_hex
from domain.hubs import HubProfile
from domain.timeline import GENESIS, chain_event
from store.db import session_scope
from store.models import Case, Document, Hub, TemplateVersion
from store.records import project_case
from tests.store.test_store import make_facts
from tests.web.conftest import csrf_of, sign_in

XSS = "<script>window.pwned=1</script>"


def small_docx(*paragraphs: str) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def case_in_review(settings: Settings, case_id: str, title: str, texts: list[str]) -> None:
    """A case in legal review whose drafts (one per text) are stored as real .docx files."""
    rendered = datetime(2026, 3, 1, tzinfo=UTC)
    docs = []
    for version, text in enumerate(texts, start=1):
        content = small_docx("Specific collaboration agreement", text)
        digest = sha256_hex(content)
        path = store_file(settings.documents_dir, digest, content, ".docx")
        docs.append(
            Document(
                id=f"{case_id}-v{version}",
                case_id=case_id,
                version=version,
                template="specific_collaboration_agreement",
                template_version="1",
                template_sha256="c" * 64,
                variables_sha256="d" * 64,
                sha256=digest,
                path=str(path.relative_to(settings.documents_dir)),
                size=len(content),
                variables={"context": {"scope": text, "title": title}, "fixed_time": "x"},
                created_at=rendered + timedelta(days=version),
            )
        )
    last = docs[-1]
    event = chain_event(0, GENESIS, "case_requested", "system", rendered.isoformat(), {})
    comments = [
        DraftComment(version=v, comments=f"Round {v}: {XSS}", by="principal:x", at="2026-03-02")
        for v in range(1, len(texts))
    ]
    facts = make_facts(
        case_id,
        events=[event],
        title=title,
        state="legal_review",
        review_comments=comments,
        draft={
            "version": last.version,
            "document_id": last.id,
            "sha256": last.sha256,
            "template": last.template,
            "template_version": "1",
        },
    )
    with session_scope(settings.database_url) as session:
        project_case(session, facts, [event])
        session.flush()
        for doc in docs:
            session.add(doc)


async def signed_in(web: httpx.AsyncClient, username: str) -> httpx.AsyncClient:
    answer = await sign_in(web, username)
    assert answer.status_code == 303, answer.text
    return web


# --- the legal queue ----------------------------------------------------------------------


async def test_legal_queue_lists_drafts_oldest_first_with_titles_as_text(
    web: httpx.AsyncClient, web_settings: Settings
) -> None:
    case_in_review(web_settings, "c-newer", "Newer draft", ["Scope: one.", "Scope: two."])
    case_in_review(web_settings, "c-older", f"Older {XSS}", ["Scope: audit."])
    with session_scope(web_settings.database_url) as session:  # the older draft is older
        older = session.get_one(Document, "c-older-v1")
        older.created_at = datetime(2026, 2, 1, tzinfo=UTC)
        session.add(older)
    await signed_in(web, "counsel")

    html = (await web.get("/legal")).text

    assert html.index("c-older") < html.index("c-newer")
    assert XSS not in html and "Older &lt;script&gt;" in html
    assert "version 2" in html and "revised" in html


async def test_review_page_shows_the_diff_variables_and_comment_rounds(
    web: httpx.AsyncClient, web_settings: Settings
) -> None:
    case_in_review(web_settings, "c-1", "Cork audit", ["Scope: audit.", "Scope: audit and pilot."])
    await signed_in(web, "counsel")

    page = await web.get("/legal/c-1")

    assert page.status_code == 200
    html = page.text
    assert re.search(r"<del>.*Scope: audit\.</del>", html)
    assert re.search(r"<ins>.*Scope: audit and pilot\.</ins>", html)
    assert "Variables that changed" in html and "<code>scope</code>" in html
    assert "Round 1: &lt;script&gt;" in html and XSS not in html
    assert 'action="/legal/c-1/approve-draft"' in html
    assert 'action="/legal/c-1/request-changes"' in html
    download = await web.get("/legal/c-1/documents/c-1-v2")
    assert download.status_code == 200 and download.content.startswith(b"PK")
    assert download.headers["x-document-sha256"] == sha256_hex(download.content)
    assert (await web.get("/legal/c-1/documents/other-v1")).status_code == 404


async def test_back_office_reads_the_review_page_without_the_legal_forms(
    web: httpx.AsyncClient, web_settings: Settings
) -> None:
    case_in_review(web_settings, "c-1", "Cork audit", ["Scope: audit."])
    await signed_in(web, "office")

    html = (await web.get("/legal/c-1")).text

    assert "read-only for you" in html and "/approve-draft" not in html
    assert "nothing to compare" in html


async def test_review_step_without_the_form_token_is_refused_and_changes_nothing(
    web: httpx.AsyncClient, web_settings: Settings
) -> None:
    case_in_review(web_settings, "c-1", "Cork audit", ["Scope: audit."])
    await signed_in(web, "counsel")

    answer = await web.post("/legal/c-1/request-changes", data={"comments": "Clause 4"})

    assert answer.status_code == 403
    with session_scope(web_settings.database_url) as session:
        assert session.get_one(Case, "c-1").state == "legal_review"


async def test_request_changes_without_comments_names_the_field(
    web: httpx.AsyncClient, web_settings: Settings
) -> None:
    case_in_review(web_settings, "c-1", "Cork audit", ["Scope: audit."])
    await signed_in(web, "counsel")
    token = csrf_of((await web.get("/legal/c-1")).text)

    answer = await web.post(
        "/legal/c-1/request-changes", data={"comments": " ", "csrf_token": token}
    )

    assert answer.status_code == 422
    assert 'role="alert"' in answer.text and "comments" in answer.text


async def test_back_office_may_not_approve_a_draft(
    web: httpx.AsyncClient, web_settings: Settings
) -> None:
    case_in_review(web_settings, "c-1", "Cork audit", ["Scope: audit."])
    await signed_in(web, "office")
    token = csrf_of((await web.get("/legal")).text)

    answer = await web.post("/legal/c-1/approve-draft", data={"csrf_token": token})

    assert answer.status_code == 403
    with session_scope(web_settings.database_url) as session:
        assert session.get_one(Case, "c-1").state == "legal_review"


async def test_empty_legal_queue_says_so(web: httpx.AsyncClient) -> None:
    await signed_in(web, "counsel")

    html = (await web.get("/legal")).text

    assert "No draft is waiting for review" in html


# --- templates ----------------------------------------------------------------------------

SCHEMA = {
    "type": "object",
    "properties": {"party": {"type": "string"}, "years": {"type": "integer"}},
    "required": ["party", "years"],
}


async def upload(
    web: httpx.AsyncClient, content: bytes, schema: object, example: object, token: str
) -> httpx.Response:
    return await web.post(
        "/templates/mutual_nda/preview",
        data={
            "schema": json.dumps(schema),
            "example": json.dumps(example),
            "description": "short NDA",
            "csrf_token": token,
        },
        files={"file": ("nda.docx", content, "application/octet-stream")},
    )


def published(settings: Settings) -> int:
    with session_scope(settings.database_url) as session:
        return session.exec(select(func.count()).select_from(TemplateVersion)).one()


async def test_templates_page_lists_every_template_and_its_variables(
    web: httpx.AsyncClient,
) -> None:
    await signed_in(web, "office")

    listing = (await web.get("/templates")).text.lower()
    detail = (await web.get("/templates/specific_collaboration_agreement")).text

    assert "mutual nda" in listing and "co development agreement" in listing
    assert "<code>tasks</code>" in detail and "Variables" in detail
    assert "Publish a new version" not in detail  # the legal helpdesk publishes


async def test_an_upload_is_checked_then_published_on_confirmation(
    web: httpx.AsyncClient, web_settings: Settings
) -> None:
    await signed_in(web, "counsel")
    token = csrf_of((await web.get("/templates/mutual_nda")).text)
    content = small_docx("{{ party }} keeps secrets for {{ years }} years.")

    preview = await upload(web, content, SCHEMA, {"party": "Tagus", "years": 3}, token)

    assert preview.status_code == 200, preview.text
    assert "passes every check" in preview.text and "rendered" in preview.text
    assert published(web_settings) == 0
    confirm = {
        name: re.search(rf'name="{name}" value="([^"]*)"', preview.text).group(1)  # type: ignore[union-attr]
        for name in ("sha256", "schema", "example", "description")
    }
    confirm = {k: v.replace("&#34;", '"').replace("&quot;", '"') for k, v in confirm.items()}
    done = await web.post("/templates/mutual_nda/publish", data={**confirm, "csrf_token": token})
    assert done.status_code == 303 and done.headers["location"].endswith("published=2")
    assert published(web_settings) == 1
    page = (await web.get(done.headers["location"])).text
    assert "Version 2 is published" in page and "&#34;party&#34;: &#34;Tagus&#34;" in page


async def test_an_upload_with_undeclared_variables_shows_why_and_saves_nothing(
    web: httpx.AsyncClient, web_settings: Settings
) -> None:
    await signed_in(web, "counsel")
    token = csrf_of((await web.get("/templates/mutual_nda")).text)
    content = small_docx("{{ party }} and {{ secret_clause }} for {{ years }} years.")

    preview = await upload(web, content, SCHEMA, {"party": "Tagus", "years": 3}, token)

    assert preview.status_code == 422
    assert "undeclared: secret_clause" in preview.text and "/publish" not in preview.text
    assert published(web_settings) == 0


async def test_back_office_may_not_upload_a_template(web: httpx.AsyncClient) -> None:
    await signed_in(web, "office")
    token = csrf_of((await web.get("/templates/mutual_nda")).text)

    answer = await upload(web, small_docx("{{ party }}"), SCHEMA, {}, token)

    assert answer.status_code == 403


# --- hubs and network ---------------------------------------------------------------------


async def test_hubs_list_filters_are_kept_in_the_url(web: httpx.AsyncClient) -> None:
    await signed_in(web, "office")

    everything = (await web.get("/hubs")).text
    portuguese = (await web.get("/hubs?country=PT")).text

    assert everything.count('href="/hubs/') > portuguese.count('href="/hubs/') > 0
    assert '<option value="PT" selected>' in portuguese
    assert "tagus-ai" in portuguese


async def test_hubs_search_without_a_letter_is_a_friendly_error(web: httpx.AsyncClient) -> None:
    await signed_in(web, "office")

    html = (await web.get("/hubs?text=%2A%2A")).text

    assert 'role="alert"' in html and "letter or digit" in html


async def test_hub_page_shows_representatives_and_cases(
    web: httpx.AsyncClient, web_settings: Settings
) -> None:
    case_in_review(web_settings, "c-1", "Cork audit", ["Scope: audit."])
    await signed_in(web, "office")

    html = (await web.get("/hubs/tagus-ai")).text

    assert "Representatives and mandates" in html and "current" in html
    assert 'href="/cases/c-1"' in html
    assert (await web.get("/hubs/nope")).status_code == 404


async def test_hub_page_marks_an_expired_mandate(
    web: httpx.AsyncClient, web_settings: Settings
) -> None:
    with session_scope(web_settings.database_url) as session:
        hub = session.get_one(Hub, "tagus-ai")
        profile = HubProfile.model_validate(hub.profile)
        ended = profile.representatives[0].model_copy(update={"mandate_until": date(2025, 1, 31)})
        hub.profile = profile.model_copy(
            update={"representatives": [ended, *profile.representatives[1:]]}
        ).model_dump(mode="json")
        session.add(hub)
    await signed_in(web, "office")

    html = (await web.get("/hubs/tagus-ai")).text

    row = html[html.index(ended.name) :].split("</tr>", 1)[0]
    assert "until 2025-01-31" in row and '<span class="badge bad">expired</span>' in row


@pytest.mark.parametrize("path", ["/hubs", "/hubs/tagus-ai", "/network"])
async def test_legal_may_not_open_back_office_pages(web: httpx.AsyncClient, path: str) -> None:
    await signed_in(web, "counsel")

    assert (await web.get(path)).status_code == 403


async def test_network_figures_link_to_the_filtered_cases_list(
    web: httpx.AsyncClient, web_settings: Settings
) -> None:
    case_in_review(web_settings, "c-1", "Cork audit", ["Scope: audit."])
    await signed_in(web, "office")

    html = (await web.get("/network")).text

    assert 'href="/cases?scenario=joint_service&amp;state=legal_review"' in html
    assert 'href="/cases?overdue=yes"' in html
