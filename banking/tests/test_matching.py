"""Suggestions (exact, date window, one-to-many), confirmation, auto-confirm, manual match and
unmatch, an entry created from a line, a payment recorded from a line."""

from __future__ import annotations

import datetime
import importlib
from decimal import Decimal

import pytest

from audit.models import AuditEvent
from banking import errors, services
from banking.models import BankMatch, BankStatementLine, LineStatus, MatchSuggestion
from banking.services.matching import candidates_for
from banking.tests.factories import bank_books, bank_side, banking_rows, line, march_books, upload
from ledger.tests.factories import post_entry
from sales import services as sales_services
from sales.models import Invoice, InvoiceStatus, Payment
from sales.tests.factories import issued, sales_books

pytestmark = pytest.mark.django_db


def _suggested(bank_line):
    return [
        (s.journal_line_ids, s.confidence, s.reasons)
        for s in MatchSuggestion.objects.filter(bank_line=bank_line)
    ]


def test_suggestions_exact_amount_date_window_and_one_to_many():
    # given: the March books, then the bank's March statement
    bank = bank_books()
    books = march_books(bank.company)

    # when
    upload(bank, "camt053_march.xml")

    # then: the receipt a day earlier with its invoice number in the bank reference
    receipt = bank_side(books["receipt"]).pk
    assert _suggested(line(bank, "CAMT-0001")) == [([receipt], 96, ["amount", "date_1d", "reference"])]
    # the rent on its day, by its reference
    assert _suggested(line(bank, "CAMT-0003")) == [
        ([bank_side(books["rent"]).pk], 100, ["amount", "date_0d", "reference"])
    ]
    # one transfer paying two deposits a day earlier
    pair = sorted([bank_side(books["order_a"]).pk, bank_side(books["order_b"]).pk])
    assert _suggested(line(bank, "CAMT-0004")) == [(pair, 66, ["amount_sum", "date_1d"])]
    # the bank fee is not in the books
    assert _suggested(line(bank, "CAMT-0002")) == []
    assert [line(bank, u).status for u in ("CAMT-0001", "CAMT-0002", "CAMT-0003", "CAMT-0004")] == [
        LineStatus.SUGGESTED, LineStatus.UNMATCHED, LineStatus.SUGGESTED, LineStatus.SUGGESTED,
    ]  # fmt: skip


def test_a_ledger_line_outside_the_date_window_is_not_suggested():
    bank = bank_books()
    post_entry(bank.company, "2026-02-20", ("1010", "1500.00", "D"), ("4000", "1500.00", "C"))

    upload(bank, "camt053_march.xml")

    assert _suggested(line(bank, "CAMT-0001")) == []
    services.banking_settings_update(company=bank.company, by=None, date_window_days=14)
    services.suggestions_refresh(bank_account=bank)
    # 13 days apart in a 14-day window: 50 + round(30 * (1 - 13 / 15)) = 54
    assert [s[1] for s in _suggested(line(bank, "CAMT-0001"))] == [54]


def test_confirming_a_one_to_many_suggestion_matches_both_ledger_lines():
    # given
    bank = bank_books()
    books = march_books(bank.company)
    upload(bank, "camt053_march.xml")
    transfer = line(bank, "CAMT-0004")
    suggestion = MatchSuggestion.objects.get(bank_line=transfer)

    # when
    matched = services.bank_line_match(bank_line=transfer, suggestion=suggestion.pk, by=None)

    # then
    assert (matched.status, matched.match_confidence) == (LineStatus.MATCHED, 66)
    assert sorted(
        BankMatch.objects.filter(bank_line=transfer).values_list("journal_line_id", flat=True)
    ) == sorted([bank_side(books["order_a"]).pk, bank_side(books["order_b"]).pk])
    assert MatchSuggestion.objects.filter(bank_line=transfer).count() == 0
    assert AuditEvent.objects.filter(action="match", object_id=str(transfer.pk)).count() == 1


def test_auto_confirm_above_the_company_confidence():
    bank = bank_books()
    books = march_books(bank.company)
    services.banking_settings_update(company=bank.company, by=None, auto_confirm_confidence=90)

    upload(bank, "camt053_march.xml")

    assert {u: line(bank, u).status for u in ("CAMT-0001", "CAMT-0003", "CAMT-0004")} == {
        "CAMT-0001": LineStatus.MATCHED,
        "CAMT-0003": LineStatus.MATCHED,
        "CAMT-0004": LineStatus.SUGGESTED,  # 66 < 90: left to a person
    }
    assert list(
        BankMatch.objects.filter(bank_line=line(bank, "CAMT-0003")).values_list("journal_line_id", flat=True)
    ) == [bank_side(books["rent"]).pk]


