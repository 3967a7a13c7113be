"""Reads of the banking app: bank accounts, statements, lines, matches, jobs, balances."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Count, Prefetch, Q, QuerySet

from accounts.models import Company
from banking.models import (
    BankAccount,
    BankingSettings,
    BankMatch,
    BankStatement,
    BankStatementLine,
    ImportJob,
    LineStatus,
    MatchSuggestion,
    Reconciliation,
    StatementStatus,
)
from ledger.models import JournalLine
from sofinance.money import MoneySum

ZERO = Decimal(0)
ONE_DAY = datetime.timedelta(days=1)


def bank_accounts_for_company(*, company: Company) -> QuerySet[BankAccount]:
    return BankAccount.objects.filter(company=company).select_related("account")


def bank_account_get(*, company: Company, pk: int) -> BankAccount | None:
    return bank_accounts_for_company(company=company).filter(pk=pk).first()


def banking_settings_for(*, company: Company) -> BankingSettings:
    """The company's settings (unsaved defaults when it has none yet)."""
    return BankingSettings.objects.filter(company=company).first() or BankingSettings(company=company)


def _active_reconciliations():
    return Prefetch(
        "reconciliations",
        queryset=Reconciliation.objects.filter(reopened_at__isnull=True),
        to_attr="active_reconciliations",
    )


def statements_for_company(*, company: Company) -> QuerySet[BankStatement]:
    return (
        BankStatement.objects.filter(company=company)
        .select_related("bank_account", "bank_account__account")
        .prefetch_related(_active_reconciliations())
    )


def reconciled_through(*, bank_account_id: int) -> datetime.date | None:
    """The last day of the bank account's latest reconciled statement (None before any).

    A line of a reconciled statement left unmatched (a carried item) is matched only to ledger
    lines dated after it: such a match counts in no stored reconciled position."""
    return (
        BankStatement.objects.filter(bank_account_id=bank_account_id, status=StatementStatus.RECONCILED)
        .order_by("-end_date")
        .values_list("end_date", flat=True)
        .first()
    )


def reconciled_book_partners(*, bank_line: BankStatementLine, through: datetime.date) -> list[dict]:
    """The posted ledger lines of a carried bank line's amount, on its bank's ledger account, not
    matched and dated on or before the last reconciled day (`through`): most likely the same
    payment, already in the books. Matching one changes a reconciled position, so it is matched
    only after reopening; posting the bank line again would count it twice. Oldest first, a few."""
    bank = bank_line.bank_account
    return list(
        JournalLine.objects.filter(
            company_id=bank.company_id,
            account_id=bank.account_id,
            entry_sequence__isnull=False,
            date__lte=through,
            bank_match__isnull=True,
            **{bank.ledger_amount_field: bank_line.amount},
        )
        .order_by("date", "id")
        .values("id", "date", "entry__number", "entry_id")[:5]
    )


def statement_get(*, company: Company, pk: int) -> BankStatement | None:
    return statements_for_company(company=company).filter(pk=pk).first()


def _matches():
    return Prefetch("matches", queryset=BankMatch.objects.order_by("journal_line_id"), to_attr="match_list")


def lines_for_bank_account(*, bank_account: BankAccount) -> QuerySet[BankStatementLine]:
    return (
        BankStatementLine.objects.filter(bank_account=bank_account)
        .select_related("statement")
        .prefetch_related(_matches())
    )


def line_get(*, company: Company, pk: int) -> BankStatementLine | None:
    return (
        BankStatementLine.objects.filter(company=company, pk=pk)
        .select_related("statement", "bank_account", "bank_account__account")
        .prefetch_related(_matches())
        .first()
    )


def suggestions_of(*, bank_line: BankStatementLine) -> list[MatchSuggestion]:
    return list(MatchSuggestion.objects.filter(bank_line=bank_line).order_by("rank"))


def import_jobs_for_company(*, company: Company) -> QuerySet[ImportJob]:
    return (
        ImportJob.objects.filter(company=company)
        .select_related("bank_account", "requested_by")
        .prefetch_related("statements")
    )


