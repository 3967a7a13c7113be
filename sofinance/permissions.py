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
    JOURNAL_IMPORT = "journal.import"  # post a journal from a CSV/XLSX file
    BANKING_VIEW = "banking.view"  # bank accounts, statements, lines, matches, reconciliation reports
    BANKING_MANAGE = "banking.manage"  # bank accounts, their CSV mappings, the matching settings
    BANKING_IMPORT = "banking.import"  # upload bank statements (and delete an unmatched one)
    BANKING_MATCH = "banking.match"  # run suggestions, match and unmatch bank lines
    BANKING_POST = "banking.post"  # create an entry from a bank line (fees, interest)
    BANKING_RECONCILE = "banking.reconcile"  # mark a statement reconciled
    BANKING_REOPEN = "banking.reopen"  # reopen a reconciled statement
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
    Action.BANKING_VIEW,
}
# Clerks keep the sales ledger's data, prepare invoices, import bank statements and match them;
# accountants put things in the books and reconcile; controllers reopen what was reconciled.
_CLERK = _READ | {
    Action.JOURNAL_DRAFT,
    Action.CUSTOMERS_MANAGE,
    Action.INVOICES_DRAFT,
    Action.BANKING_IMPORT,
    Action.BANKING_MATCH,
}
_ACCOUNTANT = _CLERK | {
    Action.JOURNAL_POST,
    Action.JOURNAL_REVERSE,
    Action.ACCOUNTS_MANAGE,
    Action.RATES_MANAGE,
    Action.TAX_RATES_MANAGE,
    Action.INVOICES_ISSUE,
    Action.INVOICES_VOID,
    Action.PAYMENTS_RECORD,
    Action.JOURNAL_IMPORT,
    Action.BANKING_MANAGE,
    Action.BANKING_POST,
    Action.BANKING_RECONCILE,
    Action.INTEGRITY_VIEW,
    Action.INTEGRITY_RUN,
}
# Controllers resolve discrepancies (an accountant posts the proposed correction, a controller
# signs the discrepancy off): the two steps are held apart.
_CONTROLLER = _ACCOUNTANT | {
    Action.PERIODS_MANAGE,
    Action.AUDIT_VIEW,
    Action.MEMBERS_VIEW,
    Action.BANKING_REOPEN,
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


# The Django model permissions (app_label.codename) each action gives a company member in the
# admin, so that a staff member needs no permissions assigned by hand: their role says what they
# may do (accounts.backends.RolePermissionBackend). Which company's rows they see and change is
# still checked per company by the admin (sofinance.admin), as the API does.
def _model_perms(app_label: str, verbs: str, *models: str) -> tuple[str, ...]:
    return tuple(f"{app_label}.{verb}_{model}" for model in models for verb in verbs.split())


ADMIN_MODEL_PERMISSIONS: dict[Action, tuple[str, ...]] = {
    Action.COMPANY_VIEW: _model_perms("accounts", "view", "company"),
    Action.COMPANY_CHANGE: _model_perms("accounts", "change", "company"),
    Action.MEMBERS_VIEW: _model_perms("accounts", "view", "membership"),
    Action.ACCOUNTS_VIEW: _model_perms("accounts", "view", "account"),
    Action.ACCOUNTS_MANAGE: _model_perms("accounts", "add change delete", "account"),
    Action.JOURNAL_VIEW: _model_perms("ledger", "view", "journalentry", "journalline"),
    Action.JOURNAL_DRAFT: _model_perms("ledger", "add change delete", "journalentry", "journalline"),
    Action.JOURNAL_POST: _model_perms("ledger", "change", "journalentry"),
    Action.JOURNAL_REVERSE: _model_perms("ledger", "change", "journalentry"),
    Action.PERIODS_VIEW: _model_perms("ledger", "view", "accountingperiod", "fiscalyearclose"),
    Action.PERIODS_MANAGE: _model_perms("ledger", "add change", "accountingperiod", "fiscalyearclose"),
    Action.RATES_VIEW: _model_perms("ledger", "view", "exchangerate"),
    Action.RATES_MANAGE: _model_perms("ledger", "add change delete", "exchangerate"),
    Action.AUDIT_VIEW: _model_perms("audit", "view", "auditevent"),
    Action.SALES_VIEW: _model_perms(
        "sales",
        "view",
        "customer",
        "item",
        "taxrate",
        "salessettings",
        "invoice",
        "invoiceline",
        "creditnote",
        "creditnoteline",
        "payment",
        "allocation",
    ),
    Action.CUSTOMERS_MANAGE: _model_perms("sales", "add change delete", "customer", "item"),
    Action.TAX_RATES_MANAGE: _model_perms("sales", "add change delete", "taxrate", "salessettings"),
    Action.INVOICES_DRAFT: _model_perms("sales", "add change delete", "invoice", "invoiceline"),
    Action.INVOICES_ISSUE: _model_perms("sales", "change", "invoice", "creditnote")
    + _model_perms("sales", "add", "creditnote"),
    Action.INVOICES_VOID: _model_perms("sales", "change", "invoice"),
    Action.PAYMENTS_RECORD: _model_perms("sales", "add change", "payment", "allocation"),
    # Banking: statements, their lines and imports are written on the banking pages (upload,
    # match, reconcile), each checking its own action; the model lists are read-only.
    Action.BANKING_VIEW: _model_perms(
        "banking", "view", "bankaccount", "bankstatement", "bankstatementline", "importjob", "bankingsettings"
    ),
    Action.BANKING_MANAGE: _model_perms("banking", "add change", "bankaccount", "bankingsettings"),
    # Jobs: runs and discrepancies are read (and resolved on their own page); exports are listed
    # for those who may make them (each kind also needs the right to read what it holds).
    Action.INTEGRITY_VIEW: _model_perms("jobs", "view", "integrityrun", "discrepancy"),
    Action.EXPORTS_CREATE: _model_perms("jobs", "view", "exportjob"),
}


def admin_model_permissions(role: str) -> set[str]:
    """The Django model permissions a member with `role` holds in the admin."""
    return {
        perm
        for action in PERMISSIONS.get(role, frozenset())
        for perm in ADMIN_MODEL_PERMISSIONS.get(action, ())
    }