@pytest.mark.parametrize(
    ("pick", "error", "code"),
    [
        ("receipt_and_rent", errors.MatchRefused, "match_refused"),
        ("other_account", errors.MatchWrongAccount, "match_wrong_account"),
        ("taken", errors.AlreadyMatched, "conflict"),
    ],
)
def test_a_manual_match_that_breaks_a_rule_is_refused_and_writes_nothing(pick, error, code):
    # given
    bank = bank_books()
    books = march_books(bank.company)
    upload(bank, "camt053_march.xml")
    services.bank_line_match(
        bank_line=line(bank, "CAMT-0003"), journal_lines=[bank_side(books["rent"]).pk], by=None
    )
    ids = {
        "receipt_and_rent": [bank_side(books["receipt"]).pk, bank_side(books["order_a"]).pk],
        "other_account": [books["receipt"].lines.get(account__code="4000").pk],
        "taken": [bank_side(books["rent"]).pk],
    }[pick]
    before = banking_rows(bank.company)

    # when
    with pytest.raises(error) as refused:
        services.bank_line_match(bank_line=line(bank, "CAMT-0001"), journal_lines=ids, by=None)

    # then
    assert refused.value.code == code
    assert banking_rows(bank.company) == before
    assert line(bank, "CAMT-0001").status == LineStatus.SUGGESTED


def test_unmatch_puts_the_suggestions_back():
    bank = bank_books()
    books = march_books(bank.company)
    upload(bank, "camt053_march.xml")
    receipt = line(bank, "CAMT-0001")
    services.bank_line_match(bank_line=receipt, journal_lines=[bank_side(books["receipt"]).pk], by=None)

    unmatched = services.bank_line_unmatch(bank_line=receipt, by=None)

    assert unmatched.status == LineStatus.SUGGESTED
    assert BankMatch.objects.filter(bank_line=receipt).count() == 0
    assert [s[0] for s in _suggested(receipt)] == [[bank_side(books["receipt"]).pk]]
    with pytest.raises(errors.NotMatched):
        services.bank_line_unmatch(bank_line=receipt, by=None)


def test_create_an_entry_from_a_fee_line_posts_through_the_ledger_and_matches_it():
    # given
    bank = bank_books()
    upload(bank, "camt053_march.xml")
    fee = line(bank, "CAMT-0002")

    # when
    matched = services.bank_line_entry_create(
        bank_line=fee, account="6700", by=None, description="Account fee"
    )

    # then
    match = BankMatch.objects.select_related("journal_line__entry").get(bank_line=fee)
    entry = match.journal_line.entry
    assert (entry.status, entry.date, entry.description) == (
        "posted",
        datetime.date(2026, 3, 10),
        "Account fee",
    )
    assert sorted((jl.account.code, jl.debit, jl.credit) for jl in entry.lines.select_related("account")) == [
        ("1010", Decimal("0"), Decimal("45.50")),
        ("6700", Decimal("45.50"), Decimal("0")),
    ]
    assert match.journal_line.account.code == "1010"
    assert matched.status == LineStatus.MATCHED


@pytest.mark.parametrize(
    ("account", "says"),
    [
        ("1010", "another account than the bank's"),
        # receivables: an entry there would part them from the invoices (the AR aging)
        ("1100", "Account 1100 holds receivables: money from a customer is recorded as their payment"),
    ],
)
def test_create_entry_refuses_the_bank_account_itself_and_receivables_and_writes_nothing(account, says):
    bank = bank_books()
    upload(bank, "camt053_march.xml")
    before = banking_rows(bank.company)

    with pytest.raises(Exception) as refused:
        services.bank_line_entry_create(bank_line=line(bank, "CAMT-0002"), account=account, by=None)

    assert refused.value.code == "invalid_account"
    assert says in refused.value.message
    assert banking_rows(bank.company) == before


