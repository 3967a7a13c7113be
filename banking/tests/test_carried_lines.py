"""Carried items: a bank line a reconciled statement left unmatched (March's bank fee, missing
from the books when March was reconciled) is matched, or posted, after the last reconciled day,
and the stored reconciled positions stay true.

March (docs/banking.md, "A worked example"): the fee of 45.50 on 2026-03-06 is on the bank only;
the cheque CHQ-104 (-250.00) and a deposit (+120.00) are in the books only. March is reconciled
with them outstanding. In April the bank clears the cheque and the deposit, and the accountant
books the fee on 2026-04-01.
"""

from __future__ import annotations

import datetime
import threading
import time
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from banking import errors, services
from banking.models import BankMatch, BankStatementLine, LineStatus, MatchSuggestion, Reconciliation
from banking.reports import reconciliation_report
from banking.tests.factories import bank_side, banking_rows, line, march_reconciled, statement_of, upload
from ledger.models import JournalEntry
from ledger.tests.factories import post_entry

pytestmark = pytest.mark.django_db
MARCH_31 = datetime.date(2026, 3, 31)
APRIL_30 = datetime.date(2026, 4, 30)  # the April statement (a CSV) ends on its last line, 2026-04-06
APRIL_CSV = (
    b"date,amount,counterparty,reference,description\n"
    b"2026-04-03,-250.00,Supplier,CHQ-104,Cheque 104\n"
    b"2026-04-06,120.00,Counter deposit,DEP-0331,\n"
)


def _fee_booked(bank, date: str):
    return post_entry(bank.company, date, ("6700", "45.50", "D"), ("1010", "45.50", "C"), reference="FEE-MAR")


def _april(bank, books):
    april = statement_of(
        upload(
            bank,
            APRIL_CSV,
            format="csv",
            opening_balance=Decimal("2654.50"),
            closing_balance=Decimal("2524.50"),
        )
    )
    cheque, deposit = BankStatementLine.objects.filter(statement=april).order_by("date")
    services.bank_line_match(bank_line=cheque, journal_lines=[bank_side(books["cheque"]).pk], by=None)
    services.bank_line_match(bank_line=deposit, journal_lines=[bank_side(books["deposit"]).pk], by=None)
    return april


def _stored(reconciliation: Reconciliation) -> tuple:
    reconciliation.refresh_from_db()
    return (
        reconciliation.book_balance,
        reconciliation.statement_balance,
        reconciliation.unmatched_bank_lines,
        reconciliation.unmatched_book_lines,
        reconciliation.reopened_at,
    )


def test_the_fee_booked_the_next_month_clears_the_carried_line_and_march_stays_as_stored():
    # given March reconciled with the fee carried, and the fee booked on April 1
    bank, books, _march, stored = march_reconciled()
    march_as_stored = _stored(stored)
    fee = line(bank, "CAMT-0002")
    assert [item["amount"] for item in stored.unmatched_bank_lines] == ["-45.50"]
    booked = _fee_booked(bank, "2026-04-01")

    # when the April statement comes in and the carried fee is matched to its April booking
    april = _april(bank, books)
    services.bank_line_match(bank_line=fee, journal_lines=[bank_side(booked).pk], by=None)

    # then the fee is matched, March's stored position is as it was, and March recomputed agrees
    fee.refresh_from_db()
    assert fee.status == LineStatus.MATCHED
    assert _stored(stored) == march_as_stored
    march_now = reconciliation_report(bank_account=bank, as_of=MARCH_31)
    assert march_now.difference == 0
    assert [item.id for item in march_now.unmatched_bank] == [fee.pk]
    # and April reconciles with nothing outstanding on either side
    april_report = reconciliation_report(bank_account=bank, as_of=APRIL_30)
    assert (april_report.statement_balance, april_report.book_balance) == (
        Decimal("2524.50"),
        Decimal("2524.50"),
    )
    assert (april_report.unmatched_bank, april_report.unmatched_book) == ([], [])
    services.statement_reconcile(statement=april, by=None)


