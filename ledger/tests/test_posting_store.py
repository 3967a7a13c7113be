"""The rows a posting sends to the write function: amounts as their exact text, each spelled out once."""

from decimal import Decimal

import pytest

from ledger.posting_store import _line_row
from ledger.services.lines import PostingLine

D = Decimal


def line(debit, credit, amount, *, currency="USD", rate="1", base=None) -> PostingLine:
    return PostingLine(
        line_no=1,
        account_id=7,
        account_code="6100",
        account_currency="",
        account_name="Rent",
        description="",
        debit=D(debit),
        credit=D(credit),
        currency=currency,
        amount=D(amount),
        fx_rate=D(rate),
        base_amount=D(base if base is not None else amount),
    )


@pytest.mark.parametrize(
    ("posting_line", "texts"),
    [
        # (debit, credit, amount, fx_rate, base_amount) as sent
        (line("12.50", "0", "12.50"), ("12.50", "0", "12.50", "1", "12.50")),
        (line("0", "0.0001", "-0.0001"), ("0", "0.0001", "-0.0001", "1", "-0.0001")),
        (line("0", "1E+3", "-1E+3"), ("0", "1E+3", "-1E+3", "1", "-1E+3")),
        (
            line("100.00", "0", "100.00", currency="EUR", rate="1.085", base="108.50"),
            ("100.00", "0", "100.00", "1.085", "108.50"),
        ),
        (
            line("0", "100", "-100", currency="JPY", rate="0.0067", base="-0.67"),
            ("0", "100", "-100", "0.0067", "-0.67"),
        ),
        # a line that breaks the rules is sent as it is, for the database's checks to refuse
        (line("5", "0", "4"), ("5", "0", "4", "1", "4")),
        (line("5", "0", "5", base="6"), ("5", "0", "5", "1", "6")),
    ],
)
def test_a_lines_amounts_are_sent_as_their_exact_values(posting_line, texts):
    row = _line_row(11, 3, "2026-01-05", posting_line)
    assert tuple(row[i] for i in (4, 5, 7, 8, 9)) == texts
    assert [D(text) for text in texts] == [
        posting_line.debit,
        posting_line.credit,
        posting_line.amount,
        posting_line.fx_rate,
        posting_line.base_amount,
    ]
    assert (row[0], row[10], row[11]) == (11, "2026-01-05", 3)
