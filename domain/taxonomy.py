"""Controlled vocabulary of the AI DIH network, read from ``domain/data/taxonomy.yaml``.

The yaml is parsed once (``load_taxonomy``) and turned into sets of valid codes
(``vocabulary``) that the hub models validate against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

TAXONOMY_PATH = Path(__file__).parent / "data" / "taxonomy.yaml"

# ISO 639-1 codes of the EU's 24 official languages and of languages spoken in associated
# countries, which a hub may work in (the taxonomy yaml has no language list).
LANGUAGES = {
    "bg": "Bulgarian", "cs": "Czech", "da": "Danish", "de": "German", "el": "Greek",
    "en": "English", "es": "Spanish", "et": "Estonian", "fi": "Finnish", "fr": "French",
    "ga": "Irish", "hr": "Croatian", "hu": "Hungarian", "it": "Italian", "lt": "Lithuanian",
    "lv": "Latvian", "mt": "Maltese", "nl": "Dutch", "pl": "Polish", "pt": "Portuguese",
    "ro": "Romanian", "sk": "Slovak", "sl": "Slovenian", "sv": "Swedish",
    "is": "Icelandic", "no": "Norwegian", "sr": "Serbian", "mk": "Macedonian",
    "sq": "Albanian", "bs": "Bosnian", "tr": "Turkish", "uk": "Ukrainian", "he": "Hebrew",
    "ka": "Georgian", "hy": "Armenian", "lb": "Luxembourgish", "ca": "Catalan",
    "eu": "Basque", "gl": "Galician",
}  # fmt: skip


@lru_cache(maxsize=1)
def load_taxonomy() -> dict[str, Any]:
    """The raw parsed taxonomy yaml (cached; treat it as read-only)."""
    with TAXONOMY_PATH.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@dataclass(frozen=True)
class Vocabulary:
    """Sets of valid codes per kind, plus their display labels.

    ``countries`` holds ISO 3166-1 alpha-2 codes (Greece is ``GR``, the UK ``GB``);
    ``nuts2`` is keyed by those ISO codes too, although the region codes themselves keep
    the Eurostat prefix (``GR`` -> ``{"EL30", ...}``). Countries without a regional
    breakdown in the taxonomy (e.g. IL, UA, GB) have no entry in ``nuts2``.
    """

    services: frozenset[str]
    technologies: frozenset[str]
    ai_subfields: frozenset[str]
    sectors: frozenset[str]
    countries: frozenset[str]
    associated_countries: frozenset[str]
    organisation_types: frozenset[str]
    nuts2: dict[str, frozenset[str]]
    labels: dict[str, dict[str, str]] = field(repr=False, compare=False)
    competences: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    # service code -> the code of its function (e.g. "test_before_invest")
    service_function: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def label(self, kind: str, code: str) -> str:
        """Display label of ``code`` in ``kind`` (a field name, e.g. ``"services"``).

        Countries and regions return their name. Raises ``KeyError`` for an unknown
        kind or code.
        """
        if kind not in self.labels:
            raise KeyError(
                f"unknown vocabulary kind {kind!r}; expected one of {sorted(self.labels)}"
            )
        try:
            return self.labels[kind][code]
        except KeyError:
            raise KeyError(f"unknown {kind} code {code!r}") from None


def _labels(items: list[dict[str, Any]], key: str = "label") -> dict[str, str]:
    return {str(item["code"]): str(item[key]) for item in items}


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The vocabulary built from ``load_taxonomy()`` (cached)."""
    tax = load_taxonomy()

    services: dict[str, str] = {}
    functions: dict[str, str] = {}
    service_function: dict[str, str] = {}
    for function in tax["service_functions"]["functions"]:
        services.update(_labels(function["services"]))
        functions[function["code"]] = function["label"]
        service_function.update({s["code"]: function["code"] for s in function["services"]})
    competences: dict[str, str] = {}
    for kind in tax["competences"]["kinds"]:
        competences.update(_labels(kind["items"]))

    country_entries = [
        *tax["countries"]["eu_member_states"],
        *tax["countries"]["associated_countries"],
        *tax["countries"]["former_member_states"],
    ]
    countries = _labels(country_entries, key="name")
    iso_by_eu_code = {c["eu_code"]: c["code"] for c in country_entries if "eu_code" in c}

    regions: dict[str, dict[str, str]] = {}
    for by_country in (
        tax["nuts2"]["regions"],
        tax["nuts2"]["statistical_regions_level2"]["regions"],
    ):
        for eu_code, items in by_country.items():
            regions[iso_by_eu_code.get(eu_code, eu_code)] = _labels(items, key="name")

    labels = {
        "services": services,
        "technologies": _labels(tax["technologies"]["items"]),
        "ai_subfields": _labels(tax["technologies"]["ai_subfields"]["items"]),
        "sectors": _labels(tax["sectors"]["dih_market_sectors"]["items"]),
        "countries": countries,
        "associated_countries": _labels(tax["countries"]["associated_countries"], key="name"),
        "organisation_types": _labels(tax["organisation_types"]["items"]),
        "functions": functions,
        "competences": competences,
        "languages": dict(LANGUAGES),
        "nuts2": {code: name for names in regions.values() for code, name in names.items()},
    }
    return Vocabulary(
        services=frozenset(labels["services"]),
        technologies=frozenset(labels["technologies"]),
        ai_subfields=frozenset(labels["ai_subfields"]),
        sectors=frozenset(labels["sectors"]),
        countries=frozenset(labels["countries"]),
        associated_countries=frozenset(labels["associated_countries"]),
        organisation_types=frozenset(labels["organisation_types"]),
        nuts2={country: frozenset(names) for country, names in regions.items()},
        labels=labels,
        competences=frozenset(competences),
        languages=frozenset(LANGUAGES),
        service_function=service_function,
    )


def customer_sizes() -> frozenset[str]:
    """Size codes of a customer: enterprise sizes and public-sector staff bands."""
    sizes = load_taxonomy()["organisation_types"]["enterprise_size"]
    return frozenset(item["code"] for item in [*sizes["items"], *sizes.get("pso_staff_size", [])])


def service_function_of() -> dict[str, str]:
    """Each service code's EDIH service function code (e.g. ``test_before_invest``)."""
    return {
        service["code"]: function["code"]
        for function in load_taxonomy()["service_functions"]["functions"]
        for service in function["services"]
    }
