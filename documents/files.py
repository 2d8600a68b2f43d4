"""The file store: documents kept on disk under their SHA-256."""

from __future__ import annotations

from pathlib import Path


def store_file(root: Path, digest: str, content: bytes, suffix: str) -> Path:
    """Content-addressed: the path is the hash, so writing twice is harmless."""
    path = root / digest[:2] / f"{digest}{suffix}"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f"{suffix}.{digest[:8]}.tmp")
        tmp.write_bytes(content)
        tmp.replace(path)
    return path
