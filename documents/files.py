"""The file store: document files kept under their SHA-256.

Every file is addressed by a key, its relative path ``ab/abcdef....suffix`` (the first two hex
digits, then the digest and the suffix), which the store rows keep in ``path``. ``FileStore``
is what the rest of the code asks of a store; ``LocalFiles`` keeps the files in a directory
(``DIHFLOW_DOCUMENTS_DIR``), which may be a volume several machines share: files are written
once under their hash (to a temporary name, then renamed) and never rewritten, so any shared
file system will do. An object store (S3 and the like) implements the same four methods, its
``local_path`` fetching into a local cache for the API to stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


def file_key(digest: str, suffix: str) -> str:
    return f"{digest[:2]}/{digest}{suffix}"


class FileStore(Protocol):
    def put(self, digest: str, content: bytes, suffix: str) -> str:
        """Keep ``content`` (whose SHA-256 is ``digest``) and return its key; writing the same
        content twice is harmless."""
        ...

    def read(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def local_path(self, key: str) -> Path:
        """A local file holding the content, for streaming it (FileResponse)."""
        ...


@dataclass(frozen=True)
class LocalFiles:
    """A directory (possibly a shared volume) as the file store."""

    root: Path

    def put(self, digest: str, content: bytes, suffix: str) -> str:
        key = file_key(digest, suffix)
        path = self.root / key
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f"{suffix}.{digest[:8]}.tmp")
            tmp.write_bytes(content)
            tmp.replace(path)
        return key

    def read(self, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def exists(self, key: str) -> bool:
        return (self.root / key).is_file()

    def local_path(self, key: str) -> Path:
        return self.root / key


def files_for(settings: Any) -> FileStore:
    """The file store of ``settings``: the documents directory."""
    return LocalFiles(Path(settings.documents_dir))


def store_file(root: Path, digest: str, content: bytes, suffix: str) -> Path:
    """Content-addressed: the path is the hash, so writing twice is harmless."""
    files = LocalFiles(root)
    return files.local_path(files.put(digest, content, suffix))
