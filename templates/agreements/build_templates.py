"""Build the docxtpl agreement templates of templates/agreements with python-docx.

    .venv/bin/python templates/agreements/build_templates.py [OUTPUT.docx]

Writes ``specific_collaboration_agreement.docx`` next to this script (or to OUTPUT).
The output is deterministic: the same script always gives the same bytes, because the
package is normalised with ``activities.rendering.normalise_docx`` and the core
properties carry fixed values.

The template's variables are those of ``domain.agreements.SpecificAgreementVariables``
(``to_context()``). docxtpl tags: ``{%p ... %}`` loops whole paragraphs (the partner
hubs, the signature blocks) and ``{%tr ... %}`` loops table rows (the tasks).
"""

from __future__ import annotations

import io
import sys
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

SPECIFIC_AGREEMENT_FILE = HERE / "specific_collaboration_agreement.docx"

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


def build_specific_agreement() -> bytes:
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
    footer_run = footer.add_run(
        "Specific Collaboration Agreement {{ case_ref }} · version {{ version }} · page "
    )
    footer_run.font.size = Pt(8)
    _page_field(footer)

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

    # Core properties: fixed values, no jinja (docxtpl renders some of them). ------------
    core = doc.core_properties
    core.title = "Specific Collaboration Agreement"
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


def main(argv: list[str]) -> int:
    if len(argv) > 2:
        print(f"usage: {argv[0]} [OUTPUT.docx]", file=sys.stderr)  # noqa: T201
        return 2
    output = Path(argv[1]) if len(argv) == 2 else SPECIFIC_AGREEMENT_FILE
    data = build_specific_agreement()
    output.write_bytes(data)
    print(f"wrote {output} ({len(data)} bytes)")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
