"""Reports against a hand-computed worked example: a small company's December with a reversal, a
foreign-currency sale and a year-end close, then January of the next year.

Hand-computed balances at 2025-12-31, before the close (USD):
    1010 Bank      Dr 11,000.00   (10,000 - 1,200 - 300 + 300 + 2,200)
    1100 AR        Dr  1,100.00   (2,200 + EUR 1,000 @ 1.10 - 2,200)
    2000 AP        Cr    800.00
    2200 Tax       Cr    200.00
    3000 Capital   Cr 10,000.00
    4000 Sales     Cr  3,100.00   (2,000 + 1,100)
    5000 COGS      Dr    800.00
    6100 Rent      Dr  1,200.00
    6200 Utilities      0.00      (300 posted and reversed)
    totals         14,100.00 = 14,100.00; net income 3,100 - 2,000 = 1,100.00
"""

import datetime
from decimal import Decimal

import pytest

from accounts.models import Company
from audit.models import AuditEvent
from ledger import errors
from ledger.models import AccountingPeriod, EntrySource, JournalEntry, PeriodStatus
from ledger.reports import balance_sheet, general_ledger, income_statement, trial_balance
from ledger.services import (
    fiscal_year_close,
    fiscal_year_reopen,
    journal_entry_reverse,
    period_close,
    periods_generate,
)
from ledger.tests.factories import account, company_with_chart, post_entry
from sofinance.permissions import Role

pytestmark = pytest.mark.django_db

D = Decimal
DEC31 = datetime.date(2025, 12, 31)


@pytest.fixture
def december():
    books = company_with_chart()
    post_entry(
        books, "2025-12-01", ("1010", "10000.00", "D"), ("3000", "10000.00", "C"), description="Capital"
    )
    post_entry(
        books, "2025-12-03", ("1100", "2200.00", "D"), ("4000", "2000.00", "C"), ("2200", "200.00", "C")
    )
    post_entry(books, "2025-12-05", ("6100", "1200.00", "D"), ("1010", "1200.00", "C"), description="Rent")
    mistake = post_entry(books, "2025-12-06", ("6200", "300.00", "D"), ("1010", "300.00", "C"))
    journal_entry_reverse(entry=mistake, by=None, date=datetime.date(2025, 12, 7))
    from ledger.services import journal_entry_create

    journal_entry_create(
        company=books,
        date=datetime.date(2025, 12, 10),
        by=None,
        post=True,
        description="Export sale",
        lines=[
            {"account": "1100", "debit": "1000.00", "currency": "EUR", "fx_rate": "1.10"},
            {"account": "4000", "credit": "1000.00", "currency": "EUR", "fx_rate": "1.10"},
        ],
    )
    post_entry(books, "2025-12-15", ("1010", "2200.00", "D"), ("1100", "2200.00", "C"))
    post_entry(books, "2025-12-20", ("5000", "800.00", "D"), ("2000", "800.00", "C"))
    return books


def tb_rows(report):
    return {r.account.code: (r.debit, r.credit) for r in report.rows}


def test_trial_balance_matches_the_hand_computed_example(december):
    report = trial_balance(company=december, as_of=DEC31)
    assert tb_rows(report) == {
        "1010": (D("11000.00"), 0),
        "1100": (D("1100.00"), 0),
        "2000": (0, D("800.00")),
        "2200": (0, D("200.00")),
        "3000": (0, D("10000.00")),
        "4000": (0, D("3100.00")),
        "5000": (D("800.00"), 0),
        "6100": (D("1200.00"), 0),
    }
    assert (report.total_debit, report.total_credit) == (D("14100.00"), D("14100.00"))
    # as of an earlier date: only the first three entries
    early = trial_balance(company=december, as_of=datetime.date(2025, 12, 5))
    assert tb_rows(early) == {
        "1010": (D("8800.00"), 0),
        "1100": (D("2200.00"), 0),
        "2200": (0, D("200.00")),
        "3000": (0, D("10000.00")),
        "4000": (0, D("2000.00")),
        "6100": (D("1200.00"), 0),
    }


