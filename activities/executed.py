"""The executed agreement: the signed version with a signature certificate page appended.

``produce_executed_agreement`` runs once the last party has signed (effect
``execute_agreement``), after the step's ``record_case``, so every ``Signature`` row over the
signed SHA-256 is in the store. It makes and stores, content-addressed:

- the signature certificate alone (template ``signature_certificate``),
- the executed copy: the signed version followed by the certificate (``executed_agreement``),
- the executed copy as PDF (``executed_agreement_pdf``) when LibreOffice's ``soffice`` is
  installed; otherwise the result says why there is none.

The .docx files are deterministic (fixed core properties and zip entry times); a PDF is not
byte-for-byte reproducible, so its hash is simply recorded. Idempotent: a retried run finds the
rows it made (ids ``<case>-v<version>-certificate``, ``-executed``, ``-executed-pdf``).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import docx
from docx.enum.text import WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.text.paragraph import Paragraph
from lxml import etree
from sqlmodel import select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.payloads import ExecutedCopy, ExecuteInput
from activities.pdf import PdfConversionError, PdfConverter
from base.settings import Settings
from documents.files import store_file
from documents.rendering import document_docx
from domain.cases import CLIENT, LOCAL_PLAYER, CaseFacts
from domain.clock import utc_naive, utc_text
from domain.digests import sha256_hex
from domain.dossier import CERTIFICATE_TEMPLATE, EXECUTED_PDF_TEMPLATE, EXECUTED_TEMPLATE
from domain.timeline import canonical_json
from store.db import as_utc, session_scope
from store.models import Document, Hub, Signature

log = logging.getLogger("dihflow.executed")

TEMPLATE_VERSION = "1"
CERTIFICATE_TITLE = "Signature certificate"
LEGAL_NOTE = (
    "These are simple electronic signatures within the meaning of Regulation (EU) No 910/2014 "
    "(eIDAS), with an audit trail: each signature was given through the dihflow API, is bound "
    "to the SHA-256 of the exact document version above, and is recorded in the case's "
    "hash-chained timeline. They are not advanced or qualified electronic signatures."
)
COLUMNS = (
    "Party",
    "Signer name",
    "Role",
    "Hub / organisation",
    "Signed at (UTC)",
    "IP address",
    "User agent",
)
ROLES = {CLIENT: "client", LOCAL_PLAYER: "local player"}


@dataclass(frozen=True)
class SignerRow:
    party: str
    signer_name: str
    role: str
    organisation: str
    signed_at: str
    ip: str
    user_agent: str


@dataclass(frozen=True)
class Certificate:
    case_id: str
    title: str
    document_id: str
    version: int
    document_sha256: str
    head_hash: str
    head_seq: int
    executed_at: datetime
    signers: tuple[SignerRow, ...]

    def digest(self) -> str:
        """SHA-256 of what the certificate states (kept in the row, never in the timeline)."""
        data = {
            "case_id": self.case_id,
            "document_id": self.document_id,
            "document_sha256": self.document_sha256,
            "head_hash": self.head_hash,
            "head_seq": self.head_seq,
            "executed_at": self.executed_at.isoformat(),
            "signers": [s.__dict__ for s in self.signers],
        }
        return sha256_hex(canonical_json(data))


def doc_ids(case_id: str, version: int) -> tuple[str, str, str]:
    """(certificate, executed copy, executed PDF) document ids of a signed version."""
    base = f"{case_id}-v{version}"
    return f"{base}-certificate", f"{base}-executed", f"{base}-executed-pdf"


class ExecutedActivities:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.pdf = PdfConverter(settings.pdf_converter, settings.pdf_python)

    @activity.defn(name="produce_executed_agreement")
    def produce_executed_agreement(self, data: ExecuteInput) -> ExecutedCopy:
        _heartbeat()
        facts = data.facts
        if facts.draft is None:
            raise ApplicationError(
                f"case {facts.case_id} has no signed draft", type="NoDraft", non_retryable=True
            )
        version = facts.draft.version
        cert_id, exec_id, pdf_id = doc_ids(facts.case_id, version)
        root = self.settings.documents_dir
        with session_scope(self.settings.database_url) as session:
            signed = session.get(Document, facts.draft.document_id)
            if signed is None or signed.sha256 != facts.draft.sha256:
                raise ApplicationError(
                    f"the signed document {facts.draft.document_id} is not in the store",
                    type="NoSignedDocument",
                    non_retryable=True,
                )
            cert_row, exec_row = session.get(Document, cert_id), session.get(Document, exec_id)
            if cert_row is None or exec_row is None:
                try:
                    signed_bytes = (root / signed.path).read_bytes()
                except FileNotFoundError:
                    raise ApplicationError(
                        f"the file of {signed.id} is missing from the document store",
                        type="DocumentMissing",
                        non_retryable=True,
                    ) from None
                if sha256_hex(signed_bytes) != signed.sha256:
                    raise ApplicationError(
                        f"the file of {signed.id} does not match its SHA-256",
                        type="DocumentChanged",
                        non_retryable=True,
                    )
                cert = _certificate(session, facts, data.executed_at)
                exec_bytes, cert_bytes = executed_documents(signed_bytes, cert)
                common = dict(
                    case_id=facts.case_id,
                    version=version,
                    template_version=TEMPLATE_VERSION,
                    template_sha256=signed.sha256,  # made from the signed version
                    variables_sha256=cert.digest(),
                    variables=None,
                )
                if cert_row is None:
                    cert_row = _store(root, cert_id, CERTIFICATE_TEMPLATE, cert_bytes, common)
                    session.add(cert_row)
                if exec_row is None:
                    exec_row = _store(root, exec_id, EXECUTED_TEMPLATE, exec_bytes, common)
                    session.add(exec_row)
            pdf_row = session.get(Document, pdf_id)
        result = ExecutedCopy(
            version=version,
            document_id=exec_row.id,
            sha256=exec_row.sha256,
            certificate_id=cert_row.id,
            certificate_sha256=cert_row.sha256,
        )
        if pdf_row is None and not data.pdf:
            result.pdf_skipped = "no PDF yet: made when first asked for (or by the outbox)"
        elif pdf_row is None:
            _heartbeat()
            pdf_row, result.pdf_skipped = executed_pdf(
                self.settings, self.pdf, facts.case_id, exec_row, pdf_id
            )
        if pdf_row is not None:
            result.pdf_document_id, result.pdf_sha256 = pdf_row.id, pdf_row.sha256
        return result


def pdf_id_of(executed_id: str) -> str:
    """The id of an executed copy's PDF (see ``doc_ids``)."""
    return f"{executed_id}-pdf"


