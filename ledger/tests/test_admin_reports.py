"""The report pages in the admin: reached from the index, the right figures for a hand-built set of
books, general-ledger pages by cursor, company scoping, date validation and the CSV links.

The books (USD, chart "small_business"):

    2026-01-02  Dr 1010 Bank       10000.00   Cr 3000 Owner's capital  10000.00
    2026-01-05  Dr 1000 Cash        2000.00   Cr 4000 Sales revenue     2000.00
    2026-01-31  Dr 6100 Rent        1200.00   Cr 1000 Cash              1200.00
    2026-02-10  Dr 1100 Receivable   500.00   Cr 4100 Service revenue    500.00
    2026-03-05  Dr 6200 Utilities    300.00   Cr 1010 Bank               300.00
"""

from __future__ import annotations

import datetime
import html
import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Company
from accounts.services import account_create, company_create, membership_add
from accounts.tests.factories import UserFactory
from ledger.services import journal_entry_create

pytestmark = pytest.mark.django_db

PAGES = {
    "trial_balance": "admin:ledger_reports_trial_balance",
    "balance_sheet": "admin:ledger_reports_balance_sheet",
    "income_statement": "admin:ledger_reports_income_statement",
    "general_ledger": "admin:ledger_reports_general_ledger",
}


def post(
    company: Company, date: str, *lines: tuple[str, str, str], description: str = "", rates=None
) -> None:
    """post(company, "2026-01-05", ("1000", "D", "2000.00"), ("4000", "C", "2000.00")); `rates`
    gives the fx_rate of the lines of an account by code."""
    rates = rates or {}
    journal_entry_create(
        company=company,
        date=datetime.date.fromisoformat(date),
        lines=[
            {
                "account": code,
                "debit" if side == "D" else "credit": amount,
                **({"fx_rate": rates[code]} if code in rates else {}),
            }
            for code, side, amount in lines
        ],
        by=None,
        post=True,
        description=description,
    )


@pytest.fixture
def books(superuser) -> Company:
    # The superuser creates the company, so they are also its admin member (the API's CSV needs one).
    company = company_create(
        name="Books Ltd", currency="USD", created_by=superuser, chart_template="small_business"
    )
    post(company, "2026-01-02", ("1010", "D", "10000.00"), ("3000", "C", "10000.00"))
    post(company, "2026-01-05", ("1000", "D", "2000.00"), ("4000", "C", "2000.00"))
    post(company, "2026-01-31", ("6100", "D", "1200.00"), ("1000", "C", "1200.00"))
    post(company, "2026-02-10", ("1100", "D", "500.00"), ("4100", "C", "500.00"))
    post(company, "2026-03-05", ("6200", "D", "300.00"), ("1010", "C", "300.00"))
    return company


def acct(company: Company, code: str) -> Account:
    return Account.objects.get(company=company, code=code)


def page(client, name: str, **params):
    return client.get(reverse(PAGES[name]), params)


