"""The admin as an accountant uses it, in headless Chromium: log in, switch company, enter and
post an entry (and see an unbalanced one refused), reverse with confirmation, issue an invoice
and record its payment, read the reports and drill down to an entry, export a report through the
jobs app's exports API and see the job finish, close a period; a viewer sees no change buttons
and a clerk cannot post. Every page is checked for blocked scripts
(the Content-Security-Policy allows no inline script) and script errors; the dashboard and each
report page are saved as screenshots in artifacts/screenshots/.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Company, UserPreference
from accounts.services import company_create, membership_add
from accounts.tests.factories import PASSWORD, UserFactory
from jobs.models import ExportJob
from ledger import reports as ledger_reports
from ledger.models import AccountingPeriod, EntryStatus, JournalEntry, PeriodStatus
from ledger.services import journal_entry_create
from ledger.tests.factories import post_entry
from sales.demo import sales_demo_create
from sales.models import Invoice, InvoiceStatus, Payment
from sales.tests.factories import sales_books
from sofinance.display import display_amount
from sofinance.permissions import Role

pytestmark = pytest.mark.django_db(transaction=True)


def staff(username: str, **roles: tuple[Company, str]) -> None:
    user = UserFactory(username=username, is_staff=True)
    for company, role in roles.values():
        membership_add(company=company, user=user, role=role, by=None)
    return user


def books(name: str = "Books Ltd") -> Company:
    """A company with the small-business chart (its founder is its first admin)."""
    return company_create(
        name=name, currency="USD", created_by=UserFactory(), chart_template="small_business"
    )


def demo_books() -> Company:
    """The demo's four months of books and sales ledger, as `make run` shows them."""
    company = books("Demo Trading Ltd")
    sales_demo_create(company=company)
    return company


def assert_clean(browser) -> None:
    """No blocked script, no script error, nothing wider than the screen."""
    assert browser.console_errors() == []
    assert browser.fits_width(), browser.path


# --------------------------------------------------------------------------- log in, switch, dashboard


def test_log_in_see_the_dashboard_and_switch_company(browser):
    # given an accountant in two companies, one with the demo's books
    demo = demo_books()
    other = books("Northwind Books")
    staff("alice", a=(demo, Role.ADMIN), b=(other, Role.ACCOUNTANT))

    # when she logs in
    browser.login("alice", PASSWORD)

    # then the dashboard of her first company, with its figures and charts drawn
    assert browser.text("#company-select option:checked") == "Demo Trading Ltd"
    assert browser.text("#current-role") == "Admin"
    cash = ledger_reports.cash_position(company=demo, as_of=timezone.localdate())
    assert browser.text("#cash-total") == display_amount(cash.total, "USD")
    assert len(browser.find_all("canvas[data-drawn=true]")) == 2
    for section in ("Ledger", "Sales", "Reports", "Close", "Settings"):
        assert section.upper() in browser.text("#menu-sections")
    assert not browser.exists("#section-system")  # technical models: superusers only
    browser.shot("dashboard")
    assert_clean(browser)

    # when she switches company (the select submits itself)
    browser.select("#company-select", "Northwind Books")
    browser.wait_text("#company-context", "Northwind Books")

    # then every page is Northwind's, and the choice is remembered for her next login
    assert browser.text("#current-role") == "Accountant"
    assert browser.text("#cash-total") == "0.00"
    assert UserPreference.objects.get(user__username="alice").company == other
    browser.login("alice", PASSWORD)
    assert browser.text("#company-select option:checked") == "Northwind Books"
    browser.go("/admin/ledger/journalentry/")
    assert "JE-" not in browser.text("#changelist")  # none of the demo's entries
    assert_clean(browser)


# --------------------------------------------------------------------------- reports


