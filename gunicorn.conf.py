"""Gunicorn settings read from the working directory (the Docker image's /app, `make load`).

Everything else (bind, workers, forwarded IPs) comes from gunicorn's own environment variables:
PORT, WEB_CONCURRENCY, FORWARDED_ALLOW_IPS (see the Dockerfile).
"""

import gc


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