def make_pdf(settings: Settings, converter: PdfConverter, executed_id: str) -> str | None:
    """The PDF of a stored executed copy, unless it exists; why there is none, or None.

    For the outbox's converters: a conversion that fails raises ``PdfConversionError`` (it is
    retried); a missing executed copy raises ``LookupError``."""
    with session_scope(settings.database_url) as session:
        executed = session.get(Document, executed_id)
        if executed is None:
            raise LookupError(f"no document {executed_id}")
        if session.get(Document, pdf_id_of(executed_id)) is not None:
            return None
    why = converter.unavailable()
    if why is not None:
        return why
    root = settings.documents_dir
    pdf = converter.convert((root / executed.path).read_bytes())
    _store_pdf(settings, executed, pdf_id_of(executed_id), pdf)
    return None


def executed_pdf(
    settings: Settings,
    converter: PdfConverter,
    case_id: str,
    executed: Document,
    pdf_id: str,
) -> tuple[Document | None, str | None]:
    """Convert and store the PDF of ``executed`` (heartbeating); (row, why there is none)."""
    why = converter.unavailable()
    if why is not None:
        log.warning("%s (case %s)", why, case_id)
        return None, why
    root = settings.documents_dir
    try:
        pdf = converter.convert((root / executed.path).read_bytes(), tick=_heartbeat)
    except PdfConversionError as exc:
        log.warning("case %s: %s", case_id, exc)
        return None, f"no PDF: {exc}"
    return _store_pdf(settings, executed, pdf_id, pdf), None


