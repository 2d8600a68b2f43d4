"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import metrics, problems, web
from api.deps import AuthenticateFirst, TemporalClients
from api.limits import BodyLimit
from api.pages import links as link_pages
from api.routes import (
    cases,
    codec,
    dossier,
    framework,
    hubs,
    indicators,
    links,
    matches,
    system,
    templates,
    webhooks,
)
from base import tracing
from base.settings import Settings
from store.db import migrate, size_pool


def create_app(settings: Settings | None = None, *, run_migrations: bool = True) -> FastAPI:
    settings = settings or Settings.from_env()
    size_pool(settings.db_pool_size, settings.db_max_overflow)

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
        docs_url=None,  # served below from installed assets: no CDN
        redoc_url=None,
        # operation ids are the route functions' names (a generated client's function names)
        generate_unique_id_function=lambda route: route.name,
    )
    app.state.settings = settings
    app.state.temporal = TemporalClients(settings)
    problems.install(app)
    web.install(app)  # after problems: a browser gets HTML error pages
    problems.install_openapi(app)
    app.add_middleware(AuthenticateFirst, settings=settings)
    app.add_middleware(BodyLimit, settings=settings)
    _offline_docs(app)
    app.include_router(system.router)
    app.include_router(cases.router)
    app.include_router(dossier.router)
    app.include_router(hubs.router)
    app.include_router(matches.router)
    app.include_router(templates.router)
    app.include_router(links.router)
    app.include_router(webhooks.router)
    app.include_router(codec.router)
    app.include_router(framework.router)
    app.include_router(indicators.router)
    app.include_router(link_pages.router)
    metrics.install(app, settings.database_url)  # outermost: counts every answer, 401s too
    tracing.instrument_api(app, settings)  # when DIHFLOW_OTEL_ENDPOINT is set
    return app


def _offline_docs(app: FastAPI) -> None:
    """``/docs``: Swagger UI from the assets the ``fastapi-offline`` package ships (only its
    files are used), so the page works with no network."""
    from importlib.resources import files

    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    assets = str(files("fastapi_offline") / "static")
    app.mount("/docs-assets", StaticFiles(directory=assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="dihflow API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon.png",
        )
