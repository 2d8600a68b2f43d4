"""``POST /v1/codec/encode`` and ``/v1/codec/decode``: the remote codec protocol of the Temporal
Web UI and CLI, so an operator sees a case's payloads in clear (see ``base/codec.py``).

Back-office keys only: point the tools at ``<public url>/v1/codec`` with the key, e.g.
``temporal workflow show -w case-ID --codec-endpoint $API/v1/codec --codec-auth "Bearer $KEY"``
(or the Web UI's codec endpoint setting behind a proxy that adds the header). Without a payload
key ring the payloads pass through unchanged.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import CallerDep, SettingsDep
from api.problems import ApiError
from api.routes.cases import ERRORS
from base.codec import EncryptionCodec, KeyRingError, parse_ring, payload_from_json, payload_json
from domain.cases import Role

router = APIRouter(prefix="/v1/codec", tags=["system"])
MAX_PAYLOADS = 1000


class Payloads(BaseModel):
    payloads: list[dict[str, Any]] = Field(max_length=MAX_PAYLOADS)


def _codec(caller: Any, settings: Any) -> EncryptionCodec | None:
    if caller.role != Role.back_office:
        raise ApiError(403, "the codec endpoint is for the network's operators (back office)")
    ring = parse_ring(settings.payload_keys)
    return EncryptionCodec(ring) if ring else None


@router.post("/encode", response_model=Payloads, responses=ERRORS)
async def codec_encode(body: Payloads, caller: CallerDep, settings: SettingsDep) -> Payloads:
    """Encrypt payloads with the ring's first key."""
    codec = _codec(caller, settings)
    items = [payload_from_json(p) for p in body.payloads]
    done = await codec.encode(items) if codec else items
    return Payloads(payloads=[payload_json(p) for p in done])


@router.post("/decode", response_model=Payloads, responses=ERRORS)
async def codec_decode(body: Payloads, caller: CallerDep, settings: SettingsDep) -> Payloads:
    """Decrypt payloads with whichever key of the ring each names."""
    codec = _codec(caller, settings)
    items = [payload_from_json(p) for p in body.payloads]
    try:
        done = await codec.decode(items) if codec else items
    except KeyRingError as exc:
        raise ApiError(422, str(exc)) from None
    return Payloads(payloads=[payload_json(p) for p in done])
