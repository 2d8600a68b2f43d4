"""Content digests: the one SHA-256 helper documents, files, signatures and chains use."""

from __future__ import annotations

import hashlib


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256 of ``data`` (how every document and file is addressed)."""
    return hashlib.sha256(data).hexdigest()
