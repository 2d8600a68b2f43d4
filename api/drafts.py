"""Readable differences between two draft versions: their text, paragraph by paragraph (table
cells included), and their render variables. For the legal queue; nothing is rendered again."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from documents.files import LocalFiles
from documents.rendering import docx_text
from store.models import Document

CONTEXT_LINES = 2  # unchanged paragraphs shown around each change


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same", "added", "removed" or "gap" (unchanged paragraphs left out)
    text: str


def document_text(content: bytes) -> list[str]:
    """The non-empty paragraphs of a .docx (body, table cells, headers and footers)."""
    return [line.strip() for line in docx_text(content).splitlines() if line.strip()]


def text_diff(old: list[str], new: list[str], context: int = CONTEXT_LINES) -> list[DiffLine]:
    """The changes from ``old`` to ``new`` with a little unchanged text around each; an empty
    list when they are the same."""
    out: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        if out:
            out.append(DiffLine("gap", "…"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out.extend(DiffLine("same", line) for line in old[i1:i2])
                continue
            out.extend(DiffLine("removed", line) for line in old[i1:i2])
            out.extend(DiffLine("added", line) for line in new[j1:j2])
    return out


def document_diff(documents_dir: Path, old: Document, new: Document) -> list[DiffLine]:
    """The text diff between two stored documents."""
    read = [LocalFiles(Path(documents_dir)).read(d.path) for d in (old, new)]
    return text_diff(document_text(read[0]), document_text(read[1]))


@dataclass(frozen=True)
class VariableChange:
    name: str
    old: Any
    new: Any


def variables_diff(old: dict[str, Any], new: dict[str, Any]) -> list[VariableChange]:
    """The render variables that differ between two versions (a missing one is None)."""
    return [
        VariableChange(name, old.get(name), new.get(name))
        for name in sorted(set(old) | set(new))
        if old.get(name) != new.get(name)
    ]
