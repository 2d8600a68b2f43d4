"""What the staff pages compute beside the store: the template upload preview (nothing saved)
and the readable diff between two draft versions."""

from __future__ import annotations

import io
import json
from pathlib import Path

import docx
import pytest
from sqlmodel import func, select

from api.drafts import DiffLine, document_diff, text_diff, variables_diff
from api.template_upload import check_upload, stage_upload, staged_upload
from documents import library
from store.db import migrate, session_scope
from store.models import Document, TemplateVersion

SCHEMA = {
    "type": "object",
    "properties": {"party": {"type": "string"}, "years": {"type": "integer"}},
    "required": ["party", "years"],
}
EXAMPLE = {"party": "Tagus", "years": 3}


def small_template(*paragraphs: str) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    migrate(url)
    return url


def check(store: str, tmp_path: Path, content: bytes, schema: object, example: object):  # type: ignore[no-untyped-def]
    with session_scope(store) as session:
        return check_upload(
            session,
            tmp_path / "docs",
            "mutual_nda",
            content,
            json.dumps(schema),
            json.dumps(example),
        )


def test_upload_check_passes_a_good_version_and_saves_nothing(store: str, tmp_path: Path) -> None:
    content = small_template("{{ party }} keeps secrets for {{ years }} years.")

    result = check(store, tmp_path, content, SCHEMA, EXAMPLE)

    assert result.ok and result.rendered and result.next_version == 2
    assert result.used == ["party", "years"] and result.undeclared == []
    with session_scope(store) as session:
        assert session.exec(select(func.count()).select_from(TemplateVersion)).one() == 0
    assert not (tmp_path / "docs").exists()


@pytest.mark.parametrize(
    ("paragraph", "schema", "example", "field"),
    [
        ("{{ party }} {{ secret_clause }}", SCHEMA, EXAMPLE, "schema.properties"),
        ("{{ party }} {{ years }}", SCHEMA, {"party": "Tagus", "years": "three"}, "example.years"),
        ("{{ party.__class__.__mro__ }} {{ years }}", SCHEMA, EXAMPLE, "file"),  # the sandbox
        ("{% if party %}unclosed", SCHEMA, EXAMPLE, "file"),
        ("{{ party }}", {"type": "array"}, EXAMPLE, "schema"),
        ("{{ party }}", {"type": 7}, EXAMPLE, "schema"),
    ],
    ids=["undeclared", "example", "sandbox", "syntax", "not-object", "not-schema"],
)
def test_upload_check_names_the_field_of_each_problem(
    store: str, tmp_path: Path, paragraph: str, schema: object, example: object, field: str
) -> None:
    result = check(store, tmp_path, small_template(paragraph), schema, example)

    assert not result.ok and not result.rendered
    assert field in [p["field"] for p in result.problems], result.problems


def test_upload_check_reports_json_that_does_not_parse(store: str, tmp_path: Path) -> None:
    with session_scope(store) as session:
        result = check_upload(
            session, tmp_path, "mutual_nda", small_template("{{ party }}"), "{", "[]"
        )

    assert {p["field"] for p in result.problems} >= {"schema", "example"}
    assert result.used == ["party"]


def test_upload_check_refuses_an_unknown_template(store: str, tmp_path: Path) -> None:
    with session_scope(store) as session, pytest.raises(library.TemplateProblem) as exc:
        check_upload(session, tmp_path, "nope", b"", "{}", "{}")
    assert exc.value.status == 404


def test_staged_upload_is_found_by_its_hash_only(tmp_path: Path) -> None:
    content = small_template("{{ party }}")
    digest = stage_upload(tmp_path, content)

    assert staged_upload(tmp_path, digest) == content
    assert staged_upload(tmp_path, "0" * 64) is None
    assert staged_upload(tmp_path, "../" + digest[3:]) is None


def test_text_diff_shows_changes_with_context_and_gaps() -> None:
    old = ["Title", "a", "b", "c", "d", "e", "f", "Clause 9: old"]
    new = ["Title", "a", "b", "c", "d", "e", "f", "Clause 9: new", "Annex"]

    diff = text_diff(["Title changed", *old[1:]], new, context=1)

    assert diff == [
        DiffLine("removed", "Title changed"),
        DiffLine("added", "Title"),
        DiffLine("same", "a"),
        DiffLine("gap", "…"),
        DiffLine("same", "f"),
        DiffLine("removed", "Clause 9: old"),
        DiffLine("added", "Clause 9: new"),
        DiffLine("added", "Annex"),
    ]
    assert text_diff(old, old) == []


def test_document_diff_reads_both_stored_versions(tmp_path: Path) -> None:
    paths = []
    for n, text in enumerate(("Scope: audit.", "Scope: audit and pilot.")):
        (tmp_path / f"v{n}.docx").write_bytes(small_template("Agreement", text))
        paths.append(
            Document(
                id=f"d{n}",
                template="t",
                template_version="1",
                template_sha256="",
                variables_sha256="",
                sha256="",
                path=f"v{n}.docx",
                size=0,
            )
        )

    diff = document_diff(tmp_path, paths[0], paths[1])

    assert [(d.kind, d.text) for d in diff] == [
        ("same", "Agreement"),
        ("removed", "Scope: audit."),
        ("added", "Scope: audit and pilot."),
    ]


def test_variables_diff_lists_changed_added_and_removed_names() -> None:
    changes = variables_diff({"a": 1, "b": [1], "c": "x"}, {"a": 1, "b": [2], "d": "y"})

    assert [(c.name, c.old, c.new) for c in changes] == [
        ("b", [1], [2]),
        ("c", "x", None),
        ("d", None, "y"),
    ]
