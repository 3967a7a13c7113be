"""Pagination whose links travel in `meta.pagination` of the envelope.

Page numbers for short lists (members, accounts); keyset cursors for lists that grow without
bound (journal entries, audit events), so page 10,000 costs what page 1 costs.
"""

from __future__ import annotations

from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.response import Response

from sofinance.api.envelope import envelope

PAGINATION_SCHEMA = {
    "type": "object",
    "properties": {
        "next": {"type": "string", "nullable": True, "format": "uri"},
        "previous": {"type": "string", "nullable": True, "format": "uri"},
    },
}


PAGE_SIZE_DESCRIPTION = "How many per page: default 50, at most 500."


class EnvelopePageNumberPagination(PageNumberPagination):
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


class EnvelopeCursorPagination(CursorPagination):
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