def _store_pdf(settings: Settings, executed: Document, pdf_id: str, pdf: bytes) -> Document:
    root = settings.documents_dir
    row = _store(
        root,
        pdf_id,
        EXECUTED_PDF_TEMPLATE,
        pdf,
        dict(
            case_id=executed.case_id,
            version=executed.version,
            template_version=TEMPLATE_VERSION,
            template_sha256=executed.sha256,  # converted from the executed .docx
            variables_sha256=executed.variables_sha256,
            variables=None,
        ),
    )
    with session_scope(settings.database_url) as session:
        existing = session.get(Document, pdf_id)  # a concurrent retry may have stored one
        if existing is not None:
            return existing
        session.add(row)
    return row


def _heartbeat() -> None:
    """Tell the engine the activity is alive while LibreOffice works (outside an activity,
    e.g. ``dihflow documents verify``, there is nobody to tell)."""
    if activity.in_activity():
        activity.heartbeat()


def _store(
    root: Path, doc_id: str, template: str, content: bytes, common: dict[str, Any]
) -> Document:
    digest = sha256_hex(content)
    suffix = ".pdf" if template == EXECUTED_PDF_TEMPLATE else ".docx"
    path = store_file(root, digest, content, suffix)
    return Document(
        id=doc_id,
        template=template,
        sha256=digest,
        path=str(path.relative_to(root)),
        size=len(content),
        **common,
    )


# -- the certificate ---------------------------------------------------------------------------
def _certificate(session: Any, facts: CaseFacts, executed_at: str) -> Certificate:
    assert facts.draft is not None
    rows = {
        s.party: s
        for s in session.exec(
            select(Signature).where(
                Signature.case_id == facts.case_id,
                Signature.document_sha256 == facts.draft.sha256,
            )
        )
    }
    missing = [p for p in facts.signers if p not in rows]
    if missing:
        # record_case writes a signature before this runs: a gap is a store problem, not a
        # race, and retrying will not fill it
        raise ApplicationError(
            f"no stored signature of {missing} over {facts.draft.sha256}",
            type="SignatureMissing",
            non_retryable=True,
        )
    hubs = {h: session.get(Hub, h) for h in facts.signers if h not in ROLES}
    signers = []
    for party in facts.signers:
        s = rows[party]
        if party in ROLES:
            who = facts.external(party)
            organisation = who.name if who else ""
        else:
            hub = hubs.get(party)
            organisation = hub.name if hub else party
        signed_at = as_utc(s.signed_at)
        assert signed_at is not None
        signers.append(
            SignerRow(
                party=party,
                signer_name=s.signer_name or f"(no name given; API key {s.principal_id})",
                role=ROLES.get(party, "hub signatory"),
                organisation=organisation,
                signed_at=utc_text(signed_at),
                ip=s.ip or "(not seen)",
                user_agent=s.user_agent or "(not sent)",
            )
        )
    return Certificate(
        case_id=facts.case_id,
        title=facts.title,
        document_id=facts.draft.document_id,
        version=facts.draft.version,
        document_sha256=facts.draft.sha256,
        head_hash=facts.head_hash,
        head_seq=facts.seq,
        executed_at=datetime.fromisoformat(executed_at),
        signers=tuple(signers),
    )


def executed_documents(signed: bytes, cert: Certificate) -> tuple[bytes, bytes]:
    """(the executed copy, the certificate alone) as deterministic .docx bytes, from one parse
    of the signed version.

    The executed copy is the signed version with the certificate on a page of its own at the
    end. The certificate alone is the same package with a body of only the certificate: it
    keeps the agreement's styles, page setup and footer (which names the agreement and its
    version), so it looks like the executed copy's last page, and costs no second document
    to open (python-docx's blank document was parsed anew for every certificate before)."""
    document = docx.Document(io.BytesIO(signed))
    body = document.element.body
    agreement = [el for el in body.iterchildren() if el.tag != qn("w:sectPr")]
    _write_certificate(document, cert)
    _stamp(document, cert.executed_at)
    executed = document_docx(document)
    for element in agreement:
        body.remove(element)
    heading = body[0]
    for br in heading.findall(f".//{qn('w:br')}"):  # it starts on the first page here
        if br.get(qn("w:type")) == "page":
            br.getparent().remove(br)
    return executed, document_docx(document)


