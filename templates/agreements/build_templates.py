"""Build the docxtpl agreement templates of templates/agreements with python-docx.

    .venv/bin/python templates/agreements/build_templates.py [OUTPUT_DIR | OUTPUT.docx]

Without an argument, writes every template of ``TEMPLATE_BUILDERS`` next to this script:

* ``specific_collaboration_agreement.docx`` -- ``SpecificAgreementVariables``
* ``co_development_agreement.docx`` -- ``CoDevelopmentAgreementVariables``
* ``mutual_nda.docx`` -- ``NdaVariables``
* ``framework_collaboration_agreement.docx`` -- ``FrameworkAgreementVariables``
* ``data_processing_annex.docx`` -- ``DataProcessingVariables``

(the variables models are in ``domain.agreements``; the templates use their
``to_context()``). With a directory (any path not ending in ``.docx``), writes all of them
there, creating it if needed; with a path ending in ``.docx``, writes only the Specific
Collaboration Agreement to it (the original interface).

The output is deterministic: the same script always gives the same bytes, because the
package is normalised with ``activities.rendering.normalise_docx`` and the core
properties carry fixed values. docxtpl tags: ``{%p ... %}`` loops or branches over whole
paragraphs (parties, background IP items, the IPR clause, the international transfers
clause, sub-processors, signature blocks) and
``{%tr ... %}`` loops table rows (tasks, milestones, cost shares).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import docx
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from activities.rendering import normalise_docx  # noqa: E402
from domain.agreements import (  # noqa: E402
    CO_DEVELOPMENT_TEMPLATE,
    DPA_TEMPLATE,
    FRAMEWORK_TEMPLATE,
    NDA_TEMPLATE,
    SPECIFIC_AGREEMENT_TEMPLATE,
)

SPECIFIC_AGREEMENT_FILE = HERE / f"{SPECIFIC_AGREEMENT_TEMPLATE}.docx"
CO_DEVELOPMENT_FILE = HERE / f"{CO_DEVELOPMENT_TEMPLATE}.docx"
NDA_FILE = HERE / f"{NDA_TEMPLATE}.docx"
FRAMEWORK_FILE = HERE / f"{FRAMEWORK_TEMPLATE}.docx"
DPA_FILE = HERE / f"{DPA_TEMPLATE}.docx"

TEMPLATE_TIME = datetime(2025, 1, 1, 0, 0, 0)
"""Fixed core-properties date of the template package."""

SIGNATURE_LINE = "______________________________"


def _clause(doc, number: str, text: str) -> None:
    """A numbered clause: bold number, then text (jinja tags stay inside one run)."""
    paragraph = doc.add_paragraph()
    paragraph.paragraph_format.space_after = Pt(4)
    paragraph.add_run(f"{number}\t").bold = True
    paragraph.add_run(text)
    paragraph.paragraph_format.left_indent = Cm(1)
    paragraph.paragraph_format.first_line_indent = Cm(-1)


def _definition(doc, term: str, text: str) -> None:
    paragraph = doc.add_paragraph()
    paragraph.paragraph_format.left_indent = Cm(1)
    paragraph.paragraph_format.space_after = Pt(2)
    paragraph.add_run(f"“{term}”").bold = True
    paragraph.add_run(f" {text}")


def _plain(doc, text: str, *, bold: bool = False, indent: float = 0.0, after: float = 4) -> None:
    paragraph = doc.add_paragraph()
    paragraph.paragraph_format.space_after = Pt(after)
    if indent:
        paragraph.paragraph_format.left_indent = Cm(indent)
    paragraph.add_run(text).bold = bold


def _tag(doc, tag: str) -> None:
    """A paragraph holding only a docxtpl ``{%p %}`` tag (removed when rendering)."""
    doc.add_paragraph(tag)


def _page_field(paragraph) -> None:
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _set_cell(cell, text: str, *, bold: bool = False, right: bool = False) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.add_run(text).bold = bold
    if right:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT


def _drop_thumbnail(doc) -> None:
    """The default python-docx package carries an unrelated thumbnail image."""
    rels = doc.part.package.rels
    for rid, rel in list(rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            del rels[rid]
            rels._target_parts_by_rId.pop(rid, None)


def _new_document(document_title: str, footer_text: str | None = None):
    """An A4 document with the house styles and a footer naming the case and version.

    ``footer_text`` replaces the default footer text (before the page number) for a
    document that belongs to no case.
    """
    doc = docx.Document()
    _drop_thumbnail(doc)

    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width = Cm(21.0)
    section.page_height = Cm(29.7)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2.3))
    section.top_margin = Cm(2.0)
    section.bottom_margin = Cm(2.0)

    normal = doc.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(10.5)
    normal.paragraph_format.space_after = Pt(4)

    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if footer_text is None:
        footer_text = document_title + " {{ case_ref }} · version {{ version }} · page "
    footer_run = footer.add_run(footer_text)
    footer_run.font.size = Pt(8)
    _page_field(footer)
    return doc


def _finish(doc, document_title: str) -> bytes:
    """Fixed core properties (no jinja: docxtpl renders some of them), normalised bytes."""
    core = doc.core_properties
    core.title = document_title
    core.subject = ""
    core.author = "dihflow"
    core.comments = "dihflow agreement template"
    core.keywords = ""
    core.category = ""
    core.last_modified_by = "dihflow"
    core.revision = 1
    core.created = TEMPLATE_TIME
    core.modified = TEMPLATE_TIME
    core.last_printed = TEMPLATE_TIME

    buf = io.BytesIO()
    doc.save(buf)
    return normalise_docx(buf.getvalue())


def build_specific_agreement() -> bytes:
    doc = _new_document("Specific Collaboration Agreement")

    # Title ------------------------------------------------------------------------------
    doc.add_heading("Specific Collaboration Agreement", level=0)
    subtitle = doc.add_paragraph()
    subtitle.add_run("{{ title }}").bold = True
    _plain(
        doc,
        "Case reference {{ case_ref }} · Version {{ version }} · Issued on {{ issued_on }}",
    )
    _plain(
        doc,
        "Concluded under the Framework Collaboration Agreement {{ framework_reference }} "
        "of the network of European AI Digital Innovation Hubs.",
        after=8,
    )

    # Parties ----------------------------------------------------------------------------
    doc.add_heading("Parties", level=1)
    _plain(doc, "This Specific Collaboration Agreement (the “Agreement”) is made between:")
    _plain(
        doc,
        "1. {{ lead.name }}, a European Digital Innovation Hub established in "
        "{{ lead.country }}, acting as lead hub (the “Lead Hub”);",
        indent=1,
    )
    _tag(doc, "{%p for p in partners %}")
    _plain(
        doc,
        "{{ loop.index + 1 }}. {{ p.name }}, a European Digital Innovation Hub established "
        "in {{ p.country }}, acting as partner hub (a “Partner Hub”);",
        indent=1,
    )
    _tag(doc, "{%p endfor %}")
    _plain(
        doc,
        "{{ partners|length + 2 }}. {{ client.name }}, established in {{ client.country }}, "
        "the recipient of the joint service (the “Client”).",
        indent=1,
    )
    _plain(
        doc,
        "The Lead Hub and the Partner Hubs are together the “Hubs”. The Hubs and the Client "
        "are each a “Party” and together the “Parties”.",
    )

    # Recitals ---------------------------------------------------------------------------
    doc.add_heading("Recitals", level=1)
    _clause(
        doc,
        "(A)",
        "The Hubs are parties to the multilateral Framework Collaboration Agreement "
        "{{ framework_reference }} (the “Framework Agreement”), which sets the general "
        "terms on which members of the network provide services jointly.",
    )
    _clause(
        doc,
        "(B)",
        "The Client has asked the Lead Hub for support with the following need: {{ need }}",
    )
    _clause(
        doc,
        "(C)",
        "The Hubs have agreed to meet that need with a joint service, and the Parties wish "
        "to record its specific terms as the Framework Agreement provides.",
    )
    _plain(doc, "The Parties therefore agree as follows.")

    # 1 Definitions -----------------------------------------------------------------------
    doc.add_heading("1. Definitions", level=1)
    _clause(
        doc,
        "1.1",
        "Capitalised terms not defined in this Agreement have the meaning given to them in "
        "the Framework Agreement. In this Agreement:",
    )
    _definition(doc, "Joint Service", "means the service described in clause 2.")
    _definition(
        doc,
        "Background",
        "means data, know-how, software and other information and intellectual property held "
        "by a Party before the Effective Date or developed independently of this Agreement.",
    )
    _definition(
        doc,
        "Foreground",
        "means the results, including intellectual property, generated in performing the "
        "Joint Service.",
    )
    _definition(
        doc,
        "Confidential Information",
        "means information disclosed by a Party under this Agreement that is marked as "
        "confidential or would reasonably be understood to be confidential.",
    )
    _clause(
        doc,
        "1.2",
        "If this Agreement and the Framework Agreement conflict, the Framework Agreement "
        "prevails, except where this Agreement expressly departs from a named clause of it.",
    )

    # 2 Scope ---------------------------------------------------------------------------
    doc.add_heading("2. Scope of the joint service", level=1)
    _clause(
        doc,
        "2.1",
        "The Hubs shall provide the Client with the following Joint Service: {{ scope }}",
    )
    _clause(
        doc,
        "2.2",
        "The Lead Hub coordinates the Joint Service, is the Client’s single point of contact "
        "and records the progress of the Joint Service in case {{ case_ref }}.",
    )
    _clause(
        doc,
        "2.3",
        "Each Hub performs its tasks under clause 3 with reasonable skill and care. A change "
        "to the scope, the tasks or the cost split requires a new version of this Agreement "
        "signed by all Parties.",
    )

    # 3 Tasks and cost split --------------------------------------------------------------
    doc.add_heading("3. Tasks and cost split", level=1)
    _clause(
        doc, "3.1", "The tasks of each Party and its share of the cost of the Joint Service are:"
    )
    table = doc.add_table(rows=5, cols=3)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for index, heading in enumerate(("Party", "Task", "Cost share (%)")):
        _set_cell(table.rows[0].cells[index], heading, bold=True, right=index == 2)
    _set_cell(table.rows[1].cells[0], "{%tr for t in tasks %}")
    _set_cell(table.rows[2].cells[0], "{{ t.party }}")
    _set_cell(table.rows[2].cells[1], "{{ t.description }}")
    _set_cell(table.rows[2].cells[2], "{{ t.cost_share_pct }}", right=True)
    _set_cell(table.rows[3].cells[0], "{%tr endfor %}")
    _set_cell(table.rows[4].cells[0], "Total", bold=True)
    _set_cell(table.rows[4].cells[2], "{{ total_cost_share_pct }}", bold=True, right=True)
    for row in table.rows:
        for index, width in enumerate((Cm(4.5), Cm(9.4), Cm(2.5))):
            row.cells[index].width = width
    _plain(doc, "", after=0)
    _clause(
        doc,
        "3.2",
        "The cost shares allocate among the Parties the cost of the Joint Service and any "
        "funding received for it. Each Party bears its own costs beyond its share unless "
        "the Parties agree otherwise in writing.",
    )

    # 4 Intellectual property -----------------------------------------------------------
    doc.add_heading("4. Intellectual property", level=1)
    _clause(
        doc,
        "4.1",
        "Background remains the property of the Party that brings it. Each Hub grants the "
        "other Hubs a non-exclusive, royalty-free right to use its Background only as far as "
        "needed to perform the Joint Service during this Agreement. No other right in "
        "Background is transferred or licensed.",
    )
    _clause(
        doc,
        "4.2",
        "Ownership of Foreground, access rights to it and the Client’s rights to use it are "
        "governed by the Framework Agreement.",
    )

    # 5 Confidentiality -------------------------------------------------------------------
    doc.add_heading("5. Confidentiality", level=1)
    _clause(
        doc,
        "5.1",
        "Each Party shall keep the Confidential Information of the other Parties "
        "confidential, use it only for the Joint Service and disclose it only to staff and "
        "subcontractors who need it and are bound by equivalent obligations.",
    )
    _clause(
        doc,
        "5.2",
        "Clause 5.1 does not apply to information that is or becomes public other than by a "
        "breach of this Agreement, was lawfully known to the recipient beforehand, or must "
        "be disclosed by law. It survives for five years after this Agreement ends.",
    )

    # 6 Personal data ---------------------------------------------------------------------
    doc.add_heading("6. Personal data", level=1)
    _clause(
        doc,
        "6.1",
        "Each Party processes personal data in connection with this Agreement in accordance "
        "with Regulation (EU) 2016/679 (GDPR) and applicable national law, and exchanges only "
        "the personal data the Joint Service needs.",
    )
    _clause(
        doc,
        "6.2",
        "Where a Hub processes personal data on behalf of the Client, the Parties concerned "
        "shall conclude an agreement meeting Article 28 GDPR before that processing starts.",
    )

    # 7 Liability -----------------------------------------------------------------------
    doc.add_heading("7. Liability", level=1)
    _clause(
        doc,
        "7.1",
        "Each Party is liable only for its own acts and omissions and its own tasks. The "
        "Hubs are not jointly and severally liable to the Client.",
    )
    _clause(
        doc,
        "7.2",
        "Except for wilful misconduct, gross negligence, breach of clause 5 or 6, or "
        "liability that cannot be limited by law, no Party is liable for indirect or "
        "consequential loss, and the total liability of each Hub is limited to its share of "
        "the cost of the Joint Service.",
    )

    # 8 Duration and termination -----------------------------------------------------------
    doc.add_heading("8. Duration and termination", level=1)
    _clause(
        doc,
        "8.1",
        "This Agreement takes effect on {{ start_date }} (the “Effective Date”) and ends on "
        "{{ end_date }}, unless terminated earlier.",
    )
    _clause(
        doc,
        "8.2",
        "A Party may terminate this Agreement by written notice if another Party materially "
        "breaches it and does not remedy the breach within thirty days of being notified. "
        "The Client may terminate for convenience on thirty days’ written notice and pays "
        "for the tasks performed until termination.",
    )
    _clause(
        doc,
        "8.3",
        "If a Hub leaves the Framework Agreement or this Agreement, the Lead Hub may, with "
        "the Client’s consent, reallocate its tasks to the other Hubs. Clauses 4, 5, 6, 7 "
        "and 9 survive the end of this Agreement.",
    )

    # 9 Governing law -------------------------------------------------------------------
    doc.add_heading("9. Governing law and disputes", level=1)
    _clause(doc, "9.1", "This Agreement is governed by {{ governing_law }}.")
    _clause(
        doc,
        "9.2",
        "The Parties shall first try to settle any dispute amicably, through the Lead Hub and "
        "then under the dispute resolution procedure of the Framework Agreement. A dispute "
        "not settled within sixty days may be brought before the competent courts of the "
        "country whose law governs this Agreement.",
    )

    # Signatures ------------------------------------------------------------------------
    doc.add_heading("Signatures", level=1)
    _plain(
        doc,
        "This Agreement is signed electronically via dihflow by each Party’s authorised "
        "representative; the SHA-256 of the signed document is recorded in the timeline of "
        "case {{ case_ref }}.",
        after=8,
    )
    _tag(doc, "{%p for s in signatories %}")
    _plain(doc, "For {{ s.name }} ({{ s.role_label }}, {{ s.country }})", bold=True, after=2)
    _plain(doc, "Name: {{ s.representative or '" + SIGNATURE_LINE + "' }}", after=2)
    _plain(doc, "Title: " + SIGNATURE_LINE, after=2)
    _plain(doc, "Date: " + SIGNATURE_LINE, after=2)
    _plain(
        doc,
        "Signature: signed electronically via dihflow, document SHA-256 recorded in the case "
        "timeline",
        after=10,
    )
    _tag(doc, "{%p endfor %}")

    return _finish(doc, "Specific Collaboration Agreement")


def _bullet(doc, text: str, *, indent: float = 1.6) -> None:
    """A bulleted item (Word's List Bullet style), indented under a clause."""
    paragraph = doc.add_paragraph(style="List Bullet")
    paragraph.paragraph_format.left_indent = Cm(indent)
    paragraph.paragraph_format.space_after = Pt(2)
    paragraph.add_run(text)


def _loop_table(
    doc,
    headings: tuple[str, ...],
    widths: tuple[float, ...],
    loop: str,
    cells: tuple[str, ...],
    *,
    right: tuple[int, ...] = (),
    total: tuple[str, ...] = (),
) -> None:
    """A table: a header row, one row per item of ``loop`` (``{%tr %}``), an optional total."""
    rows = 4 + (1 if total else 0)
    table = doc.add_table(rows=rows, cols=len(headings))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for index, heading in enumerate(headings):
        _set_cell(table.rows[0].cells[index], heading, bold=True, right=index in right)
    _set_cell(table.rows[1].cells[0], "{%tr " + loop + " %}")
    for index, text in enumerate(cells):
        _set_cell(table.rows[2].cells[index], text, right=index in right)
    _set_cell(table.rows[3].cells[0], "{%tr endfor %}")
    for index, text in enumerate(total):
        _set_cell(table.rows[4].cells[index], text, bold=True, right=index in right)
    for row in table.rows:
        for index, width in enumerate(widths):
            row.cells[index].width = Cm(width)
    _plain(doc, "", after=0)


CASE_SIGNATURE_INTRO = (
    "This Agreement is signed electronically via dihflow by each Party’s authorised "
    "representative; the SHA-256 of the signed document is recorded in the timeline of "
    "case {{ case_ref }}."
)


def _signatures(
    doc, role: str, intro: str = CASE_SIGNATURE_INTRO, recorded_in: str = "the case timeline"
) -> None:
    """One signature block per signatory; ``role`` is the jinja expression in brackets.

    ``intro`` opens the section; ``recorded_in`` names where each signature's SHA-256 is kept.
    """
    doc.add_heading("Signatures", level=1)
    _plain(doc, intro, after=8)
    _tag(doc, "{%p for s in signatories %}")
    _plain(doc, "For {{ s.name }} (" + role + ", {{ s.country }})", bold=True, after=2)
    _plain(doc, "Name: {{ s.representative or '" + SIGNATURE_LINE + "' }}", after=2)
    _plain(doc, "Title: " + SIGNATURE_LINE, after=2)
    _plain(doc, "Date: " + SIGNATURE_LINE, after=2)
    _plain(
        doc,
        "Signature: signed electronically via dihflow, document SHA-256 recorded in " + recorded_in,
        after=10,
    )
    _tag(doc, "{%p endfor %}")


CO_DEVELOPMENT_TITLE = "Co-development Agreement"


def build_co_development_agreement() -> bytes:
    """The Co-development Agreement (variables: ``CoDevelopmentAgreementVariables``)."""
    doc = _new_document(CO_DEVELOPMENT_TITLE)

    doc.add_heading(CO_DEVELOPMENT_TITLE, level=0)
    subtitle = doc.add_paragraph()
    subtitle.add_run("{{ title }}").bold = True
    _plain(
        doc,
        "Case reference {{ case_ref }} · Version {{ version }} · Issued on {{ issued_on }}",
    )
    _plain(
        doc,
        "Concluded under the Framework Collaboration Agreement {{ framework_reference }} "
        "of the network of European AI Digital Innovation Hubs.",
        after=8,
    )

    # Parties ----------------------------------------------------------------------------
    doc.add_heading("Parties", level=1)
    _plain(doc, "This Co-development Agreement (the “Agreement”) is made between:")
    _tag(doc, "{%p for p in parties %}")
    _plain(
        doc,
        "{{ loop.index }}. {{ p.name }}, a European Digital Innovation Hub established in "
        "{{ p.country }} ({{ p.role_label }}){{ ';' if not loop.last else '.' }}",
        indent=1,
    )
    _tag(doc, "{%p endfor %}")
    _plain(
        doc,
        "{{ lead.name }} coordinates the development (the “Lead Hub”); each other hub is a "
        "“Partner Hub”. The Lead Hub and the Partner Hubs are each a “Party” and together "
        "the “Parties”. There is no client party to this Agreement.",
    )

    # Recitals ---------------------------------------------------------------------------
    doc.add_heading("Recitals", level=1)
    _clause(
        doc,
        "(A)",
        "The Parties are members of the network of European AI Digital Innovation Hubs and "
        "parties to its multilateral Framework Collaboration Agreement "
        "{{ framework_reference }} (the “Framework Agreement”).",
    )
    _clause(
        doc,
        "(B)",
        "The Parties have each met the following need among the clients of their regions, "
        "which none of their current services meets: {{ need }}",
    )
    _clause(
        doc,
        "(C)",
        "To meet that need the Parties wish to develop together a new service, "
        "{{ service_name }}, described as follows: {{ service_description }}",
    )
    _clause(
        doc,
        "(D)",
        "The Parties wish to record the terms of that co-development, including the "
        "ownership of its results, as the Framework Agreement provides.",
    )
    _plain(doc, "The Parties therefore agree as follows.")

    # 1 Definitions -----------------------------------------------------------------------
    doc.add_heading("1. Definitions", level=1)
    _clause(
        doc,
        "1.1",
        "Capitalised terms not defined in this Agreement have the meaning given to them in "
        "the Framework Agreement. In this Agreement:",
    )
    _definition(
        doc,
        "Service",
        "means {{ service_name }}, the new service described in recital (C), including its "
        "methods, materials, software and documentation.",
    )
    _definition(
        doc,
        "Background IP",
        "means data, know-how, software, methods and other information and intellectual "
        "property rights held by a Party before the Effective Date or developed independently "
        "of this Agreement.",
    )
    _definition(
        doc,
        "Foreground IP",
        "means the results, including the intellectual property rights in them, generated by "
        "one or more Parties in carrying out the work plan of clause 2.",
    )
    _definition(
        doc,
        "Pilot",
        "means the first delivery of the Service to one or more clients under clause 5.",
    )
    _definition(
        doc,
        "Confidential Information",
        "means information disclosed by a Party under this Agreement that is marked as "
        "confidential or would reasonably be understood to be confidential.",
    )
    _clause(
        doc,
        "1.2",
        "If this Agreement and the Framework Agreement conflict, the Framework Agreement "
        "prevails, except where this Agreement expressly departs from a named clause of it.",
    )

    # 2 Scope and work plan --------------------------------------------------------------
    doc.add_heading("2. Scope and work plan", level=1)
    _clause(
        doc,
        "2.1",
        "The Parties shall jointly design, develop, test and document the Service according "
        "to the following work plan. The Lead Hub coordinates the work, monitors progress "
        "against the milestones and records it in case {{ case_ref }}.",
    )
    _loop_table(
        doc,
        ("No.", "Milestone", "Responsible party", "Due date"),
        (1.4, 8.6, 4.0, 2.4),
        "for m in milestones",
        ("M{{ loop.index }}", "{{ m.title }}", "{{ m.party }}", "{{ m.due }}"),
    )
    _clause(
        doc,
        "2.2",
        "Each Party performs the work it is responsible for with reasonable skill and care "
        "and informs the Lead Hub without delay if a milestone is at risk.",
    )
    _clause(
        doc,
        "2.3",
        "A change to the Service, the work plan, the cost sharing or clause 4 requires a new "
        "version of this Agreement signed by all Parties.",
    )

    # 3 Cost sharing ----------------------------------------------------------------------
    doc.add_heading("3. Cost sharing", level=1)
    _clause(doc, "3.1", "The Parties share the cost of developing the Service as follows:")
    _loop_table(
        doc,
        ("Party", "Cost share (%)"),
        (9.0, 3.5),
        "for c in cost_shares",
        ("{{ c.party }}", "{{ c.cost_share_pct }}"),
        right=(1,),
        total=("Total", "{{ total_cost_share_pct }}"),
    )
    _clause(
        doc,
        "3.2",
        "Each Party bears the cost of its own staff and work. Costs that the Parties incur "
        "jointly, such as external services, infrastructure and the Pilot, and any funding "
        "received for the development, are divided in proportion to the cost shares.",
    )
    _clause(
        doc,
        "3.3",
        "This Agreement creates no partnership or joint venture, and no Party may bind "
        "another Party.",
    )

    # 4 Intellectual property ----------------------------------------------------------
    doc.add_heading("4. Intellectual property", level=1)
    doc.add_heading("Foreground IP", level=2)
    _tag(doc, '{%p if ipr_model == "joint_ownership" %}')
    _clause(
        doc,
        "4.1",
        "The Foreground IP is owned jointly by all Parties in equal undivided shares, "
        "whichever Party generated it.",
    )
    _clause(
        doc,
        "4.2",
        "Each Party may use the jointly owned Foreground IP for its own activities, including "
        "providing the Service to its clients, and may grant non-exclusive licences of it to "
        "third parties without the consent of the other Parties, after thirty days’ prior "
        "written notice to them.",
    )
    _clause(
        doc,
        "4.3",
        "Applying for the protection of jointly owned Foreground IP requires the consent of "
        "all Parties, who share its cost in proportion to their cost shares. A Party may "
        "transfer its share only after offering it to the other Parties on the same terms.",
    )
    _tag(doc, '{%p elif ipr_model == "lead_owned_with_licences" %}')
    _clause(
        doc,
        "4.1",
        "All Foreground IP is owned by the Lead Hub. Each Partner Hub assigns to the Lead "
        "Hub, as they arise, its rights in the Foreground IP it generates, and shall sign any "
        "document reasonably needed to record that assignment.",
    )
    _clause(
        doc,
        "4.2",
        "The Lead Hub grants each Partner Hub a non-exclusive, royalty-free, worldwide "
        "licence to use and adapt the Foreground IP to provide the Service to its own "
        "clients and for research and training, with the right to sub-license only to its "
        "subcontractors for those purposes.",
    )
    _clause(
        doc,
        "4.3",
        "The licences of clause 4.2 are irrevocable and survive the end of this Agreement, "
        "except for a Partner Hub for whose material breach this Agreement was terminated.",
    )
    _tag(doc, '{%p elif ipr_model == "each_owns_foreground" %}')
    _clause(
        doc,
        "4.1",
        "Each Party owns the Foreground IP that it generates. Foreground IP generated by "
        "several Parties whose contributions cannot be separated belongs to them jointly, in "
        "proportion to their cost shares.",
    )
    _clause(
        doc,
        "4.2",
        "Each Party grants the other Parties a non-exclusive, royalty-free, worldwide "
        "licence to use its Foreground IP to provide the Service to their clients and for "
        "research and training. The licence survives the end of this Agreement.",
    )
    _clause(
        doc,
        "4.3",
        "Each Party decides alone, and at its own cost, whether to protect the Foreground IP "
        "it owns, and informs the other Parties before publishing it.",
    )
    _tag(doc, "{%p endif %}")
    doc.add_heading("Background IP", level=2)
    _clause(
        doc,
        "4.4",
        "Background IP remains the property of the Party that brings it; this Agreement "
        "transfers none of it. Each Party grants the other Parties a non-exclusive, "
        "royalty-free right to use its declared Background IP as far as needed to develop and "
        "pilot the Service during this Agreement, and, on fair and reasonable conditions to "
        "be agreed, as far as needed to provide the Service after it.",
    )
    _clause(doc, "4.5", "Each Party declares the following Background IP for the Service:")
    _tag(doc, "{%p for p in parties %}")
    _plain(doc, "Background IP of {{ p.name }}:", bold=True, indent=1, after=2)
    _tag(doc, "{%p for item in p.background %}")
    _bullet(doc, "{{ item }}")
    _tag(doc, "{%p else %}")
    _bullet(doc, "No background IP declared.")
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p endfor %}")
    _clause(
        doc,
        "4.6",
        "A Party may add to its declaration by written notice to the other Parties. "
        "Background IP that is not declared is subject to no right under this Agreement.",
    )

    # 5 Exploitation --------------------------------------------------------------------
    doc.add_heading("5. Pilot and exploitation", level=1)
    _clause(
        doc,
        "5.1",
        "Before the Service is offered as a finished service, the Parties pilot it with at "
        "least one client of a Party under a Specific Collaboration Agreement concluded under "
        "the Framework Agreement.",
    )
    _clause(
        doc,
        "5.2",
        "The Pilot is successful when all Parties confirm in writing, recorded in case "
        "{{ case_ref }}, that the Service met the objectives of the work plan.",
    )
    _clause(
        doc,
        "5.3",
        "Within sixty days after a successful Pilot, each Party publishes the Service as "
        "“{{ service_name }}” in its service catalogue in the network, naming all Parties as "
        "co-developers, and may then offer it to its clients alone or with other Parties. "
        "No Party publishes or offers the Service as finished before a successful Pilot.",
    )
    _clause(
        doc,
        "5.4",
        "Each Party keeps the revenue it earns from providing the Service to its own "
        "clients; no royalty is due between the Parties for that use.",
    )

    # 6 Confidentiality -------------------------------------------------------------------
    doc.add_heading("6. Confidentiality", level=1)
    _clause(
        doc,
        "6.1",
        "Each Party shall keep the Confidential Information of the other Parties "
        "confidential, use it only for this Agreement and disclose it only to staff and "
        "subcontractors who need it and are bound by equivalent obligations.",
    )
    _clause(
        doc,
        "6.2",
        "Clause 6.1 does not apply to information that is or becomes public other than by a "
        "breach of this Agreement, was lawfully known to the recipient beforehand, or must "
        "be disclosed by law. It survives for five years after this Agreement ends.",
    )

    # 7 Personal data ---------------------------------------------------------------------
    doc.add_heading("7. Personal data", level=1)
    _clause(
        doc,
        "7.1",
        "Each Party processes personal data in connection with this Agreement in accordance "
        "with Regulation (EU) 2016/679 (GDPR) and applicable national law, and uses only the "
        "personal data the development and the Pilot need, anonymised where possible.",
    )
    _clause(
        doc,
        "7.2",
        "Parties that jointly determine the purposes and means of a processing conclude an "
        "arrangement under Article 26 GDPR, and a Party processing personal data on behalf of "
        "another concludes an agreement under Article 28 GDPR, before that processing starts.",
    )

    # 8 Liability -----------------------------------------------------------------------
    doc.add_heading("8. Liability", level=1)
    _clause(
        doc,
        "8.1",
        "Each Party is liable only for its own acts and omissions. The Parties are not "
        "jointly and severally liable.",
    )
    _clause(
        doc,
        "8.2",
        "Background IP and Foreground IP are made available as they are, without warranty of "
        "fitness for a particular purpose or of non-infringement; each Party warrants only "
        "that it is entitled to grant the rights it grants under this Agreement.",
    )
    _clause(
        doc,
        "8.3",
        "Except for wilful misconduct, gross negligence, breach of clause 6 or 7, or "
        "liability that cannot be limited by law, no Party is liable for indirect or "
        "consequential loss, and the total liability of each Party is limited to its share "
        "of the cost of developing the Service.",
    )

    # 9 Duration and termination -----------------------------------------------------------
    doc.add_heading("9. Duration and termination", level=1)
    _clause(
        doc,
        "9.1",
        "This Agreement takes effect on {{ start_date }} (the “Effective Date”) and ends on "
        "{{ end_date }}, unless terminated earlier or extended by a new version.",
    )
    _clause(
        doc,
        "9.2",
        "A Party may withdraw on sixty days’ written notice to the other Parties, and "
        "withdraws automatically when it leaves the Framework Agreement. It remains bound by "
        "its cost share for work done until then; the remaining Parties reallocate its "
        "milestones and cost share in a new version, appointing a new Lead Hub if needed.",
    )
    _clause(
        doc,
        "9.3",
        "If a Party materially breaches this Agreement and does not remedy the breach within "
        "thirty days of being notified, the other Parties may together terminate this "
        "Agreement for that Party by written notice.",
    )
    _clause(
        doc,
        "9.4",
        "Clauses 4, 5.4, 6, 7, 8 and 10 survive the end of this Agreement and a Party’s "
        "withdrawal.",
    )

    # 10 Governing law ------------------------------------------------------------------
    doc.add_heading("10. Governing law and disputes", level=1)
    _clause(doc, "10.1", "This Agreement is governed by {{ governing_law }}.")
    _clause(
        doc,
        "10.2",
        "The Parties shall first try to settle any dispute amicably, through the Lead Hub and "
        "then under the dispute resolution procedure of the Framework Agreement. A dispute "
        "not settled within sixty days may be brought before the competent courts of the "
        "country whose law governs this Agreement.",
    )

    _signatures(doc, "{{ s.role_label }}")
    return _finish(doc, CO_DEVELOPMENT_TITLE)


