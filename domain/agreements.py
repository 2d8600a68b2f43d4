"""Variables of the agreement templates in templates/agreements.

A Specific Collaboration Agreement records one joint service that a lead hub and one or
more partner hubs provide to a client, concluded under the network's multilateral
Framework Collaboration Agreement. ``SpecificAgreementVariables`` validates everything the
template needs; ``to_context()`` turns it into the plain, JSON-able dict the docx
template is rendered with.

Two more templates follow the same pattern:

* ``CoDevelopmentAgreementVariables`` -- a Co-development Agreement between hubs (no
  client) that build a new service together, with an IPR clause chosen by ``ipr_model``;
* ``NdaVariables`` -- a Mutual Non-Disclosure Agreement for a matchmaking introduction
  among hubs and local players;
* ``FrameworkAgreementVariables`` -- the network's multilateral Framework Collaboration
  Agreement among hubs (one edition and version of it, with its signatory parties);
* ``DataProcessingVariables`` -- a Data-Processing Annex (Article 28 GDPR) added to an
  agreement when a case handles personal data.

``TEMPLATE_VARIABLES`` maps each template name to its variables model.

This module is pure: no file or network I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

SPECIFIC_AGREEMENT_TEMPLATE = "specific_collaboration_agreement"
CO_DEVELOPMENT_TEMPLATE = "co_development_agreement"
NDA_TEMPLATE = "mutual_nda"
FRAMEWORK_TEMPLATE = "framework_collaboration_agreement"
DPA_TEMPLATE = "data_processing_annex"

COST_SHARE_TOTAL = Decimal("100")
COST_SHARE_TOLERANCE = Decimal("0.01")

ROLE_LABELS: dict[str, str] = {
    "lead": "Lead Hub",
    "partner": "Partner Hub",
    "client": "Client",
}

# Characters XML 1.0 cannot carry. docxtpl would also turn \a and \f into paragraph and
# page breaks, so a value could otherwise change the document's structure.
XML_FORBIDDEN = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_safe(value: str) -> str:
    """Normalise line ends and refuse characters that cannot appear in a .docx."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    bad = XML_FORBIDDEN.search(value)
    if bad is not None:
        raise ValueError(f"contains a control character not allowed in a document: {bad.group()!r}")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Text = Annotated[str, AfterValidator(_xml_safe)]
"""Free text that may be empty (e.g. a representative not yet known)."""

RequiredText = Annotated[str, AfterValidator(_xml_safe), AfterValidator(_not_blank)]
"""Free text that must contain something other than whitespace."""


class AgreementParty(BaseModel):
    """A party to the agreement: the lead hub, a partner hub or the client."""

    model_config = ConfigDict(extra="forbid")

    id: RequiredText
    name: RequiredText
    country: RequiredText
    role: Literal["lead", "partner", "client"]
    representative: Text = ""

    def to_context(self) -> dict[str, str]:
        return {
            "id": self.id,
            "name": self.name,
            "country": self.country,
            "role": self.role,
            "role_label": ROLE_LABELS[self.role],
            "representative": self.representative,
        }


class AgreementTask(BaseModel):
    """One party's task in the joint service and its share of the cost, in percent."""

    model_config = ConfigDict(extra="forbid")

    party: RequiredText = Field(description="name of the party performing the task")
    description: RequiredText
    cost_share_pct: Annotated[Decimal, Field(ge=0, le=100)]

    def to_context(self) -> dict[str, str]:
        return {
            "party": self.party,
            "description": self.description,
            "cost_share_pct": _pct(self.cost_share_pct),
        }


def _pct(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):f}"


