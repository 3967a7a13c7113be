"""Who may do what: the one table every app consults.

Roles are ordered by trust for the books, but the table is explicit rather than a ladder, because
an auditor reads everything (including the audit trail) and writes nothing.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    CLERK = "clerk", "Clerk"
    ACCOUNTANT = "accountant", "Accountant"
    CONTROLLER = "controller", "Controller"
    AUDITOR = "auditor", "Auditor"
    ADMIN = "admin", "Admin"


class Action(StrEnum):
    COMPANY_VIEW = "company.view"
    COMPANY_CHANGE = "company.change"
    MEMBERS_VIEW = "members.view"
    MEMBERS_MANAGE = "members.manage"
    ACCOUNTS_VIEW = "accounts.view"
    ACCOUNTS_MANAGE = "accounts.manage"
    JOURNAL_VIEW = "journal.view"
    JOURNAL_DRAFT = "journal.draft"  # create, change and delete draft entries
    JOURNAL_POST = "journal.post"
    JOURNAL_REVERSE = "journal.reverse"
    PERIODS_VIEW = "periods.view"
    PERIODS_MANAGE = "periods.manage"  # create, close, reopen, lock; year-end close
    RATES_VIEW = "rates.view"
    RATES_MANAGE = "rates.manage"
    REPORTS_VIEW = "reports.view"
    AUDIT_VIEW = "audit.view"
    SALES_VIEW = "sales.view"  # customers, items, tax rates, invoices, credit notes, payments
    CUSTOMERS_MANAGE = "customers.manage"  # customers and items
    TAX_RATES_MANAGE = "tax_rates.manage"  # tax rates and the company's sales settings
    INVOICES_DRAFT = "invoices.draft"  # create, change and delete draft invoices
    INVOICES_ISSUE = "invoices.issue"  # issue invoices and credit them (credit notes)
    INVOICES_VOID = "invoices.void"
    PAYMENTS_RECORD = "payments.record"  # record, allocate, unallocate and void payments
    INTEGRITY_VIEW = "integrity.view"  # integrity runs and their discrepancies
    INTEGRITY_RUN = "integrity.run"  # start an integrity run
    DISCREPANCIES_RESOLVE = "discrepancies.resolve"
    EXPORTS_CREATE = "exports.create"  # export reports (each kind also needs the right to read it)


_READ = {
    Action.EXPORTS_CREATE,
    Action.COMPANY_VIEW,
    Action.ACCOUNTS_VIEW,
    Action.JOURNAL_VIEW,
    Action.PERIODS_VIEW,
    Action.RATES_VIEW,
    Action.REPORTS_VIEW,
    Action.SALES_VIEW,
}
# Clerks keep the sales ledger's data and prepare invoices; accountants put them in the books.
_CLERK = _READ | {Action.JOURNAL_DRAFT, Action.CUSTOMERS_MANAGE, Action.INVOICES_DRAFT}
_ACCOUNTANT = _CLERK | {
    Action.JOURNAL_POST,
    Action.JOURNAL_REVERSE,
    Action.ACCOUNTS_MANAGE,
    Action.RATES_MANAGE,
    Action.TAX_RATES_MANAGE,
    Action.INVOICES_ISSUE,
    Action.INVOICES_VOID,
    Action.PAYMENTS_RECORD,
    Action.INTEGRITY_VIEW,
    Action.INTEGRITY_RUN,
}
# Controllers resolve discrepancies (an accountant posts the proposed correction, a controller
# signs the discrepancy off): the two steps are held apart.
_CONTROLLER = _ACCOUNTANT | {
    Action.PERIODS_MANAGE,
    Action.AUDIT_VIEW,
    Action.MEMBERS_VIEW,
    Action.DISCREPANCIES_RESOLVE,
}

PERMISSIONS: dict[str, frozenset[Action]] = {
    Role.VIEWER: frozenset(_READ),
    Role.CLERK: frozenset(_CLERK),
    Role.ACCOUNTANT: frozenset(_ACCOUNTANT),
    Role.CONTROLLER: frozenset(_CONTROLLER),
    Role.AUDITOR: frozenset(_READ | {Action.AUDIT_VIEW, Action.MEMBERS_VIEW, Action.INTEGRITY_VIEW}),
    Role.ADMIN: frozenset(Action),
}


def role_can(role: str, action: Action | str) -> bool:
    return Action(action) in PERMISSIONS.get(role, frozenset())
