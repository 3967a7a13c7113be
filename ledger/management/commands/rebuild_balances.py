"""Recompute stored balances from the posted lines and say whether they differed."""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Company
from audit.context import audit_context
from ledger.services import balances_rebuild


class Command(BaseCommand):
    help = (
        "Recompute the daily and monthly stored balances from the posted journal lines. "
        "Prints the differences found; exits 1 when any were found (with --check, nothing is changed)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--company", type=int, help="Company id (default: every company).")
        parser.add_argument("--check", action="store_true", help="Only compare; do not rewrite.")

    def handle(self, *args, company=None, check=False, **options):
        companies = Company.objects.order_by("pk")
        if company is not None:
            companies = companies.filter(pk=company)
            if not companies.exists():
                raise CommandError(f"No company with id {company}.")
        differed = False
        with audit_context(actor_name="command:rebuild_balances"):
            for item in companies:
                result = balances_rebuild(company_id=item.pk, apply=not check)
                if result.differed:
                    differed = True
                    verb = "differ" if check else "differed and were rebuilt"
                    self.stdout.write(
                        f"Company {item.pk} ({item.name}): {len(result.differences)} buckets {verb}:"
                    )
                    for line in result.differences[:50]:
                        self.stdout.write(f"  {line}")
                else:
                    self.stdout.write(
                        f"Company {item.pk} ({item.name}): balances match "
                        f"({result.daily_rows} daily, {result.monthly_rows} monthly buckets)."
                    )
        if differed:
            raise SystemExit(1)