class SpecificAgreementVariables(BaseModel):
    """Everything the Specific Collaboration Agreement template is rendered from."""

    model_config = ConfigDict(extra="forbid")

    case_ref: RequiredText
    version: int = Field(ge=1)
    issued_on: date
    title: RequiredText
    need: RequiredText
    scope: RequiredText
    lead: AgreementParty
    partners: list[AgreementParty] = Field(min_length=1)
    client: AgreementParty
    tasks: list[AgreementTask] = Field(min_length=1)
    start_date: date
    end_date: date
    governing_law: RequiredText = "the law of the lead hub's country"
    framework_reference: RequiredText
    # a party not bound by the framework agreement in force: the standalone terms replace it
    standalone_terms: bool = False
    unbound_parties: list[RequiredText] = []

    @property
    def parties(self) -> list[AgreementParty]:
        """Lead hub, partner hubs and client, in signing order."""
        return [self.lead, *self.partners, self.client]

    @model_validator(mode="after")
    def _check_consistency(self) -> SpecificAgreementVariables:
        if self.lead.role != "lead":
            raise ValueError(f"lead must have role 'lead', not {self.lead.role!r}")
        if self.client.role != "client":
            raise ValueError(f"client must have role 'client', not {self.client.role!r}")
        for partner in self.partners:
            if partner.role != "partner":
                raise ValueError(
                    f"partner {partner.name!r} must have role 'partner', not {partner.role!r}"
                )

        ids = [p.id for p in self.parties]
        names = [p.name for p in self.parties]
        for label, values in (("id", ids), ("name", names)):
            duplicates = sorted({v for v in values if values.count(v) > 1})
            if duplicates:
                raise ValueError(f"party {label}s must be unique; repeated: {duplicates}")

        unknown = sorted({t.party for t in self.tasks} - set(names))
        if unknown:
            raise ValueError(f"tasks name parties that are not in the agreement: {unknown}")

        _require_total_100("task cost shares", [t.cost_share_pct for t in self.tasks])

        if self.end_date <= self.start_date:
            raise ValueError(
                f"end_date {self.end_date.isoformat()} must be after "
                f"start_date {self.start_date.isoformat()}"
            )
        return self

    def to_context(self) -> dict[str, Any]:
        """Plain JSON-able values for the docx template (dates as ISO strings)."""
        total = sum((t.cost_share_pct for t in self.tasks), Decimal(0))
        return {
            "case_ref": self.case_ref,
            "version": self.version,
            "issued_on": self.issued_on.isoformat(),
            "title": self.title,
            "need": self.need,
            "scope": self.scope,
            "lead": self.lead.to_context(),
            "partners": [p.to_context() for p in self.partners],
            "client": self.client.to_context(),
            "tasks": [t.to_context() for t in self.tasks],
            "total_cost_share_pct": _pct(total),
            "start_date": self.start_date.isoformat(),
            "end_date": self.end_date.isoformat(),
            "governing_law": self.governing_law,
            "framework_reference": self.framework_reference,
            "standalone_terms": self.standalone_terms,
            "unbound_parties": list(self.unbound_parties),
            "signatories": [p.to_context() for p in self.parties],
        }


# --- shared checks of the newer templates ------------------------------------------------


def _require_unique(what: str, values: list[str]) -> None:
    duplicates = sorted({v for v in values if values.count(v) > 1})
    if duplicates:
        raise ValueError(f"{what} must be unique; repeated: {duplicates}")


def cost_share_error(shares: Iterable[Decimal | float]) -> str | None:
    """Why cost shares (percentages) are not a whole, or None when they sum to 100 within
    0.01: the one check of a case's tasks, at its start and on revision, and of every
    agreement's shares. Summed as decimals (a float share counts as the number it prints)."""
    total = sum((s if isinstance(s, Decimal) else Decimal(str(s)) for s in shares), Decimal(0))
    if abs(total - COST_SHARE_TOTAL) > COST_SHARE_TOLERANCE:
        return f"cost shares must sum to 100 (within 0.01), got {total.normalize():f}"
    return None


def _require_total_100(what: str, shares: list[Decimal]) -> Decimal:
    problem = cost_share_error(shares)
    if problem is not None:
        raise ValueError(f"{what}: {problem}")
    return sum(shares, Decimal(0))


def _require_end_after_start(start: date, end: date) -> None:
    if end <= start:
        raise ValueError(f"end_date {end.isoformat()} must be after start_date {start.isoformat()}")


# --- Co-development Agreement ------------------------------------------------------------

IprModel = Literal["joint_ownership", "lead_owned_with_licences", "each_owns_foreground"]
"""How Foreground IP is owned: jointly by all Parties, by the Lead Hub with licences to
the Partner Hubs, or by each Party for what it generates."""

IPR_MODEL_LABELS: dict[str, str] = {
    "joint_ownership": "Joint ownership of the Foreground IP",
    "lead_owned_with_licences": "Foreground IP owned by the Lead Hub, licences to the partners",
    "each_owns_foreground": "Each Party owns the Foreground IP it generates",
}


