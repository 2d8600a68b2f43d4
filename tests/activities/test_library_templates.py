"""The Framework Collaboration Agreement and Data-Processing Annex templates.

Content, options, determinism, safety and the variables models, plus the whole template
library: the builder writes all five templates and the committed files match it.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, datetime
from pathlib import Path

import docx
import pytest
from pydantic import ValidationError

from documents.rendering import (
    RenderError,
    docx_text,
    render_docx,
    template_path,
)
from domain.agreements import (
    CO_DEVELOPMENT_TEMPLATE,
    DPA_TEMPLATE,
    FRAMEWORK_TEMPLATE,
    NDA_TEMPLATE,
    SPECIFIC_AGREEMENT_TEMPLATE,
    TEMPLATE_VARIABLES,
    CoDevelopmentAgreementVariables,
    DataProcessingVariables,
    DpaParty,
    FrameworkAgreementVariables,
    FrameworkParty,
    NdaVariables,
    SpecificAgreementVariables,
)
from domain.digests import sha256_hex

FRAMEWORK = template_path(FRAMEWORK_TEMPLATE)
DPA = template_path(DPA_TEMPLATE)
FIXED_TIME = datetime(2026, 1, 15, 10, 0, 0)
INJECTION = "ACME {{ 7*7 }} <w:p> & Co {% if true %}x{% endif %}"
TAGS = ("{{", "}}", "{%", "%}")

TRANSFERS_HEADING = "International transfers"
TRANSFERS_SENTENCE = "the standard contractual clauses adopted by the European Commission"
EEA_ONLY_SENTENCE = "processes and stores the personal data only within the EEA"
NO_SUB_PROCESSORS = "No sub-processors are authorised."


def framework_variables(**overrides: object) -> FrameworkAgreementVariables:
    fields: dict[str, object] = dict(
        edition="2026",
        version=2,
        issued_on=date(2026, 1, 15),
        parties=[
            FrameworkParty(
                id="hub-de-1",
                name="KI-Hub Baden",
                country="Germany",
                legal_status="public",
                representative="Dr. Anna Keller",
            ),
            FrameworkParty(
                id="hub-it-2", name="AI4Industry Torino", country="Italy", legal_status="hybrid"
            ),
            FrameworkParty(
                id="hub-pl-3", name="Silesia AI Hub", country="Poland", legal_status="private"
            ),
        ],
        governing_law="the law of Belgium",
        dispute_forum="the competent courts of Brussels, Belgium",
    )
    fields.update(overrides)
    return FrameworkAgreementVariables(**fields)


def dpa_variables(**overrides: object) -> DataProcessingVariables:
    fields: dict[str, object] = dict(
        case_ref="DIH-2025-0042",
        version=1,
        issued_on=date(2025, 3, 14),
        agreement_title="Specific Collaboration Agreement DIH-2025-0042",
        controller=DpaParty(
            id="client-77",
            name="Metallwerk Süd GmbH",
            country="Germany",
            representative="Petra Lang",
        ),
        processors=[
            DpaParty(id="hub-de-1", name="KI-Hub Baden", country="Germany", role="processor"),
            DpaParty(id="hub-it-2", name="AI4Industry Torino", country="Italy", role="processor"),
        ],
        purpose="Training and validating a defect classifier on images of the pilot line.",
        data_categories=["Operator names and shift numbers", "Images that may show operators"],
        data_subjects=["Employees of the Controller working on the pilot line"],
        security_measures=[
            "Encryption of data at rest and in transit",
            "Role-based access control with two-factor authentication",
            "Pseudonymisation of operator identifiers",
        ],
        sub_processors=["EuroCloud Compute SE (hosting, Frankfurt)"],
        governing_law="the law of Germany",
    )
    fields.update(overrides)
    return DataProcessingVariables(**fields)


def render(
    template: Path, variables: FrameworkAgreementVariables | DataProcessingVariables
) -> bytes:
    return render_docx(template, variables.to_context(), fixed_time=FIXED_TIME)


@pytest.fixture(scope="module")
def framework() -> bytes:
    return render(FRAMEWORK, framework_variables())


@pytest.fixture(scope="module")
def dpa() -> bytes:
    return render(DPA, dpa_variables())


def _lines(data: bytes) -> list[str]:
    return docx_text(data).splitlines()


def _paragraphs(data: bytes) -> list[docx.text.paragraph.Paragraph]:
    return list(docx.Document(io.BytesIO(data)).paragraphs)


def _styles(data: bytes) -> dict[str, str]:
    return {p.text: p.style.name for p in _paragraphs(data)}


# --- Framework Collaboration Agreement: content ------------------------------------------


def test_framework_names_every_party_with_its_legal_status(framework: bytes) -> None:
    text = docx_text(framework)
    assert text.startswith("Framework Collaboration Agreement\n")
    assert (
        "1. KI-Hub Baden, a European Digital Innovation Hub established in Germany, "
        "organised as a public body;" in text
    )
    assert (
        "2. AI4Industry Torino, a European Digital Innovation Hub established in Italy, "
        "organised as a hybrid public-private entity;" in text
    )
    assert (
        "3. Silesia AI Hub, a European Digital Innovation Hub established in Poland, "
        "organised as a private entity," in text
    )
    assert "For KI-Hub Baden (Hub, public body, Germany)" in text
    assert "For AI4Industry Torino (Hub, hybrid public-private entity, Italy)" in text
    assert "For Silesia AI Hub (Hub, private entity, Poland)" in text
    for party in framework_variables().parties:
        assert text.count(f"For {party.name} (") == 1  # one signature block per party
    assert "Name: Dr. Anna Keller" in text
    for tag in TAGS:
        assert tag not in text


def test_framework_carries_edition_law_forum_and_secretariat(framework: bytes) -> None:
    text = docx_text(framework)
    for value in (
        "Edition 2026 · Version 2 · Issued on 2026-01-15",
        "This document is edition 2026, version 2 of the Agreement, issued on 2026-01-15",
        "This Agreement is governed by the law of Belgium.",
        "shall be finally settled by the competent courts of Brussels, Belgium.",
        "coordinated by the network's coordination office (the “Secretariat”)",
        "The Secretariat, the network's coordination office, convenes the Steering Committee",
        "Framework Collaboration Agreement · edition 2026 · version 2 · page ",  # footer
        "recorded in the timeline of the Framework Collaboration Agreement, edition 2026.",
    ):
        assert value in text
    assert "recorded in the case timeline" not in text  # no case: the framework's own register
    assert text.count("recorded in the register of the Framework Collaboration Agreement") == 3


def test_framework_covers_the_network_objectives_and_framework_scope(framework: bytes) -> None:
    text = docx_text(framework)
    for value in (
        "structured approach to cooperation",
        "mentoring, coaching and the co-creation",
        "collaborate across borders",
        "co-drafted by the hubs of the network",
        "Each collaboration is concluded case by case in a Specific Agreement",
        "a Co-development Agreement when Hubs develop a new service together",
        "Each Party bears its own costs",
        "unless a Specific Agreement provides otherwise",
        "Background IP remains the property of the Party that brings it",
        "attach the Network’s Data-Processing Annex (Article 28 GDPR)",
        "by signing an accession form in the model of Annex 1",
        "hereby accedes to the Framework Collaboration Agreement",
    ):
        assert value in text
    lines = _lines(framework)
    for term in ("Network", "Hub", "Specific Agreement", "Background IP", "Foreground IP"):
        assert any(line.startswith(f"“{term}” means ") for line in lines)
    assert any(line.startswith("“Client” means ") for line in lines)


@pytest.mark.parametrize(("threshold", "majority"), [(10, 66), (12, 75), (2, 51), (100, 100)])
def test_entry_threshold_and_majority_appear_as_given(threshold: int, majority: int) -> None:
    variables = framework_variables(entry_threshold=threshold, decision_majority_pct=majority)
    text = docx_text(render(FRAMEWORK, variables))
    assert f"enters into force on the date on which it has been signed by {threshold} Hubs" in text
    assert f"It decides by a majority of at least {majority}% of the votes cast." in text


def test_framework_defaults_are_ten_hubs_and_two_thirds(framework: bytes) -> None:
    variables = framework_variables()
    assert variables.entry_threshold == 10
    assert variables.decision_majority_pct == 66
    assert variables.secretariat == "the network's coordination office"
    text = docx_text(framework)
    assert "signed by 10 Hubs" in text
    assert "at least 66% of the votes cast" in text


def test_framework_lists_a_network_sized_set_of_parties() -> None:
    statuses = ("public", "private", "hybrid")
    parties = [
        FrameworkParty(
            id=f"hub-{n}", name=f"AI Hub {n:02d}", country="Spain", legal_status=statuses[n % 3]
        )
        for n in range(1, 31)
    ]
    data = render(FRAMEWORK, framework_variables(parties=parties, secretariat="ACME Office"))
    document = docx.Document(io.BytesIO(data))
    texts = [p.text for p in document.paragraphs]
    for n, party in enumerate(parties, start=1):
        end = "," if n == len(parties) else ";"
        assert any(
            t.startswith(f"{n}. {party.name}, a European") and t.endswith(end) for t in texts
        )
        assert sum(t.startswith(f"For {party.name} (Hub, ") for t in texts) == 1
    assert "The Secretariat, ACME Office, convenes" in docx_text(data)


def test_framework_headings_use_word_heading_styles(framework: bytes) -> None:
    styles = _styles(framework)
    assert _paragraphs(framework)[0].style.name == "Title"
    for heading in (
        "Parties",
        "Recitals",
        "1. Definitions",
        "2. Purpose and scope",
        "3. Governance",
        "4. Accession of new Hubs",
        "5. Entry into force and duration",
        "6. Costs",
        "7. Intellectual property principles",
        "8. Confidentiality",
        "9. Personal data",
        "10. Liability",
        "11. Withdrawal and termination",
        "12. Governing law and disputes",
        "13. Edition, version and final provisions",
        "Signatures",
        "Annex 1. Accession form",
    ):
        assert styles[heading] == "Heading 1"


# --- Data-Processing Annex: content --------------------------------------------------------


def test_dpa_names_controller_processors_and_agreement(dpa: bytes) -> None:
    text = docx_text(dpa)
    assert text.startswith("Data-Processing Annex\n")
    assert "Annex to the agreement “Specific Collaboration Agreement DIH-2025-0042”" in text
    assert (
        "1. Metallwerk Süd GmbH, established in Germany, acting as controller "
        "(the “Controller”);" in text
    )
    assert "2. KI-Hub Baden, established in Germany, acting as processor (a “Processor”);" in text
    assert (
        "3. AI4Industry Torino, established in Italy, acting as processor (a “Processor”)." in text
    )
    assert "For Metallwerk Süd GmbH (Controller, Germany)" in text
    assert "For KI-Hub Baden (Processor, Germany)" in text
    assert "For AI4Industry Torino (Processor, Italy)" in text
    for party in dpa_variables().parties:
        assert text.count(f"For {party.name} (") == 1
    assert "Name: Petra Lang" in text
    assert dpa_variables().purpose in text
    assert "at the latest within 48 hours after becoming aware of it" in text
    assert "This Annex is governed by the law of Germany." in text
    assert "Data-Processing Annex DIH-2025-0042 · version 1 · page " in text  # footer
    for tag in TAGS:
        assert tag not in text


def test_dpa_lists_data_subjects_measures_and_sub_processors(dpa: bytes) -> None:
    variables = dpa_variables()
    bullets = [p.text for p in _paragraphs(dpa) if p.style.name == "List Bullet"]
    assert bullets == [
        *variables.data_categories,
        *variables.data_subjects,
        *variables.security_measures,
        *variables.sub_processors,
    ]
    lines = _lines(dpa)
    start = lines.index(next(line for line in lines if line.startswith("3.1\t")))
    assert lines[start + 1 : start + 3] == variables.data_categories
    assert lines[start + 3].startswith("3.2\t")
    assert lines[start + 4] == variables.data_subjects[0]
    assert NO_SUB_PROCESSORS not in lines


def test_dpa_covers_the_article_28_obligations(dpa: bytes) -> None:
    text = docx_text(dpa)
    for value in (
        "only on documented instructions from the Controller",
        "committed themselves to confidentiality",
        "Article 32 GDPR",
        "prior specific written authorisation of the Controller",
        "rights under Chapter III GDPR",
        "Articles 32 to 36 GDPR",
        "deletes all the personal data or returns it to the Controller",
        "allows for and contributes to audits, including inspections",
        "Article 30(2) GDPR",
        "as Article 82 GDPR provides",
    ):
        assert value in text
    styles = _styles(dpa)
    for heading in (
        "Documented instructions",
        "Confidentiality of personnel",
        "Security of processing",
        "Sub-processors",
        "Rights of data subjects",
        "Personal data breaches",
        "Deletion or return",
        "Audits",
    ):
        assert styles[heading] == "Heading 2"


def test_dpa_headings_use_word_heading_styles(dpa: bytes) -> None:
    styles = _styles(dpa)
    assert _paragraphs(dpa)[0].style.name == "Title"
    for heading in (
        "Parties",
        "Recitals",
        "1. Definitions and precedence",
        "2. Subject matter, duration, nature and purpose",
        "3. Personal data and data subjects",
        "4. Obligations of the Processor",
        "5. Obligations of the Controller",
        "6. Liability",
        "7. Duration and termination",
        "8. Governing law and disputes",
        "Signatures",
    ):
        assert styles[heading] == "Heading 1"


def test_transfers_clause_only_with_transfers_outside_eea(dpa: bytes) -> None:
    without = docx_text(dpa)
    assert TRANSFERS_HEADING not in without
    assert TRANSFERS_SENTENCE not in without
    assert EEA_ONLY_SENTENCE in without
    assert _styles(dpa)["Location of processing"] == "Heading 2"

    data = render(DPA, dpa_variables(transfers_outside_eea=True))
    with_transfers = docx_text(data)
    assert _styles(data)[TRANSFERS_HEADING] == "Heading 2"
    assert with_transfers.count(TRANSFERS_SENTENCE) == 1
    assert "Location of processing" not in with_transfers
    assert EEA_ONLY_SENTENCE not in with_transfers
    for text in (without, with_transfers):
        lines = text.splitlines()
        assert sum(line.startswith("4.12\t") for line in lines) == 1
        assert lines.index("5. Obligations of the Controller") > lines.index("Audits")
        for tag in TAGS:
            assert tag not in text


def test_no_sub_processors_sentence_only_with_an_empty_list(dpa: bytes) -> None:
    assert NO_SUB_PROCESSORS not in docx_text(dpa)

    data = render(DPA, dpa_variables(sub_processors=[]))
    lines = _lines(data)
    assert lines.count(NO_SUB_PROCESSORS) == 1
    assert lines[lines.index(NO_SUB_PROCESSORS) - 1].startswith("4.4\t")
    assert lines[lines.index(NO_SUB_PROCESSORS) + 1].startswith("4.5\t")

    two = ["EuroCloud Compute SE (hosting)", "Label-It OÜ (image annotation)"]
    lines = _lines(render(DPA, dpa_variables(sub_processors=two)))
    four_four = next(i for i, line in enumerate(lines) if line.startswith("4.4\t"))
    assert lines[four_four + 1 : four_four + 3] == two
    assert NO_SUB_PROCESSORS not in lines


@pytest.mark.parametrize(
    ("hours", "wording"), [(1, "within 1 hour after"), (72, "within 72 hours")]
)
def test_breach_notice_hours_appear_as_given(hours: int, wording: str) -> None:
    assert wording in docx_text(render(DPA, dpa_variables(breach_notice_hours=hours)))


# --- determinism and safety ------------------------------------------------------------------


def test_same_inputs_give_identical_bytes(framework: bytes, dpa: bytes) -> None:
    assert render(FRAMEWORK, framework_variables()) == framework
    assert render(DPA, dpa_variables()) == dpa
    assert sha256_hex(render(FRAMEWORK, framework_variables(version=3))) != sha256_hex(framework)
    assert sha256_hex(render(DPA, dpa_variables(breach_notice_hours=24))) != sha256_hex(dpa)
    for data in (framework, dpa):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        assert infos[0].filename == "[Content_Types].xml"


def test_framework_values_are_inserted_literally() -> None:
    parties = [
        FrameworkParty(
            id="hub-de-1", name="KI-Hub Baden", country="Germany", legal_status="public"
        ),
        FrameworkParty(id="hub-x", name=INJECTION, country="Spain", legal_status="private"),
    ]
    variables = framework_variables(
        parties=parties, edition=INJECTION, dispute_forum=INJECTION, secretariat=INJECTION
    )
    data = render(FRAMEWORK, variables)
    text = docx_text(data)
    assert f"2. {INJECTION}, a European Digital Innovation Hub established in Spain" in text
    assert f"For {INJECTION} (Hub, private entity, Spain)" in text
    assert f"shall be finally settled by {INJECTION}." in text
    assert f"This document is edition {INJECTION}, version 2" in text
    assert "ACME 49" not in text
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert "&lt;w:p&gt; &amp; Co" in zf.read("word/document.xml").decode("utf-8")


def test_dpa_values_are_inserted_literally() -> None:
    variables = dpa_variables(
        processors=[DpaParty(id="hub-x", name=INJECTION, country="Spain", role="processor")],
        agreement_title=INJECTION,
        data_categories=[INJECTION],
        security_measures=[INJECTION],
        sub_processors=[INJECTION],
        purpose=INJECTION,
    )
    data = render(DPA, variables)
    text = docx_text(data)
    assert f"2. {INJECTION}, established in Spain, acting as processor" in text
    assert f"For {INJECTION} (Processor, Spain)" in text
    assert f"forms part of the agreement “{INJECTION}”" in text
    assert f"Its purpose is: {INJECTION}" in text
    bullets = [p.text for p in _paragraphs(data) if p.style.name == "List Bullet"]
    assert bullets.count(INJECTION) == 3
    assert "ACME 49" not in text


def test_missing_variable_raises_render_error_naming_it() -> None:
    context = framework_variables().to_context()
    del context["entry_threshold"]
    with pytest.raises(RenderError, match="'entry_threshold'"):
        render_docx(FRAMEWORK, context, fixed_time=FIXED_TIME)
    context = dpa_variables().to_context()
    del context["transfers_outside_eea"]
    with pytest.raises(RenderError, match="'transfers_outside_eea'"):
        render_docx(DPA, context, fixed_time=FIXED_TIME)
    context = dpa_variables().to_context()
    del context["controller"]["name"]
    with pytest.raises(RenderError, match="'name'"):
        render_docx(DPA, context, fixed_time=FIXED_TIME)


# --- variables models ------------------------------------------------------------------------


def test_framework_with_a_single_party_is_refused() -> None:
    alone = [
        FrameworkParty(id="hub-de-1", name="KI-Hub Baden", country="DE", legal_status="public")
    ]
    with pytest.raises(ValidationError, match="at least 2 items"):
        framework_variables(parties=alone)


def test_framework_duplicate_party_ids_or_names_are_refused() -> None:
    twins = [
        FrameworkParty(id="hub-1", name="One", country="Germany", legal_status="public"),
        FrameworkParty(id="hub-1", name="Two", country="France", legal_status="private"),
    ]
    with pytest.raises(ValidationError, match=r"party ids must be unique; repeated: \['hub-1'\]"):
        framework_variables(parties=twins)
    twins = [
        FrameworkParty(id="hub-1", name="Same", country="Germany", legal_status="public"),
        FrameworkParty(id="hub-2", name="Same", country="France", legal_status="private"),
    ]
    with pytest.raises(ValidationError, match="party names must be unique"):
        framework_variables(parties=twins)


def test_framework_bounds_and_fields_are_checked() -> None:
    for threshold in (1, 101):
        with pytest.raises(ValidationError, match="entry_threshold"):
            framework_variables(entry_threshold=threshold)
    for majority in (50, 101):
        with pytest.raises(ValidationError, match="decision_majority_pct"):
            framework_variables(decision_majority_pct=majority)
    with pytest.raises(ValidationError, match="version"):
        framework_variables(version=0)
    with pytest.raises(ValidationError, match="literal_error"):
        FrameworkParty(id="x", name="X", country="FR", legal_status="cooperative")
    with pytest.raises(ValidationError, match="must not be blank"):
        framework_variables(dispute_forum="  ")
    with pytest.raises(ValidationError, match="control character"):
        framework_variables(governing_law="bell\a")
    with pytest.raises(ValidationError, match="extra_forbidden"):
        framework_variables(case_ref="DIH-1")


def test_dpa_breach_notice_hours_must_be_1_to_72() -> None:
    for hours in (0, 73):
        with pytest.raises(ValidationError, match="breach_notice_hours"):
            dpa_variables(breach_notice_hours=hours)
    assert dpa_variables().breach_notice_hours == 48


def test_dpa_roles_are_checked() -> None:
    as_controller = DpaParty(id="hub-de-1", name="KI-Hub Baden", country="Germany")
    assert as_controller.role == "controller"
    with pytest.raises(ValidationError, match="'KI-Hub Baden' must have role 'processor'"):
        dpa_variables(processors=[as_controller])
    processor = DpaParty(id="c-1", name="Metallwerk Süd GmbH", country="DE", role="processor")
    with pytest.raises(ValidationError, match="controller must have role 'controller'"):
        dpa_variables(controller=processor)
    with pytest.raises(ValidationError, match="literal_error"):
        DpaParty(id="x", name="X", country="FR", role="joint_controller")


def test_dpa_parties_lists_and_fields_are_checked() -> None:
    same_id = DpaParty(id="client-77", name="Other", country="Germany", role="processor")
    with pytest.raises(ValidationError, match="party ids must be unique"):
        dpa_variables(processors=[same_id])
    same_name = DpaParty(id="hub-9", name="Metallwerk Süd GmbH", country="DE", role="processor")
    with pytest.raises(ValidationError, match="party names must be unique"):
        dpa_variables(processors=[same_name])
    for field in ("processors", "data_categories", "data_subjects", "security_measures"):
        with pytest.raises(ValidationError, match="at least 1 item"):
            dpa_variables(**{field: []})
    with pytest.raises(ValidationError, match="must not be blank"):
        dpa_variables(sub_processors=[" "])
    with pytest.raises(ValidationError, match="extra_forbidden"):
        dpa_variables(retention_days=30)
    with pytest.raises(ValidationError, match="governing_law"):
        DataProcessingVariables(**dpa_variables().model_dump(exclude={"governing_law"}))


def test_contexts_are_plain_json() -> None:
    context = framework_variables().to_context()
    assert json.loads(json.dumps(context)) == context
    assert context["issued_on"] == "2026-01-15"
    assert context["entry_threshold"] == 10
    assert context["decision_majority_pct"] == 66
    assert context["party_count"] == 3
    assert [p["legal_status_label"] for p in context["parties"]] == [
        "public body",
        "hybrid public-private entity",
        "private entity",
    ]
    assert context["signatories"] == context["parties"]

    context = dpa_variables().to_context()
    assert json.loads(json.dumps(context)) == context
    assert [s["role_title"] for s in context["signatories"]] == [
        "Controller",
        "Processor",
        "Processor",
    ]
    assert context["breach_notice"] == "48 hours"
    assert context["transfers_outside_eea"] is False
    assert context["sub_processors"] == ["EuroCloud Compute SE (hosting, Frankfurt)"]
    assert dpa_variables(sub_processors=[]).to_context()["sub_processors"] == []


# --- the template library ---------------------------------------------------------------------


def test_template_registry_has_all_six_templates() -> None:
    from domain.agreements import FRAMEWORK_FINAL_TEMPLATE, FrameworkFinalVariables

    assert TEMPLATE_VARIABLES == {
        FRAMEWORK_FINAL_TEMPLATE: FrameworkFinalVariables,
        SPECIFIC_AGREEMENT_TEMPLATE: SpecificAgreementVariables,
        CO_DEVELOPMENT_TEMPLATE: CoDevelopmentAgreementVariables,
        NDA_TEMPLATE: NdaVariables,
        FRAMEWORK_TEMPLATE: FrameworkAgreementVariables,
        DPA_TEMPLATE: DataProcessingVariables,
    }
    assert FRAMEWORK_TEMPLATE == "framework_collaboration_agreement"
    assert DPA_TEMPLATE == "data_processing_annex"
    for name, model in TEMPLATE_VARIABLES.items():
        assert template_path(name).is_file()
        assert callable(getattr(model, "to_context", None))
