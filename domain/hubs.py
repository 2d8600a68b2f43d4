"""Hub profiles of the AI DIH network, validated against the taxonomy vocabulary."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from domain.taxonomy import vocabulary

DEMO_NETWORK_PATH = Path(__file__).parent / "data" / "demo_network.yaml"

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{2,63}$")]
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
NonEmpty = Annotated[str, Field(min_length=1)]


_CODE_KINDS = {
    "services": "service",
    "technologies": "technology",
    "ai_subfields": "AI subfield",
    "sectors": "sector",
    "competences": "competence",
    "languages": "language",
}


def _check_codes(field: str, codes: list[str]) -> list[str]:
    """Reject codes missing from ``vocabulary().<field>`` and duplicates."""
    valid: frozenset[str] = getattr(vocabulary(), field)
    kind = _CODE_KINDS[field]
    for code in codes:
        if code not in valid:
            raise ValueError(f"unknown {kind} code {code!r} in field {field!r}")
    duplicates = sorted({code for code in codes if codes.count(code) > 1})
    if duplicates:
        raise ValueError(f"duplicate {kind} codes {duplicates} in field {field!r}")
    return codes


ALL_AGREEMENTS = "all agreements"


class Representative(BaseModel):
    """A person who may sign agreements on behalf of a hub, within a mandate: from, until
    (inclusive; open when unset) and a scope (``all agreements`` or a comma-separated list of
    template names). A delegate holds a mandate from another representative
    (``delegated_by``), valid only while the delegator's is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Slug
    name: NonEmpty
    email: Email
    title: NonEmpty
    scope: NonEmpty = ALL_AGREEMENTS
    mandate_from: date | None = None
    mandate_until: date | None = None
    delegated_by: str | None = None

    def covers(self, template: str) -> bool:
        if self.scope == ALL_AGREEMENTS:
            return True
        return template in {s.strip() for s in self.scope.split(",")}

    def gap(self, template: str, on: date) -> str | None:
        """Why this mandate does not cover signing ``template`` on ``on``, or None."""
        if self.mandate_from and on < self.mandate_from:
            return f"{self.name}'s mandate starts on {self.mandate_from}"
        if self.mandate_until and on > self.mandate_until:
            return f"{self.name}'s mandate ended on {self.mandate_until}"
        if not self.covers(template):
            return f"{self.name}'s mandate covers {self.scope}, not {template}"
        return None


class CataloguedService(BaseModel):
    """A service a hub built with others in a co-development case and now offers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: NonEmpty
    description: str = ""
    case_id: NonEmpty
    co_developers: list[str] = []


class HubProfile(BaseModel):
    """Public profile of one Digital Innovation Hub in the network."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Slug
    name: NonEmpty
    short_name: NonEmpty
    country: str
    region: str | None = None
    city: NonEmpty
    legal_status: Literal["public", "private", "hybrid"]
    organisation_type: str
    founded: int = Field(ge=1950, le=2026)
    staff: int = Field(ge=1)
    funding: Literal["public", "private", "mixed"]
    services: list[str] = Field(min_length=1)
    technologies: list[str] = Field(min_length=1)
    ai_subfields: list[str] = Field(default_factory=list)
    sectors: list[str] = Field(default_factory=list)
    competences: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)  # ISO 639-1, e.g. "pt", "en"
    infrastructure: list[NonEmpty] = Field(default_factory=list)  # labs, testbeds, compute
    description: NonEmpty
    website: NonEmpty
    email: Email
    representatives: list[Representative] = Field(min_length=1)
    catalogue: list[CataloguedService] = Field(default_factory=list)

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        if value not in vocabulary().countries:
            raise ValueError(f"unknown country code {value!r} in field 'country'")
        return value

    @field_validator("organisation_type")
    @classmethod
    def _known_organisation_type(cls, value: str) -> str:
        if value not in vocabulary().organisation_types:
            raise ValueError(
                f"unknown organisation type code {value!r} in field 'organisation_type'"
            )
        return value

    @field_validator(
        "services", "technologies", "ai_subfields", "sectors", "competences", "languages"
    )
    @classmethod
    def _known_codes(cls, value: list[str], info: ValidationInfo) -> list[str]:
        return _check_codes(str(info.field_name), value)

    @model_validator(mode="after")
    def _region_in_country(self) -> HubProfile:
        if self.region is not None:
            regions = vocabulary().nuts2.get(self.country, frozenset())
            if self.region not in regions:
                raise ValueError(
                    f"region {self.region!r} in field 'region' is not a NUTS-2 / statistical "
                    f"region of country {self.country!r}"
                )
        rep_ids = [rep.id for rep in self.representatives]
        if len(set(rep_ids)) != len(rep_ids):
            raise ValueError(f"duplicate representative ids in hub {self.id!r}: {rep_ids}")
        for rep in self.representatives:
            if rep.delegated_by is not None and rep.delegated_by not in set(rep_ids) - {rep.id}:
                raise ValueError(
                    f"representative {rep.id!r} is delegated by {rep.delegated_by!r}, "
                    "who is not another representative of this hub"
                )
        return self


@lru_cache(maxsize=1)
def _demo_network() -> tuple[HubProfile, ...]:
    with DEMO_NETWORK_PATH.open(encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    hubs = tuple(HubProfile.model_validate(item) for item in raw["hubs"])
    ids = [hub.id for hub in hubs]
    duplicates = sorted({hub_id for hub_id in ids if ids.count(hub_id) > 1})
    if duplicates:
        raise ValueError(f"duplicate hub ids in {DEMO_NETWORK_PATH.name}: {duplicates}")
    return hubs


def load_demo_network() -> list[HubProfile]:
    """The fictional 30-hub demo network from ``domain/data/demo_network.yaml``."""
    return list(_demo_network())