def test_reports_drill_down_from_the_trial_balance_to_an_entry(browser):
    # given the demo's books, one of whose entries has a long description without a space
    demo = demo_books()
    unbroken = "Wire-" + "0123456789" * 30
    last_month = timezone.localdate().replace(day=1) - datetime.timedelta(
        days=3
    )  # open, and in the ledger shown
    post_entry(demo, last_month, ("1010", "1.00", "D"), ("4900", "1.00", "C"), description=unbroken)
    staff("alice", a=(demo, Role.ADMIN))
    browser.login("alice", PASSWORD)

    # when the reports are opened one by one
    browser.go("/admin/accounts/account/reports/")
    browser.shot("reports_index")
    assert_clean(browser)
    pages = {
        "trial_balance": "/admin/accounts/account/reports/trial-balance/",
        "balance_sheet": "/admin/accounts/account/reports/balance-sheet/",
        "income_statement": "/admin/accounts/account/reports/income-statement/?compare=previous_period",
        "ar_aging": "/admin/sales/customer/reports/ar-aging/",
        "sales_summary": "/admin/sales/customer/reports/sales-summary/",
    }
    for name, path in pages.items():
        browser.go(path)
        browser.wait_for("table.report")
        browser.shot(name)
        assert_clean(browser)
    browser.go("/admin/accounts/account/reports/balance-sheet/")
    assert browser.text("#balanced").startswith("✔ Balanced")
    browser.go("/admin/sales/customer/reports/customer-statement/")
    browser.select("#id_customer", "Northwind Traders")
    browser.click("#show-report")
    browser.wait_for("table.report")
    browser.shot("customer_statement")
    assert_clean(browser)

    # then from the trial balance, the bank account's row opens its general ledger...
    browser.go("/admin/accounts/account/reports/trial-balance/")
    assert browser.text("#total-debit") == browser.text("#total-credit")
    browser.click("tr[data-account='1010'] a.drill")
    browser.wait_for("#general-ledger")
    assert "1010 Bank - operating account" in browser.text(".report-note")
    browser.shot("general_ledger")
    assert_clean(browser)
    # ... and a ledger line opens its entry
    number = browser.text("#general-ledger a.entry-link")
    browser.click("#general-ledger a.entry-link")
    browser.wait_for("#journalentry_form")
    assert number in browser.text("div.field-number_explained")
    assert_clean(browser)
    # and a description without a space wraps inside its column, not past the screen
    other_income = demo.accounts.get(code="4900")
    browser.go(
        f"/admin/accounts/account/reports/general-ledger/?account={other_income.pk}"
        f"&date_from={last_month.replace(day=1)}&date_to={last_month}"
    )
    browser.wait_for("#general-ledger")
    assert unbroken in browser.text("#general-ledger")
    browser.shot("general_ledger_long_description")
    assert_clean(browser)


# --------------------------------------------------------------------------- journal entries


def test_an_entry_dated_in_a_closed_month_is_refused_at_its_date(browser):
    # given an accountant, and last month closed
    company = books()
    staff("ann", a=(company, Role.ACCOUNTANT))
    end = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
    AccountingPeriod.objects.create(
        company=company, start_date=end.replace(day=1), end_date=end, status=PeriodStatus.CLOSED
    )
    browser.login("ann", PASSWORD)

    # when she saves a balanced entry dated in it
    browser.go("/admin/ledger/journalentry/add/")
    browser.type("#id_date", end.isoformat())
    browser.type("#id_description", "Accrued rent")
    browser.select2("#id_lines-0-account", "6100")
    browser.type("#id_lines-0-debit", "100.00")
    browser.select2("#id_lines-1-account", "1010")
    browser.type("#id_lines-1-credit", "100.00")
    browser.click("input[name=_continue]")
    browser.wait_for(".errornote")

    # then the refusal stands at the date, says what to do, and nothing is written
    said = browser.text(".field-date .errorlist")
    assert f"{end} falls in the closed period {end.replace(day=1)} – {end}." in said
    assert "A controller reopens the period to post there" in said
    assert not browser.exists(".inline-group .errorlist.nonform")
    browser.shot("journal_entry_closed_period")
    assert_clean(browser)
    assert JournalEntry.objects.count() == 0


