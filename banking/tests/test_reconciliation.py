"""The reconciliation report against a hand-computed example, marking a statement reconciled,
and what is refused or flagged afterwards."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction

from audit.models import AuditEvent
from banking import errors, services
from banking.models import BankMatch, BankStatement, LineStatus, Reconciliation, StatementStatus
from banking.reports import changes_since_reconciled, reconciliation_report, same_amount_partners
from banking.tests.factories import (
    bank_books,
    bank_side,
    banking_rows,
    line,
    march_books,
    march_matched,
    statement_of,
    upload,
)
from ledger.services import journal_entry_reverse
from ledger.tests.factories import post_entry
from sofinance.db_errors import domain_error_from_db

pytestmark = pytest.mark.django_db
MARCH_31 = datetime.date(2026, 3, 31)


def test_the_report_equals_the_hand_computed_example():
    # given: see docs/banking.md, "A worked example"
    bank, books, _ = march_matched()

    # when
    report = reconciliation_report(bank_account=bank, as_of=MARCH_31)

    # then
    #   bank 2,654.50 = 1,000.00 + 1,500.00 - 45.50 - 300.00 + 500.00
    #   books 2,570.00 = 1,000.00 + 1,500.00 - 300.00 + 200.00 + 300.00 - 250.00 + 120.00
    #   bank lines not in the books: the fee -45.50; book lines not through the bank: the cheque
    #   -250.00 and the deposit in transit +120.00 (-130.00)
    #   adjusted: 2,654.50 - (-45.50) + (-130.00) = 2,570.00 = books
    assert (report.statement_balance, report.book_balance) == (Decimal("2654.50"), Decimal("2570.00"))
    assert [(i.date, i.amount) for i in report.unmatched_bank] == [
        (datetime.date(2026, 3, 10), Decimal("-45.50"))
    ]
    assert [(i.number, i.amount) for i in report.unmatched_book] == [
        (books["cheque"].number, Decimal("-250.00")),
        (books["deposit"].number, Decimal("120.00")),
    ]
    assert (report.unmatched_bank_total, report.unmatched_book_total) == (
        Decimal("-45.50"),
        Decimal("-130.00"),
    )
    assert (report.adjusted_bank_balance, report.difference, report.opening_difference) == (
        Decimal("2570.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    )
    assert report.reconciled is True


def test_an_entry_outstanding_with_its_reversal_is_left_out_as_they_cancel_out():
    # given the worked example, plus a supplier payment entered twice and the duplicate reversed,
    # and a reversal of a reversal (an entry reversed, then the reversal undone)
    bank, books, _ = march_matched()
    twice = post_entry(bank.company, "2026-03-25", ("6600", "80.00", "D"), ("1010", "80.00", "C"))
    undo = journal_entry_reverse(entry=twice, by=None, date=datetime.date(2026, 3, 26))
    again = journal_entry_reverse(entry=undo, by=None, date=datetime.date(2026, 3, 27))

    # when
    report = reconciliation_report(bank_account=bank, as_of=MARCH_31)

    # then the first pair cancels out and is not listed; the third entry is a real outstanding
    # payment (taken once), and the report still reconciles
    assert [(i.number, i.amount) for i in report.unmatched_book] == [
        (again.number, Decimal("-80.00")),
        (books["cheque"].number, Decimal("-250.00")),
        (books["deposit"].number, Decimal("120.00")),
    ]
    assert report.cancelled_pairs == [(twice.number, undo.number)]
    assert report.unmatched_book_total == Decimal("-210.00")
    assert report.difference == Decimal("0.00")

    # as of the day between the entry and its reversal, the entry alone is outstanding
    report = reconciliation_report(bank_account=bank, as_of=datetime.date(2026, 3, 25))
    assert twice.number in [i.number for i in report.unmatched_book]
    assert report.cancelled_pairs == []


def test_a_reversal_whose_original_went_through_the_bank_stays_listed():
    # given a deposit matched to its bank line, then reversed (the cheque bounced)
    bank, books, _ = march_matched()
    bounced = journal_entry_reverse(entry=books["receipt"], by=None, date=datetime.date(2026, 3, 28))

    # then the reversal is outstanding on its own: the bank's bounce line has yet to come
    report = reconciliation_report(bank_account=bank, as_of=MARCH_31)
    assert (bounced.number, Decimal("-1500.00")) in [(i.number, i.amount) for i in report.unmatched_book]
    assert report.cancelled_pairs == []
    assert report.difference == Decimal("0.00")


def test_as_of_mid_month_a_match_dated_later_is_outstanding_on_both_sides():
    bank, _books, _ = march_matched()

    report = reconciliation_report(bank_account=bank, as_of=datetime.date(2026, 3, 19))

    # the two deposits (19 March) are booked; the transfer paying them arrives on the 20th
    assert report.statement_balance == Decimal("2154.50")
    assert [i.amount for i in report.unmatched_book] == [Decimal("200.00"), Decimal("300.00")]
    assert [i.amount for i in report.unmatched_bank] == [Decimal("-45.50")]
    assert report.book_balance == Decimal("2700.00")
    assert report.difference == Decimal("0.00")


def test_a_difference_from_before_the_first_statement_is_shown_and_refuses_reconciliation():
    bank, _books, statement = march_matched()
    post_entry(bank.company, "2026-02-27", ("1010", "10.00", "D"), ("3000", "10.00", "C"))
    before = banking_rows(bank.company)

    report = reconciliation_report(bank_account=bank, as_of=MARCH_31)
    with pytest.raises(errors.ReconciliationDifference) as refused:
        services.statement_reconcile(statement=statement, by=None)

    assert (report.difference, report.opening_difference) == (Decimal("10.00"), Decimal("10.00"))
    assert refused.value.details["difference"] == "10.00"
    assert banking_rows(bank.company) == before


def test_reconciling_stores_the_position_and_freezes_the_statement():
    # given
    bank, _books, statement = march_matched()

    # when
    stored = services.statement_reconcile(statement=statement, by=None)

    # then
    statement.refresh_from_db()
    assert statement.status == StatementStatus.RECONCILED
    assert (stored.as_of, stored.statement_balance, stored.book_balance) == (
        MARCH_31,
        Decimal("2654.50"),
        Decimal("2570.00"),
    )
    assert (stored.unmatched_bank_total, stored.unmatched_book_total) == (
        Decimal("-45.50"),
        Decimal("-130.00"),
    )
    assert [item["amount"] for item in stored.unmatched_book_lines] == ["-250.00", "120.00"]
    # unmatching, matching and creating entries from its lines are refused
    with pytest.raises(errors.StatementReconciled):
        services.bank_line_unmatch(bank_line=line(bank, "CAMT-0001"), by=None)
    with pytest.raises(errors.StatementReconciled):
        services.bank_line_entry_create(bank_line=line(bank, "CAMT-0002"), account="6700", by=None)
    assert BankMatch.objects.filter(bank_line__statement=statement).count() == 4


def test_a_matched_entry_is_not_reversed_into_a_reconciled_statement_but_may_be_after_it():
    _bank, books, statement = march_matched()
    services.statement_reconcile(statement=statement, by=None)

    with pytest.raises(DatabaseError) as refused, transaction.atomic():
        journal_entry_reverse(entry=books["rent"], by=None, date=datetime.date(2026, 3, 25))

    assert isinstance(domain_error_from_db(refused.value), errors.StatementReconciled)
    books["rent"].refresh_from_db()
    assert books["rent"].reversed_by_id is None
    reversal = journal_entry_reverse(entry=books["rent"], by=None, date=datetime.date(2026, 4, 2))

    assert reversal.date == datetime.date(2026, 4, 2)


def test_a_back_dated_posting_after_reconciliation_is_flagged():
    bank, _books, statement = march_matched()
    services.statement_reconcile(statement=statement, by=None)
    late = post_entry(bank.company, "2026-03-15", ("6300", "20.00", "D"), ("1010", "20.00", "C"))

    found = changes_since_reconciled(statement=statement)

    assert found["changed"] is True
    assert found["book_balance_now"] == Decimal("2550.00")
    assert found["lines_posted_since"] == [bank_side(late).pk]


def test_statements_reconcile_in_order_and_reopen_latest_first():
    # given
    bank = bank_books()
    post_entry(bank.company, "2026-02-28", ("1010", "1000.00", "D"), ("3000", "1000.00", "C"))
    first = statement_of(upload(bank, "ofx_march_1.ofx"))
    second = statement_of(upload(bank, "ofx_march_2.ofx"))
    for unique_id, account in (
        ("F-001", "4000"),
        ("F-002", "6700"),
        ("F-003", "6100"),
        ("F-004", "4000"),
        ("F-005", "4910"),
    ):
        services.bank_line_entry_create(bank_line=line(bank, unique_id), account=account, by=None)

    # when / then
    with pytest.raises(errors.PreviousNotReconciled):
        services.statement_reconcile(statement=second, by=None)
    services.statement_reconcile(statement=first, by=None)
    services.statement_reconcile(statement=second, by=None)
    with pytest.raises(Exception) as later_first:
        services.statement_reopen(statement=first, by=None, reason="fix")
    assert later_first.value.details["reason"] == "later_statement_reconciled"
    reopened = services.statement_reopen(statement=second, by=None, reason="Fee matched wrongly")
    assert reopened.status == StatementStatus.OPEN
    assert Reconciliation.objects.get(statement=second).reopen_reason == "Fee matched wrongly"
    services.bank_line_unmatch(bank_line=line(bank, "F-005"), by=None)


def test_an_unmatched_bank_line_is_paired_with_a_book_line_of_the_same_amount_only():
    # given March with only the receipt matched: the rent (300.00 out) on both sides, the fee
    # (45.50) on the bank only, the transfer of 500.00 paying two book lines of 200.00 and 300.00
    bank = bank_books()
    books = march_books(bank.company)
    upload(bank, "camt053_march.xml")
    services.bank_line_match(
        bank_line=line(bank, "CAMT-0001"), journal_lines=[bank_side(books["receipt"]).pk], by=None
    )

    # when
    partners = same_amount_partners(reconciliation_report(bank_account=bank, as_of=MARCH_31))

    # then only the rent pairs: the fee has no book line, the transfer no single one
    assert {line_id: book.id for line_id, book in partners.items()} == {
        line(bank, "CAMT-0003").pk: bank_side(books["rent"]).pk
    }


def test_a_statement_reconciled_once_and_reopened_can_be_deleted_with_its_stored_positions():
    # given a statement reconciled, then reopened (the wrong file, say): its matches undone
    _bank, _books, statement = march_matched()
    services.statement_reconcile(statement=statement, by=None)
    services.statement_reopen(statement=statement, by=None, reason="The wrong account's file")
    for matched in statement.lines.filter(status=LineStatus.MATCHED):
        services.bank_line_unmatch(bank_line=matched, by=None)

    # when
    services.statement_delete(statement=statement, by=None)

    # then the statement and its reopened position are gone; the audit trail keeps the story
    assert not BankStatement.objects.filter(pk=statement.pk).exists()
    assert not Reconciliation.objects.filter(statement_id=statement.pk).exists()
    actions = AuditEvent.objects.filter(object_type="banking.bankstatement", object_id=str(statement.pk))
    assert {"reconcile", "reopen", "delete"} <= set(actions.values_list("action", flat=True))


def test_the_same_file_uploaded_twice_reconciles_and_reopens_in_upload_order():
    # given March uploaded twice: the second statement, of the same dates, holds no line
    bank, _books, first = march_matched()
    second = statement_of(upload(bank, "camt053_march.xml"))
    assert (second.end_date, second.line_count) == (first.end_date, 0)

    # when / then: the second is not reconciled before the first, nor the first reopened before it
    with pytest.raises(errors.PreviousNotReconciled):
        services.statement_reconcile(statement=second, by=None)
    services.statement_reconcile(statement=first, by=None)
    services.statement_reconcile(statement=second, by=None)
    with pytest.raises(errors.LaterStatementReconciled):
        services.statement_reopen(statement=first, by=None, reason="check")
    services.statement_reopen(statement=second, by=None, reason="the duplicate")
    services.statement_reopen(statement=first, by=None, reason="check")
