"""ISO 20022 CAMT.053 (bank-to-customer statement) read safely against XML attacks.

defusedxml refuses any DTD, entity declaration or external reference (billion laughs, quadratic
blow-up, XXE, network lookups) before a byte is expanded; the file's size is bounded by
UPLOAD_MAX_BYTES before it is read. Namespaces of every camt.053.001.xx version are accepted.
A file may hold several statements (Stmt), each with several entries (Ntry): booked entries
become lines, pending ones are skipped. The unique id of an entry is its AcctSvcrRef.

An amount (Amt) is never signed in CAMT: its direction is CdtDbtInd's (DBIT: money out, or a
balance below zero). A signed amount is refused, not negated a second time, and so is an entry of
zero (a bank line that moves nothing; the CSV reader refuses one too). A balance may be zero.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from banking.parsers.common import (
    ParsedLine,
    ParsedStatement,
    Problems,
    clean_text,
    clean_unique_id,
    parse_plain_amount,
)
from sofinance.money import MoneyError

OPENING_CODES = ("OPBD", "PRCD")
CLOSING_CODES = ("CLBD",)


def looks_like_camt053(data: bytes) -> bool:
    head = data[:4000]
    return b"camt.053" in head or b"BkToCstmrStmt" in head


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: Element | None, *path: str) -> Element | None:
    for name in path:
        if element is None:
            return None
        element = next((c for c in element if _local(c.tag) == name), None)
    return element


def _children(element: Element | None, name: str) -> list[Element]:
    return [] if element is None else [c for c in element if _local(c.tag) == name]


def _text(element: Element | None, *path: str) -> str:
    found = _child(element, *path)
    return (found.text or "").strip() if found is not None else ""


def _date(element: Element | None) -> datetime.date | None:
    """A CAMT date: <Dt>YYYY-MM-DD</Dt> or <DtTm>YYYY-MM-DDThh:mm:ss…</DtTm>."""
    raw = _text(element, "Dt") or _text(element, "DtTm")[:10]
    try:
        value = datetime.date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        return None
    return value if value is not None and 1900 <= value.year <= 9998 else None


def parse_camt053(data: bytes, *, currency: str) -> list[ParsedStatement]:
    """Every statement of the file; refuses (InvalidStatementFile) XML attacks, malformed XML,
    a document that is not a CAMT.053, entries without a valid date, amount or direction,
    and signed amounts (an entry's or a balance's) or an entry of zero."""
    from banking.errors import InvalidStatementFile

    problems = Problems()
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        problems.add(
            None,
            f"The XML declares a DTD, entities or external references, which are refused ({type(exc).__name__}).",
        )
        problems.raise_if_any(InvalidStatementFile)
    except ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        problems.add(line, f"The file is not well-formed XML: {exc}.")
        problems.raise_if_any(InvalidStatementFile)
    except (LookupError, ValueError, UnicodeError) as exc:  # the declaration names an unknown encoding
        problems.add(1, f"The XML cannot be read: {str(exc)[:120]}.")
        problems.raise_if_any(InvalidStatementFile)
    container = _child(root, "BkToCstmrStmt")
    if _local(root.tag) != "Document" or container is None:
        problems.add(None, "The XML is not a CAMT.053 statement (Document/BkToCstmrStmt).")
        problems.raise_if_any(InvalidStatementFile)
    statements = []
    position = 0
    for stmt in _children(container, "Stmt"):
        statement = ParsedStatement()
        account = _child(stmt, "Acct")
        statement.account_ids = tuple(
            value for value in (_text(account, "Id", "IBAN"), _text(account, "Id", "Othr", "Id")) if value
        )
        statement.currency = _text(account, "Ccy").upper() or None
        fallback = statement.currency or currency
        period = _child(stmt, "FrToDt")
        if period is not None:
            statement.start_date = _date_from_datetime(_text(period, "FrDtTm"))
            statement.end_date = _date_from_datetime(_text(period, "ToDtTm"))
        for balance in _children(stmt, "Bal"):
            code = _text(balance, "Tp", "CdOrPrtry", "Cd")
            amount = _signed_amount(balance, fallback, problems, None, f"Bal {code[:10]}".strip())
            if amount is None:
                continue
            day = _date(_child(balance, "Dt"))
            if code in OPENING_CODES and statement.opening_balance is None:
                statement.opening_balance = amount
                if day is not None and statement.start_date is None:
                    statement.start_date = day + datetime.timedelta(days=1) if code == "PRCD" else day
            elif code in CLOSING_CODES:
                statement.closing_balance = amount
                if day is not None and statement.end_date is None:
                    statement.end_date = day
        for entry in _children(stmt, "Ntry"):
            position += 1
            status = _text(entry, "Sts", "Cd") or _text(entry, "Sts")
            if status and status != "BOOK":
                continue  # pending or informational: not on the statement yet
            line = _entry(entry, position, fallback, problems)
            if line is not None:
                statement.lines.append(line)
        statements.append(statement)
    if not statements and not problems:
        problems.add(None, "The CAMT.053 file holds no statement (Stmt).")
    problems.raise_if_any(InvalidStatementFile)
    return statements


def _date_from_datetime(raw: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(raw[:10]) if len(raw) >= 10 else None
    except ValueError:
        return None


def _signed_amount(
    element: Element, currency: str | None, problems: Problems, position, what, *, zero_allowed: bool = True
) -> Decimal | None:
    """The element's Amt, signed by its CdtDbtInd (DBIT negative)."""
    amount_element = _child(element, "Amt")
    raw = (amount_element.text or "").strip() if amount_element is not None else ""
    line_currency = (amount_element.get("Ccy") or "").upper() if amount_element is not None else ""
    try:
        amount = parse_plain_amount(raw, currency=line_currency or currency)
    except MoneyError as exc:
        problems.add(position, f"{what}: {exc}", column="Amt")
        return None
    if amount.is_signed():  # "-1.00" (or "-0.00"): the sign would be applied twice
        problems.add(
            position,
            f"{what}: the amount {raw[:40]} has a sign; a CAMT.053 amount is never negative "
            "(CdtDbtInd gives the direction).",
            column="Amt",
        )
        return None
    if amount == 0 and not zero_allowed:
        problems.add(position, f"{what}: the amount is zero.", column="Amt")
        return None
    if currency and line_currency and line_currency != currency:
        problems.add(
            position, f"{what}: the amount is in {line_currency}; the account in {currency}.", column="Amt"
        )
        return None
    direction = _text(element, "CdtDbtInd")
    if direction not in ("CRDT", "DBIT"):
        problems.add(
            position, f"{what}: CdtDbtInd {direction!r:.20} is neither CRDT nor DBIT.", column="CdtDbtInd"
        )
        return None
    return amount if direction == "CRDT" else -amount