def test_income_statement_and_balance_sheet_before_the_close(december):
    income = income_statement(company=december, date_from=datetime.date(2025, 12, 1), date_to=DEC31)
    assert [(r.account.code, r.balance) for r in income.income.rows] == [
        ("40", D("3100.00")),
        ("4000", D("3100.00")),
    ]
    assert [(r.account.code, r.balance) for r in income.expenses.rows] == [
        ("50", D("800.00")),
        ("5000", D("800.00")),
        ("60", D("1200.00")),
        ("6100", D("1200.00")),
    ]
    assert (income.income.total, income.expenses.total, income.net_income) == (
        D("3100.00"),
        D("2000.00"),
        D("1100.00"),
    )
    sheet = balance_sheet(company=december, as_of=DEC31)
    assert [(r.account.code, r.balance, r.is_leaf) for r in sheet.assets.rows] == [
        ("10", D("12100.00"), False),
        ("1010", D("11000.00"), True),
        ("1100", D("1100.00"), True),
    ]
    assert (sheet.assets.total, sheet.liabilities.total, sheet.equity.total, sheet.current_earnings) == (
        D("12100.00"),
        D("1000.00"),
        D("10000.00"),
        D("1100.00"),
    )
    assert sheet.balanced is True


def test_year_end_close_zeroes_income_and_expenses_into_retained_earnings(december):
    # when
    result = fiscal_year_close(company=december, year=2025, by=None)
    # then the closing entry moves each income and expense balance to retained earnings
    closing = result.closing_entry
    assert closing.source == EntrySource.CLOSING and closing.date == DEC31
    assert closing.number == "JE-2025-000009"
    assert sorted((ln.account.code, ln.debit, ln.credit) for ln in closing.lines.all()) == [
        ("3200", 0, D("1100.00")),
        ("4000", D("3100.00"), 0),
        ("5000", 0, D("800.00")),
        ("6100", 0, D("1200.00")),
    ]
    after = trial_balance(company=december, as_of=DEC31)
    assert tb_rows(after) == {
        "1010": (D("11000.00"), 0),
        "1100": (D("1100.00"), 0),
        "2000": (0, D("800.00")),
        "2200": (0, D("200.00")),
        "3000": (0, D("10000.00")),
        "3200": (0, D("1100.00")),
    }
    # the year's twelve periods exist and are closed
    periods = AccountingPeriod.objects.filter(company=december).order_by("start_date")
    assert [p.status for p in periods] == [PeriodStatus.CLOSED] * 12
    assert (periods[0].start_date, periods[11].end_date) == (datetime.date(2025, 1, 1), DEC31)
    # the income statement leaves the closing entry out; the balance sheet shows it in equity
    income = income_statement(company=december, date_from=datetime.date(2025, 1, 1), date_to=DEC31)
    assert income.net_income == D("1100.00")
    sheet = balance_sheet(company=december, as_of=DEC31)
    assert (sheet.equity.total, sheet.current_earnings, sheet.balanced) == (D("11100.00"), 0, True)
    # nothing more can be posted into the closed year
    with pytest.raises(errors.PeriodClosed):
        post_entry(december, "2025-12-31", ("1010", "1.00", "D"), ("4000", "1.00", "C"))


def test_the_trial_balance_before_the_closing_entries_is_the_one_the_year_was_closed_from(december, viewer):
    before = tb_rows(trial_balance(company=december, as_of=DEC31))
    fiscal_year_close(company=december, year=2025, by=None)

    # after the close, the year's income and expenses are on retained earnings
    after = tb_rows(trial_balance(company=december, as_of=DEC31))
    assert "4000" not in after and after["3200"] == (0, D("1100.00"))

    # before its closing entry, the same day reads as it did before the close
    pre_closing = trial_balance(company=december, as_of=DEC31, before_closing=True)
    assert tb_rows(pre_closing) == before
    assert pre_closing.total_debit == pre_closing.total_credit == D("14100.00")

    # through the API too, and a year reopened (its closing entry reversed) changes nothing
    url = report_url(december, "trial-balance") + "?as_of=2025-12-31&before_closing=true"
    rows = {r["account"]["code"]: (r["debit"], r["credit"]) for r in viewer.get(url).json()["data"]["rows"]}
    assert rows["4000"] == ("0.00", "3100.00") and "3200" not in rows
    fiscal_year_reopen(company=december, year=2025, reason="Late invoice", by=None)
    assert tb_rows(trial_balance(company=december, as_of=DEC31, before_closing=True)) == before


