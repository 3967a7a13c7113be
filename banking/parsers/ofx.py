"""OFX statements (v1 SGML and v2 XML) read with ofxtools' parser; FITID is each line's unique id.

ofxtools tokenises the header and body without an XML parser (no entity or DTD processing, so no
XML attack applies); the statement is then read from its elements here, with an error for each
transaction that cannot be read. A file that does not end with </OFX> is truncated and refused
(ofxtools itself accepts a cut-off file silently).
"""

from __future__ import annotations

import datetime
import io
import re
from decimal import Decimal
from xml.etree.ElementTree import Element

from ofxtools.header import OFXHeaderError
from ofxtools.Parser import OFXTree, ParseError

from banking.parsers.common import (
    ParsedLine,
    ParsedStatement,
    Problems,
    clean_text,
    clean_unique_id,
    parse_plain_amount,
)
from sofinance.money import MoneyError

_END = re.compile(rb"</OFX>\s*\Z", re.IGNORECASE)
_DATE = re.compile(r"([0-9]{8})")


def looks_like_ofx(data: bytes) -> bool:
    head = data[:2000].lstrip().upper()
    return head.startswith(b"OFXHEADER") or b"<OFX>" in head or b"<?OFX" in head


def parse_ofx(data: bytes, *, currency: str) -> list[ParsedStatement]:
    """Every bank or card statement of an OFX file; refuses (InvalidStatementFile) a file that
    is not OFX, is truncated, or has a transaction without a valid date, amount or FITID."""
    from banking.errors import InvalidStatementFile

    problems = Problems()
    if not looks_like_ofx(data):
        problems.add(
            None,
            "The file is not OFX (it has no OFX header nor <OFX> element): choose its format, or "
            "let the format be detected.",
        )
        problems.raise_if_any(InvalidStatementFile)
    if not _END.search(data):
        problems.add(None, "The OFX file is truncated: it does not end with </OFX>.")
        problems.raise_if_any(InvalidStatementFile)
    tree = OFXTree()
    try:
        tree.parse(io.BytesIO(data))
    except OFXHeaderError:
        # (the library's message quotes the file's first lines back: said in words instead)
        problems.add(
            None,
            "The OFX header is malformed: an OFX 1 file starts with OFXHEADER:100 and its fields, one per "
            "line (DATA, VERSION, ENCODING, CHARSET...); an OFX 2 file with an <?xml?> and an <?OFX?> line.",
        )
        problems.raise_if_any(InvalidStatementFile)
    except (ParseError, ValueError, UnicodeDecodeError, KeyError, IndexError) as exc:
        problems.add(None, f"The file is not readable OFX: {str(exc)[:200] or type(exc).__name__}.")
        problems.raise_if_any(InvalidStatementFile)
    root = tree.getroot()
    statements = []
    position = 0
    for stmtrs in [*root.iter("STMTRS"), *root.iter("CCSTMTRS")]:
        statement = ParsedStatement(currency=(stmtrs.findtext("CURDEF") or "").strip().upper() or None)
        account = stmtrs.find("BANKACCTFROM")
        if account is None:
            account = stmtrs.find("CCACCTFROM")
        if account is not None:
            statement.account_ids = tuple(
                value.strip() for value in (account.findtext("ACCTID"),) if value and value.strip()
            )
        tranlist = stmtrs.find("BANKTRANLIST")
        if tranlist is not None:
            statement.start_date = _date(tranlist.findtext("DTSTART"))
            statement.end_date = _date(tranlist.findtext("DTEND"))
            for transaction in tranlist.iter("STMTTRN"):
                position += 1
                line = _transaction(transaction, position, statement.currency or currency, problems)
                if line is not None:
                    statement.lines.append(line)
        ledger = stmtrs.find("LEDGERBAL")
        if ledger is not None and (ledger.findtext("BALAMT") or "").strip():
            try:
                statement.closing_balance = parse_plain_amount(
                    ledger.findtext("BALAMT").strip(), currency=statement.currency or currency
                )
            except MoneyError as exc:
                problems.add(None, f"LEDGERBAL: {exc}", column="BALAMT")
        statements.append(statement)
    if not statements and not problems:
        problems.add(None, "The OFX file holds no bank or card statement (STMTRS).")
    problems.raise_if_any(InvalidStatementFile)
    for statement in statements:
        if statement.closing_balance is not None:
            statement.opening_balance = statement.closing_balance - sum(
                (line.amount for line in statement.lines), Decimal(0)
            )
    return statements


def _date(raw: str | None) -> datetime.date | None:
    match = _DATE.match((raw or "").strip())
    if match is None:
        return None
    try:
        value = datetime.datetime.strptime(match.group(1), "%Y%m%d").date()
    except ValueError:
        return None
    return value if 1900 <= value.year <= 9998 else None


def _transaction(element: Element, position: int, currency: str, problems: Problems) -> ParsedLine | None:
    fitid = clean_unique_id(element.findtext("FITID"))
    where = f"transaction {position}" + (f" (FITID {fitid})" if fitid else "")
    ok = True
    date = _date(element.findtext("DTPOSTED"))
    if date is None:
        problems.add(
            position,
            f"{where}: DTPOSTED {element.findtext('DTPOSTED')!r:.40} is not an OFX date.",
            column="DTPOSTED",
        )
        ok = False
    amount = None
    try:
        amount = parse_plain_amount((element.findtext("TRNAMT") or "").strip(), currency=currency)
    except MoneyError as exc:
        problems.add(position, f"{where}: {exc}", column="TRNAMT")
        ok = False
    if amount is not None and amount == 0:
        # a line that moves nothing, refused as the CSV and camt.053 readers refuse one
        problems.add(position, f"{where}: the amount is zero.", column="TRNAMT")
        ok = False
    if not fitid:
        problems.add(position, f"{where}: FITID is missing.", column="FITID")
        ok = False
    if not ok:
        return None
    payee = element.find("PAYEE")
    name = element.findtext("NAME") or (payee.findtext("NAME") if payee is not None else "")
    reference = element.findtext("REFNUM") or element.findtext("CHECKNUM") or ""
    memo = element.findtext("MEMO") or ""
    return ParsedLine(
        line=position,
        date=date,
        amount=amount,
        counterparty=clean_text(name, "counterparty"),
        reference=clean_text(reference or memo, "reference"),
        description=clean_text(memo, "description"),
        unique_id=fitid,
    )
