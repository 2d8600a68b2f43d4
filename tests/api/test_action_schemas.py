"""Every step's body is its own schema in the OpenAPI document, with an example that the API
accepts; a case's `actions` name the path and schema of each allowed step."""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from api.action_docs import EXAMPLES, schema_name
from base.settings import Settings
from domain.actions import ACTIONS, PAYLOADS, kebab
from domain.cases import Role
from domain.outcomes import LINK_ACTIONS
from store.keys import create_key
from tests.api.conftest import store_signing_case

pytestmark = pytest.mark.asyncio


async def _spec(api: httpx.AsyncClient) -> dict[str, Any]:
    r = await api.get("/openapi.json")
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


def _validator(spec: dict[str, Any], name: str) -> jsonschema.Draft202012Validator:
    root = Resource.from_contents(spec, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource("urn:spec", root)
    return jsonschema.Draft202012Validator(
        {"$ref": f"urn:spec#/components/schemas/{name}"}, registry=registry
    )


async def test_each_action_has_its_own_path_schema_and_example(api: httpx.AsyncClient) -> None:
    spec = await _spec(api)
    schemas = spec["components"]["schemas"]
    assert set(EXAMPLES) == set(ACTIONS)
    for action in ACTIONS:
        operation = spec["paths"][f"/v1/cases/{{case_id}}/actions/{kebab(action)}"]["post"]
        assert operation["operationId"] == action
        body = operation["requestBody"]["content"]["application/json"]
        assert body["schema"] == {"$ref": f"#/components/schemas/{schema_name(action)}"}
        assert schema_name(action) in schemas
        PAYLOADS[action].model_validate(body["example"])  # the API accepts the example
        _validator(spec, schema_name(action)).validate(body["example"])
    # the generic route is not documented: no untyped body left for an integrator
    assert "/v1/cases/{case_id}/actions/{action}" not in spec["paths"]
    untyped = {"type": "object", "additionalProperties": True}
    assert untyped not in [
        c.get("schema")
        for path in spec["paths"].values()
        for op in path.values()
        for c in op.get("requestBody", {}).get("content", {}).values()
    ]


async def test_a_schema_refuses_what_the_api_refuses(api: httpx.AsyncClient) -> None:
    spec = await _spec(api)
    invite = _validator(spec, "InvitePartnersBody")
    assert not invite.is_valid({"hubs": ["x"]})  # the wrong field: refused by both
    assert not invite.is_valid({"hub_ids": []})
    sign = _validator(spec, "SignBody")
    assert not sign.is_valid({"document_sha256": "not-a-hash"})
    assert "file" not in spec["components"]["schemas"]["SubmitDeliverableBody"]["properties"]


async def test_link_body_is_one_of_its_actions(api: httpx.AsyncClient) -> None:
    spec = await _spec(api)
    body = spec["paths"]["/v1/links/{token}"]["post"]["requestBody"]["content"]
    refs = [s["$ref"] for s in body["application/json"]["schema"]["oneOf"]]
    assert refs == [f"#/components/schemas/{schema_name(a)}" for a in LINK_ACTIONS]
    assert {"sign", "decline_to_sign", "review"} <= set(LINK_ACTIONS)


async def test_allowed_actions_say_where_to_send_each_and_its_schema(
    api: httpx.AsyncClient, api_settings: Settings
) -> None:
    store_signing_case(api_settings.database_url, "case-typed", "Typed steps")
    key = create_key(api_settings.database_url, Role.hub_signatory, "tagus-ai")
    r = await api.get("/v1/cases/case-typed", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text
    case = r.json()
    spec = await _spec(api)
    assert [a["action"] for a in case["actions"]] == case["allowed_actions"]
    sign = next(a for a in case["actions"] if a["action"] == "sign")
    assert sign == {
        "action": "sign",
        "path": "/v1/cases/case-typed/actions/sign",
        "body_schema": "#/components/schemas/SignBody",
    }
    for entry in case["actions"]:
        assert entry["body_schema"].rsplit("/", 1)[1] in spec["components"]["schemas"]


async def test_the_documented_path_takes_the_step_like_the_generic_one(
    api: httpx.AsyncClient, api_settings: Settings
) -> None:
    store_signing_case(api_settings.database_url, "case-paths", "Typed steps")
    key = create_key(api_settings.database_url, Role.hub_member, "tagus-ai")
    auth = {"Authorization": f"Bearer {key}"}
    # refused before the engine is reached, the same way on both paths
    for path in ("/v1/cases/case-paths/actions/approve-draft", "/v1/cases/case-paths/actions/x"):
        r = await api.post(path, json={}, headers=auth)
        assert r.status_code in (404, 409), r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    r = await api.post("/v1/cases/case-paths/actions/approve-draft", json={}, headers=auth)
    assert r.status_code == 409 and "allowed_actions" in r.json()


async def test_operation_ids_are_unique_names_a_client_can_use(api: httpx.AsyncClient) -> None:
    spec = await _spec(api)
    ids = [op["operationId"] for path in spec["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
    assert {"create_case", "get_case", "sign", "use_link"} <= set(ids)
    assert all(i.isidentifier() and "_v1_" not in i for i in ids)
