"""Marking a statement reconciled (the position is stored) and reopening it.

Statements are reconciled in date order: each one only after the earlier statements of its bank
account. Reconciling stores the report as of the statement's last day (bank balance, book
balance, the unmatched items on each side); the statement, its lines and their matches are then
frozen (the database refuses changes, banking/migrations/0002 and 0005) until a controller
reopens it, latest first, with a reason. Its unmatched lines are carried: each may still be
matched to what is posted after the last reconciled day (a fee booked the next month), which
changes no stored position; their suggestions are looked for there from then on.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from audit.services import audit_record
from banking import errors
from banking.models import (
    BankAccount,
    BankStatement,
    BankStatementLine,
    LineStatus,
    Reconciliation,
    StatementStatus,
)
from banking.reports import reconciliation_report
from banking.services.matching import suggestions_refresh
from sofinance.errors import ValidationFailed
from sofinance.money import format_amount


def _items(items, currency: str) -> list[dict]:
    return [
        {"id": item.id, "date": item.date.isoformat(), "amount": format_amount(item.amount, currency)}
        for item in items
    ]


def statement_reconcile(*, statement: BankStatement, by: User | None) -> Reconciliation:
    """Mark a statement reconciled when the books agree with it as of its last day: the book
    balance equals its closing balance less the bank lines not in the books plus the book lines
    not through the bank (`reconciliation_difference` otherwise, with the figures). Earlier
    statements first (409 `previous_statement_not_reconciled`)."""
    with transaction.atomic():
        BankAccount.objects.select_for_update().filter(pk=statement.bank_account_id).get()
        locked = (
            BankStatement.objects.select_for_update(of=("self",))
            .select_related("bank_account", "bank_account__account", "bank_account__company")
            .get(pk=statement.pk)
        )
        if locked.status == StatementStatus.RECONCILED:
            raise errors.StatementReconciled("The statement is already reconciled.")
        # In date order; statements of the same last day (a file uploaded twice) in upload order.
        earlier = (
            BankStatement.objects.filter(bank_account_id=locked.bank_account_id, status=StatementStatus.OPEN)
            .filter(Q(end_date__lt=locked.end_date) | Q(end_date=locked.end_date, pk__lt=locked.pk))
            .order_by("end_date", "id")
            .first()
        )
        if earlier is not None:
            raise errors.PreviousNotReconciled(
                f"Reconcile the statement {earlier} first.", details={"statement": earlier.pk}
            )
        report = reconciliation_report(bank_account=locked.bank_account, as_of=locked.end_date)
        currency = report.currency
        if report.difference != 0:
            raise errors.ReconciliationDifference(
                f"The books ({format_amount(report.book_balance, currency)}) differ from the adjusted bank balance "
                f"({format_amount(report.adjusted_bank_balance, currency)}) by "
                f"{format_amount(report.difference, currency)} on {report.as_of}.",
                details={
                    "as_of": report.as_of.isoformat(),
                    "statement_balance": format_amount(report.statement_balance, currency),
                    "book_balance": format_amount(report.book_balance, currency),
                    "adjusted_bank_balance": format_amount(report.adjusted_bank_balance, currency),
                    "difference": format_amount(report.difference, currency),
                    "opening_difference": format_amount(report.opening_difference, currency),
                },
            )
        now = timezone.now()
        user = by if by is not None and by.is_authenticated else None
        reconciliation = Reconciliation.objects.create(
            company_id=locked.company_id,
            statement=locked,
            as_of=report.as_of,
            statement_balance=report.statement_balance,
            book_balance=report.book_balance,
            unmatched_bank_total=report.unmatched_bank_total,
            unmatched_book_total=report.unmatched_book_total,
            unmatched_bank_lines=_items(report.unmatched_bank, currency),
            unmatched_book_lines=_items(report.unmatched_book, currency),
            reconciled_by=user,
            reconciled_at=now,
        )
        locked.status = StatementStatus.RECONCILED
        locked.save(update_fields=["status"])
        audit_record(
            action="reconcile",
            company=locked.bank_account.company,
            obj=locked,
            actor=by,
            changes={"status": {"before": StatementStatus.OPEN, "after": StatementStatus.RECONCILED}},
            metadata={
                "as_of": report.as_of.isoformat(),
                "statement_balance": format_amount(report.statement_balance, currency),
                "book_balance": format_amount(report.book_balance, currency),
                "unmatched_bank_total": format_amount(report.unmatched_bank_total, currency),
                "unmatched_book_total": format_amount(report.unmatched_book_total, currency),
                "reconciliation": reconciliation.pk,
            },
        )
        # The carried lines (this statement's and earlier ones' still unmatched) look for their
        # match after the new last reconciled day.
        carried = BankStatementLine.objects.filter(
            bank_account_id=locked.bank_account_id, statement__status=StatementStatus.RECONCILED
        ).exclude(status=LineStatus.MATCHED)
        suggestions_refresh(bank_account=locked.bank_account, lines=list(carried), auto_confirm=False)
    return reconciliation


def statement_reopen(*, statement: BankStatement, by: User | None, reason: str) -> BankStatement:
    """Reopen a reconciled statement so its matches can change again: the latest reconciled one
    first (409 `conflict` otherwise), with a reason; the stored position is kept, marked reopened."""
    reason = " ".join((reason or "").split())[:500]
    if not reason:
        raise ValidationFailed("Say why the statement is reopened.", details={"reason": ["Required."]})
    with transaction.atomic():
        BankAccount.objects.select_for_update().filter(pk=statement.bank_account_id).get()
        locked = (
            BankStatement.objects.select_for_update(of=("self",))
            .select_related("bank_account__company")
            .get(pk=statement.pk)
        )
        if locked.status != StatementStatus.RECONCILED:
            raise errors.StatementNotReconciled()
        later = (
            BankStatement.objects.filter(
                bank_account_id=locked.bank_account_id, status=StatementStatus.RECONCILED
            )
            .filter(Q(end_date__gt=locked.end_date) | Q(end_date=locked.end_date, pk__gt=locked.pk))
            .order_by("-end_date", "-id")
            .first()
        )
        if later is not None:
            raise errors.LaterStatementReconciled(
                f"Reopen the later statement {later} first.", details={"statement": later.pk}
            )
        locked.status = StatementStatus.OPEN
        locked.save(update_fields=["status"])
        user = by if by is not None and by.is_authenticated else None
        Reconciliation.objects.filter(statement=locked, reopened_at__isnull=True).update(
            reopened_at=timezone.now(), reopened_by=user, reopen_reason=reason
        )
        audit_record(
            action="reopen",
            company=locked.bank_account.company,
            obj=locked,
            actor=by,
            changes={"status": {"before": StatementStatus.RECONCILED, "after": StatementStatus.OPEN}},
            metadata={"reason": reason},
        )
        # Its unmatched lines are ordinary again (suggestions around their own dates), and the
        # lines carried by earlier statements look for their match after an earlier day.
        unmatched = (
            BankStatementLine.objects.filter(bank_account_id=locked.bank_account_id)
            .filter(Q(statement=locked) | Q(statement__status=StatementStatus.RECONCILED))
            .exclude(status=LineStatus.MATCHED)
        )
        suggestions_refresh(bank_account=locked.bank_account, lines=list(unmatched), auto_confirm=False)
    return locked
