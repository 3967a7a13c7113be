"""A real server and real clients for the HTTP benchmarks: gunicorn on loopback, client threads.

`GunicornServer` starts `gunicorn sofinance.wsgi` (sync workers, as the Dockerfile runs it) with
production settings (DEBUG off, Redis for the cache, rate limits and the broker) against the
benchmark database, and on request a Celery worker beside it, as a deployment runs one (the
audit seals the commits schedule are then taken and run, not left queued); `run_clients` sends
requests from N threads and collects latencies.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class GunicornServer:
    def __init__(
        self,
        *,
        database_url: str,
        workers: int = 3,
        extra_env: dict[str, str] | None = None,
        log_path: Path | None = None,
        celery_worker: bool = False,
    ) -> None:
        self.port = free_port()
        self.workers = workers
        self.celery_worker = celery_worker
        self.worker: subprocess.Popen | None = None
        self.log_path = log_path  # gunicorn's and the workers' stderr (default: a pipe)
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "sofinance.settings",
            "DEBUG": "0",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
            "JWT_SECRET": os.environ["JWT_SECRET"],
            "DATABASE_URL": database_url,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "RATE_LIMIT_PER_MINUTE": "0",
            "LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        }
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> GunicornServer:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        log = self.log_path.open("a") if self.log_path else subprocess.PIPE
        self.process = subprocess.Popen(
            [
                str(gunicorn),
                "sofinance.wsgi:application",
                "--workers",
                str(self.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        if self.log_path:
            log.close()
        try:
            if self.celery_worker:
                self._start_worker()
            self._wait_until_live()
        except BaseException:
            self.__exit__(None, None, None)  # nothing started is left running
            raise
        return self

    def _wait_until_live(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.log_path.read_text() if self.log_path else self.process.stderr.read().decode()
                raise RuntimeError(f"gunicorn exited: {output[-2000:]}")
            try:
                if request("GET", self.port, "/health/live")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer /health/live within 60 s")

    def _start_worker(self) -> None:
        """`celery -A sofinance worker` (solo pool) with the server's environment; waits until ready."""
        import tempfile

        celery = Path(sys.executable).with_name("celery")
        self._worker_log = Path(tempfile.mkstemp(prefix="bench-celery-", suffix=".log")[1])
        with self._worker_log.open("a") as log:
            self.worker = subprocess.Popen(
                [str(celery), "-A", "sofinance", "worker", "--pool=solo", "--without-gossip",
                 "--without-mingle", "--without-heartbeat", "--loglevel=INFO"],
                cwd=ROOT,
                env={**self.env, "LOG_LEVEL": "INFO"},
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while "ready." not in self._worker_log.read_text():
            if self.worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Celery worker did not start: {self._worker_log.read_text()[-2000:]}")
            time.sleep(0.2)

    def __exit__(self, *exc) -> None:
        if self.worker is not None:
            _stop(self.worker)
            self._worker_log.unlink(missing_ok=True)
        if self.process is not None:
            _stop(self.process)


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL after 20 s."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def request(method: str, port: int, path: str, body: object = None, headers: dict | None = None):
    """(status, parsed JSON body or None) of one request on a fresh connection."""
    status, _, data = exchange(method, port, path, body, headers)
    return status, data


def exchange(
    method: str,
    port: int,
    path: str,
    body: object = None,
    headers: dict | None = None,
    *,
    timeout: float = 120,
) -> tuple[int, dict[str, str], object]:
    """(status, response headers, parsed JSON body or None) of one request on a fresh connection.
    A connection refused, reset or closed before the answer raises OSError (or http.client's
    RemoteDisconnected, one of them)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        connection.request(
            method,
            path,
            body=payload,
            headers={"Content-Type": "application/json", "Host": "127.0.0.1", **(headers or {})},
        )
        response = connection.getresponse()
        data = response.read()
        return response.status, dict(response.getheaders()), (json.loads(data) if data else None)
    finally:
        connection.close()


@dataclass
class LoadResult:
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.latencies)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies) * 1000 if self.latencies else 0.0

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 400)


def run_clients(
    port: int, work: Sequence[tuple[str, str, object]], *, clients: int, headers: dict | None = None
) -> LoadResult:
    """Send `work` ((method, path, body), ...) from `clients` threads, each taking the next item."""
    items: Iterator = iter(work)
    lock = threading.Lock()
    result = LoadResult(seconds=0.0)
    start = threading.Barrier(clients + 1)

    def client() -> None:
        start.wait()
        while True:
            with lock:
                item = next(items, None)
            if item is None:
                return
            method, path, body = item
            began = time.perf_counter()
            status, _ = request(method, port, path, body, headers)
            elapsed = time.perf_counter() - began
            with lock:
                result.latencies.append(elapsed)
                result.statuses[status] = result.statuses.get(status, 0) + 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - began
    return result


def timed(call: Callable[[], object]) -> tuple[float, object]:
    began = time.perf_counter()
    value = call()
    return time.perf_counter() - began, value