def test_a_carried_line_is_refused_a_ledger_line_from_the_reconciled_dates_and_nothing_is_written():
    # given a second fee booking dated inside March (after March was reconciled) and one in April
    bank, _books, _march, stored = march_reconciled()
    back_dated = _fee_booked(bank, "2026-03-31")
    booked = _fee_booked(bank, "2026-04-02")
    fee = line(bank, "CAMT-0002")
    services.suggestions_refresh(bank_account=bank)
    before = banking_rows(bank.company)

    # when / then: the March line is refused, naming the last reconciled day
    with pytest.raises(errors.StatementReconciled) as refused:
        services.bank_line_match(bank_line=fee, journal_lines=[bank_side(back_dated).pk], by=None)
    assert refused.value.details == {
        "statement": fee.statement_id,
        "reconciled_through": "2026-03-31",
        "journal_lines": [bank_side(back_dated).pk],
    }
    assert "after 2026-03-31" in refused.value.message
    assert banking_rows(bank.company) == before
    fee.refresh_from_db()
    assert fee.status == LineStatus.SUGGESTED
    # the suggestions offer only what is dated after the reconciled March, never automatically confirmed
    suggested = MatchSuggestion.objects.filter(bank_line=fee).values_list("journal_line_ids", flat=True)
    assert list(suggested) == [[bank_side(booked).pk]]

    # and the April booking is matched, and unmatched again while April is not reconciled
    services.bank_line_match(bank_line=fee, journal_lines=[bank_side(booked).pk], by=None)
    services.bank_line_unmatch(bank_line=fee, by=None)
    fee.refresh_from_db()
    assert fee.status == LineStatus.SUGGESTED
    assert not BankMatch.objects.filter(bank_line=fee).exists()
    assert stored.unmatched_bank_lines == Reconciliation.objects.get(pk=stored.pk).unmatched_bank_lines


def test_once_the_next_month_is_reconciled_its_carried_match_stays():
    bank, books, _march, _stored_march = march_reconciled()
    booked = _fee_booked(bank, "2026-04-01")
    april = _april(bank, books)
    fee = line(bank, "CAMT-0002")
    services.bank_line_match(bank_line=fee, journal_lines=[bank_side(booked).pk], by=None)
    services.statement_reconcile(statement=april, by=None)

    with pytest.raises(errors.StatementReconciled) as refused:
        services.bank_line_unmatch(bank_line=fee, by=None)

    assert refused.value.details["reconciled_through"] == "2026-04-06"
    assert BankMatch.objects.filter(bank_line=fee, journal_line=bank_side(booked)).exists()
    # reopening April lets the match be undone again (it counts in no other stored position)
    services.statement_reopen(statement=april, by=None, reason="Fee booked on the wrong account")
    services.bank_line_unmatch(bank_line=fee, by=None)
    assert not BankMatch.objects.filter(bank_line=fee).exists()


def test_an_entry_for_a_carried_line_is_posted_after_the_reconciled_day_or_not_at_all():
    bank, _books, _march, stored = march_reconciled()
    march_as_stored = _stored(stored)
    fee = line(bank, "CAMT-0002")
    before = banking_rows(bank.company)

    # dated the line (in March) or on the last reconciled day: refused, nothing posted
    for date in (None, MARCH_31):
        with pytest.raises(errors.StatementReconciled):
            services.bank_line_entry_create(bank_line=fee, account="6700", by=None, date=date)
    assert banking_rows(bank.company) == before

    # dated in April: posted there and matched
    services.bank_line_entry_create(bank_line=fee, account="6700", by=None, date=datetime.date(2026, 4, 1))

    fee.refresh_from_db()
    assert fee.status == LineStatus.MATCHED
    entry = JournalEntry.objects.get(lines__bank_match__bank_line=fee)
    assert (entry.date, entry.status) == (datetime.date(2026, 4, 1), "posted")
    assert _stored(stored) == march_as_stored
    assert reconciliation_report(bank_account=bank, as_of=MARCH_31).difference == 0


