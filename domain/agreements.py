"""Variables of the Specific Collaboration Agreement template.

A Specific Collaboration Agreement records one joint service that a lead hub and one or
more partner hubs provide to a client, concluded under the network's multilateral
Framework Collaboration Agreement. ``SpecificAgreementVariables`` validates everything the
template needs; ``to_context()`` turns it into the plain, JSON-able dict the docx
template is rendered with.

This module is pure: no file or network I/O.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

SPECIFIC_AGREEMENT_TEMPLATE = "specific_collaboration_agreement"

COST_SHARE_TOTAL = Decimal("100")
COST_SHARE_TOLERANCE = Decimal("0.01")

ROLE_LABELS: dict[str, str] = {
    "lead": "Lead Hub",
    "partner": "Partner Hub",
    "client": "Client",
}

# Characters XML 1.0 cannot carry. docxtpl would also turn \a and \f into paragraph and
# page breaks, so a value could otherwise change the document's structure.
_XML_FORBIDDEN = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_safe(value: str) -> str:
    """Normalise line ends and refuse characters that cannot appear in a .docx."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    bad = _XML_FORBIDDEN.search(value)
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

        total = sum((t.cost_share_pct for t in self.tasks), Decimal(0))
        if abs(total - COST_SHARE_TOTAL) > COST_SHARE_TOLERANCE:
            raise ValueError(f"task cost shares must sum to 100 (within 0.01), got {total}")

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
            "signatories": [p.to_context() for p in self.parties],
        }
