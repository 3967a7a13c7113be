"""Pagination whose links travel in `meta.pagination` of the envelope.

Page numbers for short lists (members, accounts); keyset cursors for lists that grow without
bound (journal entries, audit events), so page 10,000 costs what page 1 costs: a cursor holds the
values of every ordering field of the row the page starts after (the last one the unique `id`),
and the page is read with no offset, however many rows share a date.

A cursor is opaque to clients, but it is their input: one edited, truncated or made up is read
strictly (base64, its fields, each value of its position parsed as its column's type, written
exactly as the API writes it) and answered with `invalid_cursor()`, the documented 404, before
anything reaches the database.
"""

from __future__ import annotations

import base64
import datetime
import re
from typing import NamedTuple
from urllib import parse

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import F, Func, Q, Value
from django.db.models.fields import AutoFieldMixin
from django.db.models.lookups import GreaterThan, LessThan
from rest_framework.exceptions import NotFound as DRFNotFound
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from sofinance.api.envelope import envelope
from sofinance.api.filters import datetime_value_problem
from sofinance.errors import NotFound, ValidationFailed
from sofinance.ids import MAX_ID

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


def refuse_unread_parameters(request, view, own: set[str]) -> None:
    """Refuse the query parameters a list does not read (400 naming each and what the list
    takes): a filter the client believes it applied (an `updated_since` on a list that has none, a
    misspelt `stauts`, a `status` on a list with no filters, a `page` on a cursor list) would
    otherwise silently give it the whole list, or the first page again and again. A list reads its
    pagination's own parameters (`own`), `format`, its filter set's filters and the parameters its
    view reads itself (`query_parameters`)."""
    filterset_class = getattr(view, "filterset_class", None)
    filters = set(filterset_class.base_filters) if filterset_class is not None else set()
    renamed = (
        set(getattr(filterset_class, "renamed_parameters", {})) if filterset_class is not None else set()
    )
    known = filters | own | renamed | {"format"} | set(getattr(view, "query_parameters", ()))
    unknown = sorted(name for name in request.query_params if name not in known)
    if not unknown:
        return
    takes = ", ".join(
        f"`{name}`" for name in sorted(filters | own | set(getattr(view, "query_parameters", ())))
    )
    raise ValidationFailed(
        f"Not a parameter of this list: {', '.join(repr(name[:40]) for name in unknown[:5])}.",
        details={name[:100]: [f"Not a parameter of this list; it takes {takes}."] for name in unknown[:20]},
    )


