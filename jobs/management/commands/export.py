"""manage.py export --company ID --kind KIND [--format csv|xlsx|beancount] [--as-of] [--from] [--to]
[--account] [--output PATH]: make an export now, with a progress bar."""

from __future__ import annotations

import shutil
import sys

from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from accounts.models import Company
from audit.context import system_actor
from jobs.models import ExportFormat, ExportKind, JobStatus
from jobs.services import export_execute, export_request
from sofinance.errors import APIError


class Command(BaseCommand):
    help = (
        "Export a report, the journal lines, the invoices, the audit events or the books as Beancount to "
        "the default storage (local media folder or the S3 bucket), as a worker would; --output also copies "
        "the file to a local path."
    )

    def add_arguments(self, parser):
        parser.add_argument("--company", type=int, required=True, help="Company id.")
        parser.add_argument("--kind", required=True, choices=ExportKind.values)
        parser.add_argument(
            "--format", choices=ExportFormat.values, help="Default: csv (beancount for beancount)."
        )
        parser.add_argument(
            "--as-of", dest="as_of", help="YYYY-MM-DD (trial_balance, balance_sheet, ar_aging)."
        )
        parser.add_argument("--from", dest="date_from", help="YYYY-MM-DD.")
        parser.add_argument("--to", dest="date_to", help="YYYY-MM-DD.")
        parser.add_argument("--account", help="Account code (general_ledger, journal_lines).")
        parser.add_argument("--output", help="Also copy the file here.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, company, kind, format=None, output=None, no_progress=False, **options):
        found = Company.objects.filter(pk=company).first()
        if found is None:
            raise CommandError(f"No company with id {company}.")
        parameters = {
            "as_of": options.get("as_of"),
            "from": options.get("date_from"),
            "to": options.get("date_to"),
            "account": options.get("account"),
        }
        with system_actor("command:export"):
            try:
                job = export_request(
                    company=found,
                    by=None,
                    kind=kind,
                    fmt=format,
                    parameters={k: v for k, v in parameters.items() if v},
                    enqueue=False,
                )
            except APIError as exc:
                raise CommandError(f"{exc.message} {exc.details or ''}".strip()) from exc
            bar = tqdm(desc=f"export #{job.pk} {kind}", unit="row", disable=no_progress, file=sys.stderr)

            def progress(done: int, total: int) -> None:
                bar.total = max(total, done)
                bar.update(done - bar.n)

            job = export_execute(export_id=job.pk, progress=progress)
            bar.close()
        if job.status != JobStatus.DONE:
            raise CommandError(f"Export #{job.pk} failed: {job.error}")
        self.stdout.write(
            f"Export #{job.pk}: {job.row_count} rows, {job.file_size} bytes, stored as {job.file_name}"
        )
        if output:
            with storages["default"].open(job.file_name, "rb") as source, open(output, "wb") as target:
                shutil.copyfileobj(source, target)
            self.stdout.write(f"Copied to {output}")