def test_record_a_payment_for_the_open_invoice_named_by_the_reference():
    # given: an issued invoice INV-2026-000001 of 1,500.00 and the bank's receipt naming it
    books = sales_books(name="Trading Co")
    invoice = issued(books, books.acme, "2026-03-01", "1500.00")
    assert invoice.number == "INV-2026-000001"
    bank = services.bank_account_create(company=books.company, by=None, name="Main", account="1010")
    upload(bank, "camt053_march.xml")
    receipt = line(bank, "CAMT-0001")

    # when
    matched = services.bank_line_payment_record(bank_line=receipt, by=None)

    # then
    payment = Payment.objects.get(company=books.company)
    invoice = Invoice.objects.get(pk=invoice.pk)
    assert (payment.amount, payment.account.code, payment.date) == (
        Decimal("1500.00"),
        "1010",
        datetime.date(2026, 3, 5),
    )
    assert (invoice.status, invoice.amount_paid) == (InvoiceStatus.PAID, Decimal("1500.00"))
    assert matched.status == LineStatus.MATCHED
    match = BankMatch.objects.get(bank_line=receipt)
    assert match.journal_line.entry_id == payment.journal_entry_id


def test_record_payment_without_an_open_invoice_is_refused():
    bank = bank_books()
    upload(bank, "camt053_march.xml")
    before = banking_rows(bank.company)

    with pytest.raises(errors.InvoiceNotFound):
        services.bank_line_payment_record(bank_line=line(bank, "CAMT-0001"), by=None)

    assert banking_rows(bank.company) == before


def test_suggestions_follow_entries_posted_later_on_the_schedule():
    # given the March statement uploaded before any of its books were posted: nothing to suggest
    bank = bank_books()
    upload(bank, "camt053_march.xml")
    fee = line(bank, "CAMT-0002")
    assert _suggested(fee) == []
    services.stale_suggestions_refresh()  # the first run marks where the books stand
    assert services.stale_suggestions_refresh() == {}

    # when the fee is booked in the ledger (not from its bank line), and the schedule runs
    booked = post_entry(bank.company, "2026-03-06", ("6700", "45.50", "D"), ("1010", "45.50", "C"))
    refreshed = services.stale_suggestions_refresh()

    # then the fee's line is offered it, and a run with nothing new on the bank's account does nothing
    assert refreshed == {bank.pk: 0}
    assert [journal_lines for journal_lines, _, _ in _suggested(fee)] == [[bank_side(booked).pk]]
    assert line(bank, "CAMT-0002").status == LineStatus.SUGGESTED
    post_entry(bank.company, "2026-03-07", ("6100", "10.00", "D"), ("3000", "10.00", "C"))
    assert services.stale_suggestions_refresh() == {}


def test_the_scheduled_refresh_confirms_what_the_company_allows_and_its_task_reports_it():
    from django.apps import apps
    from django_celery_beat.models import PeriodicTask

    from banking.tasks import stale_suggestions_refresh_task
    from sofinance.celery import app

    bank = bank_books()
    upload(bank, "camt053_march.xml")
    services.stale_suggestions_refresh()
    services.banking_settings_update(company=bank.company, by=None, auto_confirm_confidence=80)
    post_entry(
        bank.company, "2026-03-12", ("6100", "300.00", "D"), ("1010", "300.00", "C"), reference="RENT-MAR"
    )

    result = stale_suggestions_refresh_task()

    assert result == {"refreshed": 1, "auto_matched": 1}
    assert line(bank, "CAMT-0003").status == LineStatus.MATCHED
    # beat runs it every 5 minutes: a schedule banking's migration creates (the admin's to edit;
    # created again here, as a transactional test elsewhere may have flushed the table)
    schedule_migration = importlib.import_module(
        "banking.migrations.0006_stale_suggestions_refreshed_on_schedule"
    )
    PeriodicTask.objects.filter(name=schedule_migration.NAME).delete()
    schedule_migration.create_schedule(apps, None)
    schedule = PeriodicTask.objects.get(name="banking-refresh-stale-suggestions")
    assert (schedule.task, schedule.interval.every, schedule.enabled) == (
        "banking.tasks.stale_suggestions_refresh_task",
        300,
        True,
    )
    app.loader.import_default_modules()
    assert schedule.task in app.tasks


def test_an_entry_and_its_reversal_that_cancel_out_are_neither_suggested_nor_matched():
    # given March's books with the receipt's entry reversed (a payment voided): the pair cancels out
    from ledger.services import journal_entry_reverse

    bank = bank_books()
    books = march_books(bank.company)
    reversal = journal_entry_reverse(entry=books["receipt"], by=None, date=datetime.date(2026, 3, 6))

    # when the bank's statement comes in, its receipt of 1,500.00 naming the same invoice
    upload(bank, "camt053_march.xml")
    receipt = line(bank, "CAMT-0001")

    # then neither side of the pair is suggested, nor offered to match by hand...
    assert _suggested(receipt) == []
    offered = {c.id for c in candidates_for(bank, datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))}
    assert bank_side(books["receipt"]).pk not in offered and bank_side(reversal).pk not in offered
    assert bank_side(books["rent"]).pk in offered
    # ... and a match to it is refused, naming both, with nothing written
    before = banking_rows(bank.company)
    with pytest.raises(errors.MatchRefused) as refused:
        services.bank_line_match(bank_line=receipt, journal_lines=[bank_side(books["receipt"]).pk], by=None)
    assert (
        f"{books['receipt'].number} and its reversal pair {reversal.number} cancel out"
        in refused.value.message
    )
    assert banking_rows(bank.company) == before


