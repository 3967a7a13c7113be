"""Banking and the integrity checks in the accountant's admin, in headless Chromium: a month of
300 bank lines (list, filter what is left to match, confirm a suggestion, post a fee's entry), the
bank reconciliation report against the hand-computed difference, the dashboard's Bank position
and Integrity panels (and a quarantined record's warning), roles. Screenshots in
artifacts/screenshots/: dashboard_banking, bank_lines, bank_line_match, bank_reconciliation,
discrepancies.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import Q

from banking.demo import banking_demo_create
from banking.models import BankStatementLine, LineStatus
from banking.tests.factories import BANK_OPENING, BOOK_OPENING, CHEQUE, FEE, bank_month
from jobs.models import Discrepancy
from jobs.services import integrity_run_execute, integrity_run_request
from jobs.tests.factories import sql
from ledger.models import JournalEntry, JournalLine
from sales.models import Invoice, InvoiceStatus
from sofinance.display import display_amount
from sofinance.permissions import Role
from tests.browser.test_admin_in_a_browser import PASSWORD, assert_clean, demo_books, staff

pytestmark = pytest.mark.django_db(transaction=True)


def rows(browser) -> int:
    return len(browser.find_all("#result_list tbody tr"))


# --------------------------------------------------------------------------- a month of bank lines


def test_work_through_a_month_of_300_bank_lines_and_reconcile(browser):
    # given a bank account with a statement of 300 lines for March and an accountant
    month = bank_month()
    company = month.bank.company
    staff("ann", a=(company, Role.ACCOUNTANT))
    browser.login("ann", PASSWORD)

    # when she opens the bank lines from the menu and keeps those not matched yet
    browser.go("/admin/")
    browser.click_link("Bank lines")
    browser.wait_for("#result_list")
    assert rows(browser) == 300  # the month on one page
    browser.click_link("Not matched yet")
    browser.wait_for("#changelist-filter li.selected")
    assert rows(browser) == 300
    first = month.receipts[0]
    assert display_amount(first.amount, "USD") in browser.text("#result_list")
    browser.shot("bank_lines")
    assert_clean(browser)

    # and confirms the suggestion of the first customer receipt
    receipt = BankStatementLine.objects.get(bank_account=month.bank, reference=first.reference)
    browser.click(f"#result_list a.line-match[href*='/{receipt.pk}/match/']")
    browser.wait_for("#suggestions")
    assert first.reference in browser.text("#line-summary")
    browser.shot("bank_line_match")
    browser.click("#suggestions input[type=submit]")
    browser.wait_text("ul.messagelist", "matched")
    receipt.refresh_from_db()
    assert receipt.status == LineStatus.MATCHED
    assert_clean(browser)

    # and posts the entry of a bank fee from the list (search, then its Entry… link)
    browser.go("/admin/banking/bankstatementline/?matched=no")
    browser.type("#searchbar", "FEE-05")
    browser.click("#changelist-search input[type=submit]")
    browser.wait_text("#result_list", "FEE-05")
    assert rows(browser) == 1
    browser.click("#result_list a.line-entry")
    browser.wait_for("#create-entry")
    browser.select("#create-entry select[name=account]", "6700 Bank fees")
    browser.type("#create-entry input[name=description]", "Bank fee March")
    browser.click("#create-entry input[type=submit]")
    browser.wait_text("ul.messagelist", "matched")
    fee = BankStatementLine.objects.get(bank_account=month.bank, reference="FEE-05")
    assert fee.status == LineStatus.MATCHED
    entry = JournalEntry.objects.get(company=company, description="Bank fee March")
    assert entry.number and entry.date == fee.date

    # then the bank reconciliation, opened from the dashboard, shows the hand-computed figures
    browser.go("/admin/")
    browser.click("#panel-bank-position a.bank-report-link")
    browser.wait_for("#reconciliation-summary")
    received = sum((line.amount for line in month.receipts), Decimal(0))
    paid = sum((line.amount for line in month.card_payments), Decimal(0))
    fees = FEE * len(month.fees)
    bank = BANK_OPENING + received + paid + fees
    book = BOOK_OPENING + received - 2 * CHEQUE + FEE  # the receipts, two cheques, the fee entered
    unmatched_bank = received - first.amount + paid + fees - FEE
    unmatched_book = received - first.amount - 2 * CHEQUE
    adjusted = bank - unmatched_bank + unmatched_book
    assert browser.text("#statement-balance") == display_amount(bank, "USD")
    assert browser.text("#book-balance") == display_amount(book, "USD")
    assert browser.text("#unmatched-bank-total") == display_amount(unmatched_bank, "USD")
    assert browser.text("#unmatched-book-total") == display_amount(unmatched_book, "USD")
    assert browser.text("#adjusted-bank-balance") == display_amount(adjusted, "USD")
    assert browser.text("#difference") == "25.00" == display_amount(BOOK_OPENING - BANK_OPENING, "USD")
    assert "25.00 is from before the first statement" in browser.text("#opening-difference")
    assert len(browser.find_all("#unmatched-bank tbody tr")) == 298  # 300 less the two matched
    assert browser.find("#id_as_of").get_attribute("value") == "2026-03-31"
    browser.shot("bank_reconciliation")
    assert_clean(browser)

    # and a book line drills down to its entry
    browser.click("#unmatched-book a.entry-link")
    browser.wait_for("#journalentry_form")
    assert_clean(browser)


def test_a_clerk_matches_but_posts_no_entry_and_a_viewer_only_reads(browser):
    # given a small month
    month = bank_month(receipts=3, card_payments=2, fees=2)
    company = month.bank.company
    staff("cleo", a=(company, Role.CLERK))
    staff("vic", a=(company, Role.VIEWER))
    fee = BankStatementLine.objects.get(bank_account=month.bank, reference="FEE-01")

    # then the clerk may confirm suggestions from the list, but a fee's page offers no entry
    browser.login("cleo", PASSWORD)
    browser.go("/admin/banking/bankstatementline/")
    assert browser.exists("select[name=action]")
    browser.go(f"/admin/banking/bankstatementline/{fee.pk}/match/")
    assert browser.exists("#manual-match") and not browser.exists("#create-entry")
    assert_clean(browser)

    # and the viewer sees the lines with no action, no match form, no Add
    browser.login("vic", PASSWORD)
    browser.go("/admin/banking/bankstatementline/")
    assert not browser.exists("select[name=action]")
    browser.go(f"/admin/banking/bankstatementline/{fee.pk}/match/")
    assert not browser.exists("#manual-match") and not browser.exists("#suggestions input[type=submit]")
    browser.go("/admin/banking/bankaccount/")
    assert not browser.exists("a.addlink")
    assert_clean(browser)


# --------------------------------------------------------------------------- dashboard


def test_the_demo_months_bank_lines_and_bank_ledger_fit_a_laptop_screen_beside_the_menu(browser):
    # given the demo's books and last month's statement, partly matched, on a 1400 px screen
    demo = demo_books()
    banking_demo_create(company=demo, by=None)
    staff("ann", a=(demo, Role.ACCOUNTANT))
    browser.driver.set_window_size(1400, 900)
    browser.login("ann", PASSWORD)
    bank = demo.accounts.get(code="1010")
    month = BankStatementLine.objects.filter(company=demo).order_by("date")
    first, last = month.first().date.replace(day=1), month.last().date

    # when she opens the bank lines, and the bank account's ledger for the month
    browser.go("/admin/banking/bankstatementline/")
    browser.wait_for("#result_list")

    # then every row's links are on screen (the list's box does not scroll sideways) ...
    assert rows(browser) == month.count()
    assert browser.exists("#result_list a.line-entry")  # lines left to post or match
    assert_clean(browser)
    # ... and so is the ledger's running balance (a document's label wraps instead)
    browser.go(
        f"/admin/accounts/account/reports/general-ledger/?account={bank.pk}&date_from={first}&date_to={last}"
    )
    browser.wait_for("#general-ledger")
    assert "Bank line" in browser.text("#general-ledger")
    assert_clean(browser)


def test_the_dashboard_shows_the_bank_position_and_the_integrity_checks(browser):
    # given the demo's books and bank statement, and an integrity run that found an invoice's
    # revenue moved to another account behind the services' back
    demo = demo_books()
    banking_demo_create(company=demo, by=None)
    invoice = Invoice.objects.filter(company=demo, status=InvoiceStatus.PAID).order_by("id").first()
    revenue = JournalLine.objects.filter(entry_id=invoice.journal_entry_id, credit__gt=0).filter(
        Q(account__code="4000") | Q(account__code="4100")
    )[0]
    other = demo.accounts.get(code="4100" if revenue.account.code == "4000" else "4000")
    sql("UPDATE ledger_journalline SET account_id = %s WHERE id = %s", [other.pk, revenue.pk])
    run = integrity_run_execute(run_id=integrity_run_request(company=demo, by=None, enqueue=False).pk)
    assert Discrepancy.objects.filter(company=demo, status="open").exists()
    staff("alice", a=(demo, Role.ADMIN))

    # when the admin logs in
    browser.login("alice", PASSWORD)

    # then the dashboard shows the bank account's last statement and what is left to match...
    bank_panel = browser.find("#panel-bank-position")
    assert "Operating account" in bank_panel.text
    left = BankStatementLine.objects.filter(company=demo).exclude(status=LineStatus.MATCHED).count()
    assert browser.text("#panel-bank-position a.unmatched-link") == f"{left} lines"
    # ... and the latest run with the open discrepancies, linking the records and drafts
    assert browser.text("#integrity-status") == "Done"
    assert f"#{run.pk}" in browser.text("#integrity-run")
    opened = Discrepancy.objects.filter(company=demo, status="open").count()
    assert browser.text("#integrity-open-count") == str(opened)
    assert invoice.number in browser.text("#open-discrepancies")
    browser.shot("dashboard_banking")
    assert_clean(browser)

    # when she follows the invoice's link, its page says it is quarantined
    browser.click("#open-discrepancies a.record-link")
    browser.wait_for("ul.messagelist")
    assert "Quarantined" in browser.text("ul.messagelist")
    assert_clean(browser)

    # and the discrepancies list reads as the panel does
    browser.click_link("Discrepancies")
    browser.wait_for("#result_list")
    assert "Invoice entry mismatch" in browser.text("#result_list")
    browser.shot("discrepancies")
    assert_clean(browser)


# --------------------------------------------------------------------------- buttons of a record's page


def test_a_statements_reconcile_and_reopen_buttons_work_from_its_page(browser):
    # given a March statement whose lines are matched but the bank fee's, and a controller on its page. Its buttons'
    # forms sat inside the change form, where the browser drops a form: "Mark reconciled" did nothing.
    from banking.models import BankStatement
    from banking.tests.factories import march_matched

    bank, _books, statement = march_matched()
    staff("ann", a=(bank.company, Role.CONTROLLER))
    browser.login("ann", PASSWORD)
    page = f"/admin/banking/bankstatement/{statement.pk}/change/"

    # when she marks it reconciled from its page, and confirms on the page that asks first
    browser.go(page)
    browser.click("button[form='reconcile-form']")
    browser.wait_for("#confirm-reconcile")
    assert "freezes it" in browser.text("#content")
    assert BankStatement.objects.get(pk=statement.pk).status == "open"  # asked, not done
    browser.shot("statement_reconcile_asks_first")
    # the bank fee is not matched to the books: "Yes" does nothing until she carries it in words
    browser.click("#confirm-reconcile")
    assert BankStatement.objects.get(pk=statement.pk).status == "open"
    browser.click("#acknowledge")
    browser.click("#confirm-reconcile")
    browser.wait_for("ul.messagelist")

    # then it is reconciled; and reopened with a reason, and reconciled again, from the same page
    assert BankStatement.objects.get(pk=statement.pk).status == "reconciled"
    browser.go(page)
    browser.type("input[form='reopen-form'][name='reason']", "A fee was booked twice")
    browser.click("button[form='reopen-form']")
    browser.wait_for("ul.messagelist")
    assert BankStatement.objects.get(pk=statement.pk).status == "open"
    browser.go(page)
    browser.click("button[form='reconcile-form']")
    browser.wait_for("#acknowledge").click()
    browser.click("#confirm-reconcile")
    browser.wait_for("ul.messagelist")
    assert BankStatement.objects.get(pk=statement.pk).status == "reconciled"
    browser.shot("statement_reconciled_from_its_page")
    assert_clean(browser)


def test_a_payments_unallocate_button_unallocates_from_its_page(browser):
    # given a payment allocated to an invoice. The Unallocate button's form sat inside the payment's
    # change form: the browser dropped it and the button submitted the payment form (403).
    import datetime

    from sales import services as sales_services
    from sales.tests.factories import issued, sales_books

    books = sales_books()
    invoice = issued(books, books.acme, "2026-03-01", "100.00")
    payment = sales_services.payment_record(
        company=books.company, customer=books.acme, date=datetime.date(2026, 3, 5), amount="60.00", by=None
    )
    sales_services.payment_allocate(
        payment=payment,
        allocations=[{"invoice": invoice, "amount": "60.00"}],
        by=None,
        date=datetime.date(2026, 3, 5),
    )
    allocation = payment.allocations.get()
    staff("ann", a=(books.company, Role.ACCOUNTANT))
    browser.login("ann", PASSWORD)

    # when she unallocates it from the payment's page, dated the 6th
    browser.go(f"/admin/sales/payment/{payment.pk}/change/")
    browser.type(f"input[form='unallocate-form-{allocation.pk}']", "2026-03-06")
    browser.click(f"#unallocate-{allocation.pk}")
    browser.wait_for("#confirm-unallocate")  # it asks first, naming the invoice and the date
    assert "2026-03-06" in browser.text("#content-main") and invoice.number in browser.text("#content-main")
    allocation.refresh_from_db()
    assert allocation.unallocated_on is None
    browser.shot("payment_unallocate_confirmation")
    browser.click("#confirm-unallocate")
    browser.wait_for("ul.messagelist")

    # then the allocation is undone from that day, and the page says so
    allocation.refresh_from_db()
    assert allocation.unallocated_on == datetime.date(2026, 3, 6)
    assert "403" not in browser.text("body")
    browser.shot("payment_unallocated_from_its_page")
    assert_clean(browser)


# --------------------------------------------------------------------------- a bank account's CSV mapping


def test_a_bank_accounts_csv_columns_are_filled_in_as_fields_and_saved(browser):
    # given a bank account with no CSV mapping yet, and an accountant on its page
    from banking.models import BankAccount
    from banking.parsers.csv_statement import csv_mapping_clean
    from banking.tests.factories import EUROPEAN_MAPPING, bank_books

    bank = bank_books()
    staff("ann", a=(bank.company, Role.ACCOUNTANT))
    browser.login("ann", PASSWORD)
    browser.go(f"/admin/banking/bankaccount/{bank.pk}/change/")

    # when she opens "CSV statements" and says how her bank's file reads
    browser.click("fieldset.csv-mapping summary")
    browser.select("#id_delimiter", "Semicolon ( ; )")
    browser.type("#id_date_column", "Booking date")
    assert not browser.find("#id_date_format_1").is_displayed()  # typed in only for "Other format…"
    browser.select("#id_date_format_0", "Other format…")
    assert browser.find("#id_date_format_1").is_displayed()
    browser.select("#id_date_format_0", "31.03.2026 (DD.MM.YYYY)")
    browser.type("#id_amount_column", "Amount")
    browser.select("#id_decimal_separator", "Comma: 1234,56")
    browser.select("#id_thousands_separator", "Point: 1.234,56")
    browser.type("#id_counterparty_column", "Payee")
    browser.type("#id_reference_column", "Reference")
    browser.type("#id_description_column", "Details")
    browser.type("#id_balance_column", "Balance")
    browser.click("input[name=_continue]")
    browser.wait_for("ul.messagelist")

    # then the mapping is saved as the API saves it, and the page shows it again in its fields
    assert BankAccount.objects.get(pk=bank.pk).csv_mapping == csv_mapping_clean(EUROPEAN_MAPPING)
    assert browser.find("#id_date_column").get_attribute("value") == "Booking date"
    assert browser.find("#id_date_format_0").get_attribute("value") == "%d.%m.%Y"
    assert browser.find("#id_amounts_0").is_selected()
    browser.shot("csv_mapping")
    assert_clean(browser)
