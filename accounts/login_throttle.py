"""Login throttling: repeated failed logins lock an account, and a client address, for a while.

django-axes does the bookkeeping (failed attempts in its database table, the lock check in the
first authentication backend, so a locked account cannot log in even with the right password).
This module adapts it to SOFinance:

- attempts are counted per *account*: the login typed (username or email, any case) is mapped
  to the account's username, so "bob" and "BOB@example.com" share one counter. A login that
  names no account is counted under its lower-cased text, exactly like a real one, so a
  lockout never tells whether an account exists;
- attempts are also counted per client address (`sofinance.client_ip`);
- `LOGIN_FAILURE_LIMIT` failures within `LOGIN_LOCKOUT_SECONDS` lock for `LOGIN_LOCKOUT_SECONDS`
  after the last counted failure; attempts made while locked are refused without being counted,
  so the lock ends on time;
- the API answers a locked login with 429 `rate_limited` and `Retry-After`; the admin shows its
  login page with a message saying when to try again (also 429, with `Retry-After`).

Every failed attempt, locked or not, is recorded in the audit trail as `login_failed`
(`audit.signals`).
"""

from __future__ import annotations

import math
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.db.models import Max
from django.template.response import TemplateResponse
from django.utils import timezone

from accounts.selectors import username_for_login
from sofinance.errors import RateLimited

LOCKED_MESSAGE = "Too many failed logins. Try again in {wait}."


def lockout_username(request: Any, credentials: dict | None) -> str | None:
    """The account a login attempt names (AXES_USERNAME_CALLABLE): its username when the login
    is a username or an email of an account, else the login itself, lower-cased."""
    if credentials is not None:
        login = credentials.get("username") or credentials.get("email")
    else:
        data = getattr(request, "data", None) or getattr(request, "POST", {})
        login = data.get("username") if hasattr(data, "get") else None
    if not login or not isinstance(login, str):
        return None
    return username_for_login(login=login) or login.strip().lower()[:150]


def lockout_seconds_left(request: Any, credentials: dict | None = None) -> int:
    """Seconds until the lock on this request's account or address ends (at least 1)."""
    handler = AxesProxyHandler.get_implementation()
    AxesProxyHandler.update_request(request)
    last = None
    for attempts in handler.get_user_attempts(request, credentials):
        latest = attempts.aggregate(latest=Max("attempt_time"))["latest"]
        if latest is not None and (last is None or latest > last):
            last = latest
    cool_off = settings.AXES_COOLOFF_TIME.total_seconds()
    if last is None:
        return max(1, math.ceil(cool_off))
    return max(1, math.ceil((last - timezone.now()).total_seconds() + cool_off))


def _wait_text(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def login_locked_error(request: Any, credentials: dict | None = None) -> RateLimited:
    """The API's refusal of a locked login: 429 rate_limited with Retry-After."""
    wait = lockout_seconds_left(request, credentials)
    return RateLimited(
        LOCKED_MESSAGE.format(wait=_wait_text(wait)),
        retry_after=wait,
        details={"reason": "login_locked", "retry_after": wait},
    )


def lockout_response(request: Any, original_response: Any = None, credentials: dict | None = None):
    """AXES_LOCKOUT_CALLABLE: the admin's login page, with the lock explained (429)."""
    wait = lockout_seconds_left(request, credentials)
    context = {
        **admin.site.each_context(request),
        "title": "Log in",
        "app_path": request.get_full_path(),
        "form": AdminAuthenticationForm(request),
        "username": request.POST.get("username", ""),
        "locked_message": LOCKED_MESSAGE.format(wait=_wait_text(wait)),
    }
    response = TemplateResponse(request, "admin/login_locked.html", context, status=429)
    response["Retry-After"] = str(wait)
    return response.render()