def test_the_database_holds_the_rule_whatever_writes_the_match():
    bank, books, march, _stored_march = march_reconciled()
    fee = line(bank, "CAMT-0002")
    booked = _fee_booked(bank, "2026-04-01")

    def insert(journal_line_id: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO banking_bankmatch (company_id, bank_line_id, journal_line_id, created_at) "
                "VALUES (%s, %s, %s, now())",
                [bank.company_id, fee.pk, journal_line_id],
            )

    # a ledger line from March is refused; one from April is taken, and removed
    with pytest.raises(DatabaseError, match="statement_reconciled"), transaction.atomic():
        insert(bank_side(books["deposit"]).pk)
    insert(bank_side(booked).pk)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE banking_bankstatementline SET status = 'matched' WHERE id = %s", [fee.pk])
        cursor.execute("DELETE FROM banking_bankmatch WHERE bank_line_id = %s", [fee.pk])

    # the line's other columns stay, and March's own matches stay
    def run(statement: str, params: list) -> None:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)

    with pytest.raises(DatabaseError, match="statement_reconciled"), transaction.atomic():
        run("UPDATE banking_bankstatementline SET amount = 1 WHERE id = %s", [fee.pk])
    with pytest.raises(DatabaseError, match="statement_reconciled"), transaction.atomic():
        run(
            "DELETE FROM banking_bankmatch WHERE bank_line_id IN "
            "(SELECT id FROM banking_bankstatementline WHERE statement_id = %s)",
            [march.pk],
        )


@pytest.mark.django_db(transaction=True)
def test_a_carried_match_waits_for_the_next_month_being_reconciled_and_is_then_refused():
    # given April ready to reconcile with the fee booked in it but not matched yet (April then
    # lists the carried fee and its booking as outstanding: they explain each other)
    bank, books, _march, _stored_march = march_reconciled()
    booked = _fee_booked(bank, "2026-04-01")
    april = _april(bank, books)
    fee = line(bank, "CAMT-0002")
    reconciling, release = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def reconcile_april() -> None:
        try:
            with transaction.atomic():
                services.statement_reconcile(statement=april, by=None)
                reconciling.set()
                release.wait(10)
        finally:
            connection.close()

    def match_fee() -> None:
        try:
            services.bank_line_match(bank_line=fee, journal_lines=[bank_side(booked).pk], by=None)
            outcome["result"] = "matched"
        except errors.StatementReconciled as exc:
            outcome["result"] = exc.details["reconciled_through"]
        finally:
            connection.close()

    # when April's reconciliation holds the bank account while the fee is being matched
    first = threading.Thread(target=reconcile_april)
    first.start()
    assert reconciling.wait(10)
    second = threading.Thread(target=match_fee)
    second.start()
    time.sleep(0.5)
    waited = second.is_alive()
    release.set()
    first.join(10)
    second.join(10)

    # then the match waited, and once April was reconciled it was refused: April's stored
    # position (the fee outstanding on both sides) stays true
    assert waited
    assert outcome["result"] == "2026-04-06"
    assert not BankMatch.objects.filter(bank_line=fee).exists()
    stored = Reconciliation.objects.get(statement=april)
    assert [item["amount"] for item in stored.unmatched_bank_lines] == ["-45.50"]
    assert reconciliation_report(bank_account=bank, as_of=APRIL_30).difference == 0


def test_a_carried_line_is_suggested_but_never_confirmed_automatically():
    # given a company confirming every suggestion from 50, and the fee booked on April 1
    bank, _books, _march, _stored = march_reconciled()
    services.banking_settings_update(company=bank.company, by=None, auto_confirm_confidence=50)
    booked = _fee_booked(bank, "2026-04-01")
    fee = line(bank, "CAMT-0002")

    # when the suggestions are worked out again
    matched = services.suggestions_refresh(bank_account=bank)

    # then the fee is offered its April booking, for a person to confirm
    assert matched == 0
    fee.refresh_from_db()
    assert fee.status == LineStatus.SUGGESTED
    (suggestion,) = MatchSuggestion.objects.filter(bank_line=fee)
    assert suggestion.journal_line_ids == [bank_side(booked).pk] and suggestion.confidence >= 50
    services.bank_line_match(bank_line=fee, suggestion=suggestion.pk, by=None)
    fee.refresh_from_db()
    assert fee.status == LineStatus.MATCHED