class AgreementMilestone(BaseModel):
    """A milestone of the work plan: what is delivered, by which party, by when."""

    model_config = ConfigDict(extra="forbid")

    title: RequiredText
    party: RequiredText = Field(description="name of the party responsible for the milestone")
    due: date

    def to_context(self) -> dict[str, str]:
        return {"title": self.title, "party": self.party, "due": self.due.isoformat()}


class AgreementShare(BaseModel):
    """One party's share, in percent, of the cost of developing the service."""

    model_config = ConfigDict(extra="forbid")

    party: RequiredText = Field(description="name of the party bearing the share")
    cost_share_pct: Annotated[Decimal, Field(ge=0, le=100)]

    def to_context(self) -> dict[str, str]:
        return {"party": self.party, "cost_share_pct": _pct(self.cost_share_pct)}


class CoDevelopmentAgreementVariables(BaseModel):
    """Everything the Co-development Agreement template is rendered from.

    ``background_ip`` maps a party id to the Background IP items that party declares; a
    party missing from it (or mapped to an empty list) declares none. Milestones and cost
    shares name parties by name; every milestone falls within the agreement's term.
    """

    model_config = ConfigDict(extra="forbid")

    case_ref: RequiredText
    version: int = Field(ge=1)
    issued_on: date
    title: RequiredText
    need: RequiredText
    service_name: RequiredText
    service_description: RequiredText
    lead: AgreementParty
    partners: list[AgreementParty] = Field(min_length=1)
    ipr_model: IprModel
    background_ip: dict[str, list[RequiredText]] = Field(default_factory=dict)
    milestones: list[AgreementMilestone] = Field(min_length=1)
    cost_shares: list[AgreementShare] = Field(min_length=1)
    start_date: date
    end_date: date
    governing_law: RequiredText = "the law of the lead hub's country"
    framework_reference: RequiredText
    # a party not bound by the framework agreement in force: the standalone terms replace it
    standalone_terms: bool = False
    unbound_parties: list[RequiredText] = []

    @property
    def parties(self) -> list[AgreementParty]:
        """Lead hub, then partner hubs, in signing order."""
        return [self.lead, *self.partners]

    @model_validator(mode="after")
    def _check_consistency(self) -> CoDevelopmentAgreementVariables:
        if self.lead.role != "lead":
            raise ValueError(f"lead must have role 'lead', not {self.lead.role!r}")
        for partner in self.partners:
            if partner.role != "partner":
                raise ValueError(
                    f"partner {partner.name!r} must have role 'partner', not {partner.role!r}"
                )
        ids = [p.id for p in self.parties]
        names = [p.name for p in self.parties]
        _require_unique("party ids", ids)
        _require_unique("party names", names)

        unknown = sorted(set(self.background_ip) - set(ids))
        if unknown:
            raise ValueError(f"background_ip is keyed by unknown party ids: {unknown}")
        unknown = sorted({m.party for m in self.milestones} - set(names))
        if unknown:
            raise ValueError(f"milestones name parties that are not in the agreement: {unknown}")
        unknown = sorted({s.party for s in self.cost_shares} - set(names))
        if unknown:
            raise ValueError(f"cost shares name parties that are not in the agreement: {unknown}")
        _require_unique("cost share parties", [s.party for s in self.cost_shares])
        _require_total_100("cost shares", [s.cost_share_pct for s in self.cost_shares])

        _require_end_after_start(self.start_date, self.end_date)
        for milestone in self.milestones:
            if not self.start_date <= milestone.due <= self.end_date:
                raise ValueError(
                    f"milestone {milestone.title!r} is due on {milestone.due.isoformat()}, "
                    f"outside the term {self.start_date.isoformat()} to "
                    f"{self.end_date.isoformat()}"
                )
        return self

    def to_context(self) -> dict[str, Any]:
        """Plain JSON-able values for the docx template (dates as ISO strings).

        ``parties`` carries each party's ``background`` list (empty when it declared none).
        """
        total = sum((s.cost_share_pct for s in self.cost_shares), Decimal(0))
        parties = [
            {**p.to_context(), "background": list(self.background_ip.get(p.id, []))}
            for p in self.parties
        ]
        return {
            "case_ref": self.case_ref,
            "version": self.version,
            "issued_on": self.issued_on.isoformat(),
            "title": self.title,
            "need": self.need,
            "service_name": self.service_name,
            "service_description": self.service_description,
            "lead": self.lead.to_context(),
            "partners": [p.to_context() for p in self.partners],
            "parties": parties,
            "ipr_model": self.ipr_model,
            "ipr_model_label": IPR_MODEL_LABELS[self.ipr_model],
            "milestones": [m.to_context() for m in self.milestones],
            "cost_shares": [s.to_context() for s in self.cost_shares],
            "total_cost_share_pct": _pct(total),
            "start_date": self.start_date.isoformat(),
            "end_date": self.end_date.isoformat(),
            "governing_law": self.governing_law,
            "framework_reference": self.framework_reference,
            "standalone_terms": self.standalone_terms,
            "unbound_parties": list(self.unbound_parties),
            "signatories": [p.to_context() for p in self.parties],
        }