def test_a_reversal_of_an_entry_matched_to_the_bank_is_a_movement_of_its_own():
    # given March's receipt matched to the bank, then reversed (the customer's cheque bounced)
    from ledger.services import journal_entry_reverse

    bank = bank_books()
    books = march_books(bank.company)
    upload(bank, "camt053_march.xml")
    services.bank_line_match(
        bank_line=line(bank, "CAMT-0001"), journal_lines=[bank_side(books["receipt"]).pk], by=None
    )
    reversal = journal_entry_reverse(entry=books["receipt"], by=None, date=datetime.date(2026, 3, 20))

    # then the reversal's line is a candidate for the bank's bounce (one side went through the bank)
    offered = {c.id for c in candidates_for(bank, datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))}
    assert bank_side(reversal).pk in offered


@pytest.mark.django_db(transaction=True)
def test_matches_unmatches_and_the_suggestion_refresh_of_one_bank_account_never_deadlock():
    """A match rewrote other lines' suggestions and statuses holding the bank account only in share
    mode, and the refresh (the API's, beat's every few minutes) rewrote every line's without it:
    run side by side, PostgreSQL found deadlocks (503 `database_busy` for a reviewer's threads)."""
    import threading

    from django.db import connections

    bank = bank_books()
    books = march_books(bank.company)
    upload(bank, "camt053_march.xml")
    pairs = [
        (line(bank, "CAMT-0001"), [bank_side(books["receipt"]).pk]),
        (line(bank, "CAMT-0003"), [bank_side(books["rent"]).pk]),
        (line(bank, "CAMT-0004"), sorted([bank_side(books["order_a"]).pk, bank_side(books["order_b"]).pk])),
    ]
    failures: list[BaseException] = []
    start = threading.Barrier(len(pairs) + 2)

    def match_and_unmatch(bank_line, ledger_lines) -> None:
        for _ in range(12):
            services.bank_line_match(bank_line=bank_line, journal_lines=ledger_lines, by=None)
            services.bank_line_unmatch(bank_line=bank_line, by=None)

    def refresh() -> None:
        for _ in range(12):
            services.suggestions_refresh(bank_account=bank, auto_confirm=False)

    def run(target, *args) -> None:
        try:
            start.wait()
            target(*args)
        except BaseException as exc:  # collected and asserted on below
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(match_and_unmatch, *pair)) for pair in pairs]
    threads += [threading.Thread(target=run, args=(refresh,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert failures == []
    # and every line is back where it started: unmatched, with its suggestions
    for bank_line, ledger_lines in pairs:
        bank_line.refresh_from_db()
        assert bank_line.status == LineStatus.SUGGESTED
        assert ledger_lines in [s[0] for s in _suggested(bank_line)]


def test_a_receipt_is_suggested_by_the_customers_own_reference_on_the_payment():
    # given a payment recorded in sales with the customer's remittance reference, and the bank's
    # line of it carrying that reference (not the payment's number)
    books = sales_books(name="Remit Co")
    bank = services.bank_account_create(company=books.company, by=None, name="Main", account="1010")
    payment = sales_services.payment_record(
        company=books.company,
        customer=books.acme,
        date=datetime.date(2026, 3, 5),
        amount="725.00",
        reference="BH-REMIT-2",
        by=None,
    )
    upload(
        bank,
        b"date,amount,counterparty,reference,description\n2026-03-05,725.00,Acme Ltd,BH-REMIT-2,\n",
        format="csv",
        opening_balance=Decimal("0.00"),
        closing_balance=Decimal("725.00"),
    )

    # then its suggestion counts the reference, above what amount and date alone give
    (suggestion,) = _suggested(BankStatementLine.objects.get(bank_account=bank))
    assert suggestion[0] == [bank_side(payment.journal_entry).pk]
    assert "reference" in suggestion[2] and suggestion[1] == 100
