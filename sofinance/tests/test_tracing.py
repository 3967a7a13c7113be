"""Optional OpenTelemetry tracing: spans reach an OTLP/HTTP collector when, and only when,
OTEL_EXPORTER_OTLP_ENDPOINT is set. Each case runs in its own process (instrumentation patches
Django and psycopg process-wide)."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import sys, django
    django.setup()
    from django.test import Client
    from opentelemetry import trace
    probe = Client().get("/health/live")  # Host "testserver": not allowed, answered anyway
    page = Client().get("/", HTTP_HOST="localhost")
    provider = trace.get_tracer_provider()
    if hasattr(provider, "force_flush"):
        provider.force_flush()
    traced = "opentelemetry.instrumentation.django" in sys.modules
    print("STATUS", probe.status_code, page.status_code, "TRACING", traced)
    """
)


class Collector(http.server.BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Collector.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args):
        pass


def run(tmp_path: Path, **extra: str) -> str:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("OTEL_")},
        "DJANGO_SETTINGS_MODULE": "sofinance.settings",
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "SOFINANCE_ENV_FILE": "/dev/null",
        "LOG_LEVEL": "ERROR",
        **extra,
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return next(line for line in result.stdout.splitlines() if line.startswith("STATUS"))


def test_with_an_endpoint_request_spans_reach_the_collector(tmp_path):
    Collector.received = []
    server = http.server.HTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        line = run(
            tmp_path,
            OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{server.server_port}",
            OTEL_SERVICE_NAME="sofinance-test",
        )
    finally:
        server.shutdown()
    assert line == "STATUS 200 200 TRACING True"
    paths = {path for path, _ in Collector.received}
    assert paths == {"/v1/traces"}
    body = b"".join(payload for _, payload in Collector.received)
    assert b"sofinance-test" in body and b"http.status_code" in body and b"localhost" in body


def test_without_an_endpoint_nothing_is_instrumented(tmp_path):
    assert run(tmp_path) == "STATUS 200 200 TRACING False"
