"""Reading a journal-entry body (single and bulk creation) into the ledger's `EntryInput`.

One parser for both doors, so a bulk request is held to exactly the rules of a single one. It
checks the body's shape only (types, lengths, choices); what the values mean (accounts,
amounts, balance, periods) is the ledger services' to judge. It is plain Python rather than a
DRF serializer because a bulk request carries up to 1,000 entries and a serializer would cost
more than posting them; the documented shape is `serializers.JournalEntryCreateInput`, which
lists the same fields (a test keeps the two in step).

It applies the platform's strict field rules (sofinance.api.fields): dates exactly YYYY-MM-DD,
`post` a JSON boolean, amounts plain decimal strings or JSON numbers that a money column holds
exactly. Errors use DRF's layout, {"field": ["message"]}, lines as {"lines": {"<index>": {...}}},
with DRF error codes, so the one exception handler answers as for any serializer (an amount a
column cannot hold is 422 `currency_precision`, anything else 400 `validation_error`).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample
from rest_framework.exceptions import ErrorDetail
from rest_framework.exceptions import ValidationError as FieldErrors

from ledger.models import EntrySource
from ledger.services import MAX_BATCH_ENTRIES, EntryInput, RefusedInput
from sofinance.api.exceptions import to_api_error
from sofinance.api.fields import parse_iso_date
from sofinance.api.views import UNKNOWN_FIELD
from sofinance.errors import APIError, ValidationFailed
from sofinance.money import (
    MONEY_DECIMAL_PLACES,
    MONEY_MAX_DIGITS,
    MoneyError,
    check_storable,
    parse_amount,
    parse_rate,
)

ENTRY_FIELDS = ("date", "description", "reference", "source", "post", "lines")
LINE_FIELDS = ("account", "debit", "credit", "description", "currency", "fx_rate")
SOURCES = (EntrySource.MANUAL, EntrySource.IMPORT)
MAX_LINES_IN_BODY = 1000

Problems = dict[str, Any]


def _problem(message: str, code: str = "invalid") -> list[ErrorDetail]:
    return [ErrorDetail(message, code=code)]


def _money(data: dict, field: str, problems: Problems, *, rate: bool = False) -> Any:
    """An amount (or rate) as MoneyField / RateField read it; None when absent or null."""
    value = data.get(field)
    if value is None or value == "":
        return None
    try:
        if rate:
            return parse_rate(value)
        amount = parse_amount(value)
        check_storable(amount, max_digits=MONEY_MAX_DIGITS, places=MONEY_DECIMAL_PLACES)
        return amount
    except MoneyError as exc:
        problems[field] = _problem(str(exc), exc.code)
        return None


def _text(data: dict, field: str, limit: int, problems: Problems, *, nullable: bool = False) -> str:
    value = data.get(field, "")
    if value is None and nullable:
        return ""
    if not isinstance(value, str):
        problems[field] = _problem(
            "Not a valid string." if value is not None else "This field may not be null."
        )
        return ""
    if len(value) > limit:
        problems[field] = _problem(f"Ensure this field has no more than {limit} characters.", "max_length")
        return ""
    return value


def _unknown(data: dict, known: tuple[str, ...], problems: Problems) -> None:
    """A key the body does not take is refused, not dropped (sofinance.api.views.unknown_fields)."""
    for key in data:
        if key not in known:
            problems[key] = _problem(UNKNOWN_FIELD)


def _line(data: Any) -> tuple[dict[str, Any], Problems]:
    problems: Problems = {}
    if not isinstance(data, dict):
        return {}, {"non_field_errors": _problem("Invalid data. Expected a dictionary.")}
    _unknown(data, LINE_FIELDS, problems)
    if "account" not in data:
        problems["account"] = _problem("This field is required.", "required")
    line = {
        "account": data.get("account"),
        "debit": _money(data, "debit", problems),
        "credit": _money(data, "credit", problems),
        "description": _text(data, "description", 500, problems),
        "currency": _text(data, "currency", 3, problems, nullable=True) or None,
        "fx_rate": _money(data, "fx_rate", problems, rate=True),
    }
    return line, problems


def entry_input_parse(data: Any, *, posting: bool = False) -> tuple[EntryInput | None, bool, Problems]:
    """(the entry, whether it asks to be posted, problems); with problems the entry is None.

    `posting` (bulk): every entry is posted; `post` may be omitted or true, never false.
    """
    if not isinstance(data, dict):
        return None, False, {"non_field_errors": _problem("Invalid data. Expected a dictionary.")}
    problems: Problems = {}
    _unknown(data, ENTRY_FIELDS, problems)
    date = parse_iso_date(data.get("date"))
    if "date" not in data:
        problems["date"] = _problem("This field is required.", "required")
    elif date is None:
        problems["date"] = _problem("Must be a date written YYYY-MM-DD, e.g. 2026-03-31.")
    description = _text(data, "description", 500, problems)
    reference = _text(data, "reference", 100, problems)
    source = data.get("source", EntrySource.MANUAL)
    if source not in SOURCES:
        problems["source"] = _problem(f'"{source}" is not a valid choice.', "invalid_choice")
    post = data.get("post", posting)
    if post is None:
        problems["post"] = _problem("This field may not be null.", "null")
    elif not isinstance(post, bool):
        problems["post"] = _problem("Must be a JSON boolean: true or false.")
    elif posting and not post:
        problems["post"] = _problem("Every entry of a bulk request is posted; drop `post` or set it to true.")
    raw_lines = data.get("lines")
    lines: list[dict[str, Any]] = []
    if "lines" not in data:
        problems["lines"] = _problem("This field is required.", "required")
    elif not isinstance(raw_lines, list):
        problems["lines"] = _problem(
            f'Expected a list of items but got type "{type(raw_lines).__name__}".', "not_a_list"
        )
    elif len(raw_lines) > MAX_LINES_IN_BODY:
        problems["lines"] = _problem(f"An entry has at most {MAX_LINES_IN_BODY} lines.", "max_length")
    else:
        line_problems = {}
        for index, raw in enumerate(raw_lines):
            line, problem = _line(raw)
            lines.append(line)
            if problem:
                line_problems[str(index)] = problem
        if line_problems:
            problems["lines"] = line_problems
    if problems:
        return None, False, problems
    entry = EntryInput(date=date, lines=lines, description=description, reference=reference, source=source)
    return entry, bool(post), {}


def bulk_input_parse(data: Any) -> list[EntryInput | RefusedInput]:
    """`{"entries": [<entry body>, ...]}` with 1 to MAX_BATCH_ENTRIES entries, each posted.

    A body of the wrong shape is a 400 validation_error. An entry of the wrong shape becomes a
    `RefusedInput` in its place: the service lists it by index among the entries it refuses
    (accounts, balance, periods), in one 422 invalid_batch, so one answer names them all.
    """
    if not isinstance(data, dict) or "entries" not in data:
        raise ValidationFailed(details={"entries": ["This field is required."]})
    if unknown := [key for key in data if key != "entries"]:
        raise ValidationFailed(details={key: [UNKNOWN_FIELD] for key in unknown})
    raw = data["entries"]
    if not isinstance(raw, list) or not raw:
        raise ValidationFailed(details={"entries": ["A non-empty list of journal entries is required."]})
    if len(raw) > MAX_BATCH_ENTRIES:
        raise ValidationFailed(
            f"A bulk request holds at most {MAX_BATCH_ENTRIES} entries (this one has {len(raw)}).",
            details={"entries": [f"At most {MAX_BATCH_ENTRIES} entries."]},
        )
    entries: list[EntryInput | RefusedInput] = []
    for body in raw:
        entry, _post, problems = entry_input_parse(body, posting=True)
        entries.append(RefusedInput(problems_error(problems)) if problems else entry)
    return entries


_BULK_REQUEST = {
    "entries": [
        {
            "date": "2026-03-31",
            "description": "March rent",
            "reference": "LEASE-03",
            "lines": [{"account": "6100", "debit": "1200.00"}, {"account": "1000", "credit": "1200.00"}],
        },
        {
            "date": "2026-03-31",
            "description": "Card sales, 31 March",
            "reference": "POS-0331",
            "lines": [
                {"account": "1010", "debit": "540.00"},
                {"account": "4000", "credit": "450.00"},
                {"account": "2200", "credit": "90.00"},
            ],
        },
    ]
}
BULK_EXAMPLES = [
    OpenApiExample("Two entries", value=_BULK_REQUEST, request_only=True),
    OpenApiExample(
        "Posted",
        value={
            "success": True,
            "data": {
                "entries": [
                    {
                        "id": 5012,
                        "number": "JE-2026-000311",
                        "status": "posted",
                        "date": "2026-03-31",
                        "reference": "LEASE-03",
                    },
                    {
                        "id": 5013,
                        "number": "JE-2026-000312",
                        "status": "posted",
                        "date": "2026-03-31",
                        "reference": "POS-0331",
                    },
                ]
            },
            "error": None,
            "meta": {"request_id": "5f0c2b7e9d1a4c3e"},
        },
        response_only=True,
        status_codes=["201"],
    ),
    OpenApiExample(
        "Refused: nothing posted",
        value={
            "success": False,
            "data": None,
            "error": {
                "code": "invalid_batch",
                "message": "Entry 2: Debits 540.00 do not equal credits 530.00. (1 of 2 entries refused; nothing was posted.)",
                "details": {
                    "entries": [
                        {
                            "index": 1,
                            "code": "unbalanced_entry",
                            "message": "Debits 540.00 do not equal credits 530.00.",
                            "details": {
                                "total_debit": "540.00",
                                "total_credit": "530.00",
                                "difference": "10.00",
                                "currency": "USD",
                            },
                        }
                    ]
                },
            },
            "meta": {"request_id": "5f0c2b7e9d1a4c3e"},
        },
        response_only=True,
        status_codes=["422"],
    ),
]


def problems_error(problems: Problems) -> APIError:
    """The error a body's problems make, as the exception handler makes it of a serializer's."""
    return to_api_error(FieldErrors(problems))
