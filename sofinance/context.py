"""Per-request (or per-task) context carried in contextvars.

The request id is set by RequestIdMiddleware, by Celery task hooks and by management commands;
logs, the API envelope and audit events read it from here.
"""

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


def get_request_id() -> str | None:
    return request_id_var.get()
