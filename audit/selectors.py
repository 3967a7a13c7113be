"""Reads of the audit trail: the API's lists, and the streams the sealer and the verifier hash.

The streams yield, per event, `(…, signature, *content)` with the content in
`audit.signing.CONTENT_FIELDS` order, ready for `content_bytes`. On PostgreSQL they are read with
one SQL statement through a server-side cursor, with the uid and timestamp rendered as text by
the database (the ORM's per-value converters cost more than the hashing); elsewhere through the
ORM. Both give the same canonical bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from audit.models import AuditEvent, AuditSeal, chain_company_id, chain_key
from audit.signing import CONTENT_FIELDS

STREAM_CHUNK = 5000


def audit_events_for_company(*, company_id: int) -> QuerySet[AuditEvent]:
    """A company's events with their seals (unsealed events have none), newest first."""
    return AuditEvent.objects.filter(company_id=company_id).select_related("seal").order_by("-id")


def audit_events_of_objects(*, company_id: int, objects: list[tuple[str, list[str]]]) -> QuerySet[AuditEvent]:
    """The events of several objects ((`object_type`, [ids]) each), oldest first: an object's
    history together with that of the records that act on it (an invoice's credit notes)."""
    match = Q(pk__in=[])
    for object_type, ids in objects:
        if ids:
            match |= Q(object_type=object_type, object_id__in=ids)
    return AuditEvent.objects.filter(match, company_id=company_id).order_by("created_at", "id")


def audit_event_get(*, company_id: int, pk: int) -> AuditEvent | None:
    """One event of the company; another company's event is None, exactly like a missing one."""
    return audit_events_for_company(company_id=company_id).filter(pk=pk).first()


# --------------------------------------------------------------------------- hashing streams


def _events_of_chain(chain: str) -> QuerySet[AuditEvent]:
    company_id = chain_company_id(chain)
    if company_id is None:
        return AuditEvent.objects.filter(company_id__isnull=True)
    return AuditEvent.objects.filter(company_id=company_id)


# The content columns as PostgreSQL renders them; Python turns the timestamp into isoformat().
_PG_CONTENT = """
    e.uid::text,
    to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
    e.company_id, e.actor_type, e.actor_id, e.actor_repr, e.action, e.object_type, e.object_id,
    e.object_repr, e.changes::text, e.metadata::text, e.request_id, host(e.ip), e.user_agent
"""
_CREATED_AT, _CHANGES, _METADATA = (
    CONTENT_FIELDS.index("created_at"),
    CONTENT_FIELDS.index("changes"),
    CONTENT_FIELDS.index("metadata"),
)


def _pg_content(values: list[Any]) -> list[Any]:
    created_at = values[_CREATED_AT]
    if created_at.endswith(".000000"):  # datetime.isoformat() leaves out zero microseconds
        created_at = created_at[:-7]
    values[_CREATED_AT] = created_at + "+00:00"
    values[_CHANGES] = json.loads(values[_CHANGES])
    values[_METADATA] = json.loads(values[_METADATA])
    return values


def _pg_stream(sql: str, params: list[Any], *, head: int) -> Iterator[tuple[Any, ...]]:
    """Rows of `sql`: the first `head` columns as they come, the content after them converted."""
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(STREAM_CHUNK):
            for row in rows:
                yield (*row[:head], *_pg_content(list(row[head:])))


def _uses_postgres() -> bool:
    return connection.vendor == "postgresql"


def sealed_event_rows(*, chain: str) -> Iterator[tuple[Any, ...]]:
    """The chain's seals in `seq` order, each with its event:
    `(seq, prev_hash, hash, event_id, signature, *content)`."""
    if _uses_postgres():
        sql = f"""
            SELECT s.seq, s.prev_hash, s.hash, e.id, e.signature, {_PG_CONTENT}
              FROM {AuditSeal._meta.db_table} s
              JOIN {AuditEvent._meta.db_table} e ON e.id = s.event_id
             WHERE s.chain = %s
             ORDER BY s.seq
        """  # noqa: S608 - table names from the models, values as parameters
        return _pg_stream(sql, [chain], head=5)
    return (
        AuditSeal.objects.filter(chain=chain)
        .order_by("seq")
        .values_list(
            "seq",
            "prev_hash",
            "hash",
            "event_id",
            "event__signature",
            *(f"event__{n}" for n in CONTENT_FIELDS),
        )
        .iterator(chunk_size=STREAM_CHUNK)
    )


def unsealed_event_rows(*, chain: str) -> Iterator[tuple[Any, ...]]:
    """The chain's events without a seal, in id order: `(event_id, signature, *content)`."""
    if _uses_postgres():
        company_id = chain_company_id(chain)
        where = "e.company_id IS NULL" if company_id is None else "e.company_id = %s"
        sql = f"""
            SELECT e.id, e.signature, {_PG_CONTENT}
              FROM {AuditEvent._meta.db_table} e
             WHERE {where}
               AND NOT EXISTS (SELECT 1 FROM {AuditSeal._meta.db_table} s WHERE s.event_id = e.id)
             ORDER BY e.id
        """  # noqa: S608 - table names from the models, values as parameters
        return _pg_stream(sql, [] if company_id is None else [company_id], head=2)
    return (
        _events_of_chain(chain)
        .filter(seal__isnull=True)
        .order_by("pk")
        .values_list("pk", "signature", *CONTENT_FIELDS)
        .iterator(chunk_size=STREAM_CHUNK)
    )


def event_rows(*, chain: str, event_ids: Iterable[int]) -> list[tuple[Any, ...]]:
    """Events of the chain among `event_ids`, in id order: `(event_id, signature, *content)`."""
    ids = list(event_ids)
    if _uses_postgres():
        sql = f"""
            SELECT e.id, e.signature, {_PG_CONTENT}
              FROM {AuditEvent._meta.db_table} e
             WHERE e.id = ANY(%s)
             ORDER BY e.id
        """  # noqa: S608 - table names from the models, values as parameters
        with connection.cursor() as cursor:
            cursor.execute(sql, [ids])
            rows = [(*row[:2], *_pg_content(list(row[2:]))) for row in cursor.fetchall()]
        company_index = 2 + CONTENT_FIELDS.index("company_id")
        return [row for row in rows if chain_key(row[company_index]) == chain]
    return list(
        _events_of_chain(chain)
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", "signature", *CONTENT_FIELDS)
    )