def _entry(entry: Element, position: int, currency: str | None, problems: Problems) -> ParsedLine | None:
    where = f"entry {position}"
    amount = _signed_amount(entry, currency, problems, position, where, zero_allowed=False)
    date = _date(_child(entry, "BookgDt"))
    if date is None:
        problems.add(position, f"{where}: BookgDt is not a date (YYYY-MM-DD).", column="BookgDt")
    if amount is None or date is None:
        return None
    details = _child(entry, "NtryDtls", "TxDtls")
    parties = _child(details, "RltdPties")
    counterparty = _text(parties, "Dbtr", "Nm") if amount > 0 else _text(parties, "Cdtr", "Nm")
    counterparty = counterparty or _text(parties, "Dbtr", "Pty", "Nm") or _text(parties, "Cdtr", "Pty", "Nm")
    remittance = _child(details, "RmtInf")
    structured = _text(remittance, "Strd", "CdtrRefInf", "Ref")
    unstructured = " ".join(
        (element.text or "").strip() for element in _children(remittance, "Ustrd") if element.text
    )
    end_to_end = _text(details, "Refs", "EndToEndId")
    if end_to_end.upper() == "NOTPROVIDED":
        end_to_end = ""
    reference = structured or end_to_end or unstructured or _text(entry, "NtryRef")
    return ParsedLine(
        line=position,
        date=date,
        value_date=_date(_child(entry, "ValDt")),
        amount=amount,
        counterparty=clean_text(counterparty, "counterparty"),
        reference=clean_text(reference, "reference"),
        description=clean_text(unstructured or _text(entry, "AddtlNtryInf"), "description"),
        unique_id=clean_unique_id(_text(entry, "AcctSvcrRef")),
    )
