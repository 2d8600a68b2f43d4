"""What publishing a template version would say, before anything is saved.

The helpdesk's upload page shows this preview, then publishes through
``documents.library.publish`` (the JSON route's code path), which runs the same checks again
and saves. Unlike ``publish``, which stops at the first problem, the preview lists every one it
can find: JSON that does not parse, a schema that is not a JSON Schema of an object, a file
that is not a ``.docx`` template, variables the file uses but the schema does not declare, an
example that does not fit the schema, and a render of the example in the sandbox.
"""

from __future__ import annotations

import io
import json
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
from docxtpl import DocxTemplate
from jinja2.sandbox import SandboxedEnvironment
from sqlmodel import Session

from documents import library
from documents.bounded import check_package
from documents.files import store_file
from domain.digests import sha256_hex

SANDBOX_TIME = datetime(2000, 1, 1, tzinfo=UTC)  # the fixed time of the trial render


@dataclass
class UploadCheck:
    """The outcome of checking an upload: publishable when ``problems`` is empty."""

    name: str
    next_version: int
    sha256: str
    size: int
    schema: dict[str, Any] | None = None
    example: dict[str, Any] | None = None
    used: list[str] = field(default_factory=list)  # variables the file uses
    declared: list[str] = field(default_factory=list)  # variables the schema declares
    undeclared: list[str] = field(default_factory=list)
    rendered: bool = False  # the example rendered in the sandbox
    problems: list[dict[str, str]] = field(default_factory=list)  # {field, message}

    @property
    def ok(self) -> bool:
        return not self.problems


def _json_object(text: str, name: str, problems: list[dict[str, str]]) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError as exc:
        problems.append({"field": name, "message": f"not JSON: {exc}"})
        return None
    if not isinstance(value, dict):
        problems.append({"field": name, "message": "must be a JSON object"})
        return None
    return value


def check_upload(
    session: Session,
    documents_dir: Path,
    name: str,
    content: bytes,
    schema_text: str,
    example_text: str,
) -> UploadCheck:
    """Every problem that would stop ``publish``; raises ``TemplateProblem`` (404) for an
    unknown template name. Saves nothing to the store."""
    library.resolve(session, documents_dir, name)
    check = UploadCheck(
        name=name,
        next_version=library.versions(session, name)[-1] + 1,
        sha256=sha256_hex(content),
        size=len(content),
    )
    problems = check.problems
    check.schema = _json_object(schema_text, "schema", problems)
    check.example = _json_object(example_text, "example", problems)
    if check.schema is not None:
        try:
            jsonschema.Draft202012Validator.check_schema(check.schema)
            if check.schema.get("type") != "object":
                problems.append({"field": "schema", "message": "type must be object"})
        except jsonschema.SchemaError as exc:
            problems.append({"field": "schema", "message": f"not a JSON Schema: {exc.message}"})
            check.schema = None
    if check.schema is not None:
        check.declared = sorted(check.schema.get("properties", {}))
    too_big = check_package(content)
    if too_big is not None:  # a zip bomb is refused before anything parses it
        problems.append({"field": "file", "message": f"not a usable .docx template: {too_big}"})
        return check
    try:
        used = DocxTemplate(io.BytesIO(content)).get_undeclared_template_variables(
            SandboxedEnvironment()
        )
    except Exception as exc:  # not a .docx, or its jinja syntax is broken
        problems.append({"field": "file", "message": f"not a usable .docx template: {exc}"[:300]})
        return check
    check.used = sorted(used)
    if check.schema is not None:
        check.undeclared = sorted(used - set(check.declared))
        if check.undeclared:
            problems.append(
                {
                    "field": "schema.properties",
                    "message": f"undeclared: {', '.join(check.undeclared)}",
                }
            )
    if check.schema is None or check.example is None or check.undeclared:
        return check
    candidate = library.Resolved(name, check.next_version, Path(), check.schema, None, True, "")
    try:
        library.validate_variables(candidate, check.example)
    except library.TemplateProblem as exc:
        problems.extend(
            {"field": f"example.{e['field']}", "message": e["message"]} for e in exc.errors
        )
        return check
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "candidate.docx"
        path.write_bytes(content)
        trial = library.Resolved(name, check.next_version, path, check.schema, None, True, "")
        try:
            library.render(trial, check.example, SANDBOX_TIME)
            check.rendered = True
        except library.TemplateProblem as exc:
            problems.append({"field": "file", "message": f"does not render: {exc.detail}"})
    return check


def stage_upload(documents_dir: Path, content: bytes) -> str:
    """Keep the uploaded file by its SHA-256 between preview and confirmation (where
    ``publish`` would store it anyway); the confirmation names it by that hash."""
    digest = sha256_hex(content)
    store_file(documents_dir, digest, content, ".docx")
    return digest


def staged_upload(documents_dir: Path, digest: str) -> bytes | None:
    """The staged file of ``digest``, or None when there is none (or it does not match)."""
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        return None
    path = documents_dir / digest[:2] / f"{digest}.docx"
    if not path.is_file():
        return None
    content = path.read_bytes()
    return content if sha256_hex(content) == digest else None