def test_before_closing_leaves_out_only_the_closing_of_the_year_ending_that_day(december, monkeypatch):
    # given 2025 closed (net income 1,100.00), then 2026 with 500.00 of sales, closed too
    fiscal_year_close(company=december, year=2025, by=None)
    post_entry(december, "2026-05-01", ("1010", "500.00", "D"), ("4000", "500.00", "C"))
    monkeypatch.setattr("ledger.services.periods.timezone.localdate", lambda: datetime.date(2027, 1, 10))
    fiscal_year_close(company=december, year=2026, by=None)
    dec31_2026 = datetime.date(2026, 12, 31)

    # when 2026's last day is read before its closing entry
    rows = tb_rows(trial_balance(company=december, as_of=dec31_2026, before_closing=True))

    # then 2026's sales are on their account and 2025's result stays in retained earnings
    assert rows["4000"] == (0, D("500.00")) and rows["3200"] == (0, D("1100.00"))
    # and on a day that is no year's end nothing is left out (2025's result is not undone)
    mid_2026 = datetime.date(2026, 6, 30)
    assert tb_rows(trial_balance(company=december, as_of=mid_2026, before_closing=True)) == tb_rows(
        trial_balance(company=december, as_of=mid_2026)
    )


def test_a_date_in_a_closed_fiscal_year_is_refused_saying_to_reopen_the_year(december):
    # given 2025 closed (its periods closed with it)
    fiscal_year_close(company=december, year=2025, by=None)

    # when something is posted into it
    with pytest.raises(errors.PeriodClosed) as refused:
        post_entry(december, "2025-11-15", ("1010", "1.00", "D"), ("4000", "1.00", "C"))

    # then it says what undoes the close: the year's reopening, not the period's
    assert refused.value.message == (
        "2025-11-15 falls in the closed period 2025-11-01 – 2025-11-30. Its fiscal year "
        "(2025-01-01 – 2025-12-31) is closed: a controller reopens the fiscal year to post there, or "
        "date it in an open period."
    )


def test_next_year_then_reopening_the_closed_year(december):
    fiscal_year_close(company=december, year=2025, by=None)
    post_entry(december, "2026-01-10", ("1010", "500.00", "D"), ("4000", "500.00", "C"))
    sheet = balance_sheet(company=december, as_of=datetime.date(2026, 1, 31))
    assert (sheet.assets.total, sheet.liabilities.total, sheet.equity.total, sheet.current_earnings) == (
        D("12600.00"),
        D("1000.00"),
        D("11100.00"),
        D("500.00"),
    )
    assert sheet.balanced
    # when the year is reopened, its closing entry is reversed and its periods reopen
    fiscal_year_reopen(company=december, year=2025, reason="Late supplier invoice", by=None)
    sheet = balance_sheet(company=december, as_of=datetime.date(2026, 1, 31))
    assert (sheet.equity.total, sheet.current_earnings, sheet.balanced) == (D("10000.00"), D("1600.00"), True)
    assert set(AccountingPeriod.objects.filter(company=december).values_list("status", flat=True)) == {"open"}
    assert tb_rows(trial_balance(company=december, as_of=DEC31))["4000"] == (0, D("3100.00"))
    closing = JournalEntry.objects.get(company=december, reference="FY2025", reversal_of__isnull=True)
    assert closing.reversed_by is not None and closing.reversed_by.source == EntrySource.CLOSING
    # and can be closed again
    again = fiscal_year_close(company=december, year=2025, by=None)
    assert again.closing_entry.number == "JE-2025-000012"


