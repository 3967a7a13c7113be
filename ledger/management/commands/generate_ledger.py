"""manage.py generate_ledger --company ID --entries N [--start 2024-01-01] [--months 36] [--seed 42] [--batch 1000]

Posts N realistic synthetic entries (ledger.demo.synthetic_entries) through the bulk posting
service `journal_entries_import`, one transaction and one audit event per batch, so the same
rules hold as for any other entry (valid lines, balance, open periods, gapless numbers, stored
balances). Loads the small-business chart first if the company lacks it, and ANALYZEs the tables
it filled (autovacuum may be off or late: reports would be planned for empty tables).
"""

from __future__ import annotations

import datetime
import itertools
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Company
from accounts.services import chart_template_load
from audit.context import system_actor
from audit.models import AuditEvent
from ledger.demo import missing_accounts, synthetic_entries
from ledger.models import DailyBalance, EntrySource, JournalEntry, JournalLine, MonthlyBalance
from ledger.services import journal_entries_import
from sofinance.db_maintenance import tables_analyze
from sofinance.errors import APIError

CHART_TEMPLATE = "small_business"


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD).") from exc


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = "Create realistic synthetic journal entries fast (demos and benchmarks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--company", type=int, required=True, help="Company id.")
        parser.add_argument("--entries", type=_positive, required=True, help="Number of entries.")
        parser.add_argument("--start", default="2024-01-01", help="First date (default 2024-01-01).")
        parser.add_argument("--months", type=_positive, default=36, help="Months covered (default 36).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default 42).")
        parser.add_argument(
            "--batch", type=_positive, default=1000, help="Entries per transaction (default 1000)."
        )

    def handle(
        self, *args, company: int, entries: int, start: str, months: int, seed: int, batch: int, **options
    ):
        verbosity = options.get("verbosity", 1)
        first_day = _date(start)
        found = Company.objects.filter(pk=company).first()
        if found is None:
            raise CommandError(f"Company {company} does not exist.")
        with system_actor("command:generate_ledger"):
            self._ensure_chart(found)
            generated = synthetic_entries(
                currency=found.currency, count=entries, start=first_day, months=months, seed=seed
            )
            posted = lines = 0
            first_number = last_number = None
            began = time.perf_counter()
            report_every = max(1, entries // 10)
            while True:
                chunk = list(itertools.islice(generated, batch))
                if not chunk:
                    break
                try:
                    result = journal_entries_import(
                        company=found,
                        entries=chunk,
                        by=None,
                        source=EntrySource.IMPORT,
                        audit_per_entry=False,
                        max_entries=None,
                    )
                except APIError as exc:
                    raise CommandError(
                        f"Batch starting at entry {posted + 1} was refused: {exc.message} "
                        f"({posted} entries were created before it)."
                    ) from exc
                first_number = first_number or result.first_number
                last_number = result.last_number
                before = posted
                posted += result.posted
                lines += sum(len(item.lines) for item in chunk)
                if verbosity >= 2 or (verbosity >= 1 and posted // report_every != before // report_every):
                    elapsed = time.perf_counter() - began
                    self.stdout.write(
                        f"  {posted:>9,} entries  {lines:>10,} lines  {posted / elapsed:,.0f} entries/s"
                    )
            tables_analyze(JournalEntry, JournalLine, DailyBalance, MonthlyBalance, AuditEvent)
            elapsed = time.perf_counter() - began
        if verbosity < 1:
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {posted:,} entries ({lines:,} lines) for {found.name} (id {found.pk}), "
                f"{first_number} – {last_number}, in {elapsed:.1f} s: "
                f"{posted / elapsed:,.0f} entries/s, {lines / elapsed:,.0f} lines/s."
            )
        )

    def _ensure_chart(self, company: Company) -> None:
        if not missing_accounts(company=company):
            return
        created = chart_template_load(company=company, template=CHART_TEMPLATE, by=None)
        self.stdout.write(f"Loaded the {CHART_TEMPLATE} chart: {len(created)} accounts created.")
        still_missing = missing_accounts(company=company)
        if still_missing:
            raise CommandError(
                "These accounts are needed as active accounts without sub-accounts: "
                f"{', '.join(still_missing)}."
            )