NDA_TITLE = "Mutual Non-Disclosure Agreement"


def build_mutual_nda() -> bytes:
    """The Mutual Non-Disclosure Agreement (variables: ``NdaVariables``)."""
    doc = _new_document(NDA_TITLE)

    doc.add_heading(NDA_TITLE, level=0)
    _plain(
        doc,
        "Case reference {{ case_ref }} · Version {{ version }} · Issued on {{ issued_on }}",
    )
    _plain(
        doc,
        "Matchmaking introduction in the network of European AI Digital Innovation Hubs "
        "(Framework Collaboration Agreement {{ framework_reference }}).",
        after=8,
    )

    # Parties ----------------------------------------------------------------------------
    doc.add_heading("Parties", level=1)
    _plain(doc, "This Mutual Non-Disclosure Agreement (the “Agreement”) is made between:")
    _tag(doc, "{%p for p in parties %}")
    _plain(
        doc,
        "{{ loop.index }}. {{ p.name }}, a {{ p.kind_label }} established in {{ p.country }}"
        "{{ ';' if not loop.last else '.' }}",
        indent=1,
    )
    _tag(doc, "{%p endfor %}")
    _plain(
        doc,
        "Each of them is a “Party” and together they are the “Parties”. A Party disclosing "
        "Confidential Information is the “Disclosing Party” and a Party receiving it is the "
        "“Receiving Party”; this Agreement binds every Party in both capacities.",
    )

    # Recitals ---------------------------------------------------------------------------
    doc.add_heading("Recitals", level=1)
    _clause(
        doc,
        "(A)",
        "The hubs among the Parties are members of the network of European AI Digital "
        "Innovation Hubs and cooperate under its Framework Collaboration Agreement "
        "{{ framework_reference }}. The Parties were introduced to each other through the "
        "network’s matchmaking.",
    )
    _clause(
        doc,
        "(B)",
        "The Parties wish to hold exploratory discussions about the following need, to "
        "assess whether and how they could work together on it (the “Purpose”): {{ purpose }}",
    )
    _clause(
        doc,
        "(C)",
        "In these discussions the Parties expect to disclose information they wish to keep "
        "confidential, on the mutual terms below.",
    )
    _plain(doc, "The Parties therefore agree as follows.")

    # 1 Definitions ---------------------------------------------------------------------
    doc.add_heading("1. Confidential Information", level=1)
    _clause(
        doc,
        "1.1",
        "“Confidential Information” means all information, in any form, that a Party or its "
        "Representatives disclose to another Party for the Purpose, directly or through a hub "
        "of the network, and that is marked as confidential or would reasonably be understood "
        "to be confidential, including business plans, technical data, data sets, models, "
        "algorithms, source code, know-how and the content of the discussions.",
    )
    _clause(
        doc,
        "1.2",
        "“Representatives” means a Party’s employees, officers and professional advisers, "
        "and for a hub also the staff of its consortium members, who need to know the "
        "Confidential Information for the Purpose.",
    )

    # 2 Obligations ---------------------------------------------------------------------
    doc.add_heading("2. Obligations", level=1)
    _clause(
        doc,
        "2.1",
        "The Receiving Party shall keep the Confidential Information confidential, protecting "
        "it with at least the care it gives its own confidential information and no less "
        "than reasonable care; use it only for the Purpose; and disclose it only to those of "
        "its Representatives who need it for the Purpose and are bound by confidentiality "
        "obligations at least as protective as this Agreement.",
    )
    _clause(
        doc,
        "2.2",
        "A hub may pass Confidential Information on to another Party only with the consent of "
        "the Disclosing Party. No Party shall reverse engineer, decompile or analyse any "
        "sample, model or software it receives, unless the Disclosing Party agrees in writing.",
    )
    _clause(
        doc,
        "2.3",
        "Each Party is responsible for a breach of this Agreement by its Representatives and "
        "informs the Disclosing Party without delay of any unauthorised use or disclosure it "
        "becomes aware of.",
    )

    # 3 Exclusions ----------------------------------------------------------------------
    doc.add_heading("3. Exclusions", level=1)
    _clause(
        doc,
        "3.1",
        "Clause 2 does not apply to information that the Receiving Party can show (a) is or "
        "becomes public other than by a breach of this Agreement; (b) it lawfully held "
        "without an obligation of confidence before the disclosure; (c) it lawfully received "
        "from a third party free to disclose it; or (d) it developed independently, without "
        "use of the Confidential Information.",
    )
    _clause(
        doc,
        "3.2",
        "The Receiving Party may disclose Confidential Information as far as required by law, "
        "a court or a competent authority, after notifying the Disclosing Party where the law "
        "allows it, and discloses no more than is required.",
    )

    # 4 Term -----------------------------------------------------------------------------
    doc.add_heading("4. Term", level=1)
    _clause(
        doc,
        "4.1",
        "This Agreement takes effect on the date of its last signature and remains in force "
        "for {{ term }}. A Party may end its participation earlier by thirty days’ written "
        "notice to the other Parties; the Agreement continues between the others.",
    )
    _clause(
        doc,
        "4.2",
        "The obligations of clauses 2, 5 and 6 continue, for Confidential Information "
        "disclosed before the Agreement or a Party’s participation ends, for {{ term }} after "
        "that end, and for trade secrets as long as they remain trade secrets.",
    )

    # 5 Return or destruction -----------------------------------------------------------
    doc.add_heading("5. Return or destruction", level=1)
    _clause(
        doc,
        "5.1",
        "On the Disclosing Party’s written request, and in any case when this Agreement or "
        "the Receiving Party’s participation ends, the Receiving Party returns or destroys all "
        "Confidential Information of the Disclosing Party, including copies and notes, and "
        "confirms this in writing within thirty days.",
    )
    _clause(
        doc,
        "5.2",
        "The Receiving Party may keep copies it must keep by law and copies in routine "
        "electronic back-ups that are not readily accessible; they remain subject to this "
        "Agreement for as long as they are kept.",
    )

    # 6 No licence ------------------------------------------------------------------------
    doc.add_heading("6. No licence and no further obligation", level=1)
    _clause(
        doc,
        "6.1",
        "Confidential Information remains the property of the Disclosing Party. No licence or "
        "other right in any intellectual property is granted or implied by this Agreement or "
        "by any disclosure, except the right to use the Confidential Information for the "
        "Purpose.",
    )
    _clause(
        doc,
        "6.2",
        "Confidential Information is provided as it is, without warranty of accuracy or "
        "completeness. Nothing in this Agreement obliges a Party to disclose any information, "
        "to continue the discussions or to enter into any further agreement.",
    )
    _clause(
        doc,
        "6.3",
        "Personal data is exchanged only where the Purpose needs it and is processed in "
        "accordance with Regulation (EU) 2016/679 (GDPR). This Agreement is the entire "
        "agreement of the Parties on its subject and is amended only in writing signed by all "
        "Parties.",
    )

    # 7 Governing law ---------------------------------------------------------------------
    doc.add_heading("7. Governing law and disputes", level=1)
    _clause(doc, "7.1", "This Agreement is governed by {{ governing_law }}.")
    _clause(
        doc,
        "7.2",
        "The Parties shall first try to settle any dispute amicably, with the help of a hub "
        "of the network. A dispute not settled within sixty days may be brought before the "
        "competent courts under the governing law; a Disclosing Party may at any time seek "
        "interim or injunctive relief from any competent court.",
    )

    _signatures(doc, "{{ s.kind_title }}")
    return _finish(doc, NDA_TITLE)