def test_general_ledger_running_balance_and_pages(december):
    bank = account(december, "1010")
    full = general_ledger(
        company=december, account=bank, date_from=datetime.date(2025, 12, 1), date_to=DEC31, page_size=50
    )
    assert full.opening_balance == 0 and full.closing_balance == D("11000.00")
    assert [(ln.date.day, ln.debit, ln.credit, ln.running_balance) for ln in full.lines] == [
        (1, D("10000.00"), 0, D("10000.00")),
        (5, 0, D("1200.00"), D("8800.00")),
        (6, 0, D("300.00"), D("8500.00")),
        (7, D("300.00"), 0, D("8800.00")),
        (15, D("2200.00"), 0, D("11000.00")),
    ]
    # the second page of two starts from the running balance of the first
    first = general_ledger(
        company=december, account=bank, date_from=datetime.date(2025, 12, 2), date_to=DEC31, page_size=2
    )
    assert first.opening_balance == D("10000.00")
    assert [ln.running_balance for ln in first.lines] == [D("8800.00"), D("8500.00")]
    second = general_ledger(
        company=december,
        account=bank,
        date_from=datetime.date(2025, 12, 2),
        date_to=DEC31,
        page_size=2,
        cursor=first.next_cursor,
    )
    assert [ln.running_balance for ln in second.lines] == [D("8800.00"), D("11000.00")]
    assert second.next_cursor is None
    assert (second.opening_balance, second.closing_balance) == (D("10000.00"), D("11000.00"))
    back = general_ledger(
        company=december,
        account=bank,
        date_from=datetime.date(2025, 12, 2),
        date_to=DEC31,
        page_size=2,
        cursor=second.previous_cursor,
    )
    assert [ln.running_balance for ln in back.lines] == [D("8800.00"), D("8500.00")]


def test_foreign_currency_account_shows_its_own_currency_balance(december):
    from accounts.services import account_create
    from ledger.services import journal_entry_create

    eur_bank = account_create(
        company=december,
        code="1030",
        name="Bank EUR",
        type="asset",
        parent=account(december, "10"),
        currency="EUR",
        by=None,
    )
    journal_entry_create(
        company=december,
        date=DEC31,
        by=None,
        post=True,
        lines=[
            {"account": "1030", "debit": "500.00", "fx_rate": "1.10"},
            {"account": "3000", "credit": "550.00"},
        ],
    )
    journal_entry_create(
        company=december,
        date=DEC31,
        by=None,
        post=True,
        lines=[
            {"account": "6700", "debit": "11.00"},
            {"account": "1030", "credit": "10.00", "fx_rate": "1.10"},
        ],
    )
    row = next(r for r in trial_balance(company=december, as_of=DEC31).rows if r.account.code == "1030")
    assert (row.balance, row.balance_in_currency, row.account.currency) == (D("539.00"), D("490.00"), "EUR")
    assert eur_bank.currency == "EUR"
    # the account statement too: functional-currency balances and the account's own
    ledger = general_ledger(company=december, account=eur_bank, date_from=DEC31, date_to=DEC31)
    assert [(ln.running_balance, ln.running_balance_in_currency) for ln in ledger.lines] == [
        (D("550.00"), D("500.00")),
        (D("539.00"), D("490.00")),
    ]
    assert (ledger.closing_balance, ledger.closing_balance_in_currency) == (D("539.00"), D("490.00"))
    second = general_ledger(
        company=december,
        account=eur_bank,
        date_from=DEC31,
        date_to=DEC31,
        page_size=1,
        cursor=general_ledger(
            company=december, account=eur_bank, date_from=DEC31, date_to=DEC31, page_size=1
        ).next_cursor,
    )
    assert [ln.running_balance_in_currency for ln in second.lines] == [D("490.00")]


# --------------------------------------------------------------------------- API


@pytest.fixture
def viewer(december, make_member):
    return make_member(december, Role.VIEWER)[1]


def report_url(company, name):
    return f"/api/v1/companies/{company.pk}/reports/{name}"


def test_trial_balance_api_shape(december, viewer):
    body = viewer.get(report_url(december, "trial-balance") + "?as_of=2025-12-31").json()
    data = body["data"]
    assert (data["as_of"], data["currency"]) == ("2025-12-31", "USD")
    assert data["totals"] == {"debit": "14100.00", "credit": "14100.00"}
    bank = account(december, "1010")
    assert data["rows"][0] == {
        "account": {"id": bank.pk, "code": "1010", "name": "Bank - operating account", "type": "asset"},
        "debit": "11000.00",
        "credit": "0.00",
        "balance": "11000.00",
    }
    assert next(r for r in data["rows"] if r["account"]["code"] == "4000")["balance"] == "-3100.00"


def test_balance_sheet_and_income_statement_api_shape(december, viewer):
    sheet = viewer.get(report_url(december, "balance-sheet") + "?as_of=2025-12-31").json()["data"]
    assert (sheet["assets"]["total"], sheet["liabilities"]["total"], sheet["equity"]["total"]) == (
        "12100.00",
        "1000.00",
        "10000.00",
    )
    assert (sheet["current_earnings"], sheet["balanced"]) == ("1100.00", True)
    income = viewer.get(report_url(december, "income-statement") + "?from=2025-12-01&to=2025-12-31").json()[
        "data"
    ]
    assert (income["from"], income["to"], income["net_income"]) == ("2025-12-01", "2025-12-31", "1100.00")
    assert (income["income"]["total"], income["expenses"]["total"]) == ("3100.00", "2000.00")


