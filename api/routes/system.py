"""Liveness and readiness."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.deps import SessionDep
from api.routes.cases import ERRORS

router = APIRouter()


@router.get("/healthz", tags=["system"])
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", tags=["system"], responses={503: ERRORS[503]})
async def readyz(request: Request, session: SessionDep) -> JSONResponse:
    """Ready when the database and the workflow engine both answer."""
    checks: dict[str, str] = {}
    try:
        session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "unreachable"
    try:
        client = await request.app.state.temporal.get()
        await asyncio.wait_for(client.service_client.check_health(), 5)
        checks["temporal"] = "ok"
    except Exception:
        checks["temporal"] = "unreachable"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )
