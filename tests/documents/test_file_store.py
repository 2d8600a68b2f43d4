"""The file store behind its interface: the directory store and a store of another kind (here
in memory, as an object store would be, fetching into a cache to stream) meet the same
contract, and the API serves a document through whichever it is given."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from documents.files import FileStore, LocalFiles, file_key


class MemoryFiles:
    """Keys to bytes, nothing on disk until a file must be streamed."""

    def __init__(self, cache: Path) -> None:
        self.blobs: dict[str, bytes] = {}
        self.cache = cache

    def put(self, digest: str, content: bytes, suffix: str) -> str:
        key = file_key(digest, suffix)
        self.blobs.setdefault(key, content)
        return key

    def read(self, key: str) -> bytes:
        return self.blobs[key]

    def exists(self, key: str) -> bool:
        return key in self.blobs

    def local_path(self, key: str) -> Path:
        path = self.cache / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.blobs[key])
        return path


@pytest.fixture(params=["directory", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> FileStore:
    if request.param == "directory":
        return LocalFiles(tmp_path / "documents")
    return MemoryFiles(tmp_path / "cache")


def test_a_file_is_kept_under_its_hash_once(store: FileStore) -> None:
    content = b"PK\x03\x04 an agreement"
    digest = hashlib.sha256(content).hexdigest()
    key = store.put(digest, content, ".docx")
    assert key == f"{digest[:2]}/{digest}.docx"
    assert store.put(digest, content, ".docx") == key  # again: harmless
    assert store.exists(key) and store.read(key) == content
    assert store.local_path(key).read_bytes() == content
    assert not store.exists(file_key("0" * 64, ".docx"))


def test_the_directory_store_leaves_no_temporary_file(tmp_path: Path) -> None:
    files = LocalFiles(tmp_path)
    digest = hashlib.sha256(b"x").hexdigest()
    files.put(digest, b"x", ".bin")
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [f"{digest}.bin"]