def test_the_balance_sheet_says_what_an_unclosed_earlier_year_left_in_current_earnings(december, viewer):
    # given December 2025's net income of 1,100.00 (FY2025 not closed) and 2026's first sale
    post_entry(december, "2026-02-10", ("1010", "250.00", "D"), ("4000", "250.00", "C"))

    # when the balance sheet is read as of March 2026
    sheet = balance_sheet(company=december, as_of=datetime.date(2026, 3, 31))
    income = income_statement(
        company=december, date_from=datetime.date(2026, 1, 1), date_to=datetime.date(2026, 3, 31)
    )

    # then current earnings (1,350.00) splits into FY2025's 1,100.00 and the year's 250.00, the
    # income statement's net income to date
    assert (sheet.current_earnings, sheet.earlier_years_earnings, sheet.year_earnings) == (
        D("1350.00"),
        D("1100.00"),
        D("250.00"),
    )
    assert sheet.year_earnings == income.net_income and sheet.year_start == datetime.date(2026, 1, 1)
    api = viewer.get(report_url(december, "balance-sheet") + "?as_of=2026-03-31").json()["data"]
    assert (api["current_earnings"], api["earlier_years_earnings"], api["balanced"]) == (
        "1350.00",
        "1100.00",
        True,
    )
    csv_lines = viewer.get(report_url(december, "balance-sheet") + "?as_of=2026-03-31&format=csv").content
    assert ',"Earnings of earlier years, not yet closed",,1100.00' in csv_lines.decode()
    assert ",Current year's earnings,,250.00" in csv_lines.decode()

    # and once FY2025 is closed, nothing is left from it
    fiscal_year_close(company=december, year=2025, by=None)
    closed = balance_sheet(company=december, as_of=datetime.date(2026, 3, 31))
    assert (closed.current_earnings, closed.earlier_years_earnings) == (D("250.00"), D("0.00"))
    assert (
        ",Current earnings,,250.00"
        in viewer.get(report_url(december, "balance-sheet") + "?as_of=2026-03-31&format=csv").content.decode()
    )


def test_general_ledger_api_paginates_lines_and_keeps_range_balances(december, viewer):
    url = report_url(december, "general-ledger") + "?account=1010&from=2025-12-01&to=2025-12-31&page_size=2"
    seen, balances = [], set()
    while url:
        body = viewer.get(url).json()
        data = body["data"]
        balances.add((data["opening_balance"], data["closing_balance"]))
        seen += [(ln["date"], ln["running_balance"]) for ln in data["lines"]]
        url = body["meta"]["pagination"]["next"]
    assert seen == [
        ("2025-12-01", "10000.00"),
        ("2025-12-05", "8800.00"),
        ("2025-12-06", "8500.00"),
        ("2025-12-07", "8800.00"),
        ("2025-12-15", "11000.00"),
    ]
    assert balances == {("0.00", "11000.00")}
    by_id = viewer.get(
        report_url(december, "general-ledger") + f"?account={account(december, '1010').pk}"
        "&from=2025-12-01&to=2025-12-31"
    ).json()["data"]
    assert by_id["account"]["code"] == "1010"


