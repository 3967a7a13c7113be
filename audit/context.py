"""Who is acting, from where: set by the middleware for requests, by tasks and commands for themselves.

Services pass the acting user explicitly when they have one; everything else (request id, IP,
user agent, a named system actor) comes from here so callers need not thread it through.
"""

from __future__ import annotations

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


_context: ContextVar[AuditContext] = ContextVar(
    "audit_context",
    default=AuditContext(),  # noqa: B039 - frozen dataclass, immutable
)


def current() -> AuditContext:
    ctx = _context.get()
    if ctx.request_id is None:
        request_id = get_request_id()
        if request_id:
            ctx = replace(ctx, request_id=request_id)
    return ctx


@contextmanager
def audit_context(**changes: Any) -> Iterator[AuditContext]:
    """Bind actor / actor_name / ip / user_agent / request_id for the block."""
    ctx = replace(_context.get(), **changes)
    token = _context.set(ctx)
    try:
        yield ctx
    finally:
        _context.reset(token)


def set_actor(actor: Any) -> None:
    """Called once authentication has identified the user of the current request."""
    _context.set(replace(_context.get(), actor=actor))
