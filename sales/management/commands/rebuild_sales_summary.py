"""Recompute the stored daily sales summary from the documents and say whether it differed."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Company
from audit.context import audit_context
from sales.services import sales_summaries_rebuild


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD).") from None


class Command(BaseCommand):
    help = (
        "Recompute the stored daily sales summary from the invoices, credit notes and voids of a range. "
        "Prints the days that differed; exits 1 when any did (with --check, nothing is changed)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--company", type=int, help="Company id (default: every company).")
        parser.add_argument("--from", dest="date_from", default="1900-01-01", help="First day (YYYY-MM-DD).")
        parser.add_argument("--to", dest="date_to", default="9998-12-31", help="Last day (YYYY-MM-DD).")
        parser.add_argument("--check", action="store_true", help="Only compare; do not rewrite.")

    def handle(
        self, *args, company=None, date_from="1900-01-01", date_to="9998-12-31", check=False, **options
    ):
        start, end = _date(date_from), _date(date_to)
        if end < start:
            raise CommandError("--to is before --from.")
        chosen = None
        if company is not None:
            chosen = Company.objects.filter(pk=company).first()
            if chosen is None:
                raise CommandError(f"No company with id {company}.")
        with audit_context(actor_name="command:rebuild_sales_summary"):
            results = sales_summaries_rebuild(date_from=start, date_to=end, company=chosen, apply=not check)
        differed = False
        for result in results:
            if result.differed:
                differed = True
                verb = "differ" if check else "differed and were rebuilt"
                self.stdout.write(f"Company {result.company_id}: {len(result.differences)} days {verb}:")
                for line in result.differences[:50]:
                    self.stdout.write(f"  {line}")
            else:
                self.stdout.write(
                    f"Company {result.company_id}: the summary matches ({result.days} days with sales)."
                )
        if differed:
            raise SystemExit(1)
