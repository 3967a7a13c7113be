"""Which parser reads a file: the format given, else detected from the content."""

from __future__ import annotations

from typing import Any

from banking.models import StatementFormat
from banking.parsers.camt053 import looks_like_camt053, parse_camt053
from banking.parsers.common import ParsedStatement
from banking.parsers.csv_statement import parse_csv_statement
from banking.parsers.ofx import looks_like_ofx, parse_ofx


def detect_format(data: bytes) -> str:
    """camt053 for a CAMT.053 document, ofx for OFX, else csv."""
    if looks_like_camt053(data) or (data.lstrip()[:5] == b"<?xml" and b"Document" in data[:4000]):
        return StatementFormat.CAMT053
    if looks_like_ofx(data):
        return StatementFormat.OFX
    return StatementFormat.CSV


def statement_parse(
    data: bytes, *, format: str, currency: str, csv_mapping: dict[str, Any]
) -> list[ParsedStatement]:
    if format == StatementFormat.CAMT053:
        return parse_camt053(data, currency=currency)
    if format == StatementFormat.OFX:
        return parse_ofx(data, currency=currency)
    return [parse_csv_statement(data, mapping=csv_mapping, currency=currency)]
