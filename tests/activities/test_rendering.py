"""Rendering of the Specific Collaboration Agreement: content, determinism, safety."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import docx
import pytest
from docxtpl import DocxTemplate
from jinja2 import Environment, StrictUndefined
from pydantic import ValidationError

from documents import rendering
from documents.rendering import (
    TEMPLATES_DIR,
    RenderError,
    docx_text,
    normalise_docx,
    render_docx,
)
from domain.agreements import (
    SPECIFIC_AGREEMENT_TEMPLATE,
    AgreementParty,
    AgreementTask,
    SpecificAgreementVariables,
)
from domain.digests import sha256_hex

TEMPLATE = TEMPLATES_DIR / f"{SPECIFIC_AGREEMENT_TEMPLATE}.docx"
FIXED_TIME = datetime(2025, 3, 14, 9, 30, 0)
INJECTION = "ACME {{ 7*7 }} <w:p> & Co {% if true %}x{% endif %}"


def example_variables(**overrides: object) -> SpecificAgreementVariables:
    fields: dict[str, object] = dict(
        case_ref="DIH-2025-0042",
        version=1,
        issued_on=date(2025, 3, 14),
        title="AI-based visual quality inspection for a metal parts manufacturer",
        need="Automated detection of surface defects on machined aluminium parts.",
        scope="Feasibility study, data audit and a proof-of-concept defect classifier.",
        lead=AgreementParty(
            id="hub-de-1",
            name="KI-Hub Baden",
            country="Germany",
            role="lead",
            representative="Dr. Anna Keller",
        ),
        partners=[
            AgreementParty(
                id="hub-it-2", name="AI4Industry Torino", country="Italy", role="partner"
            ),
            AgreementParty(id="hub-pl-3", name="Silesia AI Hub", country="Poland", role="partner"),
        ],
        client=AgreementParty(
            id="client-77", name="Metallwerk Süd GmbH", country="Germany", role="client"
        ),
        tasks=[
            AgreementTask(
                party="KI-Hub Baden", description="Coordination and data audit", cost_share_pct=40
            ),
            AgreementTask(
                party="AI4Industry Torino",
                description="Proof-of-concept defect classifier",
                cost_share_pct="35.5",
            ),
            AgreementTask(
                party="Silesia AI Hub",
                description="Test-before-invest run on the pilot line",
                cost_share_pct=24.5,
            ),
        ],
        start_date=date(2025, 4, 1),
        end_date=date(2025, 9, 30),
        framework_reference="FCA-AIDIH-2024/01",
    )
    fields.update(overrides)
    return SpecificAgreementVariables(**fields)


def render(variables: SpecificAgreementVariables | None = None) -> bytes:
    variables = variables or example_variables()
    return render_docx(TEMPLATE, variables.to_context(), fixed_time=FIXED_TIME)


@pytest.fixture(scope="module")
def rendered() -> bytes:
    return render()


def _cost_table(data: bytes) -> docx.table.Table:
    document = docx.Document(io.BytesIO(data))
    tables = [t for t in document.tables if t.rows[0].cells[0].text == "Party"]
    assert len(tables) == 1
    return tables[0]


# --- content ----------------------------------------------------------------------------


def test_render_contains_parties_scope_and_tasks(rendered: bytes) -> None:
    variables = example_variables()
    text = docx_text(rendered)

    for party in variables.parties:
        assert party.name in text
        assert f"For {party.name} (" in text  # one signature block per party
    assert variables.client.name in text
    assert variables.scope in text
    assert variables.need in text
    assert variables.framework_reference in text
    assert "2025-04-01" in text and "2025-09-30" in text
    assert "governed by the law of the lead hub's country." in text
    for task in variables.tasks:
        assert task.description in text
    assert "Dr. Anna Keller" in text
    for tag in ("{{", "}}", "{%", "%}"):
        assert tag not in text


def test_headings_use_word_heading_styles(rendered: bytes) -> None:
    document = docx.Document(io.BytesIO(rendered))
    headings = {
        p.text: p.style.name for p in document.paragraphs if p.style.name.startswith("Heading")
    }
    assert headings["3. Tasks and cost split"] == "Heading 1"
    assert headings["9. Governing law and disputes"] == "Heading 1"
    assert document.paragraphs[0].style.name == "Title"


def test_cost_table_has_one_row_per_task(rendered: bytes) -> None:
    variables = example_variables()
    table = _cost_table(rendered)
    body_rows = [[c.text for c in row.cells] for row in table.rows[1:-1]]  # minus header, total
    assert body_rows == [
        ["KI-Hub Baden", "Coordination and data audit", "40.00"],
        ["AI4Industry Torino", "Proof-of-concept defect classifier", "35.50"],
        ["Silesia AI Hub", "Test-before-invest run on the pilot line", "24.50"],
    ]
    assert len(body_rows) == len(variables.tasks)
    assert [c.text for c in table.rows[-1].cells] == ["Total", "", "100.00"]

    one_task = example_variables(
        tasks=[AgreementTask(party="KI-Hub Baden", description="Everything", cost_share_pct=100)]
    )
    assert len(_cost_table(render(one_task)).rows) == 1 + 1 + 1


# --- determinism ------------------------------------------------------------------------


def test_same_inputs_give_identical_bytes(rendered: bytes) -> None:
    again = render()
    assert again == rendered
    assert sha256_hex(again) == sha256_hex(rendered)
    assert len(sha256_hex(rendered)) == 64


def test_package_carries_fixed_timestamps_and_core_properties(rendered: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(rendered)) as zf:
        infos = zf.infolist()
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}
    names = [i.filename for i in infos]
    assert names[0] == "[Content_Types].xml"
    assert names[1:] == sorted(names[1:])

    core = docx.Document(io.BytesIO(rendered)).core_properties
    expected = FIXED_TIME.replace(tzinfo=UTC)
    assert core.created == expected
    assert core.modified == expected
    assert core.last_printed == expected
    assert core.last_modified_by == "dihflow"
    assert core.revision == 1


def test_aware_fixed_time_is_written_as_utc(rendered: bytes) -> None:
    cet = timezone(timedelta(hours=1))
    aware = render_docx(
        TEMPLATE,
        example_variables().to_context(),
        fixed_time=datetime(2025, 3, 14, 10, 30, tzinfo=cet),
    )
    assert aware == rendered


def test_normalise_docx_is_idempotent(rendered: bytes) -> None:
    assert normalise_docx(rendered) == rendered


def test_changed_input_changes_hash(rendered: bytes) -> None:
    base = sha256_hex(rendered)
    assert sha256_hex(render(example_variables(version=2))) != base
    assert sha256_hex(render(example_variables(scope="A different scope."))) != base
    other_time = render_docx(
        TEMPLATE, example_variables().to_context(), fixed_time=FIXED_TIME + timedelta(days=1)
    )
    assert sha256_hex(other_time) != base


# --- safety -----------------------------------------------------------------------------


def test_values_are_inserted_literally_never_evaluated() -> None:
    variables = example_variables(
        client=AgreementParty(id="client-77", name=INJECTION, country="Germany", role="client")
    )
    data = render(variables)

    document = docx.Document(io.BytesIO(data))  # still a valid package
    text = docx_text(data)
    assert f"{INJECTION}, established in Germany" in text
    assert f"For {INJECTION} (Client, Germany)" in text
    assert "ACME 49" not in text
    assert len(document.tables) == 1
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        xml = zf.read("word/document.xml").decode("utf-8")
    assert "&lt;w:p&gt; &amp; Co" in xml


def test_missing_variable_raises_render_error_naming_it() -> None:
    context = example_variables().to_context()
    del context["client"]
    with pytest.raises(RenderError, match="'client'"):
        render_docx(TEMPLATE, context, fixed_time=FIXED_TIME)

    context = example_variables().to_context()
    del context["tasks"][0]["description"]
    with pytest.raises(RenderError, match="'description'"):
        render_docx(TEMPLATE, context, fixed_time=FIXED_TIME)


def test_broken_template_raises_render_error(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("Dear {{ client.name ")
    document.add_paragraph("{% if %}")
    broken = tmp_path / "broken.docx"
    document.save(str(broken))
    with pytest.raises(RenderError, match="broken template broken.docx"):
        render_docx(broken, {"client": {"name": "x"}}, fixed_time=FIXED_TIME)


def test_control_characters_are_refused() -> None:
    context = example_variables().to_context()
    context["scope"] = "page\fbreak"
    with pytest.raises(RenderError, match="scope"):
        render_docx(TEMPLATE, context, fixed_time=FIXED_TIME)
    with pytest.raises(ValidationError, match="control character"):
        example_variables(scope="bell\a")


# --- variables model --------------------------------------------------------------------


def test_cost_shares_must_sum_to_100() -> None:
    tasks = [
        AgreementTask(party="KI-Hub Baden", description="Coordination", cost_share_pct=50),
        AgreementTask(party="Silesia AI Hub", description="Pilot", cost_share_pct="49.98"),
    ]
    with pytest.raises(ValidationError, match="sum to 100"):
        example_variables(tasks=tasks)
    tasks[1] = AgreementTask(party="Silesia AI Hub", description="Pilot", cost_share_pct="49.995")
    assert len(example_variables(tasks=tasks).tasks) == 2  # within 0.01


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="extra_forbidden"):
        example_variables(penalty_clause="1000 EUR per day")
    with pytest.raises(ValidationError, match="extra_forbidden"):
        AgreementParty(id="x", name="X", country="FR", role="partner", vat="FR123")


def test_end_date_must_be_after_start_date() -> None:
    with pytest.raises(ValidationError, match="must be after start_date"):
        example_variables(start_date=date(2025, 9, 30), end_date=date(2025, 4, 1))


def test_to_context_is_plain_and_orders_signatories() -> None:
    context = example_variables().to_context()
    assert context["issued_on"] == "2025-03-14"
    assert context["start_date"] == "2025-04-01"
    assert [s["name"] for s in context["signatories"]] == [
        "KI-Hub Baden",
        "AI4Industry Torino",
        "Silesia AI Hub",
        "Metallwerk Süd GmbH",
    ]
    assert [s["role"] for s in context["signatories"]] == ["lead", "partner", "partner", "client"]
    assert context["tasks"][1]["cost_share_pct"] == "35.50"


# --- committed template -------------------------------------------------------------------


# --- compiled once --------------------------------------------------------------------------


def test_a_template_is_compiled_once_and_renders_the_same_bytes_as_without_the_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    context = example_variables().to_context()
    first = render_docx(TEMPLATE, context, fixed_time=FIXED_TIME)
    made = (rendering.COMPILED.made, rendering.PATCHED.made)
    other = example_variables(title="Another case, the same template").to_context()
    again = render_docx(TEMPLATE, other, fixed_time=FIXED_TIME)
    assert (rendering.COMPILED.made, rendering.PATCHED.made) == made  # nothing compiled anew
    assert "Another case, the same template" in docx_text(again)
    # docxtpl's own path: a fresh environment and template class, nothing kept
    monkeypatch.setattr(rendering, "_SHIPPED", Environment(undefined=StrictUndefined))
    monkeypatch.setattr(rendering, "_PatchedOnce", DocxTemplate)
    assert render_docx(TEMPLATE, context, fixed_time=FIXED_TIME) == first
    assert render_docx(TEMPLATE, other, fixed_time=FIXED_TIME) == again


def test_an_edited_template_is_compiled_afresh(tmp_path: Path) -> None:
    for n, greeting in enumerate(("Dear {{ client.name }},", "Hello {{ client.name }}!")):
        document = docx.Document()
        document.add_paragraph(greeting)
        path = tmp_path / f"letter{n}.docx"  # as an upload checked under the same name would be
        document.save(str(path))
        text = docx_text(render_docx(path, {"client": {"name": "Ana"}}, fixed_time=FIXED_TIME))
        assert text.strip() == greeting.replace("{{ client.name }}", "Ana")


def test_a_cached_template_still_names_a_missing_variable() -> None:
    render_docx(TEMPLATE, example_variables().to_context(), fixed_time=FIXED_TIME)
    context = example_variables().to_context()
    del context["client"]
    with pytest.raises(RenderError, match="'client'"):
        render_docx(TEMPLATE, context, fixed_time=FIXED_TIME)


def test_the_source_cache_keeps_the_most_recently_used() -> None:
    cache = rendering.SourceCache(2)
    for source in ("a", "b", "a", "c"):  # "a" used again, so "b" is the one dropped
        cache.get(source, str.upper)
    assert list(cache.items) == ["a", "c"] and cache.made == 3
    assert cache.get("b", str.upper) == "B" and cache.made == 4