def test_reports_render_as_csv(december, viewer):
    response = viewer.get(report_url(december, "trial-balance") + "?as_of=2025-12-31&format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0] == "code,name,type,debit,credit,balance"
    assert "1010,Bank - operating account,asset,11000.00,0.00,11000.00" in lines
    assert lines[-1] == ",Total,,14100.00,14100.00,"
    for name, query in [
        ("balance-sheet", "as_of=2025-12-31"),
        ("income-statement", "from=2025-12-01&to=2025-12-31"),
        ("general-ledger", "account=1010&from=2025-12-01&to=2025-12-31"),
    ]:
        response = viewer.get(report_url(december, name) + f"?{query}&format=csv")
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv"), name
    # the balance sheet's last line is named as on the screen (it includes current earnings)
    sheet = viewer.get(report_url(december, "balance-sheet") + "?as_of=2025-12-31&format=csv")
    assert (
        sheet.content.decode().splitlines()[-1]
        == ',"Total liabilities, equity and current earnings",,12100.00'
    )
    gl = viewer.get(report_url(december, "general-ledger") + "?account=1010&from=2025-12-01&format=csv")
    assert gl.content.decode().splitlines()[-1] == ",,,Closing balance,,,11000.00"


def test_report_parameter_errors(december, viewer):
    bad_date = viewer.get(report_url(december, "trial-balance") + "?as_of=31/12/2025")
    assert (bad_date.status_code, bad_date.json()["error"]["code"]) == (400, "validation_error")
    missing = viewer.get(report_url(december, "income-statement") + "?from=2025-12-01")
    assert missing.status_code == 400
    unknown = viewer.get(report_url(december, "general-ledger") + "?account=9999")
    assert unknown.status_code == 404
    # a parent account has no lines of its own: its ledger would read as an empty 0.00
    parent = viewer.get(report_url(december, "general-ledger") + "?account_code=10")
    assert (parent.status_code, parent.json()["error"]["code"]) == (400, "validation_error")
    assert parent.json()["error"]["message"].startswith(
        "10 Current assets is a parent account: lines are posted to its accounts (1000, 1010, 1020,"
    )


def test_a_refused_csv_request_keeps_its_code_and_message(december, viewer, make_member, api_client):
    # given: CSV downloads that cannot be served
    cases = [
        (viewer, "trial-balance", "as_of=2025-13-01&format=csv", {}, 400, "validation_error"),
        (viewer, "general-ledger", "format=csv", {}, 400, "validation_error"),
        (viewer, "general-ledger", "account=9999&format=csv", {}, 404, "not_found"),
        (api_client, "balance-sheet", "format=csv", {}, 401, "not_authenticated"),
        (viewer, "income-statement", "from=2025-12-01", {"HTTP_ACCEPT": "text/csv"}, 400, "validation_error"),
    ]

    for client, name, query, headers, status, code in cases:
        # when
        response = client.get(f"{report_url(december, name)}?{query}", **headers)

        # then: a JSON error envelope with its message, not an empty CSV
        assert (response.status_code, response["Content-Type"]) == (status, "application/json"), query
        error = response.json()["error"]
        assert error["code"] == code, query
        assert error["message"] not in ("", "The request failed."), query
    bad_date = viewer.get(report_url(december, "trial-balance") + "?as_of=2025-13-01&format=csv").json()
    assert bad_date["error"] == {
        "code": "validation_error",
        "message": "'2025-13-01' is not a date (YYYY-MM-DD).",
        "details": {"as_of": ["Invalid date."]},
    }


def test_report_ranges_are_from_and_to_and_the_old_names_are_refused(december, viewer):
    # given: `from`/`to` read, `date_from`/`date_to` once read as their aliases
    ranged = viewer.get(report_url(december, "income-statement") + "?from=2025-12-01&to=2025-12-31")
    old = viewer.get(report_url(december, "income-statement") + "?date_from=2025-12-01&to=2025-12-31")
    both = viewer.get(
        report_url(december, "general-ledger") + "?account=1010&from=2025-12-01&date_to=2025-12-05"
    )

    # then
    assert ranged.status_code == 200 and ranged.json()["data"]["from"] == "2025-12-01"
    assert old.status_code == 400
    assert old.json()["error"]["details"] == {"date_from": ["Not a parameter here: use `from`."]}
    assert both.status_code == 400
    assert both.json()["error"]["details"] == {"date_to": ["Not a parameter here: use `to`."]}


def test_reports_are_scoped_to_members(december, make_member):
    other = company_with_chart(name="Other Ltd")
    _, outsider = make_member(other, Role.ADMIN)
    assert outsider.get(report_url(december, "trial-balance")).status_code == 404


def test_report_query_counts_do_not_grow_with_data(december, viewer, django_assert_max_num_queries):
    # given many more entries and accounts
    for day in range(1, 28):
        post_entry(december, f"2026-02-{day:02d}", ("1010", "1.00", "D"), ("4100", "1.00", "C"))
    # then each report is a fixed, small number of queries
    with django_assert_max_num_queries(8):
        viewer.get(report_url(december, "trial-balance") + "?as_of=2026-02-28")
    with django_assert_max_num_queries(8):
        viewer.get(report_url(december, "balance-sheet") + "?as_of=2026-02-28")
    with django_assert_max_num_queries(8):
        viewer.get(report_url(december, "income-statement") + "?from=2026-01-01&to=2026-02-28")
    with django_assert_max_num_queries(14):
        viewer.get(
            report_url(december, "general-ledger")
            + "?account=1010&from=2026-02-03&to=2026-02-28&page_size=10"
        )


def test_period_rules_in_the_service_and_the_api(december, make_member):
    periods_generate(company=december, year=2026, by=None)
    january = AccountingPeriod.objects.get(company=december, start_date=datetime.date(2026, 1, 1))
    period_close(period=january, by=None)
    _, accountant = make_member(december, Role.ACCOUNTANT)
    _, controller = make_member(december, Role.CONTROLLER)
    entries = f"/api/v1/companies/{december.pk}/journal-entries"
    body = {
        "date": "2026-01-15",
        "post": True,
        "lines": [{"account": "1010", "debit": "1.00"}, {"account": "4000", "credit": "1.00"}],
    }
    before = JournalEntry.objects.count()
    refused = accountant.post(entries, body, format="json")
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "period_closed")
    assert JournalEntry.objects.count() == before
    periods_url = f"/api/v1/companies/{december.pk}/periods/{january.pk}"
    assert accountant.post(f"{periods_url}/reopen", {"reason": "x"}, format="json").status_code == 403
    no_reason = controller.post(f"{periods_url}/reopen", {}, format="json")
    assert (no_reason.status_code, no_reason.json()["error"]["code"]) == (400, "validation_error")
    reopened = controller.post(f"{periods_url}/reopen", {"reason": "Missing invoice"}, format="json")
    assert reopened.json()["data"]["status"] == "open"
    assert accountant.post(entries, body, format="json").status_code == 201
    assert controller.post(f"{periods_url}/close", format="json").json()["data"]["status"] == "closed"
    assert controller.post(f"{periods_url}/lock", format="json").json()["data"]["status"] == "locked"
    locked = controller.post(f"{periods_url}/reopen", {"reason": "x"}, format="json")
    assert (locked.status_code, locked.json()["error"]["code"]) == (409, "conflict")
    overlap = controller.post(
        f"/api/v1/companies/{december.pk}/periods",
        {"start_date": "2026-01-15", "end_date": "2026-02-15"},
        format="json",
    )
    assert overlap.status_code == 409
    years = controller.post(
        f"/api/v1/companies/{december.pk}/periods/generate", {"fiscal_year": 2026}, format="json"
    )
    assert years.status_code == 409