def test_enter_and_post_a_balanced_entry_after_an_unbalanced_one_is_refused(browser):
    # given an accountant
    company = books()
    staff("ann", a=(company, Role.ACCOUNTANT))
    browser.login("ann", PASSWORD)
    today = timezone.localdate()

    # when she types an entry whose credit falls short
    browser.go("/admin/ledger/journalentry/add/")
    assert browser.text("#id_company option:checked") == "Books Ltd"  # preselected
    browser.type("#id_date", today.isoformat())
    browser.type("#id_description", "Office rent")
    browser.select2("#id_lines-0-account", "6100")
    browser.type("#id_lines-0-debit", "1200.00")
    browser.select2("#id_lines-1-account", "1010")
    browser.type("#id_lines-1-credit", "1000.00")

    # then the totals say so while she types, and saving is refused with the ledger's words
    browser.wait_text("#total-difference", "200.00")
    assert (browser.text("#total-debit"), browser.text("#total-credit")) == ("1,200.00", "1,000.00")
    assert "unbalanced" in browser.find("#total-difference").get_attribute("class")
    assert browser.fits_width()  # the lines fit a 1440 px screen
    browser.shot("journal_entry_typing")
    browser.click("input[name=_continue]")
    browser.wait_for(".errornote")
    assert "do not equal" in browser.text("#journalentry_form")
    assert JournalEntry.objects.count() == 0

    # when she corrects the credit and saves
    browser.type("#id_lines-1-credit", "1200.00")
    browser.wait_text("#total-difference", "Balanced")
    browser.click("input[name=_continue]")
    browser.wait_for("#post-entry")
    draft = JournalEntry.objects.get()
    assert draft.status == EntryStatus.DRAFT
    assert f"Draft #{draft.pk}" in browser.text("div.field-number_explained")

    # then posting asks first, saying what will happen, and posts on confirmation
    browser.click("#post-entry")
    browser.wait_for("#confirm-post")
    assert "debit 1,200.00 · credit 1,200.00 USD" in browser.text("dl.effects")
    assert JournalEntry.objects.get().status == EntryStatus.DRAFT
    browser.click("#confirm-post")
    browser.wait_text("ul.messagelist", "posted as")
    posted = JournalEntry.objects.get()
    assert posted.status == EntryStatus.POSTED
    assert f"posted as {posted.number}" in browser.text("ul.messagelist")
    assert_clean(browser)


def test_reverse_an_entry_with_a_confirmation(browser):
    # given a posted entry
    company = books()
    staff("ann", a=(company, Role.ACCOUNTANT))
    entry = journal_entry_create(
        company=company,
        date=datetime.date(2026, 1, 5),
        lines=[{"account": "6100", "debit": "750.00"}, {"account": "1010", "credit": "750.00"}],
        by=None,
        description="Rent paid twice",
        post=True,
    )
    browser.login("ann", PASSWORD)

    # when she asks to reverse it
    browser.go(f"/admin/ledger/journalentry/{entry.pk}/change/")
    browser.click("#reverse-entry")
    browser.wait_for("#confirm-reverse")

    # then the page shows the entry it will post, and nothing is posted yet
    assert [row.text for row in browser.find_all("#reversal-lines tbody tr")] == [
        "6100 Rent 750.00",
        "1010 Bank - operating account 750.00",
    ]
    assert browser.find("#id_reversal_date").get_attribute("value") == "2026-01-05"
    assert JournalEntry.objects.count() == 1
    browser.shot("reverse_confirmation")
    browser.type("#id_reversal_date", "2026-01-31")
    browser.type("#id_reversal_description", f"Reversal of {entry.number}: rent paid twice")
    browser.click("#confirm-reverse")
    browser.wait_text("ul.messagelist", "reversed by")

    # then the reversal is posted on the chosen date, saying why, and linked both ways
    entry.refresh_from_db()
    reversal = entry.reversed_by
    assert (reversal.date, reversal.reversal_of_id) == (datetime.date(2026, 1, 31), entry.pk)
    assert reversal.description == f"Reversal of {entry.number}: rent paid twice"
    assert f"reversed by {reversal.number}" in browser.text("ul.messagelist")
    assert browser.path == f"/admin/ledger/journalentry/{reversal.pk}/change/"
    assert_clean(browser)


