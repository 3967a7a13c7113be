"""Management commands and demo data: load_chart_template, generate_ledger, demo entries."""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Q, Sum

from accounts.chart_templates import SMALL_BUSINESS
from accounts.models import Account, Company
from accounts.services import account_update, company_create
from accounts.tests.factories import UserFactory
from audit.models import AuditEvent
from ledger import demo
from ledger.balance_queries import account_totals
from ledger.models import (
    AccountingPeriod,
    EntrySource,
    EntryStatus,
    JournalEntry,
    JournalLine,
    PeriodStatus,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return UserFactory(username="owner")


def bare_company(owner, *, currency="USD", name="Bare Ltd") -> Company:
    return company_create(name=name, currency=currency, created_by=owner)


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


# --------------------------------------------------------------------------- load_chart_template


def test_load_chart_template_creates_the_chart_and_says_what_it_created(owner):
    # given
    company = bare_company(owner)

    # when
    output = run("load_chart_template", "--company", str(company.pk))

    # then
    assert sorted(Account.objects.filter(company=company).values_list("code", flat=True)) == sorted(
        row.code for row in SMALL_BUSINESS
    )
    assert acct_path(company, "1010") == "10/1010"
    assert "1010  Bank - operating account" in output
    assert f"{len(SMALL_BUSINESS)} accounts created." in output
    assert list(
        AuditEvent.objects.filter(object_type="accounts.account").values_list(
            "action", "object_id", "actor_repr"
        )
    ) == [("create", "template:small_business", "command:load_chart_template")]


def acct_path(company, code):
    return Account.objects.get(company=company, code=code).path


def test_load_chart_template_twice_creates_nothing_more(owner):
    # given
    company = bare_company(owner)
    run("load_chart_template", "--company", str(company.pk))
    events = AuditEvent.objects.count()

    # when
    output = run("load_chart_template", "--company", str(company.pk), "--template", "small_business")

    # then
    assert "Nothing to do" in output
    assert Account.objects.filter(company=company).count() == len(SMALL_BUSINESS)
    assert AuditEvent.objects.count() == events


def test_load_chart_template_refuses_an_unknown_company(owner):
    with pytest.raises(CommandError, match=r"Company 999999 does not exist\."):
        run("load_chart_template", "--company", "999999")


def test_load_chart_template_refuses_an_unknown_template_and_writes_nothing(owner):
    # given
    company = bare_company(owner)

    # when / then
    with pytest.raises(CommandError, match=r"Unknown chart template\. Choose one of: small_business\."):
        run("load_chart_template", "--company", str(company.pk), "--template", "nope")
    assert Account.objects.filter(company=company).count() == 0


# --------------------------------------------------------------------------- generate_ledger


def generate(company, entries, *extra) -> str:
    return run("generate_ledger", "--company", str(company.pk), "--entries", str(entries), *extra)


def test_generate_ledger_posts_balanced_gapless_entries_with_their_balances(owner):
    # given a company without a chart
    company = bare_company(owner)

    # when
    output = generate(company, 130, "--batch", "50", "--start", "2025-01-01", "--months", "6")

    # then the chart was loaded and 130 posted entries exist, numbered 1..130 without gaps
    assert "Loaded the small_business chart" in output
    entries = JournalEntry.objects.filter(company=company)
    assert entries.count() == 130
    assert set(entries.values_list("status", "source").distinct()) == {
        (EntryStatus.POSTED, EntrySource.IMPORT)
    }
    sequenced = list(entries.order_by("sequence").values_list("sequence", "number", "date"))
    assert [s for s, _, _ in sequenced] == list(range(1, 131))
    assert [n for _, n, _ in sequenced] == [f"JE-{d.year}-{s:06d}" for s, _, d in sequenced]
    dates = [d for _, _, d in sequenced]
    assert dates == sorted(dates)
    assert (dates[0], dates[-1] < datetime.date(2025, 7, 1)) == (datetime.date(2025, 1, 1), True)
    # every entry has 2-4 lines and balances
    per_entry = entries.annotate(
        n=Count("lines"),
        debits=Sum("lines__base_amount", filter=Q(lines__base_amount__gt=0)),
        total=Sum("lines__base_amount"),
    )
    assert {e.total for e in per_entry} == {Decimal("0")}
    assert {e.n for e in per_entry} <= {2, 3, 4}
    assert all(e.debits > 0 for e in per_entry)
    lines = JournalLine.objects.filter(company=company)
    assert f"Created 130 entries ({lines.count()} lines)" in output
    # amounts are exact cents, never more
    assert all(v == v.quantize(Decimal("0.01")) for v in lines.values_list("base_amount", flat=True))
    # stored balances agree with the lines
    expected = defaultdict(Decimal)
    for account_id, amount in lines.values_list("account_id", "base_amount"):
        expected[account_id] += amount
    stored = account_totals(company_id=company.pk, end=datetime.date(2025, 12, 31))
    assert {k: v.balance for k, v in stored.items()} == dict(expected)
    # one audit event per batch (3 batches: 50, 50, 30), named after the command
    assert list(
        AuditEvent.objects.filter(action="import", company_id=company.pk)
        .order_by("id")
        .values_list("metadata__entries", "actor_repr")
    ) == [(50, "command:generate_ledger"), (50, "command:generate_ledger"), (30, "command:generate_ledger")]


def test_generate_ledger_is_deterministic_for_a_seed(owner):
    # given two companies
    first, second = bare_company(owner, name="First"), bare_company(owner, name="Second")

    # when the same seed runs with different batch sizes, and another seed runs too
    generate(first, 40, "--seed", "7", "--batch", "40")
    generate(second, 40, "--seed", "7", "--batch", "9")

    def books(company):
        return [
            (
                e.date,
                e.description,
                e.reference,
                [(ln.account.code, ln.debit, ln.credit) for ln in e.lines.all()],
            )
            for e in JournalEntry.objects.filter(company=company)
            .order_by("sequence")
            .prefetch_related("lines__account")
        ]

    # then the books are identical
    assert books(first) == books(second)
    third = bare_company(owner, name="Third")
    generate(third, 40, "--seed", "8")
    assert books(third) != books(first)


def test_generate_ledger_respects_the_currency_precision(owner):
    # given a yen company
    company = bare_company(owner, currency="JPY")

    # when
    generate(company, 30)

    # then every amount is whole yen
    amounts = JournalLine.objects.filter(company=company).values_list("debit", "credit")
    assert amounts.count() > 60
    assert all(d == d.to_integral_value() and c == c.to_integral_value() for d, c in amounts)


def test_generate_ledger_refuses_an_unknown_company():
    with pytest.raises(CommandError, match=r"Company 999999 does not exist\."):
        run("generate_ledger", "--company", "999999", "--entries", "10")


def test_generate_ledger_into_a_closed_period_writes_nothing(owner):
    # given the whole range is closed (no period services yet: set up directly)
    company = bare_company(owner)
    AccountingPeriod.objects.create(
        company=company,
        start_date=datetime.date(2024, 1, 1),
        end_date=datetime.date(2024, 12, 31),
        status=PeriodStatus.CLOSED,
    )

    # when / then
    with pytest.raises(
        CommandError, match=r"Batch starting at entry 1 was refused: Entry 1: 2024-01-01 falls in"
    ):
        run("generate_ledger", "--company", str(company.pk), "--entries", "20", "--months", "12")
    assert JournalEntry.objects.filter(company=company).count() == 0
    assert not AuditEvent.objects.filter(action="import").exists()


def test_generate_ledger_refuses_when_a_needed_account_is_unusable(owner):
    # given the chart, with the bank account deactivated
    company = company_create(
        name="Chart Ltd", currency="USD", created_by=owner, chart_template="small_business"
    )
    account_update(account=Account.objects.get(company=company, code="1010"), by=None, is_active=False)

    # when / then
    with pytest.raises(CommandError, match=r"needed as active accounts without sub-accounts: 1010\.$"):
        run("generate_ledger", "--company", str(company.pk), "--entries", "10")
    assert JournalEntry.objects.filter(company=company).count() == 0


# --------------------------------------------------------------------------- demo entries


def test_demo_entries_create_posts_months_of_books_with_a_reversal_and_drafts(owner, monkeypatch):
    # given a fixed "today" and a company with the chart
    monkeypatch.setattr(demo.timezone, "localdate", lambda: datetime.date(2026, 3, 20))
    company = company_create(
        name="Demo Co", currency="USD", created_by=owner, chart_template="small_business"
    )

    # when
    created = demo.demo_entries_create(company=company, months=2, by=owner)

    # then
    entries = JournalEntry.objects.filter(company=company)
    assert created == entries.count() == 51
    assert entries.filter(status=EntryStatus.DRAFT).count() == 2
    assert entries.filter(date__lt=datetime.date(2026, 2, 1)).count() == 0
    assert entries.filter(date__gt=datetime.date(2026, 3, 20)).count() == 0
    reversal = entries.get(source=EntrySource.REVERSAL)
    original = reversal.reversal_of
    assert original.reversed_by_id == reversal.pk
    assert original.description == "Electricity and water"
    assert set(entries.filter(status=EntryStatus.POSTED).values_list("created_by", flat=True)) == {owner.pk}
    # the books balance and every posted entry nets to zero
    posted_lines = JournalLine.objects.filter(entry__company=company, entry__status=EntryStatus.POSTED)
    assert posted_lines.aggregate(total=Sum("base_amount"))["total"] == Decimal("0")
    assert list(
        entries.order_by("sequence").exclude(sequence=None).values_list("sequence", flat=True)
    ) == list(range(1, 50))
    # stock is bought before it is sold: Inventory is in debit at the end of every day
    inventory = Account.objects.get(company=company, code="1200")
    day = datetime.date(2026, 2, 1)
    while day <= datetime.date(2026, 3, 20):
        balance = account_totals(company_id=company.pk, end=day, account_ids=[inventory.pk])
        assert inventory.pk not in balance or balance[inventory.pk].balance >= 0, day
        day += datetime.timedelta(days=1)
    assert account_totals(company_id=company.pk, end=day)[inventory.pk].balance > 0
    # a profitable little business: income exceeds expenses
    totals = account_totals(company_id=company.pk, end=datetime.date(2026, 3, 20))
    by_type = defaultdict(Decimal)
    for account in Account.objects.filter(company=company):
        if account.pk in totals:
            by_type[account.type] += totals[account.pk].balance
    assert -by_type["income"] > by_type["expense"] > 0
