"""What our session sends to PostgreSQL and gets back, read off libpq's protocol trace.

with wire_trace() as wire:
    ...
wire.round_trips   # the server's ReadyForQuery messages: one per query we waited for
wire.queries       # the text of each simple-protocol query we sent
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import connection
from psycopg import pq


@dataclass
class Wire:
    messages: list[tuple[str, str, str]] = field(default_factory=list)  # (F|B, type, rest)

    @property
    def round_trips(self) -> int:
        return sum(1 for side, kind, _ in self.messages if side == "B" and kind == "ReadyForQuery")

    @property
    def queries(self) -> list[str]:
        return [
            rest.strip().strip('"') for side, kind, rest in self.messages if side == "F" and kind == "Query"
        ]


@contextlib.contextmanager
def wire_trace() -> Iterator[Wire]:
    """Trace the default connection's protocol messages for the block's duration."""
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    wire = Wire()
    with tempfile.TemporaryFile("w+") as trace:
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            yield wire
        finally:
            pgconn.untrace()
            trace.seek(0)
            for line in trace.read().splitlines():
                side, _length, kind, *rest = line.split("\t")
                wire.messages.append((side, kind, "\t".join(rest)))
