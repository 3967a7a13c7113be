"""Refusals of the database's rules, in the admin, shown as what they are.

The API turns a trigger's refusal (a reconciled statement, a closed period, an immutable record:
`sofinance.db_errors`) into its domain error wherever it surfaces. An admin page that let one
through its own `except APIError` showed a traceback page instead: the rule held, the person saw
a crash. This middleware catches them for every admin page that writes (any method but GET and
HEAD): the write is already rolled back, the page's message says why, and the browser goes back
to the page the form was on.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from sofinance.db_errors import domain_error_from_db
from sofinance.errors import APIError


class AdminRefusalMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if request.method in ("GET", "HEAD") or not request.path.startswith(reverse("admin:index")):
            return None
        error = exception if isinstance(exception, APIError) else domain_error_from_db(exception)
        if error is None:
            return None
        messages.error(request, error.message)
        return HttpResponseRedirect(_back(request))


def _back(request: HttpRequest) -> str:
    """The page the form was on (this site's only), else the page that was posted to."""
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return request.get_full_path()
