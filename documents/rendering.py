"""Deterministic rendering of docx agreement templates (pure helpers, no Temporal).

``render_docx`` fills a docxtpl template with a context dict and returns bytes that
depend only on the template and the inputs: jinja never evaluates values, autoescape
keeps ``<`` and ``&`` in values from corrupting the XML, a missing variable raises
``RenderError``, and the package is rewritten with fixed zip timestamps, entry order,
compression and core-properties dates so the same inputs always give the same SHA-256.

A template's parts are prepared for jinja and compiled once per process, not at every render:
docxtpl cleans each part's XML (``patch_xml``, a pure function of that XML) and compiles it
with ``Environment.from_string`` each time, which was more than half of a render's CPU. Both
are kept by their source text (bounded, least recently used out first), so an edited template
is a new source and is compiled afresh, and the output bytes are the same as without the cache.
"""

from __future__ import annotations

import io
import re
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import docx
from docx.opc.pkgwriter import PackageWriter
from docx.table import Table
from docxtpl import DocxTemplate
from jinja2 import (
    Environment,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateSyntaxError,
    UndefinedError,
)
from jinja2.sandbox import SandboxedEnvironment

from domain.agreements import XML_FORBIDDEN
from domain.clock import utc_naive

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates" / "agreements"

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
"""Timestamp written on every zip entry (the earliest a zip can hold)."""

ZIP_COMPRESSION = zipfile.ZIP_DEFLATED
ZIP_COMPRESSLEVEL = 6

CONTENT_TYPES = "[Content_Types].xml"

_UNDEFINED_NAME = re.compile(r"'([^']+)' is undefined|has no attribute '([^']+)'")


class RenderError(Exception):
    """A template could not be rendered: a missing variable, a broken template or bad input."""


class SourceCache:
    """Values made from a source text, kept for the process: at most ``size``, the least
    recently used dropped first. Shared by the activity threads; two threads missing the same
    source at once both make it, and either copy serves."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[str, Any] = OrderedDict()
        self.lock = threading.Lock()
        self.made = 0  # values made on a miss (tests read it)

    def get(self, source: str, make: Callable[[str], Any]) -> Any:
        with self.lock:
            value = self.items.get(source)
            if value is not None:
                self.items.move_to_end(source)
                return value
        value = make(source)
        with self.lock:
            self.made += 1
            self.items[source] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return value


# a template's body, headers, footers and core properties each have a source: room for a
# few dozen templates' parts (an agreement's body source is about 100 KB)
PATCHED = SourceCache(64)
COMPILED = SourceCache(256)


class _CompiledOnce(Environment):
    """The shipped templates' environment: ``from_string`` compiles a source once
    (``COMPILED``). Strict undefined and autoescape, as every render here uses."""

    def __init__(self) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=True)

    def from_string(self, source: Any, globals: Any = None, template_class: Any = None) -> Template:
        if globals is not None or template_class is not None or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        compiled: Template = COMPILED.get(source, super().from_string)
        return compiled


class _PatchedOnce(DocxTemplate):  # type: ignore[misc]
    """docxtpl's template with its XML cleaning kept by source (``PATCHED``): ``patch_xml``
    reads nothing but its argument (docxtpl 0.20)."""

    def patch_xml(self, src_xml: str) -> str:
        patched: str = PATCHED.get(src_xml, super().patch_xml)
        return patched


# one environment for the shipped templates, shared by every render of the process
_SHIPPED = _CompiledOnce()


def template_path(name: str) -> Path:
    """Path of the named template in ``TEMPLATES_DIR`` (``name`` without ``.docx``)."""
    return TEMPLATES_DIR / f"{name}.docx"


def normalise_docx(data: bytes) -> bytes:
    """Rewrite a .docx package so its bytes depend only on the content of its parts.

    Every entry gets the same timestamp (1980-01-01 00:00:00), the same attributes and
    the same compression; ``[Content_Types].xml`` comes first, then the other entries
    sorted by name. The parts themselves are copied unchanged.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as src:
            entries = {info.filename: src.read(info) for info in src.infolist()}
    except zipfile.BadZipFile as exc:
        raise RenderError(f"not a docx (zip) package: {exc}") from exc
    if CONTENT_TYPES not in entries:
        raise RenderError(f"not a docx package: {CONTENT_TYPES} is missing")

    return _zip(entries)


def _zip(entries: dict[str, bytes]) -> bytes:
    """The package with fixed timestamps and attributes, in a fixed order, compressed once."""
    names = [CONTENT_TYPES, *sorted(n for n in entries if n != CONTENT_TYPES)]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.create_system = 0
            info.create_version = 20
            info.extract_version = 20
            info.external_attr = 0
            info.compress_type = ZIP_COMPRESSION
            dst.writestr(info, entries[name], compresslevel=ZIP_COMPRESSLEVEL)
    return out.getvalue()