# --- Mutual Non-Disclosure Agreement -------------------------------------------------------

NDA_KIND_LABELS: dict[str, str] = {
    "hub": "European Digital Innovation Hub",
    "local_player": "local player",
}
NDA_KIND_TITLES: dict[str, str] = {"hub": "Hub", "local_player": "Local player"}

_NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def _years(n: int) -> str:
    """``3`` -> ``three (3) years`` (contract style); ``1`` -> ``one (1) year``."""
    return f"{_NUMBER_WORDS[n - 1]} ({n}) year{'' if n == 1 else 's'}"


class NdaParty(BaseModel):
    """A party to a mutual NDA: a hub of the network or a local player (e.g. a start-up)."""

    model_config = ConfigDict(extra="forbid")

    id: RequiredText
    name: RequiredText
    country: RequiredText
    kind: Literal["hub", "local_player"]
    representative: Text = ""

    def to_context(self) -> dict[str, str]:
        return {
            "id": self.id,
            "name": self.name,
            "country": self.country,
            "kind": self.kind,
            "kind_label": NDA_KIND_LABELS[self.kind],
            "kind_title": NDA_KIND_TITLES[self.kind],
            "representative": self.representative,
        }


class NdaVariables(BaseModel):
    """Everything the Mutual Non-Disclosure Agreement template is rendered from."""

    model_config = ConfigDict(extra="forbid")

    case_ref: RequiredText
    version: int = Field(ge=1)
    issued_on: date
    purpose: RequiredText = Field(description="the need the exploratory discussions are about")
    parties: list[NdaParty] = Field(min_length=2)
    term_years: int = Field(default=3, ge=1, le=10)
    governing_law: RequiredText
    framework_reference: RequiredText
    # a party not bound by the framework agreement in force: the standalone terms replace it
    standalone_terms: bool = False
    unbound_parties: list[RequiredText] = []

    @model_validator(mode="after")
    def _check_parties(self) -> NdaVariables:
        _require_unique("party ids", [p.id for p in self.parties])
        _require_unique("party names", [p.name for p in self.parties])
        return self

    def to_context(self) -> dict[str, Any]:
        """Plain JSON-able values for the docx template (dates as ISO strings)."""
        parties = [p.to_context() for p in self.parties]
        return {
            "case_ref": self.case_ref,
            "version": self.version,
            "issued_on": self.issued_on.isoformat(),
            "purpose": self.purpose,
            "parties": parties,
            "term_years": self.term_years,
            "term": _years(self.term_years),
            "governing_law": self.governing_law,
            "framework_reference": self.framework_reference,
            "standalone_terms": self.standalone_terms,
            "unbound_parties": list(self.unbound_parties),
            "signatories": parties,
        }


# --- Framework Collaboration Agreement ---------------------------------------------------

LegalStatus = Literal["public", "private", "hybrid"]
"""How a hub is organised: a public body, a private entity or a hybrid of the two."""

LEGAL_STATUS_LABELS: dict[str, str] = {
    "public": "public body",
    "private": "private entity",
    "hybrid": "hybrid public-private entity",
}


class FrameworkParty(BaseModel):
    """A hub that is a party to (a signatory of) the Framework Collaboration Agreement."""

    model_config = ConfigDict(extra="forbid")

    id: RequiredText
    name: RequiredText
    country: RequiredText
    legal_status: LegalStatus
    representative: Text = ""

    def to_context(self) -> dict[str, str]:
        return {
            "id": self.id,
            "name": self.name,
            "country": self.country,
            "legal_status": self.legal_status,
            "legal_status_label": LEGAL_STATUS_LABELS[self.legal_status],
            "representative": self.representative,
        }


