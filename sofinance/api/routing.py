"""URL patterns without a trailing slash that also accept one, without a redirect."""

from __future__ import annotations

import re

from django.urls import re_path

_CONVERTER = re.compile(r"<(?:(int|str|slug):)?(\w+)>")
_PATTERNS = {"int": r"[0-9]+", "str": r"[^/]+", "slug": r"[-a-zA-Z0-9_]+", None: r"[^/]+"}


def api_path(route: str, view, name: str | None = None):
    """`api_path("companies/<int:company_id>/accounts", view)` matches with or without "/"."""

    def convert(match: re.Match) -> str:
        return f"(?P<{match.group(2)}>{_PATTERNS[match.group(1)]})"

    regex = "^" + _CONVERTER.sub(convert, route.strip("/")) + "/?$"
    return re_path(regex, view, name=name)