def import_job_get(*, company: Company, pk: int) -> ImportJob | None:
    return import_jobs_for_company(company=company).filter(pk=pk).first()


def bank_balance_on(*, bank_account: BankAccount, date: datetime.date) -> Decimal | None:
    """The bank's balance at the end of `date`, from the statements: the closing balance of the
    latest statement ending on or before it, plus the lines dated after that up to `date` (or the
    first statement's opening balance plus its lines up to `date`). None before the first statement."""
    statements = BankStatement.objects.filter(bank_account=bank_account)
    anchor = statements.filter(end_date__lte=date).order_by("-end_date", "-id").first()
    if anchor is not None:
        base, after = anchor.closing_balance, anchor.end_date
    else:
        first = statements.order_by("start_date", "id").first()
        if first is None or date < first.start_date - ONE_DAY:
            return None
        base, after = first.opening_balance, first.start_date - ONE_DAY
    moved = (
        BankStatementLine.objects.filter(bank_account=bank_account, date__gt=after, date__lte=date).aggregate(
            total=MoneySum("amount")
        )["total"]
        if date > after
        else None
    )
    return base + (moved or ZERO)


def bank_lines_total_between(
    *, bank_account: BankAccount, start: datetime.date, end: datetime.date
) -> Decimal:
    """What the bank account's stored lines dated `start`–`end` add up to (whatever statement brought them)."""
    total = BankStatementLine.objects.filter(
        bank_account=bank_account, date__gte=start, date__lte=end
    ).aggregate(total=MoneySum("amount"))["total"]
    return total or ZERO


def previous_statement(*, statement: BankStatement) -> BankStatement | None:
    return (
        BankStatement.objects.filter(
            bank_account_id=statement.bank_account_id, end_date__lt=statement.start_date
        )
        .exclude(pk=statement.pk)
        .order_by("-end_date", "-id")
        .first()
    )


def line_totals(*, statement: BankStatement) -> Decimal:
    return (
        BankStatementLine.objects.filter(statement=statement).aggregate(total=MoneySum("amount"))["total"]
        or ZERO
    )


def import_progress_key(job_id: int) -> str:
    return f"banking:import-progress:{job_id}"


def job_progress(job: ImportJob) -> int:
    """The job's progress, including what a running import published in the cache (its row is
    only written when it ends: the import runs in one transaction)."""
    if job.status == "running":
        published = cache.get(import_progress_key(job.pk))
        if isinstance(published, int):
            return max(job.progress, published)
    return job.progress


def statements_unreconciled_between(
    *, company_id: int, start: datetime.date, end: datetime.date
) -> QuerySet[BankStatement]:
    """Statements not marked reconciled whose dates overlap `start`–`end`, each with `unmatched`
    (its lines not matched) and `line_total`, in bank account and date order."""
    return (
        BankStatement.objects.filter(
            company_id=company_id, status=StatementStatus.OPEN, start_date__lte=end, end_date__gte=start
        )
        .select_related("bank_account")
        .annotate(
            line_total=Count("lines"),
            unmatched=Count("lines", filter=~Q(lines__status=LineStatus.MATCHED)),
        )
        .order_by("bank_account__name", "start_date", "id")
    )


def statement_of_file(*, bank_account: BankAccount, file_hash: str) -> BankStatement | None:
    """The statement of a bank account imported from exactly this file (by its SHA-256), if any."""
    return BankStatement.objects.filter(bank_account=bank_account, file_hash=file_hash).order_by("id").first()


def entries_matched_to(*, bank_line: BankStatementLine) -> list[tuple[str, str]]:
    """(number, reference) of the journal entries a bank line is matched to, in number order."""
    return list(
        BankMatch.objects.filter(bank_line=bank_line)
        .order_by("journal_line__entry__sequence")
        .values_list("journal_line__entry__number", "journal_line__entry__reference")
        .distinct()
    )
