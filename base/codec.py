"""Payload encryption: what the engine stores of a case (its facts, names, e-mail addresses in
workflow inputs, update arguments, activity results) is AES-256-GCM ciphertext at rest.

``DIHFLOW_PAYLOAD_KEYS`` is a key ring, ``id:base64key`` entries separated by commas, each key
32 random bytes (the README shows a one-line command that makes one).
The first key encrypts; every key decrypts, found by the key id each payload carries in its
metadata. To rotate: put the new key first and keep the old one after it until no running case
has payloads under it (cases finish on their own; old histories keep decrypting). Unset: no
encryption (the embedded default).

Every process of a deployment (API, workers, the codec endpoint for the Web UI) has the same
ring. The Temporal Web UI shows ciphertext unless it is pointed at the API's codec endpoint
(``/codec``, back-office keys only; see ``api/routes/codec.py``).
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12


class KeyRingError(ValueError):
    """``DIHFLOW_PAYLOAD_KEYS`` is malformed; the message says how."""


def parse_ring(text: str) -> list[tuple[str, bytes]]:
    """``id:base64key,...`` → [(id, key)], the encrypting key first."""
    ring: list[tuple[str, bytes]] = []
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        key_id, sep, encoded = entry.partition(":")
        if not sep or not key_id:
            raise KeyRingError(f"a payload key is `id:base64key`, got {entry[:12]!r}...")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise KeyRingError(f"payload key {key_id!r} is not base64") from None
        if len(key) != 32:
            raise KeyRingError(f"payload key {key_id!r} must be 32 bytes, is {len(key)}")
        if any(key_id == known for known, _ in ring):
            raise KeyRingError(f"payload key id {key_id!r} appears twice")
        ring.append((key_id, key))
    return ring


class EncryptionCodec(PayloadCodec):
    def __init__(self, ring: Sequence[tuple[str, bytes]]) -> None:
        if not ring:
            raise KeyRingError("an encryption codec needs at least one key")
        self.key_id, key = ring[0]
        self.encryptor = AESGCM(key)
        self.keys = {key_id: AESGCM(k) for key_id, k in ring}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self.encryptor.encrypt(nonce, payload.SerializeToString(), None)
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID: self.key_id.encode()}, data=nonce + sealed
        )

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # written before encryption was turned on
        key_id = payload.metadata.get(KEY_ID, b"").decode()
        key = self.keys.get(key_id)
        if key is None:
            raise KeyRingError(
                f"a payload is encrypted with key {key_id!r}, which is not in "
                "DIHFLOW_PAYLOAD_KEYS (keep old keys in the ring until their cases end)"
            )
        data = key.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], None)
        return Payload.FromString(data)


def converter_for(base: DataConverter, ring_text: str) -> DataConverter:
    """``base`` with the encryption codec when a ring is set."""
    ring = parse_ring(ring_text)
    return replace(base, payload_codec=EncryptionCodec(ring)) if ring else base


def payload_json(payload: Payload) -> dict[str, Any]:
    """A payload in the remote codec protocol's JSON form (base64 metadata and data)."""
    return {
        "metadata": {k: base64.b64encode(v).decode() for k, v in payload.metadata.items()},
        "data": base64.b64encode(payload.data).decode(),
    }


def payload_from_json(item: dict[str, Any]) -> Payload:
    return Payload(
        metadata={k: base64.b64decode(v) for k, v in (item.get("metadata") or {}).items()},
        data=base64.b64decode(item.get("data") or ""),
    )


# -- secrets at rest (webhook signing secrets) ----------------------------------------------
SEALED = "sealed:v1:"


def seal_text(ring_text: str, text: str) -> str:
    """``text`` encrypted with the ring's first key, as ``sealed:v1:<key id>:<base64>``; the
    text itself when no ring is set (the embedded default)."""
    ring = parse_ring(ring_text)
    if not ring:
        return text
    key_id, key = ring[0]
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, text.encode(), key_id.encode())
    return f"{SEALED}{key_id}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def open_text(ring_text: str, stored: str) -> str:
    """The text ``seal_text`` sealed (with any key of the ring); a text stored before
    sealing was turned on comes back as it is."""
    if not stored.startswith(SEALED):
        return stored
    key_id, _, encoded = stored.removeprefix(SEALED).partition(":")
    keys = dict(parse_ring(ring_text))
    if key_id not in keys:
        raise KeyRingError(
            f"a secret is sealed with key {key_id!r}, which is not in DIHFLOW_PAYLOAD_KEYS"
        )
    data = base64.urlsafe_b64decode(encoded)
    opened = AESGCM(keys[key_id]).decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], key_id.encode())
    return opened.decode()
