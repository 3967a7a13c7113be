"""Pagination whose links travel in `meta.pagination` of the envelope.

Page numbers for short lists (members, accounts); keyset cursors for lists that grow without
bound (journal entries, audit events), so page 10,000 costs what page 1 costs.
"""

from __future__ import annotations

from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.response import Response

from sofinance.api.envelope import envelope
from sofinance.errors import ValidationFailed

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


class EnvelopeCursorPagination(_StrictPageSize, CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-id"
    cursor_query_description = (
        "Where the page starts: an opaque value, taken from the links in `meta.pagination` (never "
        "built by hand)."
    )
    page_size_query_description = PAGE_SIZE_DESCRIPTION

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