def render_docx(
    template_path: Path,
    context: dict[str, Any],
    *,
    fixed_time: datetime,
    sandboxed: bool = False,
    bounded: bool = True,
) -> bytes:
    """Render a docxtpl template with ``context`` into deterministic .docx bytes.

    Values are inserted literally (autoescaped, never evaluated); a variable the template
    uses but ``context`` lacks raises ``RenderError`` naming it. The core properties get
    created = modified = last printed = ``fixed_time`` (a naive time is taken as UTC),
    last modified by ``dihflow`` and revision 1. ``sandboxed`` renders in jinja2's
    ``SandboxedEnvironment``: for templates uploaded by the helpdesk rather than shipped; such
    a render runs in a child process with CPU, memory and time limits (``documents.bounded``;
    ``bounded=False`` is that child's own call).
    """
    template_path = Path(template_path)
    if not template_path.is_file():
        raise RenderError(f"template not found: {template_path}")
    _check_values(context, "context")
    if sandboxed and bounded:
        from documents.bounded import render_bounded

        kind, value = render_bounded(template_path, context, fixed_time)
        if kind == "ok":
            return value  # type: ignore[no-any-return]
        raise RenderError(value if kind == "error" else f"template refused: {value}")

    # an uploaded template's render (its own child process) compiles in a fresh sandbox
    env: Environment = _SHIPPED
    if sandboxed:
        env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)
    tpl = _PatchedOnce(template_path)
    try:
        tpl.render(context, jinja_env=env, autoescape=True)
    except UndefinedError as exc:
        raise RenderError(
            f"missing template variable {_undefined_name(exc)!r} in {template_path.name}: {exc}"
        ) from exc
    except TemplateSyntaxError as exc:
        raise RenderError(
            f"broken template {template_path.name} (line {exc.lineno}): {exc.message}"
        ) from exc
    except TemplateError as exc:
        raise RenderError(f"cannot render template {template_path.name}: {exc}") from exc

    stamp = utc_naive(fixed_time)
    core = tpl.docx.core_properties
    core.created = stamp
    core.modified = stamp
    core.last_printed = stamp
    core.last_modified_by = "dihflow"
    core.revision = 1

    return _zip(_package_entries(tpl))


class _Entries:
    """Stands in for python-docx's zip writer: collects each part's bytes by member name, so
    the package is compressed once (by ``_zip``) instead of twice."""

    def __init__(self) -> None:
        self.entries: dict[str, bytes] = {}

    def write(self, pack_uri: Any, blob: bytes) -> None:
        self.entries[pack_uri.membername] = blob


def document_docx(document: Any) -> bytes:
    """A python-docx ``Document`` as deterministic .docx bytes, compressed once (as
    ``render_docx`` writes a template's package)."""
    return _zip(_document_entries(document))


def _document_entries(document: Any) -> dict[str, bytes]:
    package = document.part.package
    parts = list(package.parts)
    for part in parts:
        part.before_marshal()
    collector = _Entries()
    PackageWriter._write_content_types_stream(collector, parts)
    PackageWriter._write_pkg_rels(collector, package.rels)
    PackageWriter._write_parts(collector, parts)  # type: ignore[arg-type]
    return collector.entries


def _package_entries(tpl: DocxTemplate) -> dict[str, bytes]:
    """What ``DocxTemplate.save`` would zip (this project uses no picture or media
    replacement, the only work docxtpl's save adds)."""
    if tpl.crc_to_new_media or tpl.crc_to_new_embedded or tpl.zipname_to_replace:
        buf = io.BytesIO()  # media replacement: let docxtpl do it, then normalise
        tpl.save(buf)
        with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src:
            return {info.filename: src.read(info) for info in src.infolist()}
    tpl.pre_processing()
    return _document_entries(tpl.docx)


def docx_text(data: bytes) -> str:
    """All paragraph and table-cell text of a .docx, one line per paragraph.

    Body content comes in document order (tables row by row, cell by cell), followed by
    the text of the section headers and footers.
    """
    document = docx.Document(io.BytesIO(data))
    lines: list[str] = []
    for block in document.iter_inner_content():
        lines.extend(_block_text(block))
    seen: set[int] = set()
    for section in document.sections:
        for part in (section.header, section.footer):
            if part.is_linked_to_previous or id(part.part) in seen:
                continue
            seen.add(id(part.part))
            for block in part.iter_inner_content():
                lines.extend(_block_text(block))
    return "\n".join(lines)


def _block_text(block: Any) -> Iterator[str]:
    if isinstance(block, Table):
        for row in block.rows:
            for cell in row.cells:
                for inner in cell.iter_inner_content():
                    yield from _block_text(inner)
    else:
        yield block.text


def _undefined_name(exc: UndefinedError) -> str:
    match = _UNDEFINED_NAME.search(str(exc))
    if match is None:
        return str(exc)
    return match.group(1) or match.group(2)


def _check_values(value: Any, where: str) -> None:
    """Refuse strings that XML cannot carry, anywhere in the context."""
    if isinstance(value, str):
        bad = XML_FORBIDDEN.search(value)
        if bad is not None:
            raise RenderError(f"{where} contains a control character {bad.group()!r}")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_values(item, f"{where}[{key!r}]")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_values(item, f"{where}[{index}]")