def test_reverse_entries_from_the_list_asks_first(browser):
    # given two posted entries
    company = books()
    staff("ann", a=(company, Role.ACCOUNTANT))
    entries = [
        journal_entry_create(
            company=company,
            date=datetime.date(2026, 1, day),
            lines=[{"account": "6100", "debit": "750.00"}, {"account": "1010", "credit": "750.00"}],
            by=None,
            description=f"Rent {day}",
            post=True,
        )
        for day in (5, 6)
    ]
    browser.login("ann", PASSWORD)

    # when she ticks both in the list and runs "Reverse selected entries"
    browser.go("/admin/ledger/journalentry/")
    for entry in entries:
        browser.click(f"input.action-select[value='{entry.pk}']")
    browser.select("select[name=action]", "Reverse selected entries")
    browser.click("button[name=index]")
    browser.wait_for("#confirm-selected")

    # then the page names both entries and what reversing does, and nothing is posted yet
    assert [row.text for row in browser.find_all("#confirm-rows li")] == [
        f"{entries[0].number} of 2026-01-05: Rent 5 (posted)",
        f"{entries[1].number} of 2026-01-06: Rent 6 (posted)",
    ]
    assert "cancel out" in browser.text("#confirm-effect")
    assert JournalEntry.objects.count() == 2
    browser.shot("bulk_reverse_confirmation")
    assert_clean(browser)

    # when she confirms
    browser.click("#confirm-selected")
    browser.wait_text("ul.messagelist", "reversed by")

    # then each is reversed once, and she is back on the list
    assert JournalEntry.objects.filter(reversal_of__in=entries).count() == 2
    assert browser.path == "/admin/ledger/journalentry/"
    assert_clean(browser)


def test_an_entrys_history_button_shows_its_audit_trail(browser):
    # given a posted entry and a controller of its company
    company = books()
    staff("cora", a=(company, Role.CONTROLLER))
    entry = journal_entry_create(
        company=company,
        date=datetime.date(2026, 1, 5),
        lines=[{"account": "6100", "debit": "750.00"}, {"account": "1010", "credit": "750.00"}],
        by=None,
        description="Rent",
        post=True,
    )
    browser.login("cora", PASSWORD)

    # when she opens the entry and clicks History
    browser.go(f"/admin/ledger/journalentry/{entry.pk}/change/")
    browser.click("a.historylink")
    browser.wait_for("#audit-history")

    # then the entry's events, in words
    rows = [row.text for row in browser.find_all("#audit-history tbody tr")]
    assert len(rows) == 1 and " Post date 2026-01-05; 2 lines; number " in rows[0]
    browser.shot("entry_history")
    assert_clean(browser)


# --------------------------------------------------------------------------- sales


