"""The Co-development Agreement and Mutual NDA templates: content, options, safety, models."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from pathlib import Path

import docx
import pytest
from pydantic import ValidationError

from documents.rendering import TEMPLATES_DIR, RenderError, docx_text, render_docx
from domain.agreements import (
    CO_DEVELOPMENT_TEMPLATE,
    NDA_TEMPLATE,
    SPECIFIC_AGREEMENT_TEMPLATE,
    TEMPLATE_VARIABLES,
    AgreementMilestone,
    AgreementParty,
    AgreementShare,
    CoDevelopmentAgreementVariables,
    NdaParty,
    NdaVariables,
    SpecificAgreementVariables,
)
from domain.digests import sha256_hex

CO_DEV = TEMPLATES_DIR / f"{CO_DEVELOPMENT_TEMPLATE}.docx"
NDA = TEMPLATES_DIR / f"{NDA_TEMPLATE}.docx"
FIXED_TIME = datetime(2025, 5, 2, 8, 0, 0)
INJECTION = "ACME {{ 7*7 }} <w:p> & Co {% if true %}x{% endif %}"
TAGS = ("{{", "}}", "{%", "%}")

IPR_SENTENCES = {
    "joint_ownership": "Foreground IP is owned jointly by all Parties in equal undivided shares",
    "lead_owned_with_licences": "All Foreground IP is owned by the Lead Hub.",
    "each_owns_foreground": "Each Party owns the Foreground IP that it generates.",
}


def co_dev_variables(**overrides: object) -> CoDevelopmentAgreementVariables:
    fields: dict[str, object] = dict(
        case_ref="DIH-2025-0107",
        version=1,
        issued_on=date(2025, 5, 2),
        title="A shared AI readiness assessment for agri-food SMEs",
        need="Agri-food SMEs lack a quick, comparable way to assess their AI readiness.",
        service_name="AgriAI Readiness Check",
        service_description="A one-day guided assessment with a scored report and a roadmap.",
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
        ipr_model="joint_ownership",
        background_ip={
            "hub-de-1": ["Readiness questionnaire v3", "Maturity scoring workbook"],
            "hub-it-2": ["Agri-food sensor data catalogue"],
        },
        milestones=[
            AgreementMilestone(
                title="Assessment method and questionnaire",
                party="KI-Hub Baden",
                due=date(2025, 7, 31),
            ),
            AgreementMilestone(
                title="Reporting tool", party="AI4Industry Torino", due=date(2025, 10, 31)
            ),
            AgreementMilestone(
                title="Pilot with three SMEs", party="Silesia AI Hub", due=date(2026, 1, 31)
            ),
        ],
        cost_shares=[
            AgreementShare(party="KI-Hub Baden", cost_share_pct=40),
            AgreementShare(party="AI4Industry Torino", cost_share_pct="32.5"),
            AgreementShare(party="Silesia AI Hub", cost_share_pct=27.5),
        ],
        start_date=date(2025, 6, 1),
        end_date=date(2026, 3, 31),
        framework_reference="FCA-AIDIH-2024/01",
    )
    fields.update(overrides)
    return CoDevelopmentAgreementVariables(**fields)


def nda_variables(**overrides: object) -> NdaVariables:
    fields: dict[str, object] = dict(
        case_ref="DIH-2025-0108",
        version=1,
        issued_on=date(2025, 5, 2),
        purpose="Computer vision for grading apples on a sorting line.",
        parties=[
            NdaParty(id="hub-de-1", name="KI-Hub Baden", country="Germany", kind="hub"),
            NdaParty(
                id="lp-17",
                name="OrchardVision UG",
                country="Germany",
                kind="local_player",
                representative="Jan Obst",
            ),
        ],
        governing_law="the law of Germany",
        framework_reference="FCA-AIDIH-2024/01",
    )
    fields.update(overrides)
    return NdaVariables(**fields)


def render(template: Path, variables: CoDevelopmentAgreementVariables | NdaVariables) -> bytes:
    return render_docx(template, variables.to_context(), fixed_time=FIXED_TIME)


@pytest.fixture(scope="module")
def co_dev() -> bytes:
    return render(CO_DEV, co_dev_variables())


@pytest.fixture(scope="module")
def nda() -> bytes:
    return render(NDA, nda_variables())


def _table(data: bytes, first_heading: str) -> docx.table.Table:
    document = docx.Document(io.BytesIO(data))
    tables = [t for t in document.tables if t.rows[0].cells[0].text == first_heading]
    assert len(tables) == 1
    return tables[0]


def _lines(data: bytes) -> list[str]:
    return docx_text(data).splitlines()


# --- Co-development Agreement: content -------------------------------------------------------


def test_co_development_names_parties_milestones_and_service(co_dev: bytes) -> None:
    variables = co_dev_variables()
    text = docx_text(co_dev)

    assert text.startswith("Co-development Agreement\n")
    for party in variables.parties:
        assert f". {party.name}, a European Digital Innovation Hub established in" in text
        assert f"For {party.name} (" in text  # one signature block per party
    assert "For KI-Hub Baden (Lead Hub, Germany)" in text
    assert "For Silesia AI Hub (Partner Hub, Poland)" in text
    assert "Dr. Anna Keller" in text
    for milestone in variables.milestones:
        assert milestone.title in text
    for value in (
        variables.need,
        variables.service_name,
        variables.service_description,
        variables.framework_reference,
        "2025-06-01",
        "2026-03-31",
        "governed by the law of the lead hub's country.",
        "in its service catalogue in the network",
        "after a successful Pilot",
    ):
        assert value in text
    assert "Client" not in text.replace("There is no client party", "")
    for tag in TAGS:
        assert tag not in text


def test_co_development_headings_use_word_heading_styles(co_dev: bytes) -> None:
    document = docx.Document(io.BytesIO(co_dev))
    styles = {p.text: p.style.name for p in document.paragraphs}
    assert document.paragraphs[0].style.name == "Title"
    for heading in (
        "Parties",
        "Recitals",
        "1. Definitions",
        "2. Scope and work plan",
        "3. Cost sharing",
        "4. Intellectual property",
        "5. Pilot and exploitation",
        "6. Confidentiality",
        "7. Personal data",
        "8. Liability",
        "9. Duration and termination",
        "10. Governing law and disputes",
        "Signatures",
    ):
        assert styles[heading] == "Heading 1"
    assert styles["Foreground IP"] == "Heading 2"
    assert styles["Background IP"] == "Heading 2"


def test_milestone_table_has_one_row_per_milestone(co_dev: bytes) -> None:
    rows = [[c.text for c in row.cells] for row in _table(co_dev, "No.").rows]
    assert rows == [
        ["No.", "Milestone", "Responsible party", "Due date"],
        ["M1", "Assessment method and questionnaire", "KI-Hub Baden", "2025-07-31"],
        ["M2", "Reporting tool", "AI4Industry Torino", "2025-10-31"],
        ["M3", "Pilot with three SMEs", "Silesia AI Hub", "2026-01-31"],
    ]
    one = co_dev_variables(
        milestones=[AgreementMilestone(title="All", party="KI-Hub Baden", due=date(2026, 3, 31))]
    )
    assert len(_table(render(CO_DEV, one), "No.").rows) == 2


def test_cost_share_table_lists_shares_and_total(co_dev: bytes) -> None:
    rows = [[c.text for c in row.cells] for row in _table(co_dev, "Party").rows]
    assert rows == [
        ["Party", "Cost share (%)"],
        ["KI-Hub Baden", "40.00"],
        ["AI4Industry Torino", "32.50"],
        ["Silesia AI Hub", "27.50"],
        ["Total", "100.00"],
    ]


@pytest.mark.parametrize("ipr_model", sorted(IPR_SENTENCES))
def test_each_ipr_option_renders_only_its_clause(ipr_model: str) -> None:
    data = render(CO_DEV, co_dev_variables(ipr_model=ipr_model))
    text = docx_text(data)
    lines = _lines(data)
    for option, sentence in IPR_SENTENCES.items():
        if option == ipr_model:
            assert text.count(sentence) == 1
        else:
            assert sentence not in text
    for number in ("4.1", "4.2", "4.3", "4.4"):
        assert sum(line.startswith(f"{number}\t") for line in lines) == 1
    foreground = lines.index("Foreground IP")
    assert lines[foreground + 1].startswith("4.1\t")
    assert lines[foreground + 4] == "Background IP"
    for tag in TAGS:
        assert tag not in text


def test_ipr_options_give_different_documents(co_dev: bytes) -> None:
    digests = {
        sha256_hex(render(CO_DEV, co_dev_variables(ipr_model=option))) for option in IPR_SENTENCES
    }
    assert len(digests) == 3
    assert sha256_hex(co_dev) in digests


def test_background_ip_is_listed_under_its_party(co_dev: bytes) -> None:
    lines = _lines(co_dev)
    baden = lines.index("Background IP of KI-Hub Baden:")
    assert lines[baden + 1 : baden + 4] == [
        "Readiness questionnaire v3",
        "Maturity scoring workbook",
        "Background IP of AI4Industry Torino:",
    ]
    assert lines[baden + 4 : baden + 7] == [
        "Agri-food sensor data catalogue",
        "Background IP of Silesia AI Hub:",
        "No background IP declared.",
    ]
    assert lines[baden + 7].startswith("4.6\t")
    assert lines.count("No background IP declared.") == 1

    document = docx.Document(io.BytesIO(co_dev))
    bullets = [p.text for p in document.paragraphs if p.style.name == "List Bullet"]
    assert bullets == [
        "Readiness questionnaire v3",
        "Maturity scoring workbook",
        "Agri-food sensor data catalogue",
        "No background IP declared.",
    ]


def test_empty_background_lists_mean_none_declared() -> None:
    lines = _lines(render(CO_DEV, co_dev_variables(background_ip={"hub-de-1": []})))
    for name in ("KI-Hub Baden", "AI4Industry Torino", "Silesia AI Hub"):
        index = lines.index(f"Background IP of {name}:")
        assert lines[index + 1] == "No background IP declared."
    assert lines.count("No background IP declared.") == 3


# --- NDA: content --------------------------------------------------------------------------


def test_nda_names_both_parties_purpose_and_term(nda: bytes) -> None:
    text = docx_text(nda)
    assert text.startswith("Mutual Non-Disclosure Agreement\n")
    assert "1. KI-Hub Baden, a European Digital Innovation Hub established in Germany;" in text
    assert "2. OrchardVision UG, a local player established in Germany." in text
    assert "For KI-Hub Baden (Hub, Germany)" in text
    assert "For OrchardVision UG (Local player, Germany)" in text
    assert "Name: Jan Obst" in text
    assert "Computer vision for grading apples on a sorting line." in text
    assert "remains in force for three (3) years." in text
    assert "governed by the law of Germany." in text
    assert "FCA-AIDIH-2024/01" in text
    for tag in TAGS:
        assert tag not in text


def test_nda_with_three_parties_lists_all_and_the_term() -> None:
    parties = [
        NdaParty(id="hub-de-1", name="KI-Hub Baden", country="Germany", kind="hub"),
        NdaParty(id="hub-fr-4", name="Occitanie IA Hub", country="France", kind="hub"),
        NdaParty(id="lp-17", name="OrchardVision UG", country="Germany", kind="local_player"),
    ]
    data = render(NDA, nda_variables(parties=parties, term_years=5))
    text = docx_text(data)
    assert "1. KI-Hub Baden, a European Digital Innovation Hub established in Germany;" in text
    assert "2. Occitanie IA Hub, a European Digital Innovation Hub established in France;" in text
    assert "3. OrchardVision UG, a local player established in Germany." in text
    for party in parties:
        assert text.count(f"For {party.name} (") == 1
    assert "remains in force for five (5) years." in text
    assert "for five (5) years after that end" in text
    assert "three (3)" not in text
    one_year = docx_text(render(NDA, nda_variables(term_years=1)))
    assert "remains in force for one (1) year." in one_year


def test_nda_headings_use_word_heading_styles(nda: bytes) -> None:
    document = docx.Document(io.BytesIO(nda))
    styles = {p.text: p.style.name for p in document.paragraphs}
    assert document.paragraphs[0].style.name == "Title"
    for heading in (
        "Parties",
        "Recitals",
        "1. Confidential Information",
        "2. Obligations",
        "3. Exclusions",
        "4. Term",
        "5. Return or destruction",
        "6. No licence and no further obligation",
        "7. Governing law and disputes",
        "Signatures",
    ):
        assert styles[heading] == "Heading 1"


# --- determinism and safety ------------------------------------------------------------------


def test_same_inputs_give_identical_bytes(co_dev: bytes, nda: bytes) -> None:
    assert render(CO_DEV, co_dev_variables()) == co_dev
    assert render(NDA, nda_variables()) == nda
    assert sha256_hex(render(CO_DEV, co_dev_variables(version=2))) != sha256_hex(co_dev)
    assert sha256_hex(render(NDA, nda_variables(term_years=4))) != sha256_hex(nda)
    for data in (co_dev, nda):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_co_development_values_are_inserted_literally() -> None:
    partner = AgreementParty(id="hub-x", name=INJECTION, country="Spain", role="partner")
    variables = co_dev_variables(
        partners=[partner],
        service_name=INJECTION,
        background_ip={"hub-x": [INJECTION]},
        milestones=[AgreementMilestone(title=INJECTION, party=INJECTION, due=date(2025, 9, 1))],
        cost_shares=[
            AgreementShare(party="KI-Hub Baden", cost_share_pct=50),
            AgreementShare(party=INJECTION, cost_share_pct=50),
        ],
    )
    data = render(CO_DEV, variables)
    text = docx_text(data)
    assert f"2. {INJECTION}, a European Digital Innovation Hub established in Spain" in text
    assert f"For {INJECTION} (Partner Hub, Spain)" in text
    assert f"Background IP of {INJECTION}:\n{INJECTION}\n" in text
    assert f"publishes the Service as “{INJECTION}”" in text
    assert "ACME 49" not in text
    assert len(docx.Document(io.BytesIO(data)).tables) == 2
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert "&lt;w:p&gt; &amp; Co" in zf.read("word/document.xml").decode("utf-8")


def test_nda_values_are_inserted_literally() -> None:
    parties = [
        NdaParty(id="hub-de-1", name="KI-Hub Baden", country="Germany", kind="hub"),
        NdaParty(id="lp-x", name=INJECTION, country="Austria", kind="local_player"),
    ]
    text = docx_text(render(NDA, nda_variables(parties=parties, purpose=INJECTION)))
    assert f"2. {INJECTION}, a local player established in Austria." in text
    assert f"For {INJECTION} (Local player, Austria)" in text
    assert f"(the “Purpose”): {INJECTION}" in text
    assert "ACME 49" not in text


def test_missing_variable_raises_render_error_naming_it() -> None:
    context = co_dev_variables().to_context()
    del context["ipr_model"]
    with pytest.raises(RenderError, match="'ipr_model'"):
        render_docx(CO_DEV, context, fixed_time=FIXED_TIME)
    context = nda_variables().to_context()
    del context["term"]
    with pytest.raises(RenderError, match="'term'"):
        render_docx(NDA, context, fixed_time=FIXED_TIME)


# --- variables models ------------------------------------------------------------------------


def test_cost_shares_must_sum_to_100() -> None:
    shares = [
        AgreementShare(party="KI-Hub Baden", cost_share_pct=50),
        AgreementShare(party="Silesia AI Hub", cost_share_pct="49.98"),
    ]
    with pytest.raises(ValidationError, match="cost shares must sum to 100"):
        co_dev_variables(cost_shares=shares)
    shares[1] = AgreementShare(party="Silesia AI Hub", cost_share_pct="49.995")
    assert len(co_dev_variables(cost_shares=shares).cost_shares) == 2  # within 0.01


def test_cost_shares_name_each_known_party_once() -> None:
    with pytest.raises(ValidationError, match="cost shares name parties that are not in"):
        co_dev_variables(cost_shares=[AgreementShare(party="Nowhere Hub", cost_share_pct=100)])
    twice = [
        AgreementShare(party="KI-Hub Baden", cost_share_pct=50),
        AgreementShare(party="KI-Hub Baden", cost_share_pct=50),
    ]
    with pytest.raises(ValidationError, match="cost share parties must be unique"):
        co_dev_variables(cost_shares=twice)


def test_milestone_for_unknown_party_is_refused() -> None:
    milestone = AgreementMilestone(title="Demo", party="Nowhere Hub", due=date(2025, 9, 1))
    with pytest.raises(ValidationError, match=r"milestones name parties .*'Nowhere Hub'"):
        co_dev_variables(milestones=[milestone])
    with pytest.raises(ValidationError, match="at least 1 item"):
        co_dev_variables(milestones=[])


def test_milestone_outside_the_term_is_refused() -> None:
    late = AgreementMilestone(title="Late", party="KI-Hub Baden", due=date(2026, 4, 1))
    with pytest.raises(ValidationError, match="'Late' is due on 2026-04-01, outside the term"):
        co_dev_variables(milestones=[late])


def test_background_ip_keyed_by_unknown_party_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"unknown party ids: \['KI-Hub Baden'\]"):
        co_dev_variables(background_ip={"KI-Hub Baden": ["keyed by name, not id"]})
    with pytest.raises(ValidationError, match="must not be blank"):
        co_dev_variables(background_ip={"hub-de-1": ["  "]})


def test_co_development_roles_dates_options_and_fields() -> None:
    client = AgreementParty(id="c-1", name="Metallwerk Süd GmbH", country="DE", role="client")
    with pytest.raises(ValidationError, match="must have role 'partner'"):
        co_dev_variables(partners=[client])
    with pytest.raises(ValidationError, match="lead must have role 'lead'"):
        co_dev_variables(lead=client)
    with pytest.raises(ValidationError, match="at least 1 item"):
        co_dev_variables(partners=[])
    same_name = AgreementParty(id="hub-x", name="KI-Hub Baden", country="AT", role="partner")
    with pytest.raises(ValidationError, match="party names must be unique"):
        co_dev_variables(partners=[same_name])
    with pytest.raises(ValidationError, match="must be after start_date"):
        co_dev_variables(start_date=date(2026, 3, 31), end_date=date(2025, 6, 1))
    with pytest.raises(ValidationError, match="literal_error"):
        co_dev_variables(ipr_model="public_domain")
    with pytest.raises(ValidationError, match="extra_forbidden"):
        co_dev_variables(client=client)
    with pytest.raises(ValidationError, match="control character"):
        co_dev_variables(service_description="bell\a")


def test_co_development_context_is_plain() -> None:
    context = co_dev_variables().to_context()
    assert [p["name"] for p in context["parties"]] == [
        "KI-Hub Baden",
        "AI4Industry Torino",
        "Silesia AI Hub",
    ]
    assert [p["background"] for p in context["parties"]] == [
        ["Readiness questionnaire v3", "Maturity scoring workbook"],
        ["Agri-food sensor data catalogue"],
        [],
    ]
    assert [s["role"] for s in context["signatories"]] == ["lead", "partner", "partner"]
    assert context["milestones"][0] == {
        "title": "Assessment method and questionnaire",
        "party": "KI-Hub Baden",
        "due": "2025-07-31",
    }
    assert context["cost_shares"][1] == {"party": "AI4Industry Torino", "cost_share_pct": "32.50"}
    assert context["total_cost_share_pct"] == "100.00"
    assert context["ipr_model"] == "joint_ownership"
    assert context["start_date"] == "2025-06-01"


def test_nda_with_a_single_party_is_refused() -> None:
    alone = [NdaParty(id="hub-de-1", name="KI-Hub Baden", country="Germany", kind="hub")]
    with pytest.raises(ValidationError, match="at least 2 items"):
        nda_variables(parties=alone)


def test_nda_parties_term_and_fields_are_checked() -> None:
    twin = [
        NdaParty(id="a", name="Same Name", country="Germany", kind="hub"),
        NdaParty(id="b", name="Same Name", country="France", kind="local_player"),
    ]
    with pytest.raises(ValidationError, match="party names must be unique"):
        nda_variables(parties=twin)
    twin = [
        NdaParty(id="a", name="One", country="Germany", kind="hub"),
        NdaParty(id="a", name="Two", country="France", kind="local_player"),
    ]
    with pytest.raises(ValidationError, match="party ids must be unique"):
        nda_variables(parties=twin)
    for years in (0, 11):
        with pytest.raises(ValidationError, match="term_years"):
            nda_variables(term_years=years)
    assert nda_variables().term_years == 3
    with pytest.raises(ValidationError, match="literal_error"):
        NdaParty(id="x", name="X", country="FR", kind="client")
    with pytest.raises(ValidationError, match="extra_forbidden"):
        nda_variables(penalty="1000 EUR")


def test_nda_context_is_plain() -> None:
    context = nda_variables().to_context()
    assert context["term"] == "three (3) years"
    assert context["term_years"] == 3
    assert context["issued_on"] == "2025-05-02"
    assert [p["kind_label"] for p in context["parties"]] == [
        "European Digital Innovation Hub",
        "local player",
    ]
    assert context["signatories"] == context["parties"]


def test_template_registry_names_every_template_and_its_model() -> None:
    assert {
        SPECIFIC_AGREEMENT_TEMPLATE: SpecificAgreementVariables,
        CO_DEVELOPMENT_TEMPLATE: CoDevelopmentAgreementVariables,
        NDA_TEMPLATE: NdaVariables,
    }.items() <= TEMPLATE_VARIABLES.items()
    for name in TEMPLATE_VARIABLES:
        assert (TEMPLATES_DIR / f"{name}.docx").is_file()


# --- committed templates -------------------------------------------------------------------