def test_a_fiscal_year_is_closed_only_after_it_ends(december):
    this_year = datetime.date.today().year
    with pytest.raises(errors.FiscalYearError):
        fiscal_year_close(company=december, year=this_year, by=None)
    assert not AccountingPeriod.objects.filter(company=december).exists()


def test_fiscal_year_close_api(december, make_member):
    _, controller = make_member(december, Role.CONTROLLER)
    _, accountant = make_member(december, Role.ACCOUNTANT)
    url = f"/api/v1/companies/{december.pk}/fiscal-years/2025"
    assert accountant.post(f"{url}/close").status_code == 403
    closed = controller.post(f"{url}/close")
    assert closed.status_code == 201, closed.json()
    assert closed.json()["data"]["closing_entry"]["total_debit"] == "3100.00"
    again = controller.post(f"{url}/close")
    assert (again.status_code, again.json()["error"]["code"]) == (422, "fiscal_year_error")
    reopened = controller.post(f"{url}/reopen", {"reason": "Audit adjustment"}, format="json")
    assert reopened.status_code == 200 and reopened.json()["data"]["reopened_at"]


def test_the_fiscal_year_start_cannot_move_under_a_closed_year(december, make_member):
    # given 2025 (January to December) closed: its income moved into retained earnings once
    _, admin = make_member(december, Role.ADMIN)
    _, controller = make_member(december, Role.CONTROLLER)
    assert controller.post(f"/api/v1/companies/{december.pk}/fiscal-years/2025/close").status_code == 201
    written = (JournalEntry.objects.count(), AuditEvent.objects.count())

    # when the company's fiscal year is moved to start in July
    moved = admin.patch(f"/api/v1/companies/{december.pk}", {"fiscal_year_start": 7}, format="json")

    # then it is refused, saying why, and nothing changes (the years overlapping 2025 cannot be
    # closed again, which moved the same income twice)
    assert moved.status_code == 400, moved.json()
    error = moved.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"]["fiscal_year_start"] == [
        "The fiscal year start cannot change while a fiscal year is closed: reopen the closed years "
        "first (their closing entries were made for the current start; closed: 2025-01-01 – 2025-12-31)."
    ]
    december.refresh_from_db()
    assert december.fiscal_year_start == 1
    assert (JournalEntry.objects.count(), AuditEvent.objects.count()) == written

    # and once the year is reopened the start may move
    fiscal_year_reopen(company=december, year=2025, reason="Changing the fiscal year", by=None)
    assert (
        admin.patch(f"/api/v1/companies/{december.pk}", {"fiscal_year_start": 7}, format="json").status_code
        == 200
    )