def test_issue_an_invoice_and_record_its_payment(browser):
    # given a sales ledger and an accountant
    sales = sales_books()
    staff("sam", a=(sales.company, Role.ACCOUNTANT))
    browser.login("sam", PASSWORD)

    # when he drafts an invoice: 3 hours of consulting at 150.00 + 20 % tax
    browser.go("/admin/sales/invoice/add/")
    browser.select("#id_customer", str(sales.acme))
    browser.type("#id_date", "2026-03-02")
    browser.select("#id_lines-0-item", str(sales.consulting))
    browser.type("#id_lines-0-quantity", "3")

    # then the totals are computed while he types
    browser.wait_text("#live-total", "540.00")
    assert (browser.text("#live-subtotal"), browser.text("#live-tax")) == ("450.00 USD", "90.00 USD")
    browser.shot("invoice_typing")
    assert_clean(browser)
    # in euros the item's dollar price is not used: the line asks for its price in EUR
    browser.type("#id_currency", "EUR")
    browser.wait_text("td.field-amounts", "give its price in EUR")
    assert browser.text("#live-total") == "–"
    browser.type("#id_currency", "\b\b\b", clear=False)  # erased key by key, as a person does
    browser.wait_text("#live-total", "540.00")
    browser.click("input[name=_continue]")
    browser.wait_for("#issue-invoice")
    browser.shot("invoice_draft")
    assert_clean(browser)  # its lines table fits beside the menu, amounts column included

    # when he issues it and records the customer's payment against it
    browser.click("#issue-invoice")
    browser.wait_for("#confirm-issue")  # Issue posts to the books: it asks first
    browser.shot("invoice_issue_confirm")
    browser.click("#confirm-issue")
    browser.wait_text("ul.messagelist", "Issued as")
    invoice = Invoice.objects.get()
    assert invoice.status == InvoiceStatus.ISSUED
    browser.click("#record-payment")
    browser.wait_for("#open-invoices")
    assert invoice.number in browser.text("#open-invoices")  # the customer's open invoices are offered
    browser.type("#id_amount", "540.00")
    browser.type(f"input[name=allocate-{invoice.pk}]", "540.00")
    browser.click("input[name=_record]")
    browser.wait_text("ul.messagelist", "recorded")

    # then the payment is recorded and the invoice paid
    payment = Payment.objects.get()
    assert f"Payment {payment.number} recorded (540.00 USD allocated)" in browser.text("ul.messagelist")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_due) == (InvoiceStatus.PAID, Decimal("0.00"))
    assert_clean(browser)


# --------------------------------------------------------------------------- close


def test_generate_the_periods_and_close_a_month(browser):
    # given a controller of a company without periods
    company = books()
    staff("cora", a=(company, Role.CONTROLLER))
    browser.login("cora", PASSWORD)
    year = timezone.localdate().year if timezone.localdate().month >= company.fiscal_year_start else 0

    # when she generates the fiscal year's periods (the page lists them first)
    browser.go("/admin/ledger/accountingperiod/")
    browser.click("#generate-periods")
    browser.wait_for("#confirm-generate")
    assert len(browser.find_all("#periods-to-create tbody tr")) == 12
    assert AccountingPeriod.objects.count() == 0
    browser.click("#confirm-generate")
    browser.wait_text("ul.messagelist", "Created the 12 monthly periods")
    assert AccountingPeriod.objects.filter(company=company).count() == 12
    first = AccountingPeriod.objects.filter(company=company).order_by("start_date").first()
    assert first.start_date.year == (year or first.start_date.year)

    # and closes the first month
    browser.click(f"#close-{first.pk}")
    browser.wait_for("#confirm-close")
    assert "nothing can be posted" in browser.text("#content-main")
    browser.shot("close_period_confirmation")
    browser.click("#confirm-close")
    browser.wait_text("ul.messagelist", "closed")

    # then it is closed, and its next steps are reopen and lock
    first.refresh_from_db()
    assert first.status == PeriodStatus.CLOSED
    assert browser.exists(f"#reopen-{first.pk}") and browser.exists(f"#lock-{first.pk}")
    browser.shot("periods")
    assert_clean(browser)

    # and when she reopens it with a reason, the list says why, and still fits the screen
    browser.click(f"#reopen-{first.pk}")
    browser.wait_for("#confirm-reopen")
    browser.type(
        "#content-main [name='reason']",
        "A late supplier invoice for the office cleaning of the month arrived",
    )
    browser.click("#confirm-reopen")
    browser.wait_text("ul.messagelist", "reopened")
    assert "A late supplier invoice" in browser.text(
        f"#result_list tr:has(#close-{first.pk}) td.field-last_reopened"
    )
    browser.shot("periods_reopened")
    assert_clean(browser)
    # the list's own box does not scroll sideways either (its Lock… buttons were cut off)
    assert browser.driver.execute_script(
        "const box = document.querySelector('.results'); return box.scrollWidth <= box.clientWidth"
    )


