"""The remote codec endpoint for the Temporal Web UI and CLI: back office only; encodes with the
ring's first key, decodes with whichever key a payload names; a bad ring is a settings error
that never echoes the key."""

from __future__ import annotations

import base64
import os

import httpx
import pytest

from api.app import create_app
from base.settings import Settings, SettingsError

CLEAR = {
    "metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
    "data": base64.b64encode(b'{"email": "ana@cortica.example"}').decode(),
}


def ring(*ids: str) -> str:
    return ",".join(f"{i}:{base64.b64encode(os.urandom(32)).decode()}" for i in ids)


@pytest.mark.asyncio
async def test_round_trip_and_rotation(api_settings: Settings, keys: dict[str, str]) -> None:
    old = ring("k1")
    auth = {"Authorization": f"Bearer {keys['back_office']}"}
    app = create_app(api_settings.replace(payload_keys=old), run_migrations=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://a") as c:
        sealed = (await c.post("/v1/codec/encode", json={"payloads": [CLEAR]}, headers=auth)).json()
        item = sealed["payloads"][0]
        assert b"ana@" not in base64.b64decode(item["data"])
        assert base64.b64decode(item["metadata"]["encryption-key-id"]) == b"k1"
        r = await c.post("/v1/codec/decode", json=sealed, headers=auth)
        assert r.status_code == 200 and r.json()["payloads"] == [CLEAR]
        member = {"Authorization": f"Bearer {keys['hub_member']}"}
        assert (await c.post("/v1/codec/decode", json=sealed, headers=member)).status_code == 403

    rotated = create_app(
        api_settings.replace(payload_keys=f"{ring('k2')},{old}"), run_migrations=False
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=rotated), base_url="http://a"
    ) as c:
        r = await c.post("/v1/codec/decode", json=sealed, headers=auth)
        assert r.json()["payloads"] == [CLEAR]  # an old payload still reads
    dropped = create_app(api_settings.replace(payload_keys=ring("k2")), run_migrations=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=dropped), base_url="http://a"
    ) as c:
        r = await c.post("/v1/codec/decode", json=sealed, headers=auth)
        assert r.status_code == 422 and "'k1'" in r.json()["detail"]


def test_a_malformed_ring_names_the_variable_but_not_the_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DIHFLOW_PAYLOAD_KEYS", "k1:c2hvcnQ=")  # 5 bytes
    with pytest.raises(SettingsError, match="DIHFLOW_PAYLOAD_KEYS") as error:
        Settings.from_env()
    assert "must be 32 bytes" in str(error.value) and "c2hvcnQ" not in str(error.value)
