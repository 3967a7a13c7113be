"""manage.py reconcile [--company ID]: run the integrity reconciliation now, with a progress bar."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from accounts.models import Company
from audit.context import system_actor
from jobs.models import Trigger
from jobs.services import integrity_run_execute, integrity_run_request


class Command(BaseCommand):
    help = (
        "Reconcile the books now: stored balances, entries, sales documents, receivables, sales summary "
        "and the audit chain, for one company or all (and the audit chain of no company). Discrepancies "
        "are recorded and quarantined and corrections proposed as drafts, exactly as the nightly run does; "
        "nothing in the books is changed. Exits 1 when any discrepancy was found."
    )

    def add_arguments(self, parser):
        parser.add_argument("--company", type=int, help="Company id (default: every company).")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, company=None, no_progress=False, **options):
        if company is not None:
            found = Company.objects.filter(pk=company).first()
            if found is None:
                raise CommandError(f"No company with id {company}.")
            targets: list[Company | None] = [found]
        else:
            targets = [*Company.objects.order_by("pk"), None]
        total = 0
        with system_actor("command:reconcile"):
            for target in targets:
                label = (
                    f"company {target.pk} ({target.name})"
                    if target is not None
                    else "audit chain of no company"
                )
                run = integrity_run_request(company=target, by=None, trigger=Trigger.COMMAND, enqueue=False)
                bar = tqdm(
                    total=1, desc=label, unit="check", disable=no_progress, file=sys.stderr, leave=False
                )

                def progress(name: str, done: int, steps: int, bar=bar) -> None:
                    bar.total = steps
                    bar.set_postfix_str(name)
                    bar.update(done - bar.n)

                run = integrity_run_execute(run_id=run.pk, progress=progress)
                bar.close()
                total += run.discrepancy_count
                seconds = run.counts.get("seconds", 0)
                if run.discrepancy_count:
                    self.stdout.write(
                        self.style.ERROR(
                            f"Run #{run.pk}, {label}: {run.discrepancy_count} discrepancies "
                            f"({run.new_discrepancy_count} new, {run.proposed_count} corrections drafted) "
                            f"in {seconds:.1f} s:"
                        )
                    )
                    for d in run.discrepancies.order_by("id")[:50]:
                        self.stdout.write(f"  #{d.pk} {d.kind} {d.object_type}:{d.object_id}: {d.message}")
                else:
                    self.stdout.write(f"Run #{run.pk}, {label}: no discrepancy ({seconds:.1f} s).")
        if total:
            raise SystemExit(1)
