"""Banking in the accountant's workplace: its models in the Banking section for each role, the
Bank position dashboard panel, the bank reconciliation report page (registered with the other
reports, date picker, drill-down, refusals), ledger lines opening the bank line they came from,
and the bank lines list for a month of 300 lines."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.services import membership_add
from accounts.tests.factories import UserFactory
from banking import services
from banking.admin_reports import reconciliation_url
from banking.models import BankStatementLine, LineStatus
from banking.tests.factories import (
    BANK_OPENING,
    BOOK_OPENING,
    CHEQUE,
    bank_books,
    bank_month,
    bank_side,
    line,
    march_books,
    upload,
)
from ledger.models import JournalEntry
from ledger.services import journal_entry_reverse
from ledger.tests.factories import company_with_chart, post_entry
from sofinance import report_pages
from sofinance.display import display_amount
from sofinance.permissions import Role

pytestmark = pytest.mark.django_db

REPORT = "admin:banking_reports_bank_reconciliation"
LINES = "admin:banking_bankstatementline_changelist"


def staff(company, role: str, *, superuser: bool = False):
    user = UserFactory(is_staff=True, is_superuser=superuser)
    if company is not None:
        membership_add(company=company, user=user, role=role, by=None)
    client = Client()
    client.force_login(user)
    return user, client


def captions(page: str) -> list[str]:
    return re.findall(r"<caption>([^<]+)</caption>", page)


def section(page: str, title: str) -> str:
    """The menu section `title` of the index page (its table)."""
    match = re.search(rf"<caption>{title}</caption>(.*?)</table>", page, re.S)
    return match.group(1) if match else ""


@pytest.fixture
def march():
    """The hand-computed March of docs/banking.md: statement imported, three lines matched."""
    bank = bank_books()
    books = march_books(bank.company)
    upload(bank, "camt053_march.xml")
    for unique_id, names in (
        ("CAMT-0001", ["receipt"]),
        ("CAMT-0003", ["rent"]),
        ("CAMT-0004", ["order_a", "order_b"]),
    ):
        services.bank_line_match(
            bank_line=line(bank, unique_id), journal_lines=[bank_side(books[n]).pk for n in names], by=None
        )
    return bank, books


# --------------------------------------------------------------------------- menu and roles


def test_banking_models_are_in_the_banking_section_for_a_viewer_without_change_buttons():
    bank = bank_books()
    _, viewer = staff(bank.company, Role.VIEWER)

    page = viewer.get(reverse("admin:index")).content.decode()
    lines = viewer.get(reverse(LINES))
    accounts = viewer.get(reverse("admin:banking_bankaccount_changelist")).content.decode()
    add = viewer.get(reverse("admin:banking_bankaccount_add"))

    assert "Banking" in captions(page)
    banking = section(page, "Banking")
    for title in ("Bank accounts", "Statements", "Bank lines", "Imports"):
        assert title in banking
    assert "addlink" not in banking  # a viewer adds nothing
    assert "Bank reconciliation" in section(page, "Reports")
    assert lines.status_code == 200 and 'name="action"' not in lines.content.decode()
    assert "addlink" not in accounts and add.status_code == 403
    assert "Upload statement" not in accounts and "Reconciliation</a>" in accounts
    assert "column-active" in accounts and "is active" not in accounts.lower()  # no raw field names


def test_a_bank_accounts_page_leads_to_its_upload_statements_lines_and_reconciliation():
    bank = bank_books()
    _, clerk = staff(bank.company, Role.CLERK)
    _, viewer = staff(bank.company, Role.VIEWER)
    change = reverse("admin:banking_bankaccount_change", args=[bank.pk])

    def links(client) -> dict[str, str]:
        page = client.get(change).content.decode()
        tools = re.search(r'<ul class="object-tools">(.*?)</ul>', page, re.S).group(1)
        return {
            id_: url.replace("&amp;", "&")
            for url, id_ in re.findall(r'<a href="([^"]+)" id="([^"]+)"', tools)
        }

    shown = links(clerk)
    assert shown == {
        "account-upload": reverse("admin:banking_bankaccount_upload", args=[bank.pk]),
        "account-statements": reverse("admin:banking_bankstatement_changelist")
        + f"?bank_account__id__exact={bank.pk}",
        "account-lines": reverse(LINES) + f"?bank_account__id__exact={bank.pk}",
        "account-reconciliation": reconciliation_url(bank.pk),
    }
    for url in shown.values():
        assert clerk.get(url, follow=True).status_code == 200
    assert "account-upload" not in links(viewer)  # a viewer uploads nothing
    assert "account-reconciliation" in links(viewer)


def test_an_accountant_adds_bank_accounts_a_clerk_matches_and_neither_sees_beat_schedules():
    bank = bank_books()
    accountant, accountant_client = staff(bank.company, Role.ACCOUNTANT)
    clerk, clerk_client = staff(bank.company, Role.CLERK)

    accountant_index = accountant_client.get(reverse("admin:index")).content.decode()
    clerk_lines = clerk_client.get(reverse(LINES)).content.decode()

    assert accountant.has_perm("banking.add_bankaccount") and not clerk.has_perm("banking.add_bankaccount")
    assert clerk.has_perm("banking.view_bankstatementline")
    assert not accountant.has_perm("django_celery_beat.view_periodictask")
    assert "addlink" in section(accountant_index, "Banking")
    assert "Banking settings" in section(accountant_index, "Settings")
    assert "Import a journal" in section(accountant_index, "Ledger")
    assert "Periodic tasks" not in accountant_index and "System (superusers)" not in accountant_index
    assert 'value="confirm_best_suggestions"' in clerk_lines  # a clerk matches
    clerk_accounts = clerk_client.get(reverse("admin:banking_bankaccount_changelist")).content.decode()
    assert "Upload statement" in clerk_accounts  # and imports statements
    assert "Import a journal" not in section(
        clerk_client.get(reverse("admin:index")).content.decode(), "Ledger"
    )


def test_a_clerk_cannot_post_an_entry_from_a_bank_line_or_reconcile(march):
    bank, _ = march
    _, clerk = staff(bank.company, Role.CLERK)
    fee = line(bank, "CAMT-0002")
    statement = fee.statement
    entries = JournalEntry.objects.count()

    match_page = clerk.get(reverse("admin:banking_bankstatementline_match", args=[fee.pk])).content.decode()
    listed = clerk.get(reverse(LINES)).content.decode()
    posted = clerk.post(
        reverse("admin:banking_bankstatementline_match", args=[fee.pk]),
        {"action": "entry", "account": bank.company.accounts.get(code="6700").pk},
    )
    report = clerk.get(reverse(REPORT), {"bank_account": bank.pk, "as_of": "2026-03-31"}).content.decode()
    reconciled = clerk.post(reverse("admin:banking_bankstatement_reconcile", args=[statement.pk]))

    assert 'id="create-entry"' not in match_page and 'id="manual-match"' in match_page
    assert 'class="line-match"' in listed and 'class="line-entry"' not in listed
    assert (posted.status_code, reconciled.status_code) == (403, 403)
    assert 'id="reconcile-statement"' not in report
    assert JournalEntry.objects.count() == entries
    statement.refresh_from_db()
    assert statement.status == "open"


# --------------------------------------------------------------------------- dashboard


def test_the_bank_position_panel_shows_the_last_statement_against_the_books(march):
    bank, _ = march
    _, viewer = staff(bank.company, Role.VIEWER)

    page = viewer.get(reverse("admin:index")).content.decode()

    panel = re.search(r'<section[^>]*id="panel-bank-position".*?</section>', page, re.S).group(0)
    # The statement closes at 2,654.50 on 2026-03-31; the books hold 2,570.00 that day
    # (1,000 + 1,500 − 300 + 200 + 300 − 250 + 120); the fee is the one line left to match.
    assert "Operating account" in panel and "2026-03-31" in panel
    assert ">2,654.50<" in panel and "2,570.00" in panel and "differs by (84.50)" in panel
    assert "1 line</a>" in panel
    assert f"bank_account={bank.pk}" in panel and "as_of=2026-03-31" in panel


def test_no_bank_panel_nor_report_errors_for_a_company_without_bank_accounts():
    company = company_with_chart(name="No Bank Ltd")
    _, admin = staff(company, Role.ADMIN)

    page = admin.get(reverse("admin:index")).content.decode()
    report = admin.get(reverse(REPORT)).content.decode()

    assert 'id="panel-cash"' in page and 'id="panel-bank-position"' not in page
    assert "no bank account yet" in report and "errornote" not in report
    assert 'id="reconciliation-summary"' not in report


# --------------------------------------------------------------------------- the report page


def test_the_bank_reconciliation_is_a_report_page_with_drill_down(march):
    bank, books = march
    _, viewer = staff(bank.company, Role.VIEWER)

    page = viewer.get(reverse(REPORT), {"bank_account": bank.pk, "as_of": "2026-03-31"}).content.decode()
    index = viewer.get(reverse("admin:ledger_reports")).content.decode()

    assert "bank_reconciliation" in {page_.key for page_ in report_pages.registered()}
    assert reverse(REPORT) in index
    amounts = dict(re.findall(r'<td class="amount" id="([a-z-]+)">([^<]*)</td>', page))
    assert amounts == {
        "statement-balance": "2,654.50",
        "unmatched-bank-total": "(45.50)",  # the fee, not entered yet
        "unmatched-book-total": "(130.00)",  # the cheque not cleared −250 + the deposit in transit 120
        "adjusted-bank-balance": "2,570.00",
        "book-balance": "2,570.00",
        "difference": "0.00",
    }
    fee = line(bank, "CAMT-0002")
    assert reverse("admin:banking_bankstatementline_match", args=[fee.pk]) in page
    cheque = books["cheque"]
    assert reverse("admin:ledger_journalentry_change", args=[cheque.pk]) in page
    assert 'class="vDateField"' in page and 'value="2026-03-31"' in page  # the admin's date picker
    assert 'id="csv-unavailable"' not in page


def test_the_report_page_names_the_entries_it_leaves_out_as_cancelled_by_their_reversal(march):
    bank, _ = march
    _, viewer = staff(bank.company, Role.VIEWER)
    twice = post_entry(bank.company, "2026-03-25", ("6600", "80.00", "D"), ("1010", "80.00", "C"))
    undo = journal_entry_reverse(entry=twice, by=None)

    page = viewer.get(reverse(REPORT), {"bank_account": bank.pk, "as_of": "2026-03-31"}).content.decode()

    book = re.search(r'<table class="report" id="unmatched-book">.*?</table>', page, re.S).group(0)
    assert twice.number not in book and undo.number not in book
    note = re.search(r'<p class="help" id="cancelled-pairs">(.*?)</p>', page, re.S).group(1)
    assert (
        " ".join(note.split())
        == f"Not listed, as each cancels out with its reversal: {twice.number} and {undo.number}."
    )
    assert 'id="difference">0.00<' in page


def test_the_report_defaults_to_the_first_bank_account_and_its_last_statement(march):
    bank, _ = march
    _, viewer = staff(bank.company, Role.VIEWER)

    page = viewer.get(reverse(REPORT)).content.decode()
    redirected = viewer.get(reverse("admin:banking_bankaccount_reconciliation", args=[bank.pk]))

    assert 'id="statement-balance">2,654.50<' in page and "as of the end of 2026-03-31" in page
    assert redirected.status_code == 302
    assert redirected["Location"] == f"{reverse(REPORT)}?bank_account={bank.pk}"


@pytest.mark.parametrize(
    "query",
    [
        {"as_of": "31/03/2026"},
        {"as_of": "2026-02-30"},
        {"as_of": "0001-01-01"},
        {"bank_account": "999999"},
        {"bank_account": "abc"},
    ],
)
def test_bad_report_input_is_a_form_error_and_writes_nothing(march, query):
    bank, _ = march
    _, accountant = staff(bank.company, Role.ACCOUNTANT)
    counts = (
        JournalEntry.objects.count(),
        BankStatementLine.objects.filter(status=LineStatus.MATCHED).count(),
    )

    page = accountant.get(reverse(REPORT), {"bank_account": bank.pk, "as_of": "2026-03-31", **query})

    assert page.status_code == 200
    text = page.content.decode()
    assert "errornote" in text and 'id="reconciliation-summary"' not in text
    assert counts == (
        JournalEntry.objects.count(),
        BankStatementLine.objects.filter(status=LineStatus.MATCHED).count(),
    )


def test_another_companys_bank_account_is_not_reported(march):
    bank, _ = march
    other = bank_books(name="Other Co")
    _, viewer = staff(bank.company, Role.VIEWER)
    _, stranger = staff(other.company, Role.ADMIN)
    _, nobody = staff(None, "", superuser=False)

    foreign = viewer.get(reverse(REPORT), {"bank_account": other.pk, "as_of": "2026-03-31"}).content.decode()
    named = viewer.get(reverse(REPORT), {"company": other.company.pk})
    refused = nobody.get(reverse(REPORT))
    theirs = stranger.get(reverse(REPORT), {"bank_account": bank.pk}).content.decode()

    assert "Choose a bank account of the selected company." in foreign and "2,654.50" not in foreign
    assert named.status_code == 404
    assert refused.status_code == 403
    assert "2,654.50" not in theirs and "Choose a bank account of the selected company." in theirs


def test_a_statement_and_a_lines_page_show_amounts_for_people(march):
    bank, _ = march
    _, viewer = staff(bank.company, Role.VIEWER)
    fee = line(bank, "CAMT-0002")

    statement = viewer.get(
        reverse("admin:banking_bankstatement_change", args=[fee.statement_id])
    ).content.decode()
    fee_page = viewer.get(reverse("admin:banking_bankstatementline_change", args=[fee.pk])).content.decode()

    assert "2,654.50" in statement and "2654.50" not in statement
    assert reconciliation_url(bank.pk, fee.statement.end_date).replace("&", "&amp;") in statement
    assert "(45.50)" in fee_page and "-45.50" not in fee_page


# --------------------------------------------------------------------------- documents


def test_an_entry_posted_from_a_bank_line_links_back_to_it(march):
    bank, books = march
    fee = line(bank, "CAMT-0002")
    services.bank_line_entry_create(
        bank_line=fee, account=bank.company.accounts.get(code="6700").pk, by=None, description="Bank fee"
    )
    entry = JournalEntry.objects.get(company=bank.company, description="Bank fee")
    _, viewer = staff(bank.company, Role.VIEWER)

    ledger = viewer.get(
        reverse("admin:ledger_reports_general_ledger"),
        {"account": bank.account_id, "date_from": "2026-03-01", "date_to": "2026-03-31"},
    ).content.decode()
    entry_page = viewer.get(reverse("admin:ledger_journalentry_change", args=[entry.pk])).content.decode()

    url = reverse("admin:banking_bankstatementline_match", args=[fee.pk])
    assert f'<a href="{url}" class="document-link">Bank line 2026-03-' in ledger
    assert url in entry_page
    # an entry that no bank line cleared has no bank document
    cheque_url = reverse("admin:ledger_journalentry_change", args=[books["cheque"].pk])
    cheque_row = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{re.escape(cheque_url)}.*?</tr>", ledger, re.S).group(0)
    assert "Bank line" not in cheque_row


# --------------------------------------------------------------------------- a month of 300 lines


def test_the_lines_list_of_a_month_filters_what_is_left_to_match_in_few_queries():
    month = bank_month()
    _, clerk = staff(month.bank.company, Role.CLERK)
    url = reverse(LINES)

    with CaptureQueriesContext(connection) as queries:
        everything = clerk.get(url).content.decode()
    left = clerk.get(url, {"matched": "no"}).content.decode()
    matched = clerk.get(url, {"matched": "yes"}).content.decode()

    assert everything.count('class="action-select"') == 300  # the month on one page
    assert left.count('class="action-select"') == 300 and matched.count('class="action-select"') == 0
    assert len(queries) < 30  # suggestions prefetched, one count, no query per row
    receipt = month.receipts[0]
    assert display_amount(receipt.amount, "USD") in everything
    assert "(20.37)" in everything  # money out in parentheses, as every amount of the admin
    assert "Not matched yet" in everything


def test_a_lines_page_lists_the_closest_ledger_lines_first():
    month = bank_month(receipts=40, card_payments=3, fees=2)
    _, clerk = staff(month.bank.company, Role.CLERK)
    receipt = BankStatementLine.objects.get(bank_account=month.bank, reference="RCPT-020")

    page = clerk.get(reverse("admin:banking_bankstatementline_match", args=[receipt.pk])).content.decode()

    candidates = re.search(r'<table id="candidates">.*?</table>', page, re.S).group(0)
    references = re.findall(r"<td>(RCPT-\d+|CHQ-\d+)</td>", candidates)
    assert references[0] == "RCPT-020"  # the same amount first, then the nearest amounts
    assert references[1:3] in (["RCPT-019", "RCPT-021"], ["RCPT-021", "RCPT-019"])


def test_the_lines_list_confirms_a_suggestion_and_the_month_reconciles_to_the_hand_computed_difference():
    month = bank_month(receipts=10, card_payments=5, fees=3)
    _, accountant = staff(month.bank.company, Role.ACCOUNTANT)
    first = BankStatementLine.objects.get(bank_account=month.bank, reference="RCPT-001")

    accountant.post(reverse(LINES), {"action": "confirm_best_suggestions", "_selected_action": [first.pk]})
    report = accountant.get(reverse(REPORT), {"bank_account": month.bank.pk, "as_of": "2026-03-31"})
    report = report.content.decode()

    first.refresh_from_db()
    assert first.status == LineStatus.MATCHED
    received = sum((r.amount for r in month.receipts), Decimal(0))
    books = BOOK_OPENING + received - 2 * CHEQUE
    assert f'id="book-balance">{display_amount(books, "USD")}<' in report
    assert f'id="statement-balance">{display_amount(month.bank_closing, "USD")}<' in report
    assert 'id="difference">25.00<' in report  # BOOK_OPENING − BANK_OPENING: before the feed
    assert Decimal("25.00") == BOOK_OPENING - BANK_OPENING
