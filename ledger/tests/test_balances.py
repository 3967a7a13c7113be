"""Stored balances: always equal to the lines they summarise, however entries arrive."""

import datetime
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.models import AuditEvent
from ledger.balance_queries import account_totals
from ledger.models import DailyBalance, JournalLine, MonthlyBalance
from ledger.reports import income_statement, trial_balance
from ledger.services import balances_rebuild, journal_entry_reverse
from ledger.tests.factories import account, company_with_chart, post_entry

pytestmark = pytest.mark.django_db

CODES = ["1000", "1010", "1100", "2000", "4000", "4100", "5000", "6100"]
dates = st.dates(min_value=datetime.date(2025, 1, 1), max_value=datetime.date(2026, 12, 31))
postings = st.lists(
    st.tuples(
        dates,
        st.sampled_from(CODES),
        st.sampled_from(CODES),
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("50000"), places=2),
        st.booleans(),
    ),
    min_size=1,
    max_size=12,
)


@pytest.fixture
def books():
    return company_with_chart()


def line_balances(company, *, start=None, end, exclude_closing=False):
    lines = JournalLine.objects.filter(company=company, entry_sequence__isnull=False, date__lte=end)
    if start:
        lines = lines.filter(date__gte=start)
    result = defaultdict(Decimal)
    for account_id, base in lines.values_list("account_id", "base_amount"):
        result[account_id] += base
    return {k: v for k, v in result.items() if v != 0}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=postings, probes=st.lists(dates, min_size=1, max_size=4), reverse_some=st.booleans())
def test_trial_balance_as_of_any_date_equals_the_sum_of_lines(books, entries, probes, reverse_some):
    # given random, back-dated postings (and, sometimes, reversals of them)
    for date, debit, credit, amount, _ in entries:
        entry = post_entry(books, date, (debit, amount, "D"), (credit, amount, "C"))
        if reverse_some and amount > 25000 and entry.reversed_by_id is None:
            journal_entry_reverse(entry=entry, by=None, date=date + datetime.timedelta(days=3))
    # then the trial balance from the stored buckets equals the lines, on every probed date
    for as_of in probes:
        report = trial_balance(company=books, as_of=as_of)
        assert {r.account.id: r.balance for r in report.rows} == line_balances(books, end=as_of)
        assert report.total_debit == report.total_credit
    # and a range read (the income statement's path) equals the lines in the range
    start, end = sorted([probes[0], probes[-1]])
    ranged = account_totals(company_id=books.pk, start=start, end=end)
    assert {k: v.balance for k, v in ranged.items() if v.balance != 0} == line_balances(
        books, start=start, end=end
    )
    # and the stored buckets equal a rebuild from scratch
    assert balances_rebuild(company_id=books.pk, apply=False).differences == []


def test_income_statement_range_reads_partial_and_whole_months(books):
    post_entry(books, "2026-01-31", ("1000", "1.00", "D"), ("4000", "1.00", "C"))
    post_entry(books, "2026-02-01", ("1000", "10.00", "D"), ("4000", "10.00", "C"))
    post_entry(books, "2026-02-28", ("1000", "100.00", "D"), ("4000", "100.00", "C"))
    post_entry(books, "2026-03-15", ("1000", "1000.00", "D"), ("4000", "1000.00", "C"))
    post_entry(books, "2026-04-01", ("1000", "10000.00", "D"), ("4000", "10000.00", "C"))

    def net(a, b):
        return income_statement(
            company=books, date_from=datetime.date.fromisoformat(a), date_to=datetime.date.fromisoformat(b)
        ).net_income

    assert net("2026-02-01", "2026-02-28") == Decimal("110.00")
    assert net("2026-01-31", "2026-03-31") == Decimal("1111.00")
    assert net("2026-02-15", "2026-03-15") == Decimal("1100.00")
    assert net("2026-03-16", "2026-03-31") == Decimal("0")
    assert net("2026-01-01", "2026-12-31") == Decimal("11111.00")


def test_rebuild_command_reports_and_repairs_differences(books, capsys):
    post_entry(books, "2026-01-05", ("1000", "100.00", "D"), ("4000", "100.00", "C"))
    cash = account(books, "1000")
    # given a stored bucket that no longer matches its lines
    DailyBalance.objects.filter(account=cash).update(debit=Decimal("999.00"))
    # when checking: it says so, changes nothing and exits 1
    with pytest.raises(SystemExit) as exited:
        call_command("rebuild_balances", "--company", str(books.pk), "--check")
    assert exited.value.code == 1
    out = capsys.readouterr().out
    assert "1 buckets differ" in out and f"account={cash.pk} date=2026-01-05" in out
    assert DailyBalance.objects.get(account=cash).debit == Decimal("999.00")
    # when rebuilding: repaired, audited, and a second run finds nothing
    with pytest.raises(SystemExit):
        call_command("rebuild_balances", "--company", str(books.pk))
    assert DailyBalance.objects.get(account=cash).debit == Decimal("100.00")
    assert AuditEvent.objects.filter(action="rebuild", company_id=books.pk).count() == 1
    call_command("rebuild_balances", "--company", str(books.pk))
    assert "balances match" in capsys.readouterr().out
    assert MonthlyBalance.objects.get(account=cash).debit == Decimal("100.00")