def _stamp(document: Any, at: datetime) -> None:
    stamp = utc_naive(at)
    core = document.core_properties
    core.created = core.modified = core.last_printed = stamp
    core.last_modified_by = "dihflow"
    core.revision = 1


def _write_certificate(document: Any, cert: Certificate) -> None:
    styles = {s.name for s in document.styles}
    heading = document.add_paragraph()
    heading.add_run().add_break(WD_BREAK.PAGE)
    if "Heading 1" in styles:
        heading.style = document.styles["Heading 1"]
    run = heading.add_run(CERTIFICATE_TITLE)
    run.bold = True
    run.font.size = Pt(16)
    document.add_paragraph(
        f"Case {cert.case_id}: {cert.title}. Document {cert.document_id} (version "
        f"{cert.version}), executed on {utc_text(cert.executed_at)} when the last party signed."
    )
    # every row at once: one XML parse for the table (add_row parses one per cell)
    table = document.add_table(rows=1 + len(cert.signers), cols=len(COLUMNS))
    if "Table Grid" in styles:
        table.style = document.styles["Table Grid"]
    else:
        _borders(table)
    values = [
        (s.party, s.signer_name, s.role, s.organisation, s.signed_at, s.ip, s.user_agent)
        for s in cert.signers
    ]
    for tr, texts in zip(table._tbl.tr_lst, [COLUMNS, *values], strict=True):
        for tc, text in zip(tr.tc_lst, texts, strict=True):
            _cell_text(tc, text, bold=texts is COLUMNS)
    document.add_paragraph()
    _labelled(document, "Document SHA-256: ", cert.document_sha256)
    _labelled(
        document,
        "Case timeline head hash at execution: ",
        f"{cert.head_hash} (event {cert.head_seq})",
    )
    document.add_paragraph(LEGAL_NOTE)
    document.add_paragraph(
        "Signer names, IP addresses and user agents are as seen by the dihflow API when each "
        "signature was given; times are UTC. The timeline and every document version can be "
        "checked offline with the command dihflow cases verify-dossier on the case dossier."
    )


def _labelled(document: Any, label: str, value: str) -> None:
    p = document.add_paragraph()
    p.add_run(label).bold = True
    run = p.add_run(value)
    run.font.name = "Courier New"
    run.font.size = Pt(9)


def _cell_text(tc: Any, text: str, bold: bool = False) -> None:
    """``text`` as one 8-point run in the cell's paragraph: the XML python-docx's
    ``add_run``, ``bold`` and ``font.size`` write, made with plain lxml calls (through
    python-docx's element classes a cell cost about 0.2 ms, the certificate's table 6 ms)."""
    if any(c in text for c in "\t\n\r"):  # tabs and breaks: python-docx makes their elements
        slow = Paragraph(tc.p_lst[0], None).add_run(text)  # type: ignore[arg-type]
        slow.bold = bold
        slow.font.size = Pt(8)
        return
    run = etree.SubElement(tc.p_lst[0], qn("w:r"))
    properties = etree.SubElement(run, qn("w:rPr"))
    weight = etree.SubElement(properties, qn("w:b"))
    if not bold:
        weight.set(qn("w:val"), "0")
    etree.SubElement(properties, qn("w:sz")).set(qn("w:val"), "16")
    if text:
        t = etree.SubElement(run, qn("w:t"))
        t.text = text
        if text != text.strip():
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")


def _borders(table: Any) -> None:
    """Single-line borders without relying on a table style the document may not have."""
    properties = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "single")
        element.set(qn("w:sz"), "4")
        element.set(qn("w:space"), "0")
        element.set(qn("w:color"), "000000")
        borders.append(element)
    properties.append(borders)


# -- PDF through LibreOffice -------------------------------------------------------------------
