"""Domain errors. Each carries the HTTP status the API answers with, so the workflow's
refusal and the API's own pre-check speak the same words.

    DomainError
    └── ActionRefused        a human step that cannot be taken (404/409/403/422)
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status: int = 400

    def __init__(self, title: str, detail: str, *, status: int | None = None, **extra: Any):
        super().__init__(detail)
        self.title = title
        self.detail = detail
        if status is not None:
            self.status = status
        self.extra = extra

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "title": self.title, "detail": self.detail, **self.extra}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DomainError:
        data = dict(data)
        return cls(data.pop("title"), data.pop("detail"), status=data.pop("status"), **data)


class ActionRefused(DomainError):
    status = 409
