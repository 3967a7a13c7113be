"""Optional OpenTelemetry tracing: on only when OTEL_EXPORTER_OTLP_ENDPOINT is set.

Requests (Django), database statements (psycopg) and Celery tasks become spans exported over
OTLP/HTTP to the collector the standard OTEL_* variables name (OTEL_EXPORTER_OTLP_ENDPOINT,
OTEL_EXPORTER_OTLP_HEADERS, OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER...: the SDK reads them itself).
Off, nothing is imported and nothing is patched.
"""

from __future__ import annotations

import os
from typing import Any

_configured = False
OTEL_MIDDLEWARE = "opentelemetry.instrumentation.django.middleware.otel_middleware._DjangoMiddleware"
HEALTH_MIDDLEWARE = "sofinance.observability.middleware.HealthProbeMiddleware"


def tracing_enabled() -> bool:
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))


def configure_tracing(*, environment: str, exporter: Any = None) -> bool:
    """Install the tracer provider and the instrumentations once per process; True when on.

    `exporter`: where spans go (default: OTLP over HTTP); tests pass an in-memory one.
    """
    global _configured
    if _configured or not (tracing_enabled() or exporter is not None):
        return _configured
    from opentelemetry import trace
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        processor = BatchSpanProcessor(OTLPSpanExporter())
    else:
        processor = SimpleSpanProcessor(exporter)
    resource = Resource.create(
        {
            "service.name": os.environ.get("OTEL_SERVICE_NAME", "sofinance"),
            "deployment.environment": environment,
        }
    )
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument(tracer_provider=provider)
    _trace_below_the_health_probe()
    PsycopgInstrumentor().instrument(tracer_provider=provider, enable_commenter=False)
    CeleryInstrumentor().instrument(tracer_provider=provider)
    _configured = True
    return True


def _trace_below_the_health_probe() -> None:
    """The instrumentation puts its middleware first, where it reads the Host header of every
    request: a probe whose Host is not in ALLOWED_HOSTS would get a 400. Below the probe's own
    middleware, /health/* answers as before (untraced) and everything else is traced."""
    from django.conf import settings

    middleware = list(settings.MIDDLEWARE)
    if OTEL_MIDDLEWARE not in middleware or HEALTH_MIDDLEWARE not in middleware:
        return
    middleware.remove(OTEL_MIDDLEWARE)
    middleware.insert(middleware.index(HEALTH_MIDDLEWARE) + 1, OTEL_MIDDLEWARE)
    settings.MIDDLEWARE = middleware
