"""The staff web application: server-rendered pages for the back office and the legal helpdesk.

``auth`` says who is signed in and what a page requires (read its docstring before adding a
page); ``render`` renders templates under ``templates/web/`` and the error pages. Each page
module has its router; ``install`` adds them all to the app.
"""

from __future__ import annotations

from fastapi import FastAPI

from api.web import (
    case,
    cases,
    framework,
    hub_import,
    hubs,
    legal,
    library,
    network,
    render,
    signin,
)


def install(app: FastAPI) -> None:
    render.install(app)
    app.include_router(signin.router)
    app.include_router(cases.router)
    app.include_router(case.router)
    app.include_router(legal.router)
    app.include_router(library.router)
    app.include_router(hub_import.router)
    app.include_router(hubs.router)
    app.include_router(network.router)
    app.include_router(framework.router)