def test_a_close_works_out_the_years_bounds_from_the_company_as_locked_not_as_first_read(december):
    # given a close that read the company (January start) just before a change to July committed
    stale = Company.objects.get(pk=december.pk)
    Company.objects.filter(pk=december.pk).update(fiscal_year_start=7)

    # when it closes "2025"
    closed = fiscal_year_close(company=stale, year=2025, by=None)

    # then it is the year the company has now (July 2025 to June 2026), not the stale one: a
    # record of the old bounds would match no year the company has, and could never be reopened
    assert (closed.record.start_date, closed.record.end_date) == (
        datetime.date(2025, 7, 1),
        datetime.date(2026, 6, 30),
    )
    fiscal_year_reopen(company=stale, year=2025, reason="Wrong year", by=None)
    closed.record.refresh_from_db()
    assert closed.record.reopened_at is not None


def test_a_year_overlapping_a_closed_year_of_other_bounds_is_not_closed_again(december):
    # given 2025 closed from January, then the start month moved to July behind the service's
    # back (as a company whose start changed before this rule existed)
    fiscal_year_close(company=december, year=2025, by=None)
    Company.objects.filter(pk=december.pk).update(fiscal_year_start=7)
    december.refresh_from_db()
    entries = JournalEntry.objects.count()

    # when the July years that share days with it are closed
    for year, bounds in ((2024, "2024-07-01 to 2025-06-30"), (2025, "2025-07-01 to 2026-06-30")):
        with pytest.raises(errors.FiscalYearError) as refused:
            fiscal_year_close(company=december, year=year, by=None)

        # then each is refused: its income is already in retained earnings
        assert str(refused.value.message) == (
            f"Fiscal year {year} ({bounds}) overlaps the year closed from 2025-01-01 to 2025-12-31: its "
            "income is already in retained earnings. Reopen that year first."
        )
    assert JournalEntry.objects.count() == entries
    # and sales stay closed once: nothing left on 4000, not a debit from closing it twice
    assert "4000" not in tb_rows(trial_balance(company=december, as_of=datetime.date(2026, 6, 30)))


def test_dates_outside_the_books_range_are_validation_errors(december, viewer):
    for query in [
        "trial-balance?as_of=9999-12-31",
        "general-ledger?account=1010&from=0001-01-01",
        "income-statement?from=0001-01-01&to=2025-12-31",
        "balance-sheet?as_of=1899-12-31",
    ]:
        response = viewer.get(report_url(december, query))
        assert (response.status_code, response.json()["error"]["code"]) == (400, "validation_error"), query


def test_entries_and_fiscal_years_outside_the_books_range_are_refused(december, make_member):
    _, controller = make_member(december, Role.CONTROLLER)
    base = f"/api/v1/companies/{december.pk}"
    before = JournalEntry.objects.count()
    body = {
        "date": "0001-01-01",
        "post": True,
        "lines": [{"account": "1010", "debit": "1.00"}, {"account": "4000", "credit": "1.00"}],
    }
    assert controller.post(f"{base}/journal-entries", body, format="json").status_code == 400
    assert JournalEntry.objects.count() == before
    assert controller.post(f"{base}/fiscal-years/9999/close").status_code == 400
    assert (
        controller.post(f"{base}/periods/generate", {"fiscal_year": 9999}, format="json").status_code == 400
    )
    assert not AccountingPeriod.objects.filter(company=december).exists()
