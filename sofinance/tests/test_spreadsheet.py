"""Text that a spreadsheet would run as a formula stays text (sofinance.spreadsheet)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sofinance.spreadsheet import csv_cell


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("-2+3", "'-2+3"),
        ("\tx", "'\tx"),
        ("-5 discount", "'-5 discount"),
        ("-250.00", "-250.00"),  # an amount stays a number
        ("+12", "+12"),
        ("Rent = office", "Rent = office"),
        ("", ""),
        (Decimal("-1.50"), Decimal("-1.50")),
        (None, None),
    ],
)
def test_a_cell_that_would_run_as_a_formula_is_written_as_text(value, written):
    assert csv_cell(value) == written


def test_a_report_download_writes_formula_like_text_as_text():
    from sofinance.api.views import csv_response

    response = csv_response([["code", "name", "balance"], ["6100", "=cmd()", "-10.00"]], "tb.csv")

    assert response.content.decode().splitlines() == ["code,name,balance", "6100,'=cmd(),-10.00"]
