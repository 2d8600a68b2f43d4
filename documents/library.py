"""The template library: shipped templates (version 1) and versions the helpdesk publishes.

Every render validates its variables first (a missing, unknown or wrongly typed variable is
named), runs jinja2 with strict undefined and autoescape (a value is never evaluated), and, for
published templates, inside jinja2's sandbox. A generated document records the template's
name, version and file SHA-256, its render input (variables and the fixed time) and its own
SHA-256, so ``verify_document`` can re-render it and report any difference.
"""

from __future__ import annotations

import io
import secrets
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
from docxtpl import DocxTemplate
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ValidationError
from sqlmodel import Session, col, select

from documents.bounded import check_package
from documents.files import store_file
from documents.rendering import TEMPLATES_DIR, RenderError, render_docx
from domain.agreements import TEMPLATE_VARIABLES
from domain.digests import sha256_hex
from domain.timeline import canonical_json
from store.models import Document, TemplateVersion

BUILTIN_VERSION = 1


class TemplateProblem(Exception):
    """Bad input for a template: ``errors`` lists ``{field, message}``; ``status`` the HTTP one."""

    def __init__(self, detail: str, errors: list[dict[str, str]] | None = None, status: int = 422):
        super().__init__(detail)
        self.detail, self.errors, self.status = detail, errors or [], status


@dataclass(frozen=True)
class Resolved:
    name: str
    version: int
    path: Path
    schema: dict[str, Any]
    model: type[BaseModel] | None  # shipped templates validate with their pydantic model
    sandboxed: bool
    description: str


def _builtin(name: str) -> Resolved:
    model = TEMPLATE_VARIABLES[name]
    return Resolved(
        name=name,
        version=BUILTIN_VERSION,
        path=TEMPLATES_DIR / f"{name}.docx",
        schema=model.model_json_schema(),
        model=model,
        sandboxed=False,
        description=(model.__doc__ or name).strip().splitlines()[0],
    )


def new_document_id() -> str:
    return f"doc-{secrets.token_hex(6)}"


def template_names() -> list[str]:
    return sorted(TEMPLATE_VARIABLES)


def versions(session: Session, name: str) -> list[int]:
    published = session.exec(
        select(TemplateVersion.version).where(TemplateVersion.name == name)
    ).all()
    return sorted({BUILTIN_VERSION, *published})


def resolve(
    session: Session, documents_dir: Path, name: str, version: int | None = None
) -> Resolved:
    """The template ``name`` at ``version`` (the newest when None); 404 when unknown."""
    if name not in TEMPLATE_VARIABLES:
        raise TemplateProblem(
            f"no template {name!r}; known: {', '.join(template_names())}", status=404
        )
    wanted = version or versions(session, name)[-1]
    if wanted == BUILTIN_VERSION:
        return _builtin(name)
    row = session.get(TemplateVersion, (name, wanted))
    if row is None:
        raise TemplateProblem(f"template {name!r} has no version {wanted}", status=404)
    return Resolved(
        name=name,
        version=row.version,
        path=documents_dir / row.path,
        schema=row.variables_schema,
        model=None,
        sandboxed=True,
        description=row.description,
    )


def validate_variables(template: Resolved, variables: Any) -> dict[str, Any]:
    """The render context, or ``TemplateProblem`` naming each wrong field."""
    if template.model is not None:
        try:
            return template.model.model_validate(variables).to_context()  # type: ignore[attr-defined, no-any-return]
        except ValidationError as exc:
            raise TemplateProblem(
                f"the variables of {template.name} are not valid",
                [
                    {
                        "field": ".".join(str(p) for p in e["loc"]) or "variables",
                        "message": e["msg"],
                    }
                    for e in exc.errors()
                ],
            ) from None
    validator = jsonschema.Draft202012Validator(template.schema)
    errors = sorted(validator.iter_errors(variables), key=lambda e: list(e.absolute_path))
    if errors:
        raise TemplateProblem(
            f"the variables of {template.name} v{template.version} are not valid",
            [
                {
                    "field": ".".join(str(p) for p in e.absolute_path) or "variables",
                    "message": e.message,
                }
                for e in errors
            ],
        )
    return dict(variables)


def render(template: Resolved, context: dict[str, Any], fixed_time: datetime) -> bytes:
    try:
        return render_docx(
            template.path, context, fixed_time=fixed_time, sandboxed=template.sandboxed
        )
    except RenderError as exc:
        raise TemplateProblem(str(exc), [{"field": "variables", "message": str(exc)}]) from exc