class EnvelopePageNumberPagination(_StrictPageSize, PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    page_query_description = "The page to read, from 1 (`meta.pagination.next` links to the next one)."
    page_size_query_description = PAGE_SIZE_DESCRIPTION

    def paginate_queryset(self, queryset, request, view=None):
        refuse_unread_parameters(request, view, {self.page_query_param, self.page_size_query_param})
        # `page` as strictly as `page_size`: a page that is not a whole number from 1 is 400 (DRF
        # answered "Not found."); one past the last page is 404 saying how many there are.
        raw = request.query_params.get(self.page_query_param)
        if raw and raw != "last" and not (raw.isascii() and raw.isdigit() and int(raw) > 0):
            raise ValidationFailed("The request is invalid.", details={"page": ["A whole number from 1."]})
        try:
            return super().paginate_queryset(queryset, request, view)
        except DRFNotFound:
            count = self.django_paginator_class(queryset, self.get_page_size(request)).num_pages
            raise NotFound(
                f"There is no page {raw}: the list has {count} page{'s' if count != 1 else ''}.",
                details={"page": [f"From 1 to {count}."]},
            ) from None

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


class KeysetCursor(NamedTuple):
    """Where a page starts: after (`reverse`: before) the row whose ordering values are
    `position`, one value per field of the list's ordering; reversed with no position, the end
    of the list (the link back from an empty page past the last row)."""

    reverse: bool
    position: tuple | None


# The fields of a cursor (before base64): r = reversed ("1", only when it is), then p = the
# boundary row's value of each ordering field, in the ordering's order.
_CURSOR_FIELDS = frozenset({"r", "p"})


def cursor_write(cursor: KeysetCursor) -> str:
    """The cursor as its links carry it: base64 of `r=1&p=…&p=…`."""
    pairs = [("r", "1")] if cursor.reverse else []
    pairs += [("p", str(value)) for value in cursor.position or ()]
    return base64.b64encode(parse.urlencode(pairs).encode("ascii")).decode("ascii")


def cursor_read(encoded: str, *, arity: int) -> tuple[bool, tuple[str, ...] | None]:
    """A cursor's direction and the text of its position's `arity` values (None: none, the end
    of the list, reversed only), read strictly: base64 (nothing skipped), a query string of UTF-8,
    `r` at most once and only `1`, `p` exactly `arity` times, no NUL. Anything else raises
    `invalid_cursor()`."""
    try:
        text = base64.b64decode(encoded.encode("ascii"), validate=True).decode("ascii")
        pairs = parse.parse_qsl(text, keep_blank_values=True, strict_parsing=True, errors="strict")
    except ValueError:  # not ASCII, not base64, not a query string, not UTF-8
        raise invalid_cursor() from None
    names = [name for name, _ in pairs]
    reverse = [value for name, value in pairs if name == "r"]
    position = tuple(value for name, value in pairs if name == "p")
    if (
        not set(names) <= _CURSOR_FIELDS
        or reverse not in ([], ["1"])
        or len(position) not in ((arity, 0) if reverse else (arity,))
        or any("\x00" in value for value in position)
    ):
        raise invalid_cursor()
    return bool(reverse), position or None


def cursor_value(field: models.Field, text: str):
    """One value of a cursor's position read as its column's type (a date, a date-time with its
    offset, an id from 1 within a bigint, a name within its length...); anything else raises
    `invalid_cursor()`."""
    try:
        value = field.to_python(text)
        field.run_validators(value)
    except (DjangoValidationError, ValueError, TypeError, OverflowError):
        raise invalid_cursor() from None
    if (
        value is None
        or (isinstance(field, AutoFieldMixin) and not 0 < value <= MAX_ID)
        or (isinstance(value, datetime.datetime) and (value.tzinfo is None or datetime_value_problem(value)))
    ):
        raise invalid_cursor()
    return value


_ORDERING_FIELD = re.compile(r"-?[A-Za-z_][A-Za-z0-9_]*")


def keyset_ordering(ordering) -> tuple[str, ...]:
    """The ordering as a tuple, refused (AssertionError, when the class is made) unless it can be
    a keyset: plain field names, each once, the last the unique `id` (so every row has a position
    of its own and no page needs an offset)."""
    fields = (ordering,) if isinstance(ordering, str) else tuple(ordering)
    names = [field.removeprefix("-") for field in fields]
    assert fields and all(
        isinstance(f, str) and _ORDERING_FIELD.fullmatch(f) and "__" not in f for f in fields
    ), f"A cursor's ordering is field names, '-' for descending, no lookups: {ordering!r}."
    assert len(set(names)) == len(names), f"A cursor's ordering names each field once: {ordering!r}."
    assert names[-1] in ("id", "pk"), (
        f"A cursor's ordering ends with the unique `id`, so every row has a position: {ordering!r}."
    )
    return fields


def keyset_fields(
    model: type[models.Model], ordering: tuple[str, ...], *, never_null_here: frozenset[str] = frozenset()
) -> tuple[models.Field, ...]:
    """The model's column behind each ordering field, refused (AssertionError) unless a keyset can
    page by it: a column of the model itself (an annotation's or a relation's values cannot be
    read back strictly from a cursor), never NULL (`(date, id) < (d, i)` would skip the rows whose
    date is NULL). `never_null_here`: nullable columns the caller's filter has excluded NULLs of
    (a journal entry's `sequence`, when only posted entries numbered after one are listed)."""
    fields = []
    for name in (field.removeprefix("-") for field in ordering):
        try:
            field = model._meta.pk if name == "pk" else model._meta.get_field(name)
        except FieldDoesNotExist:
            raise AssertionError(
                f"A cursor pages by columns of {model.__name__}: `{name}` is not one (an annotation?)."
            ) from None
        assert field.concrete and not field.is_relation, (
            f"A cursor pages by columns of {model.__name__}: `{name}` is a relation."
        )
        assert not field.null or name in never_null_here, (
            f"A cursor cannot page by `{model.__name__}.{name}`: it may be NULL, and NULL compares to nothing."
        )
        fields.append(field)
    return tuple(fields)


def reversed_ordering(ordering: tuple[str, ...]) -> tuple[str, ...]:
    """Each field the other way: the order a previous page is read in."""
    return tuple(field.removeprefix("-") if field.startswith("-") else f"-{field}" for field in ordering)


class _Row(Func):
    """`(a, b, …)`: SQL's row value, compared field by field, left to right."""

    template = "(%(expressions)s)"
    output_field = models.Field()


def keyset_after(ordering: tuple[str, ...], fields: tuple[models.Field, ...], position: tuple) -> Q:
    """The rows after `position` in `ordering` (each field ascending, or descending with '-').

    All fields one way (every list's ordering): a row comparison, `(date, id) < (d, i)`, which
    PostgreSQL (and SQLite) read as the start of a range of the `(…, date, id)` index, so the page
    costs what the first page costs. Its expansion `date < d OR (date = d AND id < i)` returns the
    same rows, but PostgreSQL reads it from the start of date `d` and filters out, one by one,
    every row of that date already paged (as an OFFSET would). Mixed directions (`("date", "-id")`) have no row
    comparison: there the expansion, generalised to N fields, with the first field's bound
    (`date >= d`) on its own for the index.
    """
    names = [field.removeprefix("-") for field in ordering]
    if len(ordering) == 1:
        return Q(**{f"{names[0]}__{'lt' if ordering[0].startswith('-') else 'gt'}": position[0]})
    directions = {field.startswith("-") for field in ordering}
    if len(directions) == 1:
        compare = LessThan if directions == {True} else GreaterThan
        values = (Value(value, output_field=field) for value, field in zip(position, fields, strict=True))
        return Q(compare(_Row(*map(F, names)), _Row(*values)))
    after, equal = Q(), {}
    for field, name, value in zip(ordering, names, position, strict=True):
        after |= Q(**equal, **{f"{name}__{'lt' if field.startswith('-') else 'gt'}": value})
        equal[name] = value
    bound = {f"{names[0]}__{'lte' if ordering[0].startswith('-') else 'gte'}": position[0]}
    return Q(**bound) & after


class EnvelopeCursorPagination(_StrictPageSize, CursorPagination):
    """A keyset on the whole ordering: a page's links carry the values of every ordering field of
    its last (next) or first (previous) row, and the page after is the rows after that row
    (`keyset_after`), the first `page_size` of them: no offset, so a page deep in a run of one
    date costs what the first page costs, whatever the number of rows sharing a date."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-id"
    cursor_query_description = CURSOR_DESCRIPTION
    page_size_query_description = PAGE_SIZE_DESCRIPTION

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        keyset_ordering(cls.ordering)

    def get_ordering(self, request, queryset, view):
        return keyset_ordering(super().get_ordering(request, queryset, view))

    def never_null(self, request) -> frozenset[str]:
        """Nullable ordering columns the request's filters leave no NULL in (none by default)."""
        return frozenset()

    def paginate_queryset(self, queryset, request, view=None):
        refuse_unread_parameters(request, view, {self.cursor_query_param, self.page_size_query_param})
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.ordering = self.get_ordering(request, queryset, view)
        self.fields = keyset_fields(queryset.model, self.ordering, never_null_here=self.never_null(request))
        self.cursor = self.decode_cursor(request)
        reverse = self.cursor is not None and self.cursor.reverse
        ordering = reversed_ordering(self.ordering) if reverse else self.ordering
        queryset = queryset.order_by(*ordering)
        position = self.cursor and self.cursor.position
        if position is not None:
            queryset = queryset.filter(keyset_after(ordering, self.fields, position))
        rows = list(queryset[: self.page_size + 1])  # one more: is there a page beyond?
        self.page = rows[: self.page_size]
        beyond = len(rows) > self.page_size
        if reverse:  # read backwards from the cursor (or the end); shown in the list's order
            self.page.reverse()
            self.has_next, self.has_previous = position is not None, beyond
        else:
            self.has_next, self.has_previous = beyond, self.cursor is not None
        self.display_page_controls = self.has_previous or self.has_next
        return self.page

    def decode_cursor(self, request):
        encoded = request.query_params.get(self.cursor_query_param)
        if not encoded:  # blank: the first page, as a blank filter filters nothing
            return None
        reverse, texts = cursor_read(encoded, arity=len(self.fields))
        cursor = KeysetCursor(reverse, texts and tuple(map(cursor_value, self.fields, texts)))
        if cursor_write(cursor) != encoded:  # the same position written otherwise: not ours
            raise invalid_cursor()
        return cursor

    def encode_cursor(self, cursor: KeysetCursor) -> str:
        return replace_query_param(self.base_url, self.cursor_query_param, cursor_write(cursor))

    def position_of(self, row) -> tuple:
        names = [field.removeprefix("-") for field in self.ordering]
        return tuple(row[name] if isinstance(row, dict) else getattr(row, name) for name in names)

    def get_next_link(self):
        if not self.has_next:
            return None
        if not self.page:  # nothing before the cursor's row (gone since): the list from its start
            return remove_query_param(self.base_url, self.cursor_query_param)
        return self.encode_cursor(KeysetCursor(reverse=False, position=self.position_of(self.page[-1])))

    def get_previous_link(self):
        if not self.has_previous:
            return None
        if not self.page:  # nothing after the cursor's row (gone since): the list's last page
            return self.encode_cursor(KeysetCursor(reverse=True, position=None))
        return self.encode_cursor(KeysetCursor(reverse=True, position=self.position_of(self.page[0])))

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
