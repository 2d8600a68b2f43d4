"""A readable text diff between two versions of a generated agreement (.docx): the paragraphs
(and table cells) of each, read back with python-docx and compared with ``difflib``."""

from __future__ import annotations

import difflib
import io
from dataclasses import dataclass
from pathlib import Path

from docx import Document as DocxDocument

CONTEXT = 2  # unchanged paragraphs kept around each change


@dataclass(frozen=True)
class Line:
    kind: str  # same | del | ins | gap
    text: str


def paragraphs(path: Path) -> list[str]:
    doc = DocxDocument(io.BytesIO(path.read_bytes()))  # read whole: no file handle left open
    found = [p.text.strip() for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            found.append(" | ".join(cell.text.strip() for cell in row.cells))
    return [p for p in found if p]


def text_diff(old: list[str], new: list[str]) -> list[Line]:
    """The changed paragraphs with a little context; long unchanged runs become a gap."""
    lines: list[Line] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            same = old[i1:i2]
            if len(same) > 2 * CONTEXT + 1:
                head = same[:CONTEXT] if lines else []
                tail = same[-CONTEXT:] if i2 < len(old) or j2 < len(new) else []
                skipped = len(same) - len(head) - len(tail)
                lines += [Line("same", t) for t in head]
                lines.append(Line("gap", f"… {skipped} unchanged paragraphs …"))
                lines += [Line("same", t) for t in tail]
            else:
                lines += [Line("same", t) for t in same]
            continue
        lines += [Line("del", t) for t in old[i1:i2]]
        lines += [Line("ins", t) for t in new[j1:j2]]
    return lines