def generate(
    session: Session,
    documents_dir: Path,
    name: str,
    version: int | None,
    variables: Any,
    principal_id: str,
    now: datetime | None = None,
    doc_id: str | None = None,
) -> Document:
    """A document from a template outside any case (the legal helpdesk's own use)."""
    template = resolve(session, documents_dir, name, version)
    context = validate_variables(template, variables)
    fixed = (now or datetime.now(UTC)).replace(microsecond=0)
    content = render(template, context, fixed)
    digest = sha256_hex(content)
    path = store_file(documents_dir, digest, content, ".docx")
    doc = Document(
        id=doc_id or new_document_id(),
        case_id=None,
        version=1,
        template=name,
        template_version=str(template.version),
        template_sha256=sha256_hex(template.path.read_bytes()),
        variables_sha256=sha256_hex(canonical_json(context)),
        sha256=digest,
        path=str(path.relative_to(documents_dir)),
        size=len(content),
        variables={"context": context, "fixed_time": fixed.isoformat()},
        created_by=principal_id,
    )
    session.add(doc)
    session.commit()
    return doc


def verify(session: Session, documents_dir: Path, doc_id: str) -> list[str]:
    """Re-render a document from its recorded inputs; every difference found, or none."""
    doc = session.get(Document, doc_id)
    if doc is None:
        raise TemplateProblem(f"no document {doc_id!r}", status=404)
    problems = []
    stored = documents_dir / doc.path
    if not stored.exists():
        problems.append(f"the stored file {doc.path} is missing")
    elif sha256_hex(stored.read_bytes()) != doc.sha256:
        problems.append(
            "the stored file does not match the recorded SHA-256 (changed after rendering)"
        )
    if not doc.variables:
        return problems + ["no render input was recorded for this document: cannot re-render"]
    template = resolve(session, documents_dir, doc.template, int(doc.template_version))
    if sha256_hex(template.path.read_bytes()) != doc.template_sha256:
        problems.append(f"template {doc.template} v{doc.template_version} changed since rendering")
    context = doc.variables["context"]
    if sha256_hex(canonical_json(context)) != doc.variables_sha256:
        problems.append("the recorded variables do not match their recorded SHA-256")
    again = render(template, context, datetime.fromisoformat(doc.variables["fixed_time"]))
    if sha256_hex(again) != doc.sha256:
        problems.append("re-rendering gives different bytes than the recorded SHA-256")
    return problems


def publish(
    session: Session,
    documents_dir: Path,
    name: str,
    content: bytes,
    schema: dict[str, Any],
    example: dict[str, Any],
    description: str,
    principal_id: str,
) -> TemplateVersion:
    """A new version of ``name``, accepted only if it renders in the sandbox with ``example``
    and uses no variable its schema does not declare."""
    resolve(session, documents_dir, name)  # 404 for an unknown template name
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise TemplateProblem(
            "the variables schema is not a JSON Schema",
            [{"field": "schema", "message": exc.message}],
        ) from None
    if schema.get("type") != "object":
        raise TemplateProblem(
            "the variables schema must describe an object",
            [{"field": "schema", "message": "type must be object"}],
        )
    declared = set(schema.get("properties", {}))
    too_big = check_package(content)
    if too_big is not None:  # a zip bomb is refused before anything parses it
        raise TemplateProblem(
            "the file is not a usable .docx template", [{"field": "file", "message": too_big}]
        )
    try:
        used = DocxTemplate(io.BytesIO(content)).get_undeclared_template_variables(
            SandboxedEnvironment()
        )
    except Exception as exc:  # not a .docx, or jinja syntax broken
        raise TemplateProblem(
            "the file is not a usable .docx template",
            [{"field": "file", "message": str(exc)[:300]}],
        ) from None
    unknown = sorted(used - declared)
    if unknown:
        raise TemplateProblem(
            "the template uses variables its schema does not declare",
            [{"field": "schema.properties", "message": f"undeclared: {', '.join(unknown)}"}],
        )
    number = versions(session, name)[-1] + 1
    digest = sha256_hex(content)
    # tried from a scratch copy: a refused upload leaves nothing in the document store
    with tempfile.TemporaryDirectory() as scratch:
        trial = Path(scratch) / "candidate.docx"
        trial.write_bytes(content)
        candidate = Resolved(name, number, trial, schema, None, True, description)
        try:
            validate_variables(candidate, example)
        except TemplateProblem as exc:
            raise TemplateProblem(
                "the example does not fit the schema",
                [{"field": f"example.{e['field']}", "message": e["message"]} for e in exc.errors],
            ) from None
        render(candidate, example, datetime(2000, 1, 1, tzinfo=UTC))  # must render, sandboxed
    path = store_file(documents_dir, digest, content, ".docx")
    row = TemplateVersion(
        name=name,
        version=number,
        description=description,
        sha256=digest,
        path=str(path.relative_to(documents_dir)),
        variables_schema=schema,
        example=example,
        published_by=principal_id,
    )
    session.add(row)
    session.commit()
    return row


def documents_by(session: Session, principal_id: str) -> list[Document]:
    return list(
        session.exec(
            select(Document)
            .where(Document.created_by == principal_id)
            .order_by(col(Document.created_at).desc())
        )
    )
