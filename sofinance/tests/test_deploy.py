"""Deploy traps: the image's health check passes whatever ALLOWED_HOSTS says, and no client can
claim HTTPS (X-Forwarded-Proto) unless it is a trusted proxy.

No Docker engine runs here: the tests read the Dockerfile and compose file, and run the image's
own CMD (gunicorn) and HEALTHCHECK command with the image's ENV, from this checkout.
"""

from __future__ import annotations

import json
import re
import secrets
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from django.test import Client, override_settings

from sofinance.tests.ports import free_port, wait_for_port
from sofinance.tests.subprocesses import BASE_DIR, clean_env, settings_of

DOCKERFILE = BASE_DIR / "Dockerfile"


def dockerfile_instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    lines = [ln for ln in path.read_text().splitlines() if not ln.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    return [tuple(ln.strip().split(None, 1)) for ln in joined.splitlines() if ln.strip()]


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction, arguments in dockerfile_instructions():
        if instruction == "ENV":
            env.update(part.split("=", 1) for part in shlex.split(arguments))
    return env


def exec_form(instruction: str) -> list[str]:
    (arguments,) = [a for i, a in dockerfile_instructions() if i == instruction]
    if instruction == "HEALTHCHECK":
        arguments = arguments.split(" CMD ", 1)[1]
    return json.loads(arguments)


def local(command: list[str]) -> list[str]:
    """The image's command with this checkout's interpreter."""
    program, *args = command
    if program == "python":
        return [sys.executable, *args]
    return [sys.executable, "-m", program, *args]


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The image's ENV, production settings (DEBUG unset: off) and a real host name."""
    return clean_env(
        **{
            **image_env(),
            "DJANGO_SETTINGS_MODULE": "sofinance.settings",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "JWT_SECRET": f"k1:{secrets.token_urlsafe(48)}",
            "ALLOWED_HOSTS": "books.example.com",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "REDIS_URL": "",
            "CELERY_BROKER_URL": "",
            "LOG_LEVEL": "WARNING",
            **extra,
        }
    )


class Server:
    def __init__(self, env: dict[str, str]) -> None:
        self.port = int(env["PORT"])
        self.process = subprocess.Popen(
            local(exec_form("CMD")), cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        wait_for_port(self.port, timeout=60, process=self.process)
        # The master binds the port before its worker has loaded Django; Docker's start period
        # (HEALTHCHECK --start-period) likewise waits for the application before it counts.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if self.get("/health/live")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)

    def get(self, path: str, **headers: str) -> tuple[int, dict[str, str]]:
        status, response_headers, _ = self.read(path, **headers)
        return status, response_headers

    def read(self, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers=headers)
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=10) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture
def serve(tmp_path):
    servers: list[Server] = []

    def start(**extra: str) -> Server:
        # One worker: what is under test is the configuration, not the concurrency.
        server = Server(production_env(tmp_path, PORT=str(free_port()), **{"WEB_CONCURRENCY": "1", **extra}))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


# --------------------------------------------------------------------------- the image


def test_the_image_trusts_no_forwarded_headers_from_strangers():
    cmd = exec_form("CMD")

    assert cmd[:2] == ["gunicorn", "sofinance.wsgi:application"]
    assert not any(arg.startswith("--forwarded-allow-ips") for arg in cmd)
    assert image_env()["FORWARDED_ALLOW_IPS"] == "127.0.0.1,::1"
    assert exec_form("HEALTHCHECK") == ["python", "deploy/healthcheck.py"]


def test_compose_does_not_widen_the_trusted_proxies():
    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
    for name, service in compose["services"].items():
        environment = service.get("environment") or {}
        assert environment.get("FORWARDED_ALLOW_IPS", "") != "*", name
        assert "--forwarded-allow-ips" not in " ".join(map(str, service.get("command") or [])), name


@pytest.mark.slow
def test_the_health_check_passes_whatever_allowed_hosts_says(serve, tmp_path):
    # given: the image's CMD with DEBUG off and a real host name in ALLOWED_HOSTS
    server = serve()

    # when: the image's HEALTHCHECK runs inside the "container" (same environment, loopback)
    check = subprocess.run(
        local(exec_form("HEALTHCHECK")),
        cwd=BASE_DIR,
        env=production_env(tmp_path, PORT=str(server.port)),
        capture_output=True,
        text=True,
        timeout=30,
    )

    # then
    assert check.returncode == 0, check.stderr
    assert server.get("/health/live")[0] == 200
    assert server.get("/health/ready", Host="10.0.0.7:8000")[0] == 200
    # and the host check still guards everything else
    assert server.get("/api/v1/me")[0] == 400
    assert server.get("/api/v1/me", Host="books.example.com", **{"X-Forwarded-Proto": "https"})[0] == 401


@pytest.mark.slow
def test_the_health_check_fails_when_nothing_answers(tmp_path):
    check = subprocess.run(
        local(exec_form("HEALTHCHECK")),
        cwd=BASE_DIR,
        env=production_env(tmp_path, PORT=str(free_port())),
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert check.returncode == 1
    assert check.stderr.startswith("unhealthy: http://127.0.0.1:")


@pytest.mark.slow
def test_x_forwarded_proto_is_believed_only_from_forwarded_allow_ips(serve):
    # given: the same image behind a proxy at 192.0.2.10 (so this loopback client is a stranger),
    # and with its default (loopback is the proxy)
    stranger = serve(FORWARDED_ALLOW_IPS="192.0.2.10")
    proxied = serve()
    claim = {"Host": "books.example.com", "X-Forwarded-Proto": "https"}

    # when
    refused_status, refused_headers = stranger.get("/api/v1/me", **claim)
    trusted_status, _ = proxied.get("/api/v1/me", **claim)

    # then: the stranger's claim is ignored, so the HTTPS redirect still applies
    assert refused_status == 301
    assert refused_headers["Location"] == "https://books.example.com/api/v1/me"
    assert trusted_status == 401


def requests_on_every_worker(server: Server, workers: int, rounds: int) -> list[int]:
    """`rounds` times, one request on each of `workers` connections held open together: a sync
    worker serves one connection at a time, so while each waits for the rest of its request
    headers, no worker takes two, and every worker serves one request a round. The statuses."""
    statuses = []
    for _ in range(rounds):
        sockets = [socket.create_connection(("127.0.0.1", server.port), timeout=30) for _ in range(workers)]
        try:
            for sock in sockets:
                sock.sendall(b"GET /api/v1/me HTTP/1.1\r\nHost: books.example.com\r\n")
            time.sleep(0.3)  # each accepted, by a worker of its own
            for sock in sockets:
                sock.sendall(b"X-Forwarded-Proto: https\r\nConnection: close\r\n\r\n")
            for sock in sockets:
                answer = b""
                while chunk := sock.recv(65536):
                    answer += chunk
                statuses.append(int(answer.split(b" ", 2)[1]))
        finally:
            for sock in sockets:
                sock.close()
    return statuses


@pytest.mark.slow
def test_metrics_add_up_the_requests_of_every_worker(serve):
    # given the image's server with three workers, each having served 10 requests
    server = serve(WEB_CONCURRENCY="3")
    assert requests_on_every_worker(server, workers=3, rounds=10) == [401] * 30

    # when Prometheus scrapes /metrics again and again (whichever worker accepts answers)
    def refused_count() -> float:
        status, _, body = server.read("/metrics", Host="books.example.com", **{"X-Forwarded-Proto": "https"})
        assert status == 200
        found = re.findall(
            rb'^django_http_responses_total_by_status_total\{status="401"\} (\S+)$', body, re.M
        )
        return sum(float(value) for value in found)

    # then every scrape counts all 30, never one worker's 10
    assert [refused_count() for _ in range(6)] == [30.0] * 6


# --------------------------------------------------------------------------- Django's side


def test_django_itself_never_reads_x_forwarded_proto(tmp_path):
    values = settings_of(["SECURE_PROXY_SSL_HEADER"], env=production_env(tmp_path))

    assert values == {"SECURE_PROXY_SSL_HEADER": None}


@pytest.mark.django_db
@override_settings(SECURE_SSL_REDIRECT=True, ALLOWED_HOSTS=["books.example.com"])
def test_a_client_claiming_https_is_still_redirected():
    response = Client().get("/api/v1/me", HTTP_HOST="books.example.com", HTTP_X_FORWARDED_PROTO="https")

    assert response.status_code == 301
    assert response["Location"] == "https://books.example.com/api/v1/me"


@pytest.mark.django_db
@override_settings(ALLOWED_HOSTS=["books.example.com"], SECURE_SSL_REDIRECT=True)
@pytest.mark.parametrize("host", ["127.0.0.1:8000", "10.0.0.7", "localhost", "books.example.com"])
def test_probes_answer_any_host_over_plain_http(host):
    client = Client(HTTP_HOST=host)

    assert client.get("/health/live").status_code == 200
    assert client.get("/health/ready").status_code == 200
    assert client.head("/health/live").status_code == 200


@pytest.mark.django_db
@override_settings(ALLOWED_HOSTS=["books.example.com"])
def test_other_paths_still_check_the_host():
    response = Client(HTTP_HOST="10.0.0.7").get("/api/v1/me")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_a_gunicorn_worker_loads_the_urls_and_freezes_what_it_loaded_before_its_first_request():
    # gunicorn.conf.py (read by gunicorn from the working directory) warms each new worker.
    script = (
        "import gc, runpy, sys\n"
        "import django\n"
        "django.setup()\n"
        "hooks = runpy.run_path('gunicorn.conf.py')\n"
        "assert 'ledger.api.views' not in sys.modules\n"
        "hooks['post_worker_init'](None)\n"
        "print('ledger.api.views' in sys.modules, 'sales.api.views' in sys.modules, gc.get_freeze_count())\n"
    )
    env = clean_env(DEBUG="1", DATABASE_URL="sqlite:///:memory:", DJANGO_SETTINGS_MODULE="sofinance.settings")
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    views_loaded, sales_loaded, frozen = result.stdout.split()
    assert views_loaded == "True" and sales_loaded == "True"
    assert int(frozen) > 10_000
