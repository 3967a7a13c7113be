"""Property tests: whatever valid entries are posted the books balance; whatever invalid entry is
offered it is refused with its own error code and nothing at all is written."""

import datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.services import account_create
from audit.models import AuditEvent
from ledger.models import DailyBalance, JournalEntry, JournalLine, MonthlyBalance
from ledger.services import journal_entry_create
from ledger.tests.factories import account, company_with_chart
from sofinance.errors import APIError

pytestmark = pytest.mark.django_db

LEAVES = ["1000", "1010", "1100", "1200", "2000", "2200", "3000", "4000", "4100", "5000", "6100", "6200"]
HYPOTHESIS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999999.99"), places=2)
dates = st.dates(min_value=datetime.date(2024, 1, 1), max_value=datetime.date(2027, 12, 31))


def _split(total: Decimal, parts: int, draw) -> list[Decimal]:
    """Split total (2 dp) into `parts` positive 2-dp amounts."""
    cents = int(total * 100)
    parts = min(parts, cents)
    cuts = (
        sorted(draw(st.lists(st.integers(1, cents - 1), min_size=parts - 1, max_size=parts - 1, unique=True)))
        if parts > 1
        else []
    )
    bounds = [0, *cuts, cents]
    return [Decimal(bounds[i + 1] - bounds[i]) / 100 for i in range(len(bounds) - 1)]


@st.composite
def balanced_lines(draw):
    debits = draw(st.lists(amounts, min_size=1, max_size=3))
    total = sum(debits)
    credits = _split(total, draw(st.integers(1, 3)), draw)
    lines = [{"account": draw(st.sampled_from(LEAVES)), "debit": str(a)} for a in debits]
    lines += [{"account": draw(st.sampled_from(LEAVES)), "credit": str(a)} for a in credits]
    return draw(st.permutations(lines))


@pytest.fixture
def books():
    return company_with_chart()


@HYPOTHESIS
@given(entries=st.lists(st.tuples(dates, balanced_lines(), st.booleans()), min_size=1, max_size=4))
def test_valid_entries_always_balance_per_entry_and_over_the_company(books, entries):
    for date, lines, post in entries:
        entry = journal_entry_create(company=books, date=date, lines=lines, by=None, post=post)
        # each entry, as stored, balances in the functional currency and has at least two lines
        stored = list(JournalLine.objects.filter(entry=entry))
        assert len(stored) == len(lines) >= 2
        assert sum(ln.base_amount for ln in stored) == 0
        assert sum(ln.debit for ln in stored) == sum(ln.credit for ln in stored)
    posted = JournalLine.objects.filter(company=books, entry_sequence__isnull=False)
    assert sum(ln.debit for ln in posted) == sum(ln.credit for ln in posted)
    stored_debit = sum(b.debit for b in DailyBalance.objects.filter(company=books))
    stored_credit = sum(b.credit for b in DailyBalance.objects.filter(company=books))
    assert stored_debit == stored_credit == sum(ln.debit for ln in posted)


def _mutate(kind: str, lines: list[dict], ctx: dict) -> list[dict]:
    lines = [dict(line) for line in lines]
    first = lines[0]
    side = "debit" if "debit" in first else "credit"
    if kind == "unbalanced":
        first[side] = str(Decimal(first[side]) + Decimal("0.01"))
    elif kind == "one_line":
        lines = lines[:1]
    elif kind == "zero":
        first[side] = "0.00"
    elif kind == "negative":
        first[side] = "-" + first[side]
    elif kind == "both_sides":
        first["credit" if side == "debit" else "debit"] = first[side]
    elif kind == "precision":  # a third decimal ("2527.7" is written "2527.70" first)
        first[side] = f"{Decimal(first[side]):.2f}1"
    elif kind == "other_company":
        first["account"] = ctx["foreign_account_id"]
    elif kind == "inactive":
        first["account"] = "6999"
    elif kind == "parent":
        first["account"] = "60"
    elif kind == "unknown_code":
        first["account"] = "NOPE"
    elif kind == "foreign_no_rate":
        first["currency"] = "EUR"
    elif kind == "nan":
        first[side] = "NaN"
    elif kind == "huge":
        first[side] = "1e20"
    return lines


EXPECTED = {
    "unbalanced": "unbalanced_entry",
    "one_line": "unbalanced_entry",
    "zero": "validation_error",
    "negative": "validation_error",
    "both_sides": "validation_error",
    "precision": "currency_precision",
    "other_company": "invalid_account",
    "inactive": "invalid_account",
    "parent": "invalid_account",
    "unknown_code": "invalid_account",
    "foreign_no_rate": "missing_exchange_rate",
    "nan": "validation_error",
    "huge": "validation_error",
}


def _counts(company) -> tuple[int, ...]:
    return (
        JournalEntry.objects.count(),
        JournalLine.objects.count(),
        DailyBalance.objects.count(),
        MonthlyBalance.objects.count(),
        AuditEvent.objects.count(),
    )


@pytest.fixture
def invalid_ctx(books):
    other = company_with_chart(name="Someone Else Ltd")
    account_create(
        company=books,
        code="6999",
        name="Old expense",
        type="expense",
        parent=account(books, "60"),
        is_active=False,
        by=None,
    )
    return {"foreign_account_id": account(other, "6100").pk}


@HYPOTHESIS
@given(kind=st.sampled_from(sorted(EXPECTED)), date=dates, lines=balanced_lines(), post=st.booleans())
def test_invalid_entries_are_refused_with_their_code_and_write_nothing(
    books, invalid_ctx, kind, date, lines, post
):
    # given
    bad = _mutate(kind, lines, invalid_ctx)
    before = _counts(books)
    # when
    with pytest.raises(APIError) as refused:
        journal_entry_create(company=books, date=date, lines=bad, by=None, post=post)
    # then
    assert refused.value.code == EXPECTED[kind], (kind, refused.value.message)
    assert _counts(books) == before
