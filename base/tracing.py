"""Optional OpenTelemetry traces: off unless ``DIHFLOW_OTEL_ENDPOINT`` names an OTLP/HTTP
collector (e.g. ``http://collector:4318``), and never required (the ``tracing`` extra).

When on, the API's HTTP spans (FastAPI's instrumentation) and the Temporal client's calls (the
SDK's ``TracingInterceptor``: start, update) are traced, and so is the workflow on the worker:
its run, each update it handles and each activity, in the trace of the request that started the
case (a later step's request holds the client's update call; the SDK links its handling into
the workflow's trace).
"""

from __future__ import annotations

from typing import Any

_provider: Any = None


def enabled(settings: Any) -> bool:
    return bool(settings.otel_endpoint)


def install(service: str, endpoint: str = "", exporter: Any = None) -> Any:
    """This process's tracer provider (once per process): spans to the OTLP ``endpoint``, or
    to ``exporter`` (tests hand in an in-memory one)."""
    global _provider
    if _provider is not None:
        return _provider
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        target = endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=target)))
    trace.set_tracer_provider(provider)
    _provider = provider
    return provider


def client_interceptors(settings: Any) -> list[Any]:
    """The Temporal client's interceptors: the SDK's tracing one when traces are on (a worker
    made from the client uses it too)."""
    if not enabled(settings):
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    install("dihflow", settings.otel_endpoint)
    return [TracingInterceptor()]


def instrument_api(app: Any, settings: Any) -> None:
    if not enabled(settings):
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    provider = install("dihflow", settings.otel_endpoint)
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls="metrics")