FRAMEWORK_TITLE = "Framework Collaboration Agreement"
NETWORK = "network of European AI Digital Innovation Hubs"


def build_framework_agreement() -> bytes:
    """The multilateral Framework Collaboration Agreement (``FrameworkAgreementVariables``)."""
    doc = _new_document(
        FRAMEWORK_TITLE,
        FRAMEWORK_TITLE + " · edition {{ edition }} · version {{ version }} · page ",
    )

    doc.add_heading(FRAMEWORK_TITLE, level=0)
    subtitle = doc.add_paragraph()
    subtitle.add_run(f"Multilateral agreement of the {NETWORK}").bold = True
    _plain(
        doc,
        "Edition {{ edition }} · Version {{ version }} · Issued on {{ issued_on }}",
        after=8,
    )

    # Parties ----------------------------------------------------------------------------
    doc.add_heading("Parties", level=1)
    _plain(
        doc,
        "This multilateral Framework Collaboration Agreement (the “Agreement”) is made between:",
    )
    _tag(doc, "{%p for p in parties %}")
    _plain(
        doc,
        "{{ loop.index }}. {{ p.name }}, a European Digital Innovation Hub established in "
        "{{ p.country }}, organised as a {{ p.legal_status_label }}"
        "{{ ';' if not loop.last else ',' }}",
        indent=1,
    )
    _tag(doc, "{%p endfor %}")
    _plain(
        doc,
        "and every Digital Innovation Hub that accedes to it under clause 4. Each of them is "
        "a “Party” and together they are the “Parties”.",
    )

    # Recitals ---------------------------------------------------------------------------
    doc.add_heading("Recitals", level=1)
    _clause(
        doc,
        "(A)",
        f"The Parties are Digital Innovation Hubs focused on artificial intelligence and "
        f"members of the {NETWORK}. They differ in size, organisational structure, legal "
        "status, services and experience, and see in that diversity a reason to work "
        "together.",
    )
    _clause(
        doc,
        "(B)",
        "The network pursues a structured approach to cooperation among its hubs, so that a "
        "client of any hub can draw on the capabilities and infrastructure of the others.",
    )
    _clause(
        doc,
        "(C)",
        "The network helps its hubs unlock their potential for collaboration and networking "
        "through mentoring, coaching and the co-creation of services, methods and documents.",
    )
    _clause(
        doc,
        "(D)",
        "The Parties wish to collaborate across borders: to provide services jointly, to "
        "develop new services together and to connect the local players of their regions "
        "with players in other regions.",
    )
    _clause(
        doc,
        "(E)",
        "This Agreement was co-drafted by the hubs of the network and put to their "
        "consultation. It sets the common terms under which the Parties conclude their "
        "individual collaborations.",
    )
    _plain(doc, "The Parties therefore agree as follows.")

    # 1 Definitions -----------------------------------------------------------------------
    doc.add_heading("1. Definitions", level=1)
    _clause(doc, "1.1", "In this Agreement:")
    _definition(
        doc,
        "Network",
        f"means the {NETWORK}, coordinated by {{{{ secretariat }}}} (the “Secretariat”).",
    )
    _definition(
        doc,
        "Hub",
        "means a Digital Innovation Hub that is a Party, having signed this Agreement or "
        "acceded to it under clause 4.",
    )
    _definition(
        doc,
        "Specific Agreement",
        "means a Specific Collaboration Agreement or a Co-development Agreement concluded "
        "under clause 2 between two or more Hubs and, where relevant, a Client.",
    )
    _definition(
        doc,
        "Background IP",
        "means data, know-how, software, methods and other information and intellectual "
        "property rights held by a Party before it concludes a Specific Agreement or "
        "developed independently of it.",
    )
    _definition(
        doc,
        "Foreground IP",
        "means the results, including the intellectual property rights in them, generated "
        "by one or more Parties in carrying out a Specific Agreement.",
    )
    _definition(
        doc,
        "Client",
        "means a company, public body, start-up or other organisation to which one or more "
        "Hubs provide a service under a Specific Agreement.",
    )
    _definition(
        doc,
        "Steering Committee",
        "means the body of the Parties described in clause 3.",
    )
    _definition(
        doc,
        "Confidential Information",
        "means information disclosed by a Party under this Agreement that is marked as "
        "confidential or would reasonably be understood to be confidential.",
    )
    _clause(
        doc,
        "1.2",
        "Headings are for convenience only. “Including” means including without limitation.",
    )

    # 2 Purpose and scope -------------------------------------------------------------------
    doc.add_heading("2. Purpose and scope", level=1)
    _clause(
        doc,
        "2.1",
        "This Agreement is a framework. It sets the principles under which the Hubs "
        "cooperate in the Network: providing services jointly to Clients, co-developing new "
        "services, and introducing local players to players in other regions.",
    )
    _clause(
        doc,
        "2.2",
        "Each collaboration is concluded case by case in a Specific Agreement: a Specific "
        "Collaboration Agreement when Hubs provide a service jointly to a Client, and a "
        "Co-development Agreement when Hubs develop a new service together. A Specific "
        "Agreement binds only its signatories and records the tasks, costs, intellectual "
        "property and other terms of that collaboration.",
    )
    _clause(
        doc,
        "2.3",
        "This Agreement does not oblige a Party to conclude any Specific Agreement. It "
        "creates no partnership, joint venture or agency, and no Party may bind another.",
    )
    _clause(
        doc,
        "2.4",
        "If a Specific Agreement and this Agreement conflict, this Agreement prevails, "
        "except where the Specific Agreement expressly departs from a named clause of it.",
    )

    # 3 Governance ------------------------------------------------------------------------
    doc.add_heading("3. Governance", level=1)
    _clause(
        doc,
        "3.1",
        "The Steering Committee consists of one representative of each Party. Each Party "
        "holds one seat and one vote and may appoint a deputy to replace its representative.",
    )
    _clause(
        doc,
        "3.2",
        "The Steering Committee oversees the implementation of this Agreement, adopts the "
        "model Specific Agreements and annexes of the Network, decides on amendments to this "
        "Agreement and on objections to accessions, and settles questions referred to it "
        "under clause 12.",
    )
    _clause(
        doc,
        "3.3",
        "The Steering Committee may decide when more than half of the Parties are present "
        "or represented. It decides by a majority of at least {{ decision_majority_pct }}% "
        "of the votes cast. It may also decide by written or electronic procedure, including "
        "through dihflow, under the same majority.",
    )
    _clause(
        doc,
        "3.4",
        "An amendment to this Agreement adopted under clause 3.3 binds every Party from the "
        "date the Steering Committee sets, which is at least sixty days after the decision. "
        "A Party that voted against it may withdraw under clause 11 before that date, and "
        "the amendment then does not apply to it.",
    )
    _clause(
        doc,
        "3.5",
        "The Secretariat, {{ secretariat }}, convenes the Steering Committee at least once a "
        "year, keeps its minutes and the register of Parties, signatures and accessions, and "
        "informs the Parties of every change to that register. The Secretariat has no vote.",
    )

    # 4 Accession -------------------------------------------------------------------------
    doc.add_heading("4. Accession of new Hubs", level=1)
    _clause(
        doc,
        "4.1",
        "A Digital Innovation Hub of the Network that is not a Party may accede to this "
        "Agreement by signing an accession form in the model of Annex 1, by which it accepts "
        "this Agreement in the version then in force, and sending it to the Secretariat.",
    )
    _clause(
        doc,
        "4.2",
        "The Secretariat circulates the signed accession form to the Parties. The accession "
        "takes effect thirty days after that circulation unless the Steering Committee "
        "objects within that period under clause 3.3. From then the acceding Hub is a Party "
        "with the same rights and obligations as the others and holds a seat in the "
        "Steering Committee.",
    )
    _clause(
        doc,
        "4.3",
        "A Hub whose accession takes effect before this Agreement enters into force counts "
        "as a signatory for clause 5.1.",
    )

    # 5 Entry into force --------------------------------------------------------------------
    doc.add_heading("5. Entry into force and duration", level=1)
    _clause(
        doc,
        "5.1",
        "This Agreement enters into force on the date on which it has been signed by "
        "{{ entry_threshold }} Hubs, as recorded by the Secretariat. Until then it binds no "
        "Party, except clauses 8 and 9 for information exchanged in preparing it.",
    )
    _clause(
        doc,
        "5.2",
        "For a Hub that signs after the entry into force, this Agreement takes effect on "
        "the date of its signature; for an acceding Hub, on the date its accession takes "
        "effect under clause 4.2. The Secretariat informs all Parties of these dates.",
    )
    _clause(
        doc,
        "5.3",
        "This Agreement is concluded for an indefinite period and ends only under clause 11.",
    )

    # 6 Costs ---------------------------------------------------------------------------
    doc.add_heading("6. Costs", level=1)
    _clause(
        doc,
        "6.1",
        "Each Party bears its own costs of taking part in the Network and of performing this "
        "Agreement, including its participation in the Steering Committee, unless a Specific "
        "Agreement provides otherwise.",
    )
    _clause(
        doc,
        "6.2",
        "The cost of a collaboration, and any funding received for it, is allocated among "
        "the parties to its Specific Agreement in that Specific Agreement. No payment is due "
        "between the Parties under this Agreement alone.",
    )

    # 7 Intellectual property -------------------------------------------------------------
    doc.add_heading("7. Intellectual property principles", level=1)
    _clause(
        doc,
        "7.1",
        "Background IP remains the property of the Party that brings it; neither this "
        "Agreement nor a Specific Agreement transfers it. Rights to use another Party’s "
        "Background IP arise only from a Specific Agreement and only as far as the "
        "collaboration needs them.",
    )
    _clause(
        doc,
        "7.2",
        "Unless a Specific Agreement provides otherwise, each Party owns the Foreground IP "
        "it generates, and Foreground IP generated by several Parties whose contributions "
        "cannot be separated belongs to them jointly.",
    )
    _clause(
        doc,
        "7.3",
        "A Specific Agreement sets the rights of a Client in the results delivered to it. "
        "Unless it provides otherwise, the Client receives a non-exclusive, perpetual right "
        "to use those results for its own purposes.",
    )
    _clause(
        doc,
        "7.4",
        "Methods, templates and documents co-created by the Parties within the Network’s "
        "mentoring, coaching and co-creation activities may be used by every Party for its "
        "own activities, with acknowledgement of the Network.",
    )

    # 8 Confidentiality -------------------------------------------------------------------
    doc.add_heading("8. Confidentiality", level=1)
    _clause(
        doc,
        "8.1",
        "Each Party shall keep the Confidential Information of the other Parties "
        "confidential, use it only for the purposes of this Agreement and the Network, and "
        "disclose it only to staff and subcontractors who need it and are bound by "
        "equivalent obligations. A Specific Agreement may set stricter terms.",
    )
    _clause(
        doc,
        "8.2",
        "Clause 8.1 does not apply to information that is or becomes public other than by a "
        "breach of this Agreement, was lawfully known to the recipient beforehand, or must "
        "be disclosed by law. It survives for five years after this Agreement ends or the "
        "Party concerned leaves it.",
    )

    # 9 Personal data ---------------------------------------------------------------------
    doc.add_heading("9. Personal data", level=1)
    _clause(
        doc,
        "9.1",
        "Each Party processes personal data in connection with this Agreement in accordance "
        "with Regulation (EU) 2016/679 (GDPR) and applicable national law, as a separate "
        "controller for its own purposes, and shares only the personal data the Network "
        "needs, such as the contact details of representatives.",
    )
    _clause(
        doc,
        "9.2",
        "Where a Specific Agreement involves personal data that a Hub processes on behalf "
        "of another Party or a Client, the parties concerned attach the Network’s "
        "Data-Processing Annex (Article 28 GDPR) to that Specific Agreement before that "
        "processing starts. Parties that jointly determine the purposes and means of a "
        "processing conclude an arrangement under Article 26 GDPR.",
    )

    # 10 Liability ------------------------------------------------------------------------
    doc.add_heading("10. Liability", level=1)
    _clause(
        doc,
        "10.1",
        "Each Party is liable only for its own acts and omissions. The Parties are not "
        "jointly and severally liable, and no Party is liable for the performance of a "
        "Specific Agreement to which it is not a party.",
    )
    _clause(
        doc,
        "10.2",
        "Liability within a collaboration is governed by its Specific Agreement. Under this "
        "Agreement alone, except for wilful misconduct, gross negligence, breach of clause 8 "
        "or 9, or liability that cannot be limited by law, no Party is liable to another for "
        "indirect or consequential loss.",
    )

    # 11 Withdrawal and termination ------------------------------------------------------
    doc.add_heading("11. Withdrawal and termination", level=1)
    _clause(
        doc,
        "11.1",
        "A Party may withdraw from this Agreement on ninety days’ written notice to the "
        "Secretariat, which informs the other Parties.",
    )
    _clause(
        doc,
        "11.2",
        "If a Party materially breaches this Agreement and does not remedy the breach within "
        "sixty days of being notified, the Steering Committee may exclude it by a decision "
        "under clause 3.3 in which that Party does not vote.",
    )
    _clause(
        doc,
        "11.3",
        "This Agreement ends when the Steering Committee so decides under clause 3.3 or when "
        "fewer than two Parties remain.",
    )
    _clause(
        doc,
        "11.4",
        "Withdrawal, exclusion or termination does not affect Specific Agreements already "
        "concluded: they continue, and the terms of this Agreement continue to apply to them, "
        "until they end, unless their parties agree otherwise. Clauses 7, 8, 9, 10 and 12 "
        "survive.",
    )

    # 12 Governing law -----------------------------------------------------------------
    doc.add_heading("12. Governing law and disputes", level=1)
    _clause(doc, "12.1", "This Agreement is governed by {{ governing_law }}.")
    _clause(
        doc,
        "12.2",
        "The Parties to a dispute shall first try to settle it amicably, by negotiation "
        "between their representatives and then, at the request of any of them, with the "
        "mediation of the Secretariat or the Steering Committee.",
    )
    _clause(
        doc,
        "12.3",
        "A dispute not settled amicably within sixty days of its written notification "
        "shall be finally settled by {{ dispute_forum }}. A Party may at any time seek "
        "interim relief from any competent court.",
    )

    # 13 Edition and version ----------------------------------------------------------
    doc.add_heading("13. Edition, version and final provisions", level=1)
    _clause(
        doc,
        "13.1",
        "This document is edition {{ edition }}, version {{ version }} of the Agreement, "
        "issued on {{ issued_on }} after the consultation of the Hubs. The Secretariat "
        "records each version adopted and the SHA-256 of its text; a later version adopted "
        "under clause 3.4 replaces it.",
    )
    _clause(
        doc,
        "13.2",
        "This Agreement, with its annexes, is the entire agreement of the Parties on its "
        "subject. If a provision is invalid, the others remain in force and the Parties "
        "replace it with a valid provision as close as possible to its purpose.",
    )
    _clause(
        doc,
        "13.3",
        "This Agreement may be signed in counterparts and electronically; each signature "
        "applies to the SHA-256 of this version.",
    )

    _signatures(
        doc,
        "Hub, {{ s.legal_status_label }}",
        "This Agreement is signed electronically via dihflow by each Party’s authorised "
        "representative; the SHA-256 of the signed document is recorded in the timeline of "
        "the Framework Collaboration Agreement, edition {{ edition }}.",
        "the register of the Framework Collaboration Agreement",
    )

    # Annex 1 Accession form ---------------------------------------------------------------
    doc.add_heading("Annex 1. Accession form", level=1)
    _plain(
        doc,
        "[Name of the Hub], a European Digital Innovation Hub established in [country], "
        "organised as a [public body / private entity / hybrid public-private entity], "
        "represented by [name and title of the representative],",
    )
    _plain(
        doc,
        "hereby accedes to the Framework Collaboration Agreement of the "
        f"{NETWORK}, edition {{{{ edition }}}}, in the version in force on the date of "
        "this form, accepts all the rights and obligations of a Party under it, and asks "
        "the Secretariat to circulate this form under clause 4.2.",
        after=8,
    )
    _plain(doc, "Name: " + SIGNATURE_LINE, after=2)
    _plain(doc, "Title: " + SIGNATURE_LINE, after=2)
    _plain(doc, "Date: " + SIGNATURE_LINE, after=2)
    _plain(doc, "Signature: " + SIGNATURE_LINE, after=2)

    return _finish(doc, FRAMEWORK_TITLE)


