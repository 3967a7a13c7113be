"""Each kind of discrepancy, planted with raw SQL around the database's guards: the run finds it,
quarantines what it touches, proposes a draft correction where one can be computed, and posts
nothing. A clean set of books (every kind of sales document, a foreign-currency invoice paid at
another rate) gives no discrepancy at all."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection

from audit.models import AuditEvent
from jobs.models import Discrepancy, IntegrityRun
from jobs.services import integrity_run_execute, integrity_run_request
from jobs.tests.factories import (
    audit_count,
    books,
    entry_line_of,
    ledger_state,
    open_discrepancies,
    quarantined,
    sql,
)
from ledger.models import DailyBalance, EntryStatus, JournalEntry
from ledger.tests.factories import account
from sales.models import DailySalesSummary

pytestmark = pytest.mark.django_db


def run_checks(company) -> IntegrityRun:
    run = integrity_run_request(company=company, by=None, enqueue=False)
    return integrity_run_execute(run_id=run.pk)


def only(run: IntegrityRun, kind: str) -> Discrepancy:
    found = [d for d in run.discrepancies.all() if d.kind == kind]
    assert len(found) == 1, [(d.kind, d.message) for d in run.discrepancies.all()]
    return found[0]


def kinds(run: IntegrityRun) -> list[str]:
    return sorted(run.discrepancies.values_list("kind", flat=True))


def draft_lines(entry: JournalEntry) -> list[tuple[str, str, str]]:
    return [
        (line.account.code, f"{line.debit:.2f}", f"{line.credit:.2f}")
        for line in entry.lines.select_related("account").order_by("line_no")
    ]


def test_clean_books_give_no_discrepancy_and_write_nothing_but_the_run():
    # given
    b = books()
    before = ledger_state(b.company)

    # when
    run = run_checks(b.company)

    # then
    assert (run.status, run.discrepancy_count, run.new_discrepancy_count, run.proposed_count) == (
        "done",
        0,
        0,
        0,
    )
    assert run.counts["invoices"] == 4 and run.counts["credit_notes"] == 1 and run.counts["payments"] == 3
    assert run.started_at is not None and run.finished_at >= run.started_at
    assert ledger_state(b.company) == before
    assert quarantined() == set()
    assert not JournalEntry.objects.filter(company=b.company, status=EntryStatus.DRAFT).exists()


def test_a_damaged_balance_bucket_is_found_and_its_account_quarantined_without_a_draft():
    # given: the stored daily bucket of cash on the day of the rent entry, 5.00 too high
    b = books()
    cash = account(b.company, "1000")
    assert sql(
        "UPDATE ledger_dailybalance SET debit = debit + 5 WHERE company_id = %s AND account_id = %s AND date = %s",
        [b.company.pk, cash.pk, "2026-01-15"],
    )
    before = ledger_state(b.company)

    # when
    run = run_checks(b.company)

    # then
    found = only(run, "balance_bucket_mismatch")
    assert (found.object_type, found.object_id, found.key) == (
        "accounts.account",
        cash.pk,
        "daily:2026-01-15:0",
    )
    assert (found.expected, found.found, found.difference) == ("-500.00", "-495.00", Decimal("-5.0000"))
    assert found.details["stored"]["debit"] == "5.00" and found.details["computed"]["debit"] == "0.00"
    assert kinds(run) == ["balance_bucket_mismatch"]  # the monthly bucket still agrees
    assert quarantined(b.company.pk) == {("accounts.account", cash.pk)}
    assert found.proposed_entry is None and found.proposal_note.startswith("No correction")
    assert ledger_state(b.company) == before
    assert DailyBalance.objects.get(company=b.company, account=cash, date="2026-01-15").debit == Decimal("5")


def test_an_unbalanced_posted_entry_is_found_and_quarantined_without_a_draft():
    # given: the rent entry's credit cut to 450.00 (its base amount too): it no longer balances
    b = books()
    line = entry_line_of(b.manual, "1000")
    sql(
        "UPDATE ledger_journalline SET credit = 450, amount = -450, base_amount = -450 WHERE id = %s",
        [line.pk],
    )
    before = ledger_state(b.company)

    # when
    run = run_checks(b.company)

    # then
    found = only(run, "unbalanced_entry")
    assert (found.object_type, found.object_id) == ("ledger.journalentry", b.manual.pk)
    assert (found.expected, found.found, found.difference) == ("0.00", "50.00", Decimal("-50.0000"))
    assert ("ledger.journalentry", b.manual.pk) in quarantined(b.company.pk)
    assert found.proposed_entry is None
    assert "balance_bucket_mismatch" in kinds(run)  # the buckets still hold the 500.00
    assert ledger_state(b.company) == before


def test_a_line_that_disagrees_with_its_entry_is_found_and_quarantined():
    # given: one line of the rent entry dated a day later than its entry
    b = books()
    line = entry_line_of(b.manual, "6100")
    sql("UPDATE ledger_journalline SET date = '2026-01-16' WHERE id = %s", [line.pk])

    # when
    run = run_checks(b.company)

    # then
    found = only(run, "entry_line_mismatch")
    assert (found.object_type, found.object_id) == ("ledger.journalentry", b.manual.pk)
    assert (found.expected, found.found) == ("2026-01-15", "2026-01-16")
    assert found.message == f"Entry {b.manual.number}: line {line.line_no} is dated 2026-01-16."
    assert ("ledger.journalentry", b.manual.pk) in quarantined(b.company.pk)
    assert found.proposed_entry is None


def test_an_invoice_whose_entry_credits_the_wrong_revenue_account_gets_a_draft_correction():
    # given: the invoice's revenue line moved from 4100 (service revenue) to 4000 by raw SQL
    b = books()
    entry = b.invoice.journal_entry
    line = entry_line_of(entry, "4100")
    sql(
        "UPDATE ledger_journalline SET account_id = %s WHERE id = %s",
        [account(b.company, "4000").pk, line.pk],
    )
    before = ledger_state(b.company)
    posted = JournalEntry.objects.filter(company=b.company, status=EntryStatus.POSTED).count()

    # when
    run = run_checks(b.company)

    # then: found, on the invoice, with its entry quarantined too
    found = only(run, "invoice_entry_mismatch")
    assert (found.object_type, found.object_id, found.key) == ("sales.invoice", b.invoice.pk, "entry")
    assert (found.expected, found.found, found.difference) == ("-150.00", "0.00", Decimal("-150.0000"))
    assert {("sales.invoice", b.invoice.pk), ("ledger.journalentry", entry.pk)} <= quarantined(b.company.pk)
    # a draft moves the revenue back where the invoice says, and nothing was posted by the run
    draft = found.proposed_entry
    assert draft is not None and draft.status == EntryStatus.DRAFT and draft.number is None
    assert draft.reference == f"DISC-{found.pk}"
    assert draft_lines(draft) == [("4000", "150.00", "0.00"), ("4100", "0.00", "150.00")]
    assert run.proposed_count == 1
    assert JournalEntry.objects.filter(company=b.company, status=EntryStatus.POSTED).count() == posted
    assert ledger_state(b.company) == before
    # and the buckets of both accounts (daily, monthly) and the day's revenue disagree with the moved line
    assert kinds(run) == ["balance_bucket_mismatch"] * 4 + [
        "invoice_entry_mismatch",
        "sales_summary_mismatch",
    ]


def test_a_credit_note_whose_entry_debits_the_wrong_account_gets_a_draft_correction():
    # given: the credit note's tax line (2200) moved to 2100 by raw SQL
    b = books()
    entry = b.credit_note.journal_entry
    line = entry_line_of(entry, "2200")
    other = account(b.company, "2100")
    sql("UPDATE ledger_journalline SET account_id = %s WHERE id = %s", [other.pk, line.pk])

    # when
    run = run_checks(b.company)

    # then
    found = only(run, "credit_note_entry_mismatch")
    assert (found.object_type, found.object_id) == ("sales.creditnote", b.credit_note.pk)
    assert (found.expected, found.found) == ("12.00", "0.00")
    assert {("sales.creditnote", b.credit_note.pk), ("ledger.journalentry", entry.pk)} <= quarantined(
        b.company.pk
    )
    assert draft_lines(found.proposed_entry) == [("2100", "0.00", "12.00"), ("2200", "12.00", "0.00")]
    assert found.proposed_entry.status == EntryStatus.DRAFT


def test_a_payment_whose_entry_debits_the_wrong_deposit_account_gets_a_draft_correction():
    # given: the payment's deposit line moved from the bank (1010) to the savings account (1020)
    b = books()
    entry = b.payment.journal_entry
    line = entry.lines.get(debit__gt=0)
    assert line.account_id == b.payment.account_id
    savings = account(b.company, "1020")
    sql("UPDATE ledger_journalline SET account_id = %s WHERE id = %s", [savings.pk, line.pk])

    # when
    run = run_checks(b.company)

    # then
    found = only(run, "payment_entry_mismatch")
    assert (found.object_type, found.object_id, found.key) == ("sales.payment", b.payment.pk, "entry")
    assert (found.expected, found.found) == ("40.00", "0.00")
    assert {("sales.payment", b.payment.pk), ("ledger.journalentry", entry.pk)} <= quarantined(b.company.pk)
    assert draft_lines(found.proposed_entry) == [("1010", "40.00", "0.00"), ("1020", "0.00", "40.00")]


def test_a_document_dated_unlike_its_entry_is_found_without_a_draft():
    # given: the void entry of the voided invoice re-dated
    b = books()
    sql("UPDATE ledger_journalentry SET date = '2026-01-31' WHERE id = %s", [b.void.void_entry_id])

    # when
    run = run_checks(b.company)

    # then
    found = only(run, "invoice_entry_mismatch")
    assert (found.object_id, found.key, found.expected, found.found) == (
        b.void.pk,
        "void",
        "2026-01-07",
        "2026-01-31",
    )
    assert found.proposed_entry is None
    assert ("ledger.journalentry", b.void.void_entry_id) in quarantined(b.company.pk)


def test_receivables_holding_an_entry_of_no_document_are_found_in_total_with_the_entry_quarantined():
    # given: the rent entry's cash line moved onto the receivables account by raw SQL
    b = books()
    line = entry_line_of(b.manual, "1000")
    sql(
        "UPDATE ledger_journalline SET account_id = %s WHERE id = %s",
        [account(b.company, "1100").pk, line.pk],
    )

    # when
    run = run_checks(b.company)

    # then: the control total is off by the 500.00; every customer still agrees
    found = only(run, "receivables_control_mismatch")
    assert (found.object_type, found.object_id) == ("accounts.company", b.company.pk)
    assert (found.expected, found.found, found.difference) == ("68.00", "-432.00", Decimal("500.0000"))
    assert found.details["entries_without_document"] == [{"entry": b.manual.pk, "amount": "-500.00"}]
    assert ("ledger.journalentry", b.manual.pk) in quarantined(b.company.pk)
    assert "customer_receivables_mismatch" not in kinds(run)
    assert found.proposed_entry is None


def test_a_customer_whose_documents_and_entries_disagree_is_found():
    # given: the invoice's stored open balance (read by the aging) 10.00 short
    b = books()
    sql("UPDATE sales_invoice SET balance_base = balance_base - 10 WHERE id = %s", [b.invoice.pk])

    # when
    run = run_checks(b.company)

    # then
    found = only(run, "customer_receivables_mismatch")
    assert (found.object_type, found.object_id, found.object_repr) == (
        "sales.customer",
        b.sales.acme.pk,
        "Acme Ltd",
    )
    assert (found.expected, found.found) == ("58.00", "68.00")
    assert ("sales.customer", b.sales.acme.pk) in quarantined(b.company.pk)
    assert "receivables_control_mismatch" in kinds(run)


def test_a_stored_sales_summary_unlike_the_ledger_is_found_and_quarantined_without_a_draft():
    # given: the summary of the invoice's day 1.00 too high
    b = books()
    row = DailySalesSummary.objects.get(company=b.company, date="2026-01-05")
    sql("UPDATE sales_dailysalessummary SET invoiced_net = invoiced_net + 1 WHERE id = %s", [row.pk])

    # when
    run = run_checks(b.company)

    # then
    found = only(run, "sales_summary_mismatch")
    assert (found.object_type, found.object_id, found.key) == (
        "sales.dailysalessummary",
        row.pk,
        "2026-01-05",
    )
    assert (found.expected, found.found) == ("150.00", "151.00")
    assert found.details["ledger"] == {"net": "150.00", "tax": "30.00"}
    assert ("sales.dailysalessummary", row.pk) in quarantined(b.company.pk)
    assert found.proposed_entry is None


def test_a_tampered_audit_event_breaks_the_chain_and_is_found():
    # given: a sealed event of the company rewritten by raw SQL
    b = books()
    event = AuditEvent.objects.filter(company_id=b.company.pk).order_by("id")[3]
    sql("UPDATE audit_auditevent SET object_repr = 'tampered' WHERE id = %s", [event.pk])

    # when
    run = run_checks(b.company)

    # then
    found = only(run, "audit_chain_broken")
    assert (found.object_type, found.object_id) == ("audit.auditevent", event.pk)
    assert (found.expected, found.found) == ("intact", "signature_mismatch")
    assert ("audit.auditevent", event.pk) in quarantined(b.company.pk)


def test_a_second_run_finds_the_same_discrepancy_again_without_a_copy_or_a_second_draft():
    # given: a damaged invoice entry found once
    b = books()
    line = entry_line_of(b.invoice.journal_entry, "4100")
    sql(
        "UPDATE ledger_journalline SET account_id = %s WHERE id = %s",
        [account(b.company, "4000").pk, line.pk],
    )
    first = run_checks(b.company)
    drafts = JournalEntry.objects.filter(company=b.company, status=EntryStatus.DRAFT).count()
    flags = quarantined(b.company.pk)

    # when
    second = run_checks(b.company)

    # then
    assert [(d.kind, d.key) for d in second.discrepancies.all()] == [
        (d.kind, d.key) for d in first.discrepancies.all()
    ]
    assert (first.discrepancy_count, second.discrepancy_count) == (6, 6)
    assert (second.new_discrepancy_count, second.proposed_count) == (0, 0)
    assert len(open_discrepancies(b.company)) == 6
    assert set(second.discrepancies.all()) == set(first.discrepancies.all())
    assert JournalEntry.objects.filter(company=b.company, status=EntryStatus.DRAFT).count() == drafts == 1
    assert quarantined(b.company.pk) == flags
    assert all(d.last_run_id == second.pk and d.run_id == first.pk for d in open_discrepancies(b.company))


def test_a_run_records_one_audit_event_per_new_discrepancy_and_one_for_itself():
    b = books()
    sql(
        "UPDATE ledger_dailybalance SET debit = debit + 5 WHERE company_id = %s AND date = %s",
        [b.company.pk, "2026-01-15"],
    )
    before = audit_count(b.company)

    run = run_checks(b.company)

    events = list(AuditEvent.objects.filter(company_id=b.company.pk).order_by("id"))[before:]
    assert [e.action for e in events] == ["request"] + ["flag"] * run.new_discrepancy_count + ["reconcile"]
    assert events[-1].object_id == str(run.pk) and events[-1].metadata["new"] == run.new_discrepancy_count
    assert events[-1].actor_type == "system"


def test_the_run_checks_a_consistent_snapshot_on_postgresql():
    # The checks read in one REPEATABLE READ transaction when the run opens it itself (outside a
    # caller's transaction); inside a test's transaction it is a savepoint and reads what the test wrote.
    from sofinance.integrity import consistent_snapshot

    with consistent_snapshot(), connection.cursor() as cursor:
        cursor.execute("SHOW transaction_isolation")
        assert cursor.fetchone()[0] == "read committed"  # nested: the test's transaction
