"""Pagination whose links travel in `meta.pagination` of the envelope.

Page numbers for short lists (members, accounts); keyset cursors for lists that grow without
bound (journal entries, audit events), so page 10,000 costs what page 1 costs.

A cursor is opaque to clients, but it is their input: one edited, truncated or made up is read
strictly (base64, its three fields, its position parsed as the ordering field's type) and
answered with `invalid_cursor()`, the documented 404, before anything reaches the database.
"""

from __future__ import annotations

import base64
import datetime
import re
from urllib import parse

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from rest_framework.pagination import Cursor, CursorPagination, PageNumberPagination
from rest_framework.response import Response

from sofinance.api.envelope import envelope
from sofinance.api.filters import datetime_value_problem
from sofinance.errors import NotFound, ValidationFailed

PAGINATION_SCHEMA = {
    "type": "object",
    "properties": {
        "next": {"type": "string", "nullable": True, "format": "uri"},
        "previous": {"type": "string", "nullable": True, "format": "uri"},
    },
}


PAGE_SIZE_DESCRIPTION = "How many per page: default 50, at most 500."


class _StrictPageSize:
    """`page_size` is a whole number (above 500 it is 500); anything else is 400, not the
    default page silently."""

    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw and not (raw.isascii() and raw.isdigit() and int(raw) > 0):
            raise ValidationFailed(
                "The request is invalid.",
                details={"page_size": ["A whole number from 1 (at most 500 are sent)."]},
            )
        return super().get_page_size(request)


class EnvelopePageNumberPagination(_StrictPageSize, PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    page_query_description = "The page to read, from 1 (`meta.pagination.next` links to the next one)."
    page_size_query_description = PAGE_SIZE_DESCRIPTION

    def get_paginated_response(self, data):
        return Response(
            envelope(
                data,
                meta={
                    "pagination": {
                        "next": self.get_next_link(),
                        "previous": self.get_previous_link(),
                        "count": self.page.paginator.count,
                        "page": self.page.number,
                        "page_size": self.get_page_size(self.request),
                    }
                },
            )
        )

    def get_paginated_response_schema(self, schema):
        return schema


CURSOR_DESCRIPTION = (
    "Where the page starts: an opaque value, taken from the links in `meta.pagination` (never "
    "built by hand); one the API did not give is 404 `not_found` (`Invalid cursor.`)."
)


def invalid_cursor() -> NotFound:
    """The one answer to a cursor the API did not give, on every paginated list."""
    return NotFound("Invalid cursor.", details={"cursor": ["Take it from the links in `meta.pagination`."]})


# The fields of DRF's cursor (before base64): o = offset, r = reversed (1), p = position.
_CURSOR_FIELDS = frozenset({"o", "r", "p"})
_OFFSET = re.compile(r"[0-9]{1,9}")


def cursor_read(encoded: str, *, offset_cutoff: int) -> Cursor:
    """DRF's cursor, read strictly: base64 (nothing skipped), each field at most once, an offset
    of ASCII digits (above the cutoff it is the cutoff, as DRF reads it), `r` 0 or 1, a position
    without NUL. Anything else raises `invalid_cursor()`."""
    try:
        text = base64.b64decode(encoded.encode("ascii"), validate=True).decode("ascii")
        pairs = parse.parse_qsl(text, keep_blank_values=True, strict_parsing=True)
    except ValueError:  # not ASCII, not base64, not a query string
        raise invalid_cursor() from None
    fields = dict(pairs)
    offset, reverse, position = fields.get("o", "0"), fields.get("r", "0"), fields.get("p")
    if (
        len(fields) != len(pairs)
        or not fields.keys() <= _CURSOR_FIELDS
        or not _OFFSET.fullmatch(offset)
        or reverse not in ("0", "1")
        or (position is not None and "\x00" in position)
    ):
        raise invalid_cursor()
    return Cursor(offset=min(int(offset), offset_cutoff), reverse=reverse == "1", position=position)


def cursor_position(model: type[models.Model], ordering: str, position: str) -> str:
    """The position of a cursor read as the ordering field's type (a date, a date-time with its
    offset, a whole number within the column's range, a name within its length...), written as
    DRF writes a row's position; anything else raises `invalid_cursor()`."""
    try:
        field = model._meta.get_field(ordering.lstrip("-"))
    except FieldDoesNotExist:  # an annotation: compared as the text it is
        return position
    try:
        value = field.to_python(position)
        field.run_validators(value)
    except (DjangoValidationError, ValueError, TypeError):
        raise invalid_cursor() from None
    if value is None or (
        isinstance(value, datetime.datetime) and (value.tzinfo is None or datetime_value_problem(value))
    ):
        raise invalid_cursor()
    return str(value)


class EnvelopeCursorPagination(_StrictPageSize, CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-id"
    # Rows sharing a position (entries of one date) are paged by an offset past the last
    # position. DRF caps that offset at 1,000 by default, and a list with more rows of one
    # position than that served the same page again (an import's 1,600 entries of one day). The
    # offset is read in an index's order, so a large one costs a scan of that many index entries.
    offset_cutoff = 1_000_000
    cursor_query_description = CURSOR_DESCRIPTION
    page_size_query_description = PAGE_SIZE_DESCRIPTION

    def paginate_queryset(self, queryset, request, view=None):
        self.model = queryset.model  # the cursor's position is read as its ordering field's type
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        encoded = request.query_params.get(self.cursor_query_param)
        if not encoded:  # blank: the first page, as a blank filter filters nothing
            return None
        cursor = cursor_read(encoded, offset_cutoff=self.offset_cutoff)
        if cursor.position is None:
            return cursor
        return cursor._replace(position=cursor_position(self.model, self.ordering[0], cursor.position))

    def get_paginated_response(self, data):
        return Response(
            envelope(
                data,
                meta={
                    "pagination": {
                        "next": self.get_next_link(),
                        "previous": self.get_previous_link(),
                        "page_size": self.page_size,
                    }
                },
            )
        )

    def get_paginated_response_schema(self, schema):
        return schema