class FrameworkAgreementVariables(BaseModel):
    """Everything the Framework Collaboration Agreement template is rendered from.

    One ``edition`` (e.g. ``"2026"``) and ``version`` of the network's multilateral agreement.
    ``parties`` are the hubs named as its signatories, in signing order. The agreement enters
    into force once ``entry_threshold`` hubs have signed it; hubs that sign the accession form
    before then count towards the threshold, so it may exceed the number of parties named
    here. The steering committee decides by ``decision_majority_pct`` percent of the votes.
    """

    model_config = ConfigDict(extra="forbid")

    edition: RequiredText
    version: int = Field(ge=1)
    issued_on: date
    parties: list[FrameworkParty] = Field(min_length=2)
    entry_threshold: int = Field(default=10, ge=2, le=100)
    decision_majority_pct: int = Field(default=66, ge=51, le=100)
    governing_law: RequiredText = Field(description="e.g. 'the law of Belgium'")
    dispute_forum: RequiredText = Field(
        description="courts or arbitration, e.g. 'the competent courts of Brussels, Belgium'"
    )
    secretariat: RequiredText = "the network's coordination office"

    @model_validator(mode="after")
    def _check_parties(self) -> FrameworkAgreementVariables:
        _require_unique("party ids", [p.id for p in self.parties])
        _require_unique("party names", [p.name for p in self.parties])
        return self

    def to_context(self) -> dict[str, Any]:
        """Plain JSON-able values for the docx template (dates as ISO strings)."""
        parties = [p.to_context() for p in self.parties]
        return {
            "edition": self.edition,
            "version": self.version,
            "issued_on": self.issued_on.isoformat(),
            "parties": parties,
            "party_count": len(parties),
            "entry_threshold": self.entry_threshold,
            "decision_majority_pct": self.decision_majority_pct,
            "governing_law": self.governing_law,
            "dispute_forum": self.dispute_forum,
            "secretariat": self.secretariat,
            "signatories": parties,
        }


# --- Data-Processing Annex -----------------------------------------------------------------

DPA_ROLE_TITLES: dict[str, str] = {"controller": "Controller", "processor": "Processor"}


class DpaParty(BaseModel):
    """A party to a Data-Processing Annex: the controller or one of the processors."""

    model_config = ConfigDict(extra="forbid")

    id: RequiredText
    name: RequiredText
    country: RequiredText
    role: Literal["controller", "processor"] = "controller"
    representative: Text = ""

    def to_context(self) -> dict[str, str]:
        return {
            "id": self.id,
            "name": self.name,
            "country": self.country,
            "role": self.role,
            "role_title": DPA_ROLE_TITLES[self.role],
            "representative": self.representative,
        }


def _hours(n: int) -> str:
    return f"{n} hour{'' if n == 1 else 's'}"


class DataProcessingVariables(BaseModel):
    """Everything the Data-Processing Annex (Article 28 GDPR) template is rendered from.

    The annex is added to the agreement named ``agreement_title`` when a case handles
    personal data: one controller, one or more processors (e.g. several hubs). An empty
    ``sub_processors`` list means no sub-processor is authorised; the international
    transfers clause is present only when ``transfers_outside_eea`` is true.
    """

    model_config = ConfigDict(extra="forbid")

    case_ref: RequiredText
    version: int = Field(ge=1)
    issued_on: date
    agreement_title: RequiredText = Field(
        description="title of the agreement the annex belongs to, e.g. 'Specific "
        "Collaboration Agreement DIH-2025-0042'"
    )
    controller: DpaParty
    processors: list[DpaParty] = Field(min_length=1)
    purpose: RequiredText
    data_categories: list[RequiredText] = Field(min_length=1)
    data_subjects: list[RequiredText] = Field(min_length=1)
    security_measures: list[RequiredText] = Field(min_length=1)
    sub_processors: list[RequiredText] = Field(default_factory=list)
    breach_notice_hours: int = Field(default=48, ge=1, le=72)
    transfers_outside_eea: bool = False
    governing_law: RequiredText

    @property
    def parties(self) -> list[DpaParty]:
        """Controller, then processors, in signing order."""
        return [self.controller, *self.processors]

    @model_validator(mode="after")
    def _check_parties(self) -> DataProcessingVariables:
        if self.controller.role != "controller":
            raise ValueError(
                f"controller must have role 'controller', not {self.controller.role!r}"
            )
        for processor in self.processors:
            if processor.role != "processor":
                raise ValueError(
                    f"processor {processor.name!r} must have role 'processor', "
                    f"not {processor.role!r}"
                )
        _require_unique("party ids", [p.id for p in self.parties])
        _require_unique("party names", [p.name for p in self.parties])
        return self

    def to_context(self) -> dict[str, Any]:
        """Plain JSON-able values for the docx template (dates as ISO strings)."""
        parties = [p.to_context() for p in self.parties]
        return {
            "case_ref": self.case_ref,
            "version": self.version,
            "issued_on": self.issued_on.isoformat(),
            "agreement_title": self.agreement_title,
            "controller": self.controller.to_context(),
            "processors": [p.to_context() for p in self.processors],
            "parties": parties,
            "purpose": self.purpose,
            "data_categories": list(self.data_categories),
            "data_subjects": list(self.data_subjects),
            "security_measures": list(self.security_measures),
            "sub_processors": list(self.sub_processors),
            "breach_notice_hours": self.breach_notice_hours,
            "breach_notice": _hours(self.breach_notice_hours),
            "transfers_outside_eea": self.transfers_outside_eea,
            "governing_law": self.governing_law,
            "signatories": parties,
        }


