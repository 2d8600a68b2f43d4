"""A synthetic hub network of any size, valid against the taxonomy, the same for a given seed.

Each hub draws its services, technologies, AI subfields, sectors and competences from the
taxonomy, a country (and a NUTS-2 region where the taxonomy has them), working languages,
infrastructure and a description written from phrases about what it does, so text matching
has words to work on. Used by the registry and matching benchmarks and by the tests.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from domain.taxonomy import vocabulary

COUNTRY_LANGUAGE = {
    "AT": "de", "BE": "nl", "BG": "bg", "HR": "hr", "CY": "el", "CZ": "cs", "DK": "da",
    "EE": "et", "FI": "fi", "FR": "fr", "DE": "de", "GR": "el", "HU": "hu", "IE": "ga",
    "IT": "it", "LV": "lv", "LT": "lt", "LU": "lb", "MT": "mt", "NL": "nl", "PL": "pl",
    "PT": "pt", "RO": "ro", "SK": "sk", "SI": "sl", "ES": "es", "SE": "sv",
}  # fmt: skip
INFRASTRUCTURE = [
    "GPU cluster for model training",
    "robotics test lab with collaborative arms",
    "5G campus network testbed",
    "machine-vision inspection line",
    "secure data space for health records",
    "precision-farming field trial plots",
    "digital-twin demonstrator of a production cell",
    "edge-computing rack with sensor kits",
    "usability lab for public-service prototypes",
    "cybersecurity range for red-team exercises",
]
OPENINGS = [
    "We help {sector} companies adopt {ai}.",
    "A hub for {ai} in {sector}, from first idea to pilot.",
    "Our team brings {ai} to small firms in {sector}.",
    "Specialists in {ai} with a track record in {sector}.",
]
ACTIVITIES = [
    "We run {service} for start-ups and SMEs.",
    "Companies come to us for {service}.",
    "Our offer includes {service} with local partners.",
    "We are known for {service}.",
]


def _pick(rng: random.Random, items: list[str], low: int, high: int) -> list[str]:
    return sorted(rng.sample(items, rng.randint(low, min(high, len(items)))))


def hub(i: int, seed: int = 7) -> dict[str, Any]:
    """The ``i``-th hub of the network drawn with ``seed`` (a valid profile as a dict)."""
    rng = random.Random(f"{seed}:{i}")
    vocab = vocabulary()
    countries = sorted(COUNTRY_LANGUAGE)
    country = rng.choice(countries)
    regions = sorted(vocab.nuts2.get(country, ()))
    services = _pick(rng, sorted(vocab.services), 2, 6)
    technologies = _pick(rng, sorted(vocab.technologies), 1, 4)
    ai = _pick(rng, sorted(vocab.ai_subfields), 1, 3)
    sectors = _pick(rng, sorted(vocab.sectors), 1, 3)

    def lab(kind: str, code: str) -> str:
        return vocab.label(kind, code).lower()

    description = " ".join(
        [
            rng.choice(OPENINGS).format(
                sector=lab("sectors", sectors[0]), ai=lab("ai_subfields", ai[0])
            ),
            *(
                rng.choice(ACTIVITIES).format(service=lab("services", s))
                for s in services[: rng.randint(1, 2)]
            ),
        ]
    )
    hub_id = f"hub-{seed}-{i:06d}"
    return {
        "id": hub_id,
        "name": f"Synthetic AI Hub {i}",
        "short_name": f"SAH {i}",
        "country": country,
        **({"region": rng.choice(regions)} if regions else {}),
        "city": f"City {i % 997}",
        "legal_status": rng.choice(["public", "private", "hybrid"]),
        "organisation_type": rng.choice(sorted(vocab.organisation_types)),
        "founded": rng.randint(1985, 2025),
        "staff": rng.randint(5, 600),
        "funding": rng.choice(["public", "private", "mixed"]),
        "services": services,
        "technologies": technologies,
        "ai_subfields": ai,
        "sectors": sectors,
        "competences": _pick(rng, sorted(vocab.competences), 0, 3),
        "languages": sorted({COUNTRY_LANGUAGE[country], "en"}),
        "infrastructure": _pick(rng, INFRASTRUCTURE, 0, 2),
        "description": description,
        "website": f"https://{hub_id}.example",
        "email": f"hello@{hub_id}.example",
        "representatives": [
            {
                "id": "director",
                "name": f"Director {i}",
                "email": f"director@{hub_id}.example",
                "title": "Director",
            }
        ],
    }


def network(n: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    return (hub(i, seed) for i in range(n))
