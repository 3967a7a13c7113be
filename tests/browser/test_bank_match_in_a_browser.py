"""Matching a bank line by hand in headless Chromium: the ticked ledger lines' running total
against the bank line (static/banking/match_total.js), then the match; a line carried from a
reconciled month posted after it. Screenshots in artifacts/screenshots/: bank_line_match_by_hand,
bank_line_carried.
"""

from __future__ import annotations

import datetime

import pytest

from banking.models import LineStatus
from banking.tests.factories import bank_books, bank_side, line, march_books, march_reconciled, upload
from ledger.models import JournalEntry
from ledger.tests.factories import post_entry
from sofinance.permissions import Role
from tests.browser.test_admin_in_a_browser import PASSWORD, assert_clean, staff

pytestmark = pytest.mark.django_db(transaction=True)


def test_ticking_ledger_lines_shows_their_total_against_the_bank_line(browser):
    # given the March books and the bank's statement: one transfer of 500.00 paying two deposits
    bank = bank_books()
    books = march_books(bank.company)
    upload(bank, "camt053_march.xml")
    transfer = line(bank, "CAMT-0004")
    order_a, order_b = bank_side(books["order_a"]), bank_side(books["order_b"])
    staff("ann", a=(bank.company, Role.ACCOUNTANT))
    browser.login("ann", PASSWORD)

    # when she opens the line's match page, nothing is ticked yet
    browser.go(f"/admin/banking/bankstatementline/{transfer.pk}/match/")
    browser.wait_for("#manual-match")
    browser.wait_text("#ticked-total", "Tick the ledger lines")

    # then ticking the 200.00 deposit says what is missing
    browser.click(f"#manual-match input[value='{order_a.pk}']")
    browser.wait_text(
        "#ticked-total", "Ticked: 1 line, 200.00; the bank line is 500.00, a difference of 300.00."
    )
    assert "unbalanced" in browser.find("#ticked-total").get_attribute("class")

    # and ticking the 300.00 one too makes them equal
    browser.click(f"#manual-match input[value='{order_b.pk}']")
    browser.wait_text("#ticked-total", "Ticked: 2 lines, 500.00; equal to the bank line.")
    assert "balanced" in browser.find("#ticked-total").get_attribute("class").split()
    browser.shot("bank_line_match_by_hand")
    assert_clean(browser)

    # and the match is made with both
    browser.click("#manual-match input[type=submit]")
    browser.wait_for("ul.messagelist")
    transfer.refresh_from_db()
    assert transfer.status == LineStatus.MATCHED
    assert sorted(transfer.matches.values_list("journal_line_id", flat=True)) == sorted(
        [order_a.pk, order_b.pk]
    )


def test_a_fee_carried_from_a_reconciled_month_is_posted_after_it(browser):
    # given March reconciled with its bank fee not in the books
    bank, _books, _march, _stored = march_reconciled()
    fee = line(bank, "CAMT-0002")
    staff("ann", a=(bank.company, Role.ACCOUNTANT))
    browser.login("ann", PASSWORD)

    # when she opens the fee's page, it says it is carried and dates the entry after March
    browser.go(f"/admin/banking/bankstatementline/{fee.pk}/match/")
    browser.wait_for("#carried")
    assert "after 2026-03-31, the last reconciled day" in browser.text("#carried")
    date_input = browser.find("#create-entry input[name=date]")
    # the admin's YYYY-MM-DD text input with its calendar, not the browser's own (11/15/2026)
    assert (date_input.get_attribute("value"), date_input.get_attribute("type")) == ("2026-04-01", "text")
    browser.select("#create-entry select[name=account]", "6700 Bank fees")
    browser.type("#create-entry input[name=description]", "March card fees")
    browser.shot("bank_line_carried")
    assert_clean(browser)
    browser.click("#create-entry input[type=submit]")

    # then the fee is posted on April 1 and matched
    browser.wait_for("ul.messagelist")
    assert "posted as" in browser.text("ul.messagelist")
    fee.refresh_from_db()
    assert fee.status == LineStatus.MATCHED
    entry = JournalEntry.objects.get(company=bank.company, description="March card fees")
    assert entry.date == datetime.date(2026, 4, 1)


def test_a_reconciled_statement_shows_its_stored_items_and_when_the_books_moved(browser):
    # given March reconciled, and a charge posted afterwards dated inside it
    bank, _books, march, _stored = march_reconciled()
    post_entry(bank.company, "2026-03-20", ("6700", "20.00", "D"), ("1010", "20.00", "C"))
    staff("ann", a=(bank.company, Role.ACCOUNTANT))
    browser.login("ann", PASSWORD)

    # when she opens the statement
    browser.go(f"/admin/banking/bankstatement/{march.pk}/change/")
    browser.wait_for("#changed-since")

    # then it says the books moved since, by which entry, and lists the items it stored
    assert "is now 2,550.00 (stored 2,570.00)" in browser.text("#changed-since")
    assert "Bank line not in the books" in browser.text("#stored-items")
    browser.shot("statement_books_moved")
    assert_clean(browser)