# --- Framework agreement, final version of an edition -----------------------------------------

FRAMEWORK_FINAL_TEMPLATE = "framework_agreement_final"


class FinalClause(BaseModel):
    """One clause of the consolidated text: its number and its paragraphs."""

    model_config = ConfigDict(extra="forbid")

    number: RequiredText
    text: RequiredText
    amended: bool = False


class FinalSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: RequiredText
    clauses: list[FinalClause] = Field(min_length=1)


class ChangeLogEntry(BaseModel):
    """An amendment proposed in consultation: its tally and the consolidation decision."""

    model_config = ConfigDict(extra="forbid")

    id: int = Field(ge=1)
    clause: RequiredText
    proposed_by: RequiredText
    rationale: RequiredText
    votes_for: int = Field(ge=0)
    votes_against: int = Field(ge=0)
    votes_abstain: int = Field(ge=0)
    decision: Literal["accepted", "rejected"]
    reason: RequiredText


class FrameworkFinalVariables(BaseModel):
    """The final version of a framework agreement edition: the consolidated clauses and the
    change log of every amendment with its tally and decision.

    Its SHA-256 is what hubs sign; ``draft_sha256`` identifies the text put to consultation."""

    model_config = ConfigDict(extra="forbid")

    edition: RequiredText
    issued_on: date
    draft_sha256: RequiredText
    quorum: int = Field(ge=1, le=100)
    notice_days: int = Field(ge=0, le=3650)
    comment_count: int = Field(ge=0)
    sections: list[FinalSection] = Field(min_length=1)
    changes: list[ChangeLogEntry] = []

    def to_context(self) -> dict[str, Any]:
        sections = [
            {
                "title": s.title,
                "clauses": [
                    {
                        "number": c.number,
                        "first": c.text.split("\n")[0],
                        "more": c.text.split("\n")[1:],
                        "amended": c.amended,
                    }
                    for c in s.clauses
                ],
            }
            for s in self.sections
        ]
        return {
            "edition": self.edition,
            "issued_on": self.issued_on.isoformat(),
            "draft_sha256": self.draft_sha256,
            "quorum": self.quorum,
            "notice_days": self.notice_days,
            "comment_count": self.comment_count,
            "sections": sections,
            "changes": [c.model_dump() for c in self.changes],
            "change_count": len(self.changes),
            "accepted_count": sum(1 for c in self.changes if c.decision == "accepted"),
        }


TEMPLATE_VARIABLES: dict[str, type[BaseModel]] = {
    SPECIFIC_AGREEMENT_TEMPLATE: SpecificAgreementVariables,
    CO_DEVELOPMENT_TEMPLATE: CoDevelopmentAgreementVariables,
    NDA_TEMPLATE: NdaVariables,
    FRAMEWORK_TEMPLATE: FrameworkAgreementVariables,
    DPA_TEMPLATE: DataProcessingVariables,
    FRAMEWORK_FINAL_TEMPLATE: FrameworkFinalVariables,
}
"""Each template name (file name without ``.docx``) and the model of its variables."""
