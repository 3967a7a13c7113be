"""Load the demo: an admin superuser and "Demo Trading Ltd" with a chart of accounts.

Idempotent: run it as often as you like (`make run` runs it every time). The admin's random
password is printed once, when the user is created, and never again.
"""

from __future__ import annotations

import secrets
import uuid

from django.core.management.base import BaseCommand

from accounts import services as accounts_services
from accounts.models import Company, User
from audit.context import audit_context
from ledger.demo import demo_entries_create
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


def demo_journal_entries_load(*, company: Company, by: User) -> int:
    """The ledger's demo entries for `company` (ledger.demo), once; returns how many were created.

    Idempotent like the rest of this command: a company that already has entries gets none.
    """
    return 0 if company.journal_entries.exists() else demo_entries_create(company=company, by=by)


class Command(BaseCommand):
    help = "Create the demo admin user and demo company (idempotent; prints a new password once)."

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

        entries = demo_journal_entries_load(company=company, by=admin)
        if entries:
            self.stdout.write(f"Loaded {entries} demo journal entries.")
