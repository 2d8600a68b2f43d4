"""Checking an agreement template the legal helpdesk edited, before it is used.

The shipped templates under ``templates/agreements/`` are the source: Word documents a lawyer
opens, edits and saves (no script builds them). Beside each ``NAME.docx`` lies
``NAME.example.json``, one filled-in set of its variables. ``check_template`` answers the
questions a lawyer has after an edit, without running anything else:

- does the file open as a ``.docx`` and do its ``{{ }}``, ``{%p %}`` and ``{%tr %}`` tags parse
  (Word may split a tag over several runs: that is fine, docxtpl joins them);
- does every variable the template uses exist for this template (a typo such as
  ``{{ titel }}`` is named, with the variables that do exist);
- does the example render, and what does it look like (``preview``: a ``.docx`` to open).

Variables the template no longer uses are reported as notes, not problems: a clause may be
dropped on purpose. ``dihflow templates check NAME [FILE] --preview OUT.docx`` is the same
check from the command line.
"""

from __future__ import annotations

import io
import json
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from docxtpl import DocxTemplate
from jinja2 import Environment, TemplateSyntaxError
from pydantic import BaseModel, ValidationError

from documents.rendering import TEMPLATES_DIR, RenderError, render_docx
from domain.agreements import TEMPLATE_VARIABLES

PREVIEW_TIME = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass
class TemplateCheck:
    """What ``check_template`` found: ``problems`` empty means the template can be used."""

    name: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    preview: bytes | None = None  # the example rendered, when it renders

    @property
    def ok(self) -> bool:
        return not self.problems


def template_file(name: str) -> Path:
    return TEMPLATES_DIR / f"{name}.docx"


def example_file(name: str) -> Path:
    return TEMPLATES_DIR / f"{name}.example.json"


def example_variables(name: str) -> BaseModel:
    """The shipped example of ``name``'s variables, validated by the template's model."""
    model = TEMPLATE_VARIABLES[name]
    return model.model_validate(json.loads(example_file(name).read_text(encoding="utf-8")))


def example_context(name: str) -> dict[str, Any]:
    """The context the example gives the template (what ``{{ }}`` tags can name)."""
    return example_variables(name).to_context()  # type: ignore[attr-defined,no-any-return]


def check_template(name: str, content: bytes) -> TemplateCheck:
    """Check ``content`` as a new text of the shipped template ``name`` (see module doc)."""
    result = TemplateCheck(name)
    if name not in TEMPLATE_VARIABLES:
        known = ", ".join(sorted(TEMPLATE_VARIABLES))
        result.problems.append(f"no template is named {name!r} (the templates: {known})")
        return result
    try:
        used = DocxTemplate(io.BytesIO(content)).get_undeclared_template_variables(Environment())
    except TemplateSyntaxError as exc:
        result.problems.append(f"a tag does not parse (line {exc.lineno}): {exc.message}")
        return result
    except Exception as exc:  # not a zip, not a Word document
        result.problems.append(f"the file does not open as a .docx document: {exc}")
        return result
    try:
        context = example_context(name)
    except (OSError, ValueError, ValidationError) as exc:
        result.problems.append(f"the example {example_file(name).name} is not usable: {exc}")
        return result
    for variable in sorted(used - context.keys()):
        known = ", ".join(sorted(context))
        result.problems.append(f"the template uses {variable!r}, which does not exist ({known})")
    unused = sorted(context.keys() - used)
    if unused:
        result.notes.append(f"variables the template does not use: {', '.join(unused)}")
    if result.problems:
        return result
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / f"{name}.docx"
        path.write_bytes(content)
        try:
            result.preview = render_docx(path, context, fixed_time=PREVIEW_TIME)
        except RenderError as exc:
            result.problems.append(f"the example does not render: {exc}")
    return result
