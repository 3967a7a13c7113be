"""Periods and the close in the admin (ledger.admin_close): each step's page says what it will do
and writes nothing; its POST calls the ledger service; refusals are shown and write nothing."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.services import membership_add
from accounts.tests.factories import UserFactory
from audit.models import AuditEvent
from ledger.models import AccountingPeriod, EntrySource, FiscalYearClose, JournalEntry, PeriodStatus
from ledger.tests.factories import company_with_chart, post_entry
from sofinance.permissions import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def books():
    company = company_with_chart()
    post_entry(company, "2025-03-10", ("1010", "900.00", "D"), ("4000", "900.00", "C"))
    post_entry(company, "2025-04-02", ("6100", "250.00", "D"), ("1010", "250.00", "C"))
    return company


def member(company, role):
    user = UserFactory(is_staff=True)
    membership_add(company=company, user=user, role=role, by=None)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def controller(books):
    return member(books, Role.CONTROLLER)


def url(name, *args):
    return reverse(f"admin:ledger_accountingperiod_{name}", args=args)


def test_generating_a_fiscal_year_shows_its_months_then_creates_them(books, controller):
    # when the page is opened
    page = controller.get(url("generate"), {"fiscal_year": "2025"})

    # then it lists the twelve periods it would create, and creates nothing
    assert page.status_code == 200
    assert len(re.findall(r"<tr><td>FY2025 ", page.content.decode())) == 12
    assert AccountingPeriod.objects.count() == 0

    # when confirmed
    done = controller.post(url("generate"), {"fiscal_year": "2025"}, follow=True)

    # then
    assert "Created the 12 monthly periods of fiscal year 2025." in done.content.decode()
    assert AccountingPeriod.objects.filter(company=books, status=PeriodStatus.OPEN).count() == 12

    # and a second time is refused on the page, nothing more written
    again = controller.post(url("generate"), {"fiscal_year": "2025"})
    assert "overlaps" in again.content.decode()
    assert AccountingPeriod.objects.count() == 12


def test_close_reopen_with_a_reason_and_lock_a_period(books, controller):
    controller.post(url("generate"), {"fiscal_year": "2025"})
    march = AccountingPeriod.objects.get(company=books, start_date=datetime.date(2025, 3, 1))
    post_entry(books, "2025-03-20", ("6100", "5.00", "D"), ("1010", "5.00", "C"), post=False)

    # the close page warns of the draft it strands, and changes nothing
    page = controller.get(url("close", march.pk)).content.decode()
    assert 'id="drafts-stranded">1 draft entry is dated in this period' in page
    assert AccountingPeriod.objects.get(pk=march.pk).status == PeriodStatus.OPEN

    controller.post(url("close", march.pk))
    assert AccountingPeriod.objects.get(pk=march.pk).status == PeriodStatus.CLOSED

    # reopening needs a reason: refused on the page, nothing changes
    refused = controller.post(url("reopen", march.pk), {"reason": ""})
    assert "This field is required." in refused.content.decode()
    assert AccountingPeriod.objects.get(pk=march.pk).status == PeriodStatus.CLOSED

    controller.post(url("reopen", march.pk), {"reason": "Late supplier bill"})
    assert AccountingPeriod.objects.get(pk=march.pk).status == PeriodStatus.OPEN
    assert AuditEvent.objects.get(action="reopen", object_id=str(march.pk)).metadata == {
        "reason": "Late supplier bill"
    }

    controller.post(url("lock", march.pk))
    assert AccountingPeriod.objects.get(pk=march.pk).status == PeriodStatus.LOCKED
    refused = controller.post(url("reopen", march.pk), {"reason": "again"})
    assert "A locked period cannot be reopened." in refused.content.decode()


def test_the_period_list_and_page_show_why_a_period_was_reopened(books, controller):
    controller.post(url("generate"), {"fiscal_year": "2025"})
    march = AccountingPeriod.objects.get(company=books, start_date=datetime.date(2025, 3, 1))
    april = AccountingPeriod.objects.get(company=books, start_date=datetime.date(2025, 4, 1))
    for reason in ("Late supplier bill", "Bank fee missed"):
        controller.post(url("close", march.pk))
        controller.post(url("reopen", march.pk), {"reason": reason})

    # the list names the latest reason beside March, nothing beside April (never reopened)
    listing = controller.get(reverse("admin:ledger_accountingperiod_changelist")).content.decode()
    cells = dict(
        re.findall(
            r'<a href="/admin/ledger/accountingperiod/(\d+)/change/[^>]*>.*?</a>.*?'
            r'<td class="field-last_reopened">(.*?)</td>',
            listing,
            re.S,
        )
    )
    assert re.fullmatch(
        r'<span class="reopened">\d{4}-\d\d-\d\d \d\d:\d\d by .+: Bank fee missed</span>',
        cells[str(march.pk)],
    )
    assert cells[str(april.pk)] == "-"  # the admin's empty value

    # the period's page lists every reopening, latest first
    page = controller.get(reverse("admin:ledger_accountingperiod_change", args=[march.pk])).content.decode()
    reasons = re.findall(r"<li>\d{4}-\d\d-\d\d \d\d:\d\d by [^<]+: ([^<]+)</li>", page)
    assert reasons == ["Bank fee missed", "Late supplier bill"]
    april_page = controller.get(reverse("admin:ledger_accountingperiod_change", args=[april.pk]))
    assert "Never" in april_page.content.decode()


def test_closing_the_fiscal_year_shows_the_closing_entry_then_posts_it(books, controller):
    # when the page is opened
    page = controller.get(url("close_year"), {"fiscal_year": "2025"}).content.decode()

    # then it shows the net result and the closing entry's lines, and writes nothing
    assert 'id="net-result">650.00 USD (a profit, credited to retained earnings)' in page
    rows = re.findall(
        r"<tr><td>([^<]+)</td><td>[^<]*</td><td class=\"amount\">([^<]*)</td><td class=\"amount\">([^<]*)</td></tr>",
        page,
    )
    assert rows == [
        ("4000 Sales revenue", "900.00", ""),
        ("6100 Rent", "", "250.00"),
        ("3200 Retained earnings", "", "650.00"),
    ]
    # with its totals, which balance
    assert 'id="closing-total-debit">900.00<' in page and 'id="closing-total-credit">900.00<' in page
    assert not FiscalYearClose.objects.exists()

    # when confirmed
    controller.post(url("close_year"), {"fiscal_year": "2025"})

    # then the closing entry is posted and the year's periods are closed
    record = FiscalYearClose.objects.get(company=books)
    assert record.closing_entry.source == EntrySource.CLOSING
    assert AccountingPeriod.objects.filter(company=books, status=PeriodStatus.CLOSED).count() == 12

    # and reopening the year (with a reason) reverses it
    controller.post(url("reopen_year"), {"fiscal_year": "2025", "reason": "Audit adjustment"})
    record.refresh_from_db()
    assert record.reopened_at is not None
    assert JournalEntry.objects.filter(reversal_of=record.closing_entry).exists()


def test_the_periods_of_a_closed_year_offer_reopening_the_year_not_the_period(books, controller):
    # given 2024 and 2025 closed as years, and a month of 2026 closed on its own
    controller.post(url("close_year"), {"fiscal_year": "2024"})
    controller.post(url("close_year"), {"fiscal_year": "2025"})
    assert FiscalYearClose.objects.filter(company=books).count() == 2
    controller.post(url("generate"), {"fiscal_year": "2026"})
    january = AccountingPeriod.objects.get(company=books, start_date=datetime.date(2026, 1, 1))
    controller.post(url("close", january.pk))
    march_2025 = AccountingPeriod.objects.get(company=books, start_date=datetime.date(2025, 3, 1))

    # when the periods are listed
    page = controller.get(reverse("admin:ledger_accountingperiod_changelist"), {"all": ""}).content.decode()

    # then a 2025 month offers reopening its year (the period's own Reopen… would be refused)
    assert f'id="reopen-{march_2025.pk}"' not in page
    assert (
        f'href="{url("reopen_year")}?fiscal_year=2025" class="button period-step" id="reopen-year-{march_2025.pk}"'
        in page
    )
    # and still Lock…, while a month closed on its own keeps its Reopen…
    assert f'id="lock-{march_2025.pk}"' in page
    assert f'id="reopen-{january.pk}"' in page

    # and the year's page opens on the year asked for (not the latest closed one)
    reopen = controller.get(url("reopen_year"), {"fiscal_year": "2024"})
    assert reopen.context["year"] == 2024
    assert reopen.context["form"]["fiscal_year"].value() == 2024


def test_the_company_form_refuses_moving_the_fiscal_year_start_under_a_closed_year(books, controller):
    controller.post(url("close_year"), {"fiscal_year": "2025"})
    admin = member(books, Role.ADMIN)
    change = reverse("admin:accounts_company_change", args=[books.pk])
    form = {"name": books.name, "currency": "EUR", "fiscal_year_start": "7"}
    events = AuditEvent.objects.count()

    page = admin.post(change, form)

    # the form says why for each field, and saves nothing
    assert page.status_code == 200
    errors = page.context["adminform"].form.errors
    assert errors["fiscal_year_start"] == [
        "The fiscal year start cannot change while a fiscal year is closed: reopen the closed years "
        "first (their closing entries were made for the current start; closed: 2025-01-01 – 2025-12-31)."
    ]
    assert errors["currency"] == ["The functional currency cannot change once the company has accounts."]
    books.refresh_from_db()
    assert (books.currency, books.fiscal_year_start, AuditEvent.objects.count()) == ("USD", 1, events)
    # the name alone still changes
    saved = admin.post(change, {**form, "currency": "USD", "fiscal_year_start": "1", "name": "Renamed Ltd"})
    assert saved.status_code == 302
    books.refresh_from_db()
    assert books.name == "Renamed Ltd"


def test_an_accountant_may_not_manage_periods(books):
    accountant = member(books, Role.ACCOUNTANT)
    controller_client = member(books, Role.CONTROLLER)
    controller_client.post(url("generate"), {"fiscal_year": "2025"})
    period = AccountingPeriod.objects.filter(company=books).first()

    responses = [
        accountant.get(url("generate")),
        accountant.post(url("generate"), {"fiscal_year": "2026"}),
        accountant.post(url("close", period.pk)),
        accountant.post(url("close_year"), {"fiscal_year": "2025"}),
    ]

    assert [r.status_code for r in responses] == [403] * 4
    assert AccountingPeriod.objects.count() == 12
    assert AccountingPeriod.objects.get(pk=period.pk).status == PeriodStatus.OPEN


def test_the_year_close_page_opens_on_the_first_year_left_to_close_and_says_when_it_has_not_ended(
    books, controller, monkeypatch
):
    # today is 2026-06-15: fiscal 2025 has ended (the books' entries are in it), 2026 has not
    monkeypatch.setattr("ledger.admin_close.timezone.localdate", lambda: datetime.date(2026, 6, 15))
    first = controller.get(url("close_year"))
    assert first.context["year"] == 2025  # not an empty year before the books began
    assert 'id="year-not-ended"' not in first.content.decode()

    controller.post(url("close_year"), {"fiscal_year": "2025"})
    then = controller.get(url("close_year"))

    assert then.context["year"] == 2026
    assert (
        "Fiscal year 2026 has not ended yet (it ends on 2026-12-31): it can be closed from 2027-01-01."
        in then.content.decode()
    )
    # no button that the close would then refuse ("it can be closed from the day after")
    assert 'id="confirm-close-year"' not in then.content.decode()
    assert 'id="confirm-close-year"' in first.content.decode()


def test_the_year_close_page_of_books_that_began_this_year_opens_on_this_year(monkeypatch):
    company = company_with_chart(name="New Co")
    post_entry(company, "2026-02-01", ("1010", "10.00", "D"), ("4000", "10.00", "C"))
    monkeypatch.setattr("ledger.admin_close.timezone.localdate", lambda: datetime.date(2026, 6, 15))
    assert member(company, Role.CONTROLLER).get(url("close_year")).context["year"] == 2026