DPA_TITLE = "Data-Processing Annex"


def build_data_processing_annex() -> bytes:
    """The Data-Processing Annex, Article 28 GDPR (variables: ``DataProcessingVariables``)."""
    doc = _new_document(DPA_TITLE)

    doc.add_heading(DPA_TITLE, level=0)
    subtitle = doc.add_paragraph()
    subtitle.add_run("Annex to the agreement “{{ agreement_title }}”").bold = True
    _plain(
        doc,
        "Case reference {{ case_ref }} · Version {{ version }} · Issued on {{ issued_on }}",
    )
    _plain(
        doc,
        "Processing of personal data on behalf of a controller under Article 28 of "
        "Regulation (EU) 2016/679 (GDPR).",
        after=8,
    )

    # Parties ----------------------------------------------------------------------------
    doc.add_heading("Parties", level=1)
    _plain(
        doc,
        "This Data-Processing Annex (the “Annex”) forms part of the agreement "
        "“{{ agreement_title }}” (the “Agreement”) and is made between:",
    )
    _plain(
        doc,
        "1. {{ controller.name }}, established in {{ controller.country }}, acting as "
        "controller (the “Controller”);",
        indent=1,
    )
    _tag(doc, "{%p for p in processors %}")
    _plain(
        doc,
        "{{ loop.index + 1 }}. {{ p.name }}, established in {{ p.country }}, acting as "
        "processor (a “Processor”){{ ';' if not loop.last else '.' }}",
        indent=1,
    )
    _tag(doc, "{%p endfor %}")
    _plain(
        doc,
        "Each of them is a “Party”. Where there are several Processors, each is bound by "
        "this Annex separately, for the processing it carries out, and “the Processor” "
        "refers to each of them.",
    )

    # Recitals ---------------------------------------------------------------------------
    doc.add_heading("Recitals", level=1)
    _clause(
        doc,
        "(A)",
        "The Parties have concluded the Agreement in case {{ case_ref }} of the network of "
        "European AI Digital Innovation Hubs.",
    )
    _clause(
        doc,
        "(B)",
        "In performing the Agreement the Processor processes personal data on behalf of "
        "the Controller, and Article 28 GDPR requires that processing to be governed by a "
        "contract setting out its subject matter, duration, nature and purpose, the types of "
        "personal data and the categories of data subjects, and the obligations and rights "
        "of the Controller.",
    )
    _plain(doc, "The Parties therefore agree as follows.")

    # 1 Definitions -----------------------------------------------------------------------
    doc.add_heading("1. Definitions and precedence", level=1)
    _clause(
        doc,
        "1.1",
        "“Personal data”, “processing”, “controller”, “processor”, “data subject”, "
        "“personal data breach” and “supervisory authority” have the meaning given to them "
        "in Article 4 GDPR. In this Annex:",
    )
    _definition(
        doc,
        "Sub-processor",
        "means a processor engaged by the Processor to carry out processing on behalf of "
        "the Controller.",
    )
    _definition(
        doc,
        "EEA",
        "means the European Economic Area (the European Union, Iceland, Liechtenstein and Norway).",
    )
    _clause(
        doc,
        "1.2",
        "On the protection of personal data this Annex prevails over the Agreement. In all "
        "other respects the Agreement applies.",
    )

    # 2 Subject matter ---------------------------------------------------------------------
    doc.add_heading("2. Subject matter, duration, nature and purpose", level=1)
    _clause(
        doc,
        "2.1",
        "The subject matter of the processing is the personal data that the Processor "
        "processes on behalf of the Controller in performing the Agreement. The processing "
        "lasts as long as the Agreement and, after it ends, until the personal data has "
        "been deleted or returned under clause 4.9.",
    )
    _clause(
        doc,
        "2.2",
        "The processing consists of the operations the purpose needs, such as collection, "
        "recording, storage, structuring, analysis, use for training or testing of models, "
        "transmission to the Controller and erasure. Its purpose is: {{ purpose }}",
    )
    _clause(
        doc,
        "2.3",
        "The Processor processes the personal data for that purpose only and never for its "
        "own purposes.",
    )

    # 3 Personal data and data subjects -----------------------------------------------------
    doc.add_heading("3. Personal data and data subjects", level=1)
    _clause(doc, "3.1", "The types of personal data processed are:")
    _tag(doc, "{%p for item in data_categories %}")
    _bullet(doc, "{{ item }}")
    _tag(doc, "{%p endfor %}")
    _clause(doc, "3.2", "The categories of data subjects are:")
    _tag(doc, "{%p for item in data_subjects %}")
    _bullet(doc, "{{ item }}")
    _tag(doc, "{%p endfor %}")
    _clause(
        doc,
        "3.3",
        "Special categories of personal data (Article 9 GDPR) and personal data relating to "
        "criminal convictions and offences (Article 10 GDPR) are processed only if clause "
        "3.1 names them expressly.",
    )

    # 4 Obligations of the Processor ----------------------------------------------------------
    doc.add_heading("4. Obligations of the Processor", level=1)
    doc.add_heading("Documented instructions", level=2)
    _clause(
        doc,
        "4.1",
        "The Processor processes the personal data only on documented instructions from the "
        "Controller, including with regard to transfers to a third country, unless Union or "
        "Member State law requires otherwise; in that case it informs the Controller of that "
        "legal requirement beforehand, unless the law prohibits it. This Annex and the "
        "Agreement are the Controller’s instructions; further instructions are given in "
        "writing and recorded in case {{ case_ref }}. The Processor informs the Controller "
        "immediately if, in its opinion, an instruction infringes data protection law.",
    )
    doc.add_heading("Confidentiality of personnel", level=2)
    _clause(
        doc,
        "4.2",
        "The Processor grants access to the personal data only to the persons who need it "
        "to perform the Agreement and ensures that they have committed themselves to "
        "confidentiality or are under an appropriate statutory obligation of "
        "confidentiality. Personal data is also Confidential Information under the "
        "Agreement.",
    )
    doc.add_heading("Security of processing", level=2)
    _clause(
        doc,
        "4.3",
        "The Processor takes the technical and organisational measures required by "
        "Article 32 GDPR to ensure a level of security appropriate to the risk, including at "
        "least the following:",
    )
    _tag(doc, "{%p for item in security_measures %}")
    _bullet(doc, "{{ item }}")
    _tag(doc, "{%p endfor %}")
    doc.add_heading("Sub-processors", level=2)
    _clause(
        doc,
        "4.4",
        "The Processor engages a Sub-processor only with the prior specific written "
        "authorisation of the Controller. The Sub-processors authorised by this Annex are:",
    )
    _tag(doc, "{%p for item in sub_processors %}")
    _bullet(doc, "{{ item }}")
    _tag(doc, "{%p else %}")
    _plain(doc, "No sub-processors are authorised.", indent=1.6)
    _tag(doc, "{%p endfor %}")
    _clause(
        doc,
        "4.5",
        "Adding or replacing a Sub-processor requires a new version of this Annex signed by "
        "the Controller. The Processor imposes on each Sub-processor, by contract, the same "
        "data protection obligations as this Annex and remains fully liable to the "
        "Controller for the Sub-processor’s performance of them.",
    )
    doc.add_heading("Rights of data subjects", level=2)
    _clause(
        doc,
        "4.6",
        "Taking into account the nature of the processing, the Processor assists the "
        "Controller by appropriate technical and organisational measures in responding to "
        "requests from data subjects exercising their rights under Chapter III GDPR. It "
        "forwards to the Controller within five working days any request it receives and "
        "does not answer it itself unless the Controller so instructs.",
    )
    _clause(
        doc,
        "4.7",
        "The Processor also assists the Controller in meeting its obligations under "
        "Articles 32 to 36 GDPR (security, breach notification, data protection impact "
        "assessment and prior consultation), taking into account the information available "
        "to it.",
    )
    doc.add_heading("Personal data breaches", level=2)
    _clause(
        doc,
        "4.8",
        "The Processor notifies the Controller of a personal data breach without undue "
        "delay and at the latest within {{ breach_notice }} after becoming aware of it, with "
        "the information listed in Article 33(3) GDPR as far as available, and provides the "
        "rest as it becomes available. It takes the measures needed to contain the breach "
        "and documents it. It informs a supervisory authority or data subjects only on the "
        "Controller’s instructions.",
    )
    doc.add_heading("Deletion or return", level=2)
    _clause(
        doc,
        "4.9",
        "When the processing services end, the Processor, at the choice of the Controller, "
        "deletes all the personal data or returns it to the Controller, and deletes the "
        "existing copies, unless Union or Member State law requires their storage. It "
        "confirms the deletion or return in writing within thirty days.",
    )
    doc.add_heading("Audits", level=2)
    _clause(
        doc,
        "4.10",
        "The Processor makes available to the Controller all information necessary to "
        "demonstrate compliance with this Annex and Article 28 GDPR, and allows for and "
        "contributes to audits, including inspections, by the Controller or an auditor it "
        "mandates, on thirty days’ written notice (or sooner after a personal data breach) "
        "and subject to confidentiality. Each Party bears its own costs of an audit.",
    )
    _clause(
        doc,
        "4.11",
        "The Processor keeps a record of the processing carried out on behalf of the "
        "Controller as required by Article 30(2) GDPR.",
    )
    _tag(doc, "{%p if transfers_outside_eea %}")
    doc.add_heading("International transfers", level=2)
    _clause(
        doc,
        "4.12",
        "The Controller authorises the transfer of personal data to countries outside the "
        "EEA, or access to it from there, only as far as the purpose needs it and only if "
        "the conditions of Chapter V GDPR are met: an adequacy decision of the European "
        "Commission for the country concerned or, failing that, the standard contractual "
        "clauses adopted by the European Commission concluded with the recipient, together "
        "with any supplementary measures needed to ensure an essentially equivalent level "
        "of protection.",
    )
    _clause(
        doc,
        "4.13",
        "Before each transfer the Processor informs the Controller in writing of the "
        "recipient, the country, the transfer mechanism relied on and the supplementary "
        "measures taken, and keeps a copy of the transfer mechanism available to the "
        "Controller.",
    )
    _tag(doc, "{%p else %}")
    doc.add_heading("Location of processing", level=2)
    _clause(
        doc,
        "4.12",
        "The Processor, and any Sub-processor, processes and stores the personal data only "
        "within the EEA and does not allow access to it from elsewhere. Any processing "
        "outside the EEA requires a new version of this Annex.",
    )
    _tag(doc, "{%p endif %}")

    # 5 Obligations of the Controller ------------------------------------------------------
    doc.add_heading("5. Obligations of the Controller", level=1)
    _clause(
        doc,
        "5.1",
        "The Controller ensures that it has a lawful basis for the processing, that it has "
        "informed the data subjects as Articles 13 and 14 GDPR require, and that its "
        "instructions comply with data protection law.",
    )

    # 6 Liability -----------------------------------------------------------------------
    doc.add_heading("6. Liability", level=1)
    _clause(
        doc,
        "6.1",
        "Each Party is liable for the damage caused by its processing in breach of the GDPR "
        "or of this Annex as Article 82 GDPR provides. Each Processor is liable only for its "
        "own processing and that of its Sub-processors; the Processors are not jointly and "
        "severally liable to the Controller.",
    )
    _clause(
        doc,
        "6.2",
        "Between the Parties, the limitations of liability of the Agreement apply to this "
        "Annex, except for wilful misconduct, gross negligence, fines imposed by a "
        "supervisory authority for a Party’s own infringement, and liability that cannot be "
        "limited by law.",
    )

    # 7 Duration and termination -----------------------------------------------------------
    doc.add_heading("7. Duration and termination", level=1)
    _clause(
        doc,
        "7.1",
        "This Annex takes effect on the date of its last signature and ends with the "
        "Agreement. It ends earlier for a Processor whose participation in the Agreement "
        "ends.",
    )
    _clause(
        doc,
        "7.2",
        "The Controller may suspend the processing, or terminate this Annex and the "
        "processing under the Agreement, if a Processor materially breaches this Annex and "
        "does not remedy the breach within fifteen days of being notified.",
    )
    _clause(
        doc,
        "7.3",
        "The obligations of clauses 4 and 6 continue for as long as the Processor or a "
        "Sub-processor holds any of the personal data.",
    )

    # 8 Governing law -------------------------------------------------------------------
    doc.add_heading("8. Governing law and disputes", level=1)
    _clause(doc, "8.1", "This Annex is governed by {{ governing_law }}.")
    _clause(
        doc,
        "8.2",
        "The Parties shall first try to settle any dispute amicably. A dispute not settled "
        "within sixty days is resolved as the Agreement provides for its own disputes. This "
        "does not affect the right of a data subject to lodge a complaint with a "
        "supervisory authority.",
    )

    _signatures(
        doc,
        "{{ s.role_title }}",
        "This Annex is signed electronically via dihflow by each Party’s authorised "
        "representative; the SHA-256 of the signed document is recorded in the timeline of "
        "case {{ case_ref }}.",
    )
    return _finish(doc, DPA_TITLE)


