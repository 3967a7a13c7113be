"""Object ids read from text (query parameters, form fields, path parts).

`str.isdigit()` is true for any script's digits and for superscripts ("١", "²"): `int()` reads
the first and raises on the second, so neither test makes a safe id. An id here is ASCII digits
only, from 1 to the largest value a bigint column holds.
"""

from __future__ import annotations

# The largest id a bigint column holds: a larger one names nothing (and must not reach the database).
MAX_ID = 2**63 - 1


def id_from_text(raw: object) -> int | None:
    """The id `raw` spells (ASCII digits, 1 to MAX_ID), else None."""
    text = str(raw) if raw is not None else ""
    if not (0 < len(text) <= 19 and text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None
