"""Taxonomy vocabulary, hub profile validation and the demo network's diversity."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from pydantic import ValidationError

from domain.hubs import HubProfile, Representative, load_demo_network
from domain.taxonomy import load_taxonomy, vocabulary


@pytest.fixture(scope="module")
def hubs() -> list[HubProfile]:
    return load_demo_network()


def _profile(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "test-hub",
        "name": "Test Hub",
        "short_name": "Test",
        "country": "PT",
        "region": "PT17",
        "city": "Lisboa",
        "legal_status": "public",
        "organisation_type": "university",
        "founded": 2020,
        "staff": 10,
        "funding": "mixed",
        "services": ["digital_maturity_assessment"],
        "technologies": ["artificial_intelligence"],
        "ai_subfields": ["nlp"],
        "sectors": ["health_life_sciences"],
        "description": "A hub used in tests.",
        "website": "https://test-hub.example",
        "email": "info@test-hub.example",
        "representatives": [
            {
                "id": "ana-test",
                "name": "Ana Test",
                "email": "ana@test-hub.example",
                "title": "Director",
            }
        ],
    }
    data.update(overrides)
    return data


# --- vocabulary -------------------------------------------------------------------------


def test_load_taxonomy_is_cached_raw_yaml() -> None:
    tax = load_taxonomy()
    assert tax is load_taxonomy()
    assert tax["meta"]["name"] == "edih_ai_taxonomy"


def test_vocabulary_codes_and_labels() -> None:
    voc = vocabulary()
    assert voc is vocabulary()
    assert "digital_maturity_assessment" in voc.services
    assert "trustworthy_ai_assessment" in voc.services  # ai_specific group
    assert "test_before_invest" not in voc.services  # a function, not a sub-service
    assert "hpc" in voc.technologies
    assert "computer_vision" in voc.ai_subfields
    assert "health_life_sciences" in voc.sectors
    assert {"PT", "GR", "NO", "GB"} <= voc.countries
    assert {"NO", "IS", "RS", "TR", "UA"} <= voc.associated_countries
    assert "PT" not in voc.associated_countries
    assert "university" in voc.organisation_types
    assert voc.label("services", "digital_maturity_assessment") == "Digital maturity assessment"
    assert voc.label("countries", "NO") == "Norway"
    assert voc.label("nuts2", "PT17") == "Área Metropolitana de Lisboa"


def test_vocabulary_label_unknown_raises() -> None:
    with pytest.raises(KeyError, match="no_such_service"):
        vocabulary().label("services", "no_such_service")
    with pytest.raises(KeyError, match="planets"):
        vocabulary().label("planets", "mars")


def test_nuts2_keyed_by_iso_country() -> None:
    nuts2 = vocabulary().nuts2
    assert "EL30" in nuts2["GR"]  # Greek regions use the EU code EL but the ISO key GR
    assert "EL" not in nuts2
    assert "NO0A" in nuts2["NO"]  # statistical regions of associated countries
    eu = ["GR" if c == "EL" else c for c in load_taxonomy()["nuts2"]["complete_countries"]]
    assert sum(len(nuts2[c]) for c in eu) == 242  # official NUTS 2021 level-2 count
    assert "IL" not in nuts2  # no regional breakdown


# --- model validation -------------------------------------------------------------------


def test_valid_profile() -> None:
    hub = HubProfile.model_validate(_profile())
    assert hub.representatives[0].scope == "all agreements"


def test_unknown_service_code_is_named() -> None:
    with pytest.raises(ValidationError) as exc:
        HubProfile.model_validate(_profile(services=["ai_matchmaking_magic"]))
    message = str(exc.value)
    assert "ai_matchmaking_magic" in message
    assert "services" in message


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("technologies", ["warp_drive"]),
        ("ai_subfields", ["telepathy"]),
        ("sectors", ["space_mining"]),
        ("organisation_type", "guild"),
        ("country", "XX"),
    ],
)
def test_unknown_codes_rejected(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        HubProfile.model_validate(_profile(**{field: value}))
    bad = value[0] if isinstance(value, list) else value
    assert bad in str(exc.value)


def test_region_from_another_country_rejected() -> None:
    with pytest.raises(ValidationError) as exc:
        HubProfile.model_validate(_profile(country="ES", region="PT17"))
    assert "PT17" in str(exc.value)
    assert "ES" in str(exc.value)


def test_region_optional_for_country_without_regions() -> None:
    assert HubProfile.model_validate(_profile(country="IL", region=None)).region is None
    with pytest.raises(ValidationError):
        HubProfile.model_validate(_profile(country="IL", region="PT17"))


@pytest.mark.parametrize(
    "overrides",
    [
        {"id": "Bad Id"},
        {"founded": 1949},
        {"staff": 0},
        {"services": []},
        {"representatives": []},
        {"legal_status": "charity"},
        {"funding": "crowd"},
        {"services": ["funding_scouting", "funding_scouting"]},
        {"unexpected": "field"},
    ],
)
def test_invalid_profiles_rejected(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        HubProfile.model_validate(_profile(**overrides))


def test_models_are_frozen() -> None:
    rep = Representative(id="ana-test", name="Ana", email="ana@x.example", title="Director")
    with pytest.raises(ValidationError):
        rep.name = "Other"  # type: ignore[misc]


# --- demo network -----------------------------------------------------------------------


def test_thirty_unique_hubs(hubs: list[HubProfile]) -> None:
    assert len(hubs) == 30
    assert len({h.id for h in hubs}) == 30
    assert len({h.name for h in hubs}) == 30
    assert len({h.short_name for h in hubs}) == 30


def test_size_diversity(hubs: list[HubProfile]) -> None:
    staff = [h.staff for h in hubs]
    assert min(staff) < 20
    assert max(staff) > 500
    assert sum(s < 20 for s in staff) >= 3
    assert sum(s > 500 for s in staff) >= 2


def test_age_diversity(hubs: list[HubProfile]) -> None:
    founded = [h.founded for h in hubs]
    assert min(founded) <= 2006
    assert max(founded) >= 2024
    assert sum(year <= 2005 for year in founded) >= 3  # operating for more than 20 years
    assert sum(year >= 2024 for year in founded) >= 2


def test_legal_status_mostly_public(hubs: list[HubProfile]) -> None:
    counts = Counter(h.legal_status for h in hubs)
    assert set(counts) == {"public", "private", "hybrid"}
    assert counts["public"] > len(hubs) / 2
    assert counts["hybrid"] >= 4
    assert counts["private"] >= 3


def test_funding_mostly_mixed(hubs: list[HubProfile]) -> None:
    counts = Counter(h.funding for h in hubs)
    assert counts["mixed"] > len(hubs) / 2
    assert counts["public"] >= 1
    assert counts["private"] >= 1


def test_geographic_spread(hubs: list[HubProfile]) -> None:
    countries = {h.country for h in hubs}
    assert len(countries) >= 22
    assert len(countries & vocabulary().associated_countries) >= 3
    assert len(countries - vocabulary().associated_countries) >= 14  # most EU member states


def test_every_hub_has_a_region_of_its_country(hubs: list[HubProfile]) -> None:
    nuts2 = vocabulary().nuts2
    for hub in hubs:
        assert hub.region in nuts2[hub.country], hub.id


def test_profiles_are_complete(hubs: list[HubProfile]) -> None:
    for hub in hubs:
        assert 3 <= len(hub.services) <= 7, hub.id
        assert 1 <= len(hub.representatives) <= 2, hub.id
        assert hub.ai_subfields, hub.id
        assert hub.sectors, hub.id
        assert hub.email.endswith(".example"), hub.id
        assert all(rep.email.endswith(".example") for rep in hub.representatives), hub.id


def test_thematic_variety(hubs: list[HubProfile]) -> None:
    sectors = {s for h in hubs for s in h.sectors}
    assert {
        "health_life_sciences",
        "agriculture_food",
        "public_administration",
        "mobility_automotive",
        "energy_utilities",
        "financial_services",
        "culture_creative",
    } <= sectors
    assert any(s.startswith("mfg_") for s in sectors)
    assert len({t for h in hubs for t in h.technologies}) >= 15
    assert len({a for h in hubs for a in h.ai_subfields}) >= 15
    assert len({s for h in hubs for s in h.services}) >= 25
