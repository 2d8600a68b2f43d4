"""Build the docxtpl agreement templates of templates/agreements with python-docx.

    .venv/bin/python templates/agreements/build_templates.py [OUTPUT_DIR | OUTPUT.docx]

Without an argument, writes every template of ``TEMPLATE_BUILDERS`` next to this script:

* ``specific_collaboration_agreement.docx`` -- ``SpecificAgreementVariables``
* ``co_development_agreement.docx`` -- ``CoDevelopmentAgreementVariables``
* ``mutual_nda.docx`` -- ``NdaVariables``

(the variables models are in ``domain.agreements``; the templates use their
``to_context()``). With a directory (any path not ending in ``.docx``), writes all of them
there, creating it if needed; with a path ending in ``.docx``, writes only the Specific
Collaboration Agreement to it (the original interface).

The output is deterministic: the same script always gives the same bytes, because the
package is normalised with ``activities.rendering.normalise_docx`` and the core
properties carry fixed values. docxtpl tags: ``{%p ... %}`` loops or branches over whole
paragraphs (parties, background IP items, the IPR clause, signature blocks) and
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
    NDA_TEMPLATE,
    SPECIFIC_AGREEMENT_TEMPLATE,
)

SPECIFIC_AGREEMENT_FILE = HERE / f"{SPECIFIC_AGREEMENT_TEMPLATE}.docx"
CO_DEVELOPMENT_FILE = HERE / f"{CO_DEVELOPMENT_TEMPLATE}.docx"
NDA_FILE = HERE / f"{NDA_TEMPLATE}.docx"

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


def _new_document(document_title: str):
    """An A4 document with the house styles and a footer naming the case and version."""
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
    footer_run = footer.add_run(document_title + " {{ case_ref }} · version {{ version }} · page ")
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


def _signatures(doc, role: str) -> None:
    """One signature block per signatory; ``role`` is the jinja expression in brackets."""
    doc.add_heading("Signatures", level=1)
    _plain(
        doc,
        "This Agreement is signed electronically via dihflow by each Party’s authorised "
        "representative; the SHA-256 of the signed document is recorded in the timeline of "
        "case {{ case_ref }}.",
        after=8,
    )
    _tag(doc, "{%p for s in signatories %}")
    _plain(doc, "For {{ s.name }} (" + role + ", {{ s.country }})", bold=True, after=2)
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


TEMPLATE_BUILDERS: dict[str, Callable[[], bytes]] = {
    SPECIFIC_AGREEMENT_TEMPLATE: build_specific_agreement,
    CO_DEVELOPMENT_TEMPLATE: build_co_development_agreement,
    NDA_TEMPLATE: build_mutual_nda,
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
