"""Load the demo: an admin superuser and "Demo Trading Ltd" with its chart, books, sales ledger and
bank account (last month's statement, partly matched).

The demo command lives with the highest app it fills (banking, above sales and the ledger).
Idempotent: run it as often as you like (`make run` runs it every time). The admin's random
password is printed once, when the user is created, and never again; the books and the sales
ledger are loaded once, into a company that has no journal entries and no customers yet.
"""

from __future__ import annotations

import secrets
import uuid

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import services as accounts_services
from accounts.models import Company, User
from audit.context import audit_context
from banking.demo import banking_demo_create
from ledger.demo import demo_periods_close
from sales.demo import sales_demo_create
from sales.models import Customer
from sofinance.context import request_id_var

ADMIN_USERNAME = "admin"
ADMIN_EMAIL = "admin@example.com"
DEMO_COMPANY_NAME = "Demo Trading Ltd"
DEMO_COMPANY_CURRENCY = "USD"
DEMO_CHART_TEMPLATE = "small_business"


def demo_admin_ensure() -> tuple[User, str | None]:
    """The admin superuser; the new password when it was just created, else None."""
    existing = User.objects.filter(username=ADMIN_USERNAME).first()
    if existing is not None:
        return existing, None
    password = secrets.token_urlsafe(12)
    user = accounts_services.user_create(
        username=ADMIN_USERNAME,
        email=ADMIN_EMAIL,
        password=password,
        is_staff=True,
        is_superuser=True,
    )
    return user, password


def demo_company_ensure(*, admin: User) -> tuple[Company, bool]:
    """The demo company (admin is its admin, small-business chart loaded); True when created."""
    existing = Company.objects.filter(name=DEMO_COMPANY_NAME, memberships__user=admin).first()
    if existing is not None:
        return existing, False
    company = accounts_services.company_create(
        name=DEMO_COMPANY_NAME,
        currency=DEMO_COMPANY_CURRENCY,
        created_by=admin,
        chart_template=DEMO_CHART_TEMPLATE,
    )
    return company, True


def demo_books_load(*, company: Company, by: User) -> bool:
    """A few months of books with their sales ledger (sales.demo) and last month's bank statement
    (banking.demo), the fiscal year's periods with the months before last month closed, once: a
    company that already has journal entries or customers gets nothing (False)."""
    if company.journal_entries.exists() or Customer.objects.filter(company=company).exists():
        return False
    with transaction.atomic():  # all of it or none: a failed load is simply run again
        sales_demo_create(company=company, by=by)
        banking_demo_create(company=company, by=by)
        demo_periods_close(company=company, by=by)
    return True


class Command(BaseCommand):
    help = "Create the demo admin user and demo company with its books and sales (idempotent; prints a new password once)."

    def handle(self, *args, **options):
        token = request_id_var.set(f"command-demo-setup-{uuid.uuid4().hex[:12]}")
        try:
            with audit_context(actor_name="command:demo_setup"):
                self._run()
        finally:
            request_id_var.reset(token)

    def _run(self) -> None:
        admin, password = demo_admin_ensure()
        if password is not None:
            self.stdout.write(self.style.SUCCESS(f"Created superuser '{ADMIN_USERNAME}'."))
            self.stdout.write(f"  username: {ADMIN_USERNAME}")
            self.stdout.write(f"  password: {password}")
            self.stdout.write(
                "  (shown once; change it in the admin, or run `manage.py changepassword admin`)"
            )
        else:
            self.stdout.write(f"Superuser '{ADMIN_USERNAME}' already exists; its password is unchanged.")

        company, created = demo_company_ensure(admin=admin)
        if created:
            accounts = company.accounts.count()
            self.stdout.write(
                self.style.SUCCESS(
                    f"Created company '{company.name}' ({company.currency}, id {company.pk}) "
                    f"with {accounts} accounts."
                )
            )
        else:
            self.stdout.write(f"Company '{company.name}' already exists (id {company.pk}).")

        if demo_books_load(company=company, by=admin):
            entries = company.journal_entries.count()
            invoices = company.invoices.count()
            payments = company.payments.count()
            self.stdout.write(
                f"Loaded {entries} demo journal entries: {invoices} invoices, {payments} payments and "
                f"{company.credit_notes.count()} credit note(s) among them."
            )
            bank = company.bank_accounts.first()
            if bank is not None:
                self.stdout.write(
                    f"Opened bank account '{bank.name}' with last month's statement: {bank.lines.count()} lines, "
                    f"{bank.lines.filter(status='matched').count()} matched."
                )
