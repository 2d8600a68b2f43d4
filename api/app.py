"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import problems
from api.deps import TemporalClients
from api.limits import BodyLimit
from api.pages import links as link_pages
from api.routes import cases, hubs, links, system
from dihflow.settings import Settings
from store.db import migrate


def create_app(settings: Settings | None = None, *, run_migrations: bool = True) -> FastAPI:
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if run_migrations:
            migrate(settings.database_url)
        yield

    app = FastAPI(
        title="dihflow",
        version="0.1.0",
        summary="Collaboration workflows between AI Digital Innovation Hubs",
        lifespan=lifespan,
        docs_url=None,  # the Swagger page loads assets from a CDN; the schema is at /openapi.json
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.temporal = TemporalClients(settings)
    problems.install(app)
    problems.install_openapi(app)
    app.add_middleware(BodyLimit, settings=settings)
    app.include_router(system.router)
    app.include_router(cases.router)
    app.include_router(hubs.router)
    app.include_router(links.router)
    app.include_router(link_pages.router)
    return app