TEMPLATE_BUILDERS: dict[str, Callable[[], bytes]] = {
    SPECIFIC_AGREEMENT_TEMPLATE: build_specific_agreement,
    CO_DEVELOPMENT_TEMPLATE: build_co_development_agreement,
    NDA_TEMPLATE: build_mutual_nda,
    FRAMEWORK_TEMPLATE: build_framework_agreement,
    DPA_TEMPLATE: build_data_processing_annex,
}
"""Each template name (file name without ``.docx``) and the function building it."""


def build_all(output_dir: Path = HERE) -> list[Path]:
    """Write every template of ``TEMPLATE_BUILDERS`` into ``output_dir``; the paths written."""
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, build in TEMPLATE_BUILDERS.items():
        output = output_dir / f"{name}.docx"
        output.write_bytes(build())
        written.append(output)
    return written


def main(argv: list[str]) -> int:
    if len(argv) > 2:
        print(f"usage: {argv[0]} [OUTPUT_DIR | OUTPUT.docx]", file=sys.stderr)  # noqa: T201
        return 2
    target = Path(argv[1]) if len(argv) == 2 else HERE
    if target.suffix.lower() == ".docx" and not target.is_dir():
        # One file: the Specific Collaboration Agreement only (the original interface).
        target.write_bytes(build_specific_agreement())
        written = [target]
    else:
        written = build_all(target)
    for output in written:
        print(f"wrote {output} ({output.stat().st_size} bytes)")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