class _TableRows(HTMLParser):
    """The body and footer rows of one table (by id), each as its cells' whitespace-collapsed text."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id = table_id
        self.depth = 0  # > 0 while inside the table
        self.in_head = False
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and (self.depth or dict(attrs).get("id") == self.table_id):
            self.depth += 1
        elif self.depth == 1 and tag == "thead":
            self.in_head = True
        elif self.depth == 1 and not self.in_head and tag == "tr":
            self.rows.append([])
        elif self.depth == 1 and not self.in_head and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "table" and self.depth:
            self.depth -= 1
        elif tag == "thead":
            self.in_head = False
        elif tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def rows(response, table_id: str) -> list[list[str]]:
    parser = _TableRows(table_id)
    parser.feed(response.content.decode())
    return parser.rows


def link(response, element_id: str) -> str | None:
    match = re.search(rf'<a href="([^"]*)" id="{element_id}"', response.content.decode())
    return html.unescape(match.group(1)) if match else None


def input_value(response, name: str) -> str | None:
    match = re.search(rf'<input type="text" name="{name}" value="([^"]*)"', response.content.decode())
    return match.group(1) if match else None


# --------------------------------------------------------------------------- reached from the index


def test_reports_are_linked_from_the_admin_index_and_the_ledger_app_index(client_admin, books):
    # when
    index = client_admin.get(reverse("admin:index")).content.decode()
    ledger_index = client_admin.get(reverse("admin:app_list", args=["ledger"])).content.decode()
    accounts_index = client_admin.get(reverse("admin:app_list", args=["accounts"])).content.decode()

    # then every report is one click away in the index's Reports section; the app indexes
    # (reached from breadcrumbs) keep Django's list of the app's models
    assert 'id="section-reports"' in index
    for url_name in PAGES.values():
        assert f'href="{reverse(url_name)}"' in index
    for content in (ledger_index, accounts_index):
        assert 'id="section-reports"' not in content


def test_reports_index_lists_the_four_reports(client_admin, books):
    # when
    response = client_admin.get(reverse("admin:ledger_reports"))

    # then
    assert response.status_code == 200
    content = response.content.decode()
    assert [reverse(url_name) in content for url_name in PAGES.values()] == [True] * 4


def test_account_change_page_links_a_postable_account_to_its_statement(client_admin, books):
    # when
    leaf = client_admin.get(reverse("admin:accounts_account_change", args=[acct(books, "1000").pk]))
    parent = client_admin.get(reverse("admin:accounts_account_change", args=[acct(books, "10").pk]))

    # then only the postable account has a statement to show
    statement = link(leaf, "account-statement")
    assert statement == (f"{reverse(PAGES['general_ledger'])}?account={acct(books, '1000').pk}")
    assert link(parent, "account-statement") is None


def test_report_pages_need_an_admin_login(client, books):
    # when
    response = page(client, "trial_balance", company=books.pk)

    # then the admin's login, not the report
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


# --------------------------------------------------------------------------- figures


def test_trial_balance_page_shows_each_balance_and_the_totals(client_admin, books):
    # when
    response = page(client_admin, "trial_balance", company=books.pk, as_of="2026-01-31")

    # then the February and March entries are not in it
    assert response.status_code == 200
    assert rows(response, "trial-balance") == [
        ["1000", "Cash", "800.00", "", "800.00"],
        ["1010", "Bank - operating account", "10,000.00", "", "10,000.00"],
        ["3000", "Owner's capital", "", "10,000.00", "(10,000.00)"],
        ["4000", "Sales revenue", "", "2,000.00", "(2,000.00)"],
        ["6100", "Rent", "1,200.00", "", "1,200.00"],
        ["", "Total", "12,000.00", "12,000.00", ""],
    ]
    # rows are indented by their depth in the chart
    assert '<td style="padding-left: 1.5em"><a href="' in response.content.decode()


def test_trial_balance_page_can_list_zero_balances(client_admin, books):
    # when
    response = page(client_admin, "trial_balance", company=books.pk, as_of="2026-01-31", include_zero="on")

    # then accounts without a balance are listed too, at zero
    shown = {row[0]: row for row in rows(response, "trial-balance")}
    assert shown["1020"] == ["1020", "Bank - savings account", "", "", "0.00"]
    assert shown[""] == ["", "Total", "12,000.00", "12,000.00", ""]


def test_trial_balance_page_can_leave_out_the_year_end_closing_entries(client_admin, books, monkeypatch):
    # given 2026's income and expenses closed into retained earnings (as if the year had ended)
    from ledger.services import fiscal_year_close

    monkeypatch.setattr("ledger.services.periods.timezone.localdate", lambda: datetime.date(2027, 1, 15))
    fiscal_year_close(company=books, year=2026, by=None)

    # when the year's last day is shown before its closing entry
    closed = {
        row[0]
        for row in rows(
            page(client_admin, "trial_balance", company=books.pk, as_of="2026-12-31"), "trial-balance"
        )
    }
    response = page(client_admin, "trial_balance", company=books.pk, as_of="2026-12-31", before_closing="on")

    # then income and expenses are on their accounts again, as the year was closed from them
    shown = {row[0]: row for row in rows(response, "trial-balance")}
    assert "4000" not in closed and shown["4000"] == ["4000", "Sales revenue", "", "2,000.00", "(2,000.00)"]
    assert "3200" in closed and "3200" not in shown
    assert "before_closing=true" in response.content.decode()  # the CSV download says the same
    assert (
        'id="before-closing">before the year-end closing entry dated 2026-12-31<' in response.content.decode()
    )
    # and the export job (which writes the trial balance as posted) is not offered for it
    assert "export_offer" not in response.context
    assert "export_offer" in page(client_admin, "trial_balance", company=books.pk, as_of="2026-12-31").context


def test_balance_sheet_page_shows_an_unclosed_earlier_years_earnings_apart(client_admin, books):
    # given February's books (income in 2026) and a sale of December 2025, FY2025 never closed
    post(books, "2025-12-20", ("1000", "D", "70.00"), ("4000", "C", "70.00"))

    response = page(client_admin, "balance_sheet", company=books.pk, as_of="2026-02-28")

    # then the year's earnings (the income statement's net income from 2026-01-01) and what 2025
    # left unclosed are two lines that add up to the earnings the total counts
    summary = rows(response, "balance-sheet-summary")
    assert summary[3:5] == [
        [
            "Earnings of earlier years, not yet closed (a year-end close moves them into retained earnings)",
            "70.00",
        ],
        ["Current year's earnings (from 2026-01-01)", "1,300.00"],
    ]
    assert summary[-1] == ["Total liabilities, equity and current earnings", "11,370.00"]


def test_balance_sheet_page_rolls_parents_up_and_says_it_balances(client_admin, books):
    # when
    response = page(client_admin, "balance_sheet", company=books.pk, as_of="2026-02-28")

    # then
    assert response.status_code == 200
    assert rows(response, "assets") == [
        ["10", "Current assets", "11,300.00"],
        ["1000", "Cash", "800.00"],
        ["1010", "Bank - operating account", "10,000.00"],
        ["1100", "Accounts receivable", "500.00"],
        ["", "Total assets", "11,300.00"],
    ]
    assert rows(response, "liabilities") == [["Nothing."], ["", "Total liabilities", "0.00"]]
    assert rows(response, "equity") == [
        ["30", "Equity", "10,000.00"],
        ["3000", "Owner's capital", "10,000.00"],
        ["", "Total equity", "10,000.00"],
    ]
    assert rows(response, "balance-sheet-summary") == [
        ["Total assets", "11,300.00"],
        ["Total liabilities", "0.00"],
        ["Total equity", "10,000.00"],
        ["Current earnings (not yet closed)", "1,300.00"],
        ["Total liabilities, equity and current earnings", "11,300.00"],
    ]
    content = response.content.decode()
    assert "✔ Balanced: assets equal liabilities + equity + current earnings." in content
    assert '<p class="status-good" id="balanced">' in content
    assert "Not balanced" not in content
    # parents in bold at depth 0, their accounts indented beneath them
    assert '<tr data-account="10" data-depth="0" class="parent">' in content
    assert '<tr data-account="1000" data-depth="1">' in content


def test_income_statement_page_shows_the_range_and_the_net_income(client_admin, books):
    # when
    response = page(
        client_admin, "income_statement", company=books.pk, date_from="2026-01-01", date_to="2026-02-28"
    )

    # then March's utilities are outside the range
    assert response.status_code == 200
    assert rows(response, "income") == [
        ["40", "Revenue", "2,500.00"],
        ["4000", "Sales revenue", "2,000.00"],
        ["4100", "Service revenue", "500.00"],
        ["", "Total income", "2,500.00"],
    ]
    assert rows(response, "expenses") == [
        ["60", "Operating expenses", "1,200.00"],
        ["6100", "Rent", "1,200.00"],
        ["", "Total expenses", "1,200.00"],
    ]
    assert rows(response, "income-statement-summary") == [["Net income", "1,300.00"]]


@pytest.fixture
def cash_book(superuser) -> Company:
    """Cash (1000): 100.00 before the range, four lines in Jan-Feb 2026 (two on Jan 31), one after."""
    company = company_create(
        name="Cash Co", currency="USD", created_by=superuser, chart_template="small_business"
    )
    post(company, "2025-12-20", ("1000", "D", "100.00"), ("4000", "C", "100.00"), description="December sale")
    post(
        company, "2026-01-05", ("1000", "D", "2000.00"), ("4000", "C", "2000.00"), description="January sales"
    )
    post(
        company, "2026-01-31", ("6100", "D", "1200.00"), ("1000", "C", "1200.00"), description="January rent"
    )
    post(company, "2026-01-31", ("1000", "D", "50.00"), ("4900", "C", "50.00"), description="Interest")
    post(company, "2026-02-15", ("6700", "D", "30.00"), ("1000", "C", "30.00"), description="Bank fee")
    post(company, "2026-03-10", ("1000", "D", "10.00"), ("4000", "C", "10.00"), description="March sale")
    return company


def test_general_ledger_pages_follow_the_cursor_with_the_right_running_balance(client_admin, cash_book):
    # given the first page of two lines
    first = page(
        client_admin,
        "general_ledger",
        company=cash_book.pk,
        account=acct(cash_book, "1000").pk,
        date_from="2026-01-01",
        date_to="2026-02-28",
        page_size=2,
    )
    assert first.status_code == 200
    assert rows(first, "general-ledger") == [
        ["2026-01-05", "JE-2026-000002", "", "", "January sales", "2,000.00", "", "2,100.00"],
        ["2026-01-31", "JE-2026-000003", "", "", "January rent", "", "1,200.00", "900.00"],
    ]
    assert link(first, "previous-page") is None

    # when the next link is followed
    second = client_admin.get(reverse(PAGES["general_ledger"]) + link(first, "next-page"))

    # then the second page starts from the first page's balance (same day as its last line)
    assert rows(second, "general-ledger") == [
        ["2026-01-31", "JE-2026-000004", "", "", "Interest", "50.00", "", "950.00"],
        ["2026-02-15", "JE-2026-000005", "", "", "Bank fee", "", "30.00", "920.00"],
    ]
    assert link(second, "next-page") is None
    # opening and closing balances cover the whole range on every page
    summary = [
        ["Opening balance", "100.00"],
        ["Total debit", "2,050.00"],
        ["Total credit", "1,230.00"],
        ["Closing balance", "920.00"],
    ]
    assert rows(first, "general-ledger-summary") == summary
    assert rows(second, "general-ledger-summary") == summary

    # and the previous link leads back to the first page's lines and balances
    back = client_admin.get(reverse(PAGES["general_ledger"]) + link(second, "previous-page"))
    assert [row[-1] for row in rows(back, "general-ledger")] == ["2,100.00", "900.00"]


def test_general_ledger_links_each_line_to_its_entry(client_admin, cash_book):
    # when
    response = page(
        client_admin,
        "general_ledger",
        company=cash_book.pk,
        account=acct(cash_book, "1000").pk,
        date_from="2026-02-01",
        date_to="2026-02-28",
    )

    # then
    entry_id = cash_book.journal_entries.get(number="JE-2026-000005").pk
    entry_url = reverse("admin:ledger_journalentry_change", args=[entry_id])
    assert f'<a href="{entry_url}" class="entry-link">JE-2026-000005</a>' in (response.content.decode())


def test_foreign_currency_account_shows_its_own_currency_balances(client_admin, books):
    # given a bank account kept in EUR: 500.00 EUR in at 1.10, 10.00 EUR out at 1.10
    account_create(
        company=books,
        code="1030",
        name="Bank EUR",
        type="asset",
        parent=acct(books, "10"),
        currency="EUR",
        by=None,
    )
    rates = {"1030": "1.10"}
    post(
        books,
        "2026-01-10",
        ("1030", "D", "500.00"),
        ("3000", "C", "550.00"),
        description="EUR in",
        rates=rates,
    )
    post(
        books,
        "2026-01-20",
        ("6700", "D", "11.00"),
        ("1030", "C", "10.00"),
        description="EUR fee",
        rates=rates,
    )

    # when
    statement = page(
        client_admin,
        "general_ledger",
        company=books.pk,
        account=acct(books, "1030").pk,
        date_from="2026-01-15",
        date_to="2026-01-31",
    )
    trial = page(client_admin, "trial_balance", company=books.pk, as_of="2026-01-31")

    # then the statement shows the functional-currency balances and the EUR ones beside them
    assert rows(statement, "general-ledger-summary") == [
        ["Opening balance", "550.00", "500.00 EUR"],
        ["Total debit", "0.00", ""],
        ["Total credit", "11.00", ""],
        ["Closing balance", "539.00", "490.00 EUR"],
    ]
    assert rows(statement, "general-ledger") == [
        [
            "2026-01-20",
            "JE-2026-000007",
            "",
            "",
            "EUR fee",
            "",
            "11.00",
            "539.00",
            "(10.00) EUR",
            "490.00 EUR",
        ],
    ]
    assert ["1030", "Bank EUR", "539.00", "", "539.00", "490.00 EUR"] in rows(trial, "trial-balance")


def test_general_ledger_without_an_account_shows_the_form_only(client_admin, books):
    # when
    response = page(client_admin, "general_ledger", company=books.pk)

    # then a choice of postable accounts (no parents), no error and no report yet
    content = response.content.decode()
    assert response.status_code == 200
    assert f'<option value="{acct(books, "1000").pk}">1000 Cash</option>' in content
    assert f'<option value="{acct(books, "10").pk}"' not in content
    assert '<ul class="errorlist' not in content
    assert "Please correct the errors below." not in content
    assert 'id="general-ledger"' not in content


def test_dates_default_to_today_and_to_the_current_fiscal_year(client_admin, superuser):
    # given a company whose fiscal year starts in April
    company = company_create(
        name="April Co",
        currency="USD",
        fiscal_year_start=4,
        created_by=superuser,
        chart_template="small_business",
    )
    today = timezone.localdate()
    year_start = datetime.date(today.year if today.month >= 4 else today.year - 1, 4, 1)

    # when
    trial = page(client_admin, "trial_balance", company=company.pk)
    income = page(client_admin, "income_statement", company=company.pk)
    ledger = page(client_admin, "general_ledger", company=company.pk, account=acct(company, "1000").pk)

    # then
    assert input_value(trial, "as_of") == today.isoformat()
    assert 'id="trial-balance"' in trial.content.decode()
    for response in (income, ledger):
        assert (input_value(response, "date_from"), input_value(response, "date_to")) == (
            year_start.isoformat(),
            today.isoformat(),
        )
    assert 'id="income"' in income.content.decode()
    assert 'id="general-ledger"' in ledger.content.decode()


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("trial_balance", {"as_of": "2026-02-30"}, "Enter a valid date, as YYYY-MM-DD (e.g. 2026-03-31)."),
        ("balance_sheet", {"as_of": "31/01/2026"}, "Enter a valid date, as YYYY-MM-DD (e.g. 2026-03-31)."),
        ("trial_balance", {"as_of": "9999-12-31"}, "Enter a date between 1900-01-01 and 9998-12-31."),
        (
            "income_statement",
            {"date_from": "2026-03-01", "date_to": "2026-01-31"},
            "The end date is before the start date.",
        ),
        (
            "income_statement",
            {"date_from": "yesterday"},
            "Enter a valid date, as YYYY-MM-DD (e.g. 2026-03-31).",
        ),
        (
            "general_ledger",
            {"account": "1000", "date_from": "0001-01-01"},
            "Enter a date between 1900-01-01 and 9998-12-31.",
        ),
        ("general_ledger", {"account": "1000", "page_size": "0"}, "greater than or equal to 1"),
    ],
)
def test_bad_input_shows_a_form_error_and_no_report(client_admin, books, name, params, message):
    # given the account as an id
    if "account" in params:
        params = {**params, "account": acct(books, params["account"]).pk}

    # when
    response = page(client_admin, name, company=books.pk, **params)

    # then the form says what is wrong, and no figures are shown
    content = response.content.decode()
    assert response.status_code == 200
    assert "Please correct the errors below." in content
    assert message in content
    assert 'class="report"' not in content
    assert 'id="csv-download"' not in content


def test_an_invalid_page_link_is_a_404(client_admin, books):
    # when
    response = page(
        client_admin,
        "general_ledger",
        company=books.pk,
        account=acct(books, "1000").pk,
        cursor="not-a-cursor",
    )

    # then
    assert response.status_code == 404


@pytest.mark.parametrize("company", ["999999", "abc"])
def test_an_unknown_company_is_a_404(client_admin, books, company):
    # when
    response = page(client_admin, "trial_balance", company=company)

    # then
    assert response.status_code == 404


# --------------------------------------------------------------------------- tenancy


@pytest.fixture
def other(books) -> Company:
    company = company_create(
        name="Other Co", currency="USD", created_by=UserFactory(), chart_template="small_business"
    )
    post(company, "2026-01-15", ("1000", "D", "777.00"), ("4000", "C", "777.00"))
    return company


@pytest.fixture
def viewer(client, books, other):
    """A staff user, viewer of Books Ltd only, without any Django model permission."""
    user = UserFactory(username="viewer", is_staff=True)
    membership_add(company=books, user=user, role="viewer", by=None)
    client.force_login(user)
    return client


def test_a_viewer_reads_their_company_and_chooses_among_theirs_only(viewer, books, other):
    # when no company is named, their only company is chosen
    response = page(viewer, "trial_balance", as_of="2026-01-31")

    # then
    content = response.content.decode()
    assert response.status_code == 200
    assert rows(response, "trial-balance")[-1] == ["", "Total", "12,000.00", "12,000.00", ""]
    assert '<span class="company-name" id="company-name">Books Ltd</span>' in content
    assert "Other Co" not in content
    assert link(response, "csv-download") is not None  # a member: the API serves them the CSV


@pytest.mark.parametrize("name", list(PAGES))
def test_another_company_is_a_404_for_a_viewer(viewer, other, name):
    # when
    response = page(viewer, name, company=other.pk, account=acct(other, "1000").pk)

    # then
    assert response.status_code == 404
    assert b"777.00" not in response.content


def test_another_companys_account_is_not_a_choice(viewer, books, other):
    # when Books Ltd's statement is asked for Other Co's cash account
    response = page(
        viewer, "general_ledger", company=books.pk, account=acct(other, "1000").pk, date_from="2026-01-01"
    )

    # then the form refuses it and nothing of Other Co is shown
    content = response.content.decode()
    assert "Choose a postable account of the selected company." in content
    assert 'id="general-ledger"' not in content
    assert "777.00" not in content


def test_a_staff_user_who_may_read_no_company_gets_403(client, books):
    # given a staff user with model permissions but no membership
    user = UserFactory(username="outsider", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_account", "view_journalentry"]))
    client.force_login(user)

    # when
    responses = [client.get(reverse("admin:ledger_reports"))] + [page(client, name) for name in PAGES]

    # then
    assert [r.status_code for r in responses] == [403] * 5


# --------------------------------------------------------------------------- CSV


@pytest.mark.parametrize(
    ("name", "api_name", "params", "line"),
    [
        ("trial_balance", "trial-balance", {"as_of": "2026-01-31"}, "1000,Cash,asset,800.00,0.00,800.00"),
        ("balance_sheet", "balance-sheet", {"as_of": "2026-02-28"}, ",Current earnings,,1300.00"),
        (
            "income_statement",
            "income-statement",
            {"date_from": "2026-01-01", "date_to": "2026-02-28"},
            ",Net income,,1300.00",
        ),
        (
            "general_ledger",
            "general-ledger",
            {"account": "1000", "date_from": "2026-01-01", "date_to": "2026-02-28"},
            ",,,Closing balance,,,800.00",
        ),
    ],
)
def test_download_csv_link_serves_the_same_report_as_csv(client_admin, books, name, api_name, params, line):
    # given the report page
    if "account" in params:
        params = {**params, "account": acct(books, params["account"]).pk}
    response = page(client_admin, name, company=books.pk, **params)
    url = link(response, "csv-download")
    assert url is not None
    assert url.startswith(f"/api/v1/companies/{books.pk}/reports/{api_name}?")
    assert "format=csv" in url

    # when the link is followed with the admin session
    export = client_admin.get(url)

    # then
    assert export.status_code == 200
    assert export["Content-Type"].startswith("text/csv")
    assert line in export.content.decode().splitlines()


def test_a_superuser_who_is_not_a_member_reads_the_report_but_gets_no_csv_link_nor_export(client, books):
    # given a second superuser, not a member of Books Ltd
    root2 = UserFactory(username="root2", is_staff=True, is_superuser=True)
    client.force_login(root2)

    # when
    response = page(client, "trial_balance", company=books.pk, as_of="2026-01-31")

    # then the page shows the report; the CSV link is left out, because the API would refuse it
    assert rows(response, "trial-balance")[-1] == ["", "Total", "12,000.00", "12,000.00", ""]
    assert link(response, "csv-download") is None
    assert 'id="csv-unavailable"' in response.content.decode()
    assert 'id="export-form"' not in response.content.decode()  # the exports API would refuse it too
    assert client.get(f"/api/v1/companies/{books.pk}/reports/trial-balance?format=csv").status_code == 404
    assert client.post(f"/api/v1/companies/{books.pk}/exports", {"kind": "trial_balance"}).status_code == 404
