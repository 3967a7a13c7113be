"""Who is acting, from where: set by the middleware for requests, by tasks and commands for themselves.

Services pass the acting user explicitly when they have one; everything else (request id, IP,
user agent, a named system actor) comes from here so callers need not thread it through.

Tasks and management commands name themselves:

    with system_actor("command:load_demo"):
        ...

    @system_actor("task:sales.daily_summary")
    def run(): ...

Every Celery task is also named automatically (`task:<task name>`) by the hooks in
`audit.signals`, so events written by a task never read "system".
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

from sofinance.context import get_request_id


@dataclass(frozen=True)
class AuditContext:
    actor: Any = None  # a User, when a person acts
    actor_name: str = ""  # a named system actor: "task:ledger.rebuild_balances", "command:..."
    ip: str | None = None
    user_agent: str = ""
    request_id: str | None = None
    # The Django request being served, if any. Its user is read when an event is recorded, not
    # when the request starts: DRF authenticates (JWT) after the middleware has run.
    request: Any = None


_context: ContextVar[AuditContext] = ContextVar(
    "audit_context",
    default=AuditContext(),  # noqa: B039 - frozen dataclass, immutable
)


def _request_user(request: Any) -> Any:
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return user
    return None


def current() -> AuditContext:
    ctx = _context.get()
    if ctx.actor is None and ctx.request is not None:
        user = _request_user(ctx.request)
        if user is not None:
            ctx = replace(ctx, actor=user)
    if ctx.request_id is None:
        request_id = get_request_id()
        if request_id:
            ctx = replace(ctx, request_id=request_id)
    return ctx


@contextmanager
def audit_context(**changes: Any) -> Iterator[AuditContext]:
    """Bind actor / actor_name / ip / user_agent / request_id / request for the block."""
    ctx = replace(_context.get(), **changes)
    token = _context.set(ctx)
    try:
        yield ctx
    finally:
        _context.reset(token)


def set_actor(actor: Any) -> None:
    """Called once authentication has identified the user of the current request."""
    _context.set(replace(_context.get(), actor=actor))


@contextmanager
def system_actor(name: str, *, request_id: str | None = None) -> Iterator[AuditContext]:
    """Run the block as a named system actor ("task:<name>", "command:<name>").

    A user already in context (a task run eagerly inside a request) still wins in
    `audit_record`; the name is what events carry when no person acts. Every event of one run
    shares a correlation id in `request_id`: the given one, the surrounding request's, or a new one.
    Usable as a decorator too.
    """
    ctx = _context.get()
    correlation = request_id or ctx.request_id or get_request_id() or uuid.uuid4().hex
    with audit_context(actor_name=name, request_id=correlation) as bound:
        yield bound
