"""The banking dashboard panel (sofinance.dashboard): each bank account's last statement (its
date and closing balance), the books on that date, and the lines left to match, linking to the
bank reconciliation report and to the lines to match.

Today's book balance of each bank account is the ledger's "Cash and bank" panel: not repeated.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from accounts.models import Company
from banking import reports
from banking.admin_reports import reconciliation_url
from sofinance import dashboard
from sofinance.display import display_amount
from sofinance.permissions import Action


def bank_position_context(request: HttpRequest, company: Company) -> dict[str, Any] | None:
    positions = reports.bank_position(company=company)
    if not positions:
        return None
    lines = reverse("admin:banking_bankstatementline_changelist")
    rows = []
    for position in positions:
        bank = position.bank_account
        currency = position.currency
        statement = position.statement
        gap = (
            position.book_balance_at_statement - position.statement_closing_balance
            if statement is not None
            else None
        )
        rows.append(
            {
                "name": bank.name,
                "currency": currency,
                "statement_date": statement.end_date if statement else None,
                "statement_balance": display_amount(position.statement_closing_balance, currency),
                "book_balance": display_amount(position.book_balance_at_statement, currency),
                "gap": display_amount(gap, currency) if gap else "",
                "unmatched": position.unmatched_lines,
                "reconciled": statement is not None and statement.is_reconciled,
                # entries posted since into its dates: the stored position no longer holds
                "moved": statement is not None
                and statement.is_reconciled
                and bool((reports.changes_since_reconciled(statement=statement) or {}).get("changed")),
                "statement_url": reverse("admin:banking_bankstatement_change", args=[statement.pk])
                if statement is not None
                else "",
                "report_url": reconciliation_url(bank.pk, statement.end_date if statement else None),
                "lines_url": f"{lines}?bank_account__id__exact={bank.pk}&matched=no",
                "upload_url": reverse("admin:banking_bankaccount_upload", args=[bank.pk]),
            }
        )
    return {"rows": rows}


def register_panels() -> None:
    dashboard.register(
        dashboard.Panel(
            key="bank-position",
            title="Bank position",
            template="admin/banking/dashboard/bank_position.html",
            order=55,
            action=Action.BANKING_VIEW,
            context=bank_position_context,
            width="half",
        )
    )
