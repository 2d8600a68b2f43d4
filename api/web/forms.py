"""A form per action, its fields read from the action's declared body (the pydantic payload
classes of ``domain.actions.PAYLOADS``, the table ``parse_payload`` validates with), and the
body a posted form stands for.

A field type a form cannot carry (a file, a list of tasks) is left out; an action that needs
one (``required``) gets no form but a note to use the API. The body is checked by the same
``check_action`` as the JSON API's, so a wrong form answers the same 422 naming the field.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from annotated_types import Ge, Le, MaxLen
from pydantic.fields import FieldInfo

from domain.actions import PAYLOADS, snake
from domain.cases import CaseFacts

LONG_TEXT = 300  # strings allowed longer than this get a text area
# Button labels where the action's name alone would be ambiguous on a page
LABELS = {"cancel": "Cancel the case", "reject-request": "Reject the request"}


@dataclass
class FormField:
    name: str
    label: str
    kind: str  # text | textarea | number | date | select | list
    required: bool
    help: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None


@dataclass
class ActionForm:
    action: str  # kebab-case, as in allowed_actions
    label: str
    fields: list[FormField]
    api_only: bool = False  # a required field no form can carry
    nothing_to_choose: str = ""  # a required choice with no option now (e.g. no deadline)


def _plain(annotation: Any) -> tuple[Any, bool]:
    """The type inside ``X | None``, and whether None was allowed."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _bounds(info: FieldInfo) -> dict[str, int]:
    found: dict[str, int] = {}
    for meta in info.metadata:
        if isinstance(meta, MaxLen):
            found["max_length"] = meta.max_length
        elif isinstance(meta, Ge):
            found["minimum"] = int(meta.ge)  # type: ignore[call-overload]
        elif isinstance(meta, Le):
            found["maximum"] = int(meta.le)  # type: ignore[call-overload]
    return found


def _field(name: str, info: FieldInfo, facts: CaseFacts) -> FormField | None:
    kind_type, _ = _plain(info.annotation)
    required = info.is_required()
    common: dict[str, Any] = {
        "name": name,
        "label": name.replace("_", " ").capitalize(),
        "required": required,
        "help": info.description or "",
        **_bounds(info),
    }
    if name == "deadline" and kind_type is str:
        # the running deadlines of this case (reminders are timers, not deadlines)
        running = [n for n in facts.deadlines if not n.endswith("_reminder")]
        choices = [
            (n, f"{n.replace('_', ' ')} (due {facts.deadlines[n][:16]} UTC)") for n in running
        ]
        return FormField(kind="select", choices=choices, **common)
    if typing.get_origin(kind_type) is Literal:
        choices = [(str(v), str(v).replace("_", " ")) for v in typing.get_args(kind_type)]
        return FormField(kind="select", choices=choices, **common)
    if kind_type is bool:
        return FormField(kind="select", choices=[("true", "yes"), ("false", "no")], **common)
    if kind_type is int:
        return FormField(kind="number", **common)
    if kind_type is date:
        return FormField(kind="date", **common)
    if kind_type is str:
        long = (common.get("max_length") or 0) > LONG_TEXT
        return FormField(kind="textarea" if long else "text", **common)
    if typing.get_origin(kind_type) is list and typing.get_args(kind_type) == (str,):
        common.pop("max_length", None)
        return FormField(kind="list", **common)
    return None


def action_form(action: str, facts: CaseFacts) -> ActionForm:
    payload = PAYLOADS[snake(action)]
    fields: list[FormField] = []
    api_only = False
    for name, info in payload.model_fields.items():
        made = _field(name, info, facts)
        if made is not None:
            fields.append(made)
        elif info.is_required():
            api_only = True
    empty = next((f for f in fields if f.required and f.kind == "select" and not f.choices), None)
    return ActionForm(
        nothing_to_choose=f"There is no {empty.label.lower()} to choose now." if empty else "",
        action=action,
        label=LABELS.get(action, action.replace("-", " ").capitalize()),
        fields=fields,
        api_only=api_only,
    )


def body_from_form(action: str, form: Any, facts: CaseFacts) -> dict[str, Any]:
    """The action's JSON body from a posted form: empty optional fields are left out, numbers
    and yes/no are converted when they can be (otherwise the 422 names the field)."""
    body: dict[str, Any] = {}
    for f in action_form(action, facts).fields:
        raw = form.get(f.name)
        value = raw.strip() if isinstance(raw, str) else ""
        if value == "" and not f.required:
            continue
        if f.kind == "number":
            body[f.name] = int(value) if value.lstrip("-").isdigit() else value
        elif f.kind == "list":
            body[f.name] = [v.strip() for v in value.replace("\n", ",").split(",") if v.strip()]
        elif f.kind == "select" and f.choices == [("true", "yes"), ("false", "no")]:
            body[f.name] = {"true": True, "false": False}.get(value, value)
        else:
            body[f.name] = value
    return body
