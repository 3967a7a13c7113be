"""Gunicorn settings read from the working directory (the Docker image's /app, `make load`).

Everything else (bind, workers, forwarded IPs) comes from gunicorn's own environment variables:
PORT, WEB_CONCURRENCY, FORWARDED_ALLOW_IPS (see the Dockerfile).
"""

import gc
import os
import shutil
import tempfile
from pathlib import Path

METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
_made_metrics_dir: list[str] = []  # the directory on_starting created (removed on exit)


def on_starting(server):
    """Give the workers one metrics directory before the first is forked.

    Each worker counts its own requests, and `GET /metrics` is answered by whichever worker
    accepts it: without a shared store, one scrape read one worker's counters and the next
    another's, counters that went down and up again (Prometheus reads that as restarts: rates
    that mean nothing). In prometheus_client's multiprocess mode every worker writes its metrics
    to files in this directory and /metrics adds them all up. The directory is
    PROMETHEUS_MULTIPROC_DIR when set (its metric files emptied here: a previous run's counts are
    not this run's), else a new temporary one. Workers import prometheus_client after the fork,
    so they all see the variable.
    """
    configured = os.environ.get(METRICS_DIR_VARIABLE)
    if configured:
        directory = Path(configured)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
    else:
        directory = Path(tempfile.mkdtemp(prefix="sofinance-metrics-"))
        os.environ[METRICS_DIR_VARIABLE] = str(directory)
        _made_metrics_dir.append(str(directory))


def on_exit(server):
    """Remove the metrics directory on_starting made (one it was given stays)."""
    for directory in _made_metrics_dir:
        shutil.rmtree(directory, ignore_errors=True)


def child_exit(server, worker):
    """A worker that ended: its live gauges stop counting (its counters still add up)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    """Make a new worker ready before it takes its first request.

    Django imports the URL configuration (every view, serializer and schema hook) on the first
    request; doing it here keeps that second or so off a client's request after every deploy or
    worker restart. Then the objects loaded so far (hundreds of thousands: Django, DRF, the
    models) are moved out of the garbage collector's reach with `gc.freeze()`: they live as long
    as the worker, and a full collection no longer walks them all, which took tens of
    milliseconds from whichever request triggered it.
    """
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (the property imports every URL module)
    gc.freeze()