# --------------------------------------------------------------------------- roles


def test_a_viewer_sees_no_change_buttons(browser):
    # given a viewer and a posted entry and an issued invoice
    sales = sales_books()
    staff("vic", a=(sales.company, Role.VIEWER))
    entry = journal_entry_create(
        company=sales.company,
        date=datetime.date(2026, 1, 5),
        lines=[{"account": "6100", "debit": "10.00"}, {"account": "1010", "credit": "10.00"}],
        by=None,
        post=True,
    )
    browser.login("vic", PASSWORD)

    # then lists offer no Add, and pages no Save, Post, Reverse or Delete
    for path in ("/admin/ledger/journalentry/", "/admin/sales/invoice/", "/admin/accounts/account/"):
        browser.go(path)
        assert not browser.exists("a.addlink"), path
    browser.go(f"/admin/ledger/journalentry/{entry.pk}/change/")
    for button in ("#post-entry", "#reverse-entry", "input[name=_save]", "a.deletelink"):
        assert not browser.exists(button), button
    browser.go("/admin/")
    assert "Add" not in browser.text("#menu-sections")
    assert_clean(browser)


def test_a_clerk_drafts_but_cannot_post(browser):
    # given a clerk and their draft
    company = books()
    staff("cleo", a=(company, Role.CLERK))
    draft = journal_entry_create(
        company=company,
        date=datetime.date(2026, 1, 5),
        lines=[{"account": "6100", "debit": "10.00"}, {"account": "1010", "credit": "10.00"}],
        by=None,
    )
    browser.login("cleo", PASSWORD)

    # then she may add and change drafts, but has no Post button, and the post page refuses her
    browser.go("/admin/ledger/journalentry/")
    assert browser.exists("a.addlink")
    browser.go(f"/admin/ledger/journalentry/{draft.pk}/change/")
    assert browser.exists("input[name=_save]")
    assert not browser.exists("#post-entry")
    browser.go(f"/admin/ledger/journalentry/{draft.pk}/post/")
    assert browser.driver.title.startswith("Not allowed")
    assert "does not allow" in browser.text("#forbidden-reason")
    browser.shot("refused_in_the_admin")
    draft.refresh_from_db()
    assert draft.status == EntryStatus.DRAFT


# --------------------------------------------------------------------------- exports


def test_start_an_export_from_a_report_and_see_the_worker_finish_it(browser):
    # given an accountant (exports run on the jobs app's workers: eager in the tests)
    company = books()
    staff("ann", a=(company, Role.ACCOUNTANT))
    browser.login("ann", PASSWORD)

    # when she asks for the trial balance as XLSX
    browser.go("/admin/accounts/account/reports/trial-balance/?as_of=2026-01-31")
    browser.click("#export-xlsx")

    # then the page follows the real export job to its end and offers its file
    browser.wait_text("#export-progress .export-status", "done")
    export = ExportJob.objects.get(company=company)
    assert (export.kind, export.format, export.parameters, export.status) == (
        "trial_balance",
        "xlsx",
        {"as_of": "2026-01-31"},
        "done",
    )
    link = browser.find("#export-progress .export-download")
    assert link.is_displayed()
    assert link.get_attribute("href").endswith(f"/api/v1/companies/{company.pk}/exports/{export.pk}/download")
    assert browser.find("#export-progress progress").get_attribute("value") == "100"
    assert_clean(browser)
