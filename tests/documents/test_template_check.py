"""The shipped templates are Word documents a lawyer edits: an edit is checked, not rebuilt."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest

from dihflow.cli import main
from documents.rendering import docx_text
from documents.template_check import (
    check_template,
    example_context,
    example_variables,
    template_file,
)
from domain.agreements import TEMPLATE_VARIABLES

NDA = "mutual_nda"


def _edited(name: str, *runs: str) -> bytes:
    """The shipped template with one paragraph appended, written as Word writes it: the text
    in several runs, a tag possibly cut between two of them."""
    document = docx.Document(str(template_file(name)))
    paragraph = document.add_paragraph()
    for i, text in enumerate(runs):
        run = paragraph.add_run(text)
        run.bold = i % 2 == 1  # a change of formatting is what makes Word start a new run
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.mark.parametrize("name", sorted(TEMPLATE_VARIABLES))
def test_each_shipped_template_passes_and_renders_its_example(name: str) -> None:
    result = check_template(name, template_file(name).read_bytes())

    assert result.problems == []
    assert result.preview is not None
    text = docx_text(result.preview)
    assert "{{" not in text and "{%" not in text
    assert str(example_context(name)["issued_on"]) in text


@pytest.mark.parametrize("name", sorted(TEMPLATE_VARIABLES))
def test_each_example_fits_its_variables_model(name: str) -> None:
    assert isinstance(example_variables(name), TEMPLATE_VARIABLES[name])


def test_a_lawyers_new_clause_with_a_tag_split_over_runs_renders() -> None:
    content = _edited(NDA, "Clause 14. Meetings are held under ", "{{ govern", "ing_law }}", ".")

    result = check_template(NDA, content)

    assert result.problems == []
    assert result.preview is not None
    law = example_context(NDA)["governing_law"]
    assert f"Clause 14. Meetings are held under {law}." in docx_text(result.preview)


def test_a_misspelt_variable_is_named_with_the_ones_that_exist() -> None:
    result = check_template(NDA, _edited(NDA, "Signed for {{ purpse }}"))

    assert result.preview is None
    assert len(result.problems) == 1
    assert "'purpse'" in result.problems[0]
    assert "purpose" in result.problems[0]


def test_a_tag_that_does_not_parse_is_reported_with_its_line() -> None:
    result = check_template(NDA, _edited(NDA, "{% if term %}an unclosed branch"))

    assert result.preview is None
    assert result.problems and "does not parse" in result.problems[0]


def test_a_file_that_is_not_a_word_document_is_refused() -> None:
    result = check_template(NDA, b"%PDF-1.7 not a docx")

    assert result.problems and "does not open as a .docx" in result.problems[0]


def test_an_unknown_template_name_is_refused() -> None:
    result = check_template("lease_agreement", template_file(NDA).read_bytes())

    assert result.problems and "no template is named 'lease_agreement'" in result.problems[0]


def test_cli_check_writes_the_preview_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edited = tmp_path / "nda.docx"
    edited.write_bytes(_edited(NDA, "Clause 14. A new clause."))
    preview = tmp_path / "preview.docx"

    code = main(["templates", "check", NDA, str(edited), "--preview", str(preview)])

    assert code == 0
    assert "ok: nda.docx can be used as mutual_nda" in capsys.readouterr().out
    assert "Clause 14. A new clause." in docx_text(preview.read_bytes())


def test_cli_check_names_the_problem_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edited = tmp_path / "nda.docx"
    edited.write_bytes(_edited(NDA, "{{ purpse }}"))

    code = main(["templates", "check", NDA, str(edited)])

    assert code == 1
    assert "problem: the template uses 'purpse'" in capsys.readouterr().out
