"""Imports as jobs: a bank statement or a journal file, stored with its SHA-256, run by a Celery
task (or in the request), with status, progress and the errors by line.

`import_job_run` is what the task calls: idempotent (a job already done or failed is returned
as it is; a job left `running` by a worker that died starts again from the file, since its writes
were all or nothing), with the writes and the `done` status in one transaction, and a refusal
recorded as `failed` with its errors. While a journal file is being posted (one transaction,
invisible to others until it commits) the progress is published in the cache.
"""

from __future__ import annotations

import hashlib
import logging
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.utils import timezone

from accounts.models import Company, User
from audit.services import audit_record
from banking import errors, selectors
from banking.models import BankAccount, BankStatement, ImportJob, ImportKind, JobStatus, StatementFormat
from banking.parsers import detect_format, statement_parse
from banking.parsers.csv_statement import DEFAULT_MAPPING, csv_mapping_clean
from banking.parsers.journal import journal_format, parse_journal_file
from banking.services.journal_import import journal_file_post, journal_file_validate, result_json
from banking.services.matching import suggestions_refresh
from banking.services.statements import (
    StatementOverrides,
    bank_account_locked,
    statement_store,
    statements_for_bank,
)
from sofinance.bulk import collection_paused
from sofinance.errors import APIError, InternalError, ValidationFailed
from sofinance.locks import named_lock

JOURNAL_FORMATS = ("csv", "xlsx")
# How long a second run of one import waits for the first before the task retries later.
IMPORT_LOCK_WAIT = 60.0


def progress_key(job_id: int) -> str:
    return selectors.import_progress_key(job_id)


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(upload: Any) -> tuple[bytes, str]:
    if isinstance(upload, bytes):
        if not upload:
            raise ValidationFailed("The file is empty.", details={"file": ["Empty file."]})
        return upload, "upload"
    if upload is None or not hasattr(upload, "read"):
        raise ValidationFailed(
            "Send the file as multipart form data in `file`.", details={"file": ["Required."]}
        )
    upload.seek(0)
    data = upload.read()
    if not data:
        raise ValidationFailed("The file is empty.", details={"file": ["Empty file."]})
    return data, (getattr(upload, "name", "") or "upload")[-255:]


def journal_import_job_from_dry_run(*, job: ImportJob, by: User | None) -> ImportJob:
    """A queued job posting the file a finished dry run checked (the stored file, not a new
    upload): the admin's "Post this file now". Refused unless `job` is a journal dry run that
    passed; the same file posted once still holds (409 `duplicate_import`)."""
    if job.kind != ImportKind.JOURNAL or not job.dry_run or job.status != JobStatus.DONE:
        message = "Only a journal dry run that passed can be posted as it is."
        raise ValidationFailed(message, details={"job": [message]})
    job.file.open("rb")
    try:
        data = job.file.read()
    finally:
        job.file.close()
    return journal_import_job_create(
        company=job.company, file=ContentFile(data, name=job.file_name), by=by, format=job.format
    )


def statement_import_job_create(
    *,
    bank_account: BankAccount,
    file: Any,
    by: User | None,
    format: str | None = None,
    opening_balance: Decimal | None = None,
    closing_balance: Decimal | None = None,
    accept_chain_break: bool = False,
) -> ImportJob:
    """A queued job importing a statement file into a bank account (the format given, or
    detected). The file is stored; nothing else is written until the job runs."""
    if format not in (None, "", *StatementFormat.values):
        message = f"{format!r} is not a statement format (csv, ofx or camt053)."
        raise ValidationFailed(message, details={"format": [message]})
    if not bank_account.is_active:
        raise errors.InvalidBankAccount(f"{bank_account.name} is inactive.")
    data, name = _read(file)
    resolved = format or detect_format(data)
    options = {"accept_chain_break": bool(accept_chain_break)}
    for key, value in (("opening_balance", opening_balance), ("closing_balance", closing_balance)):
        if value is not None:
            options[key] = str(value)
    job = ImportJob(
        company_id=bank_account.company_id,
        kind=ImportKind.BANK_STATEMENT,
        bank_account=bank_account,
        file_name=name,
        file_hash=file_hash(data),
        format=resolved,
        options=options,
        requested_by=by if by is not None and by.is_authenticated else None,
    )
    job.file.save(name.rsplit("/", 1)[-1] or "statement", ContentFile(data), save=False)
    job.save()
    return job


def journal_import_job_create(
    *, company: Company, file: Any, by: User | None, format: str | None = None, dry_run: bool = False
) -> ImportJob:
    """A queued job posting a journal file (CSV or XLSX). The same file (by content) is posted
    once: a second upload is refused (409 `duplicate_import`) unless the first one failed or was
    a dry run."""
    if format not in (None, "", *JOURNAL_FORMATS):
        message = f"{format!r} is not csv or xlsx."
        raise ValidationFailed(message, details={"format": [message]})
    data, name = _read(file)
    digest = file_hash(data)
    if not dry_run:
        earlier = (
            ImportJob.objects.filter(
                company=company, kind=ImportKind.JOURNAL, file_hash=digest, dry_run=False
            )
            .exclude(status=JobStatus.FAILED)
            .first()
        )
        if earlier is not None:
            raise errors.DuplicateImport(
                f"This file was already imported (job {earlier.pk}, {earlier.status}).",
                details={"job": earlier.pk, "file_hash": digest},
            )
    job = ImportJob(
        company=company,
        kind=ImportKind.JOURNAL,
        file_name=name,
        file_hash=digest,
        format=journal_format(data, format or None),
        dry_run=bool(dry_run),
        requested_by=by if by is not None and by.is_authenticated else None,
    )
    job.file.save(name.rsplit("/", 1)[-1] or "journal", ContentFile(data), save=False)
    try:
        with transaction.atomic():
            job.save()
    except IntegrityError as exc:  # the same file uploaded twice at once
        raise errors.DuplicateImport(
            "This file is being imported already.", details={"file_hash": digest}
        ) from exc
    return job


# --------------------------------------------------------------------------- running


def _set_progress(job: ImportJob, value: int, *, publish: bool) -> None:
    """Publish a running job's progress in the cache: its row is only written when the job ends
    (the import runs in one transaction, invisible until it commits)."""
    value = max(0, min(100, value))
    if publish:
        cache.set(progress_key(job.pk), value, timeout=24 * 3600)
    job.progress = value


def _run_statement(job: ImportJob, *, by: User | None, inline: bool) -> None:
    bank = bank_account_locked(job.bank_account)
    job.file.open("rb")
    try:
        data = job.file.read()
    finally:
        job.file.close()
    mapping = csv_mapping_clean(bank.csv_mapping) if bank.csv_mapping else dict(DEFAULT_MAPPING)
    parsed = statements_for_bank(
        bank, statement_parse(data, format=job.format, currency=bank.currency, csv_mapping=mapping)
    )
    _set_progress(job, 50, publish=not inline)
    line_total = sum(len(statement.lines) for statement in parsed)
    if inline and line_total > SYNC_MAX_LINES:
        raise errors.TooManyLinesToWaitFor(
            f"The file holds {line_total:,} lines: a file of more than {SYNC_MAX_LINES:,} is imported by a "
            "worker. Upload it again with async=true and follow the job.",
            details={"file": [f"{line_total} lines (at most {SYNC_MAX_LINES} at once)."]},
        )
    options = job.options or {}
    overrides = StatementOverrides(
        opening_balance=Decimal(options["opening_balance"]) if "opening_balance" in options else None,
        closing_balance=Decimal(options["closing_balance"]) if "closing_balance" in options else None,
        accept_chain_break=bool(options.get("accept_chain_break")),
    )
    if len(parsed) > 1 and (overrides.opening_balance is not None or overrides.closing_balance is not None):
        raise ValidationFailed("Balances are given for a file of one statement only.")
    stored: list[BankStatement] = []
    new_lines = []
    for statement in parsed:
        saved, lines = statement_store(
            bank_account=bank,
            parsed=statement,
            format=job.format,
            file_name=job.file_name,
            file_hash=job.file_hash,
            stored_file=job.file.name,
            by=by,
            overrides=overrides,
        )
        stored.append(saved)
        new_lines += lines
    matched = suggestions_refresh(bank_account=bank, lines=new_lines) if new_lines else 0
    job.statements.set(stored)
    job.row_count = sum(len(s.lines) for s in parsed)
    job.line_count = sum(s.line_count for s in stored)
    job.duplicates_skipped = sum(s.duplicates_skipped for s in stored)
    job.result = {"statements": [s.pk for s in stored], "auto_matched": matched}


def _run_journal(job: ImportJob, *, by: User | None, inline: bool) -> None:
    job.file.open("rb")
    try:
        data = job.file.read()
    finally:
        job.file.close()
    company = job.company
    with collection_paused():  # a file's rows, lines and entries: no cycles to look for
        journal = parse_journal_file(data, format=job.format)
        job.row_count = journal.row_count
        _set_progress(job, 10, publish=not inline)
        if job.dry_run:
            _, summary = journal_file_validate(
                company=company,
                journal=journal,
                progress=lambda p: _set_progress(job, 10 + p * 90 // 100, publish=not inline),
            )
        else:
            summary = journal_file_post(
                company=company,
                journal=journal,
                by=by,
                progress=lambda p: _set_progress(job, 10 + p * 90 // 100, publish=not inline),
            )
    job.entry_count = summary.entries
    job.line_count = summary.lines
    job.result = result_json(summary, company.currency)


def _finish(job: ImportJob, *, by: User | None) -> None:
    job.status = JobStatus.DONE
    job.progress = 100
    job.finished_at = timezone.now()
    job.save()
    cache.delete(progress_key(job.pk))
    metadata = {
        "kind": job.kind,
        "format": job.format,
        "file_name": job.file_name,
        "file_hash": job.file_hash,
        "dry_run": job.dry_run,
        "rows": job.row_count,
        "lines": job.line_count,
        "entries": job.entry_count,
        "duplicates_skipped": job.duplicates_skipped,
        **({"result": job.result} if job.kind == ImportKind.JOURNAL else {}),
    }
    audit_record(
        action="import",
        company=job.company,
        obj=job,
        actor=by,
        changes={"status": {"before": JobStatus.RUNNING, "after": JobStatus.DONE}},
        metadata=metadata,
    )


logger = logging.getLogger(__name__)

# The most lines a statement upload imports while its request waits (matching included, a few
# seconds on a slow machine); a larger file is imported by a worker (`?async=true` on the API),
# or the request would outlive the web server's timeout.
SYNC_MAX_LINES = 5_000


def _fail(job: ImportJob, error: APIError) -> ImportJob:
    details = error.details if isinstance(error.details, dict) else {}
    ImportJob.objects.filter(pk=job.pk).update(
        status=JobStatus.FAILED,
        finished_at=timezone.now(),
        error_code=str(error.code)[:50],
        error_message=error.message[:1000],
        errors=details.get("errors") or [{"line": None, "message": error.message, "details": details}],
    )
    cache.delete(progress_key(job.pk))
    job.refresh_from_db()
    return job


def import_job_execute_inline(*, job: ImportJob, by: User | None) -> ImportJob:
    """Run a job inside the caller's transaction (an upload answered at once): a refusal is raised
    and rolls back everything, the job included."""
    job.status = JobStatus.RUNNING
    job.started_at = timezone.now()
    if job.kind == ImportKind.BANK_STATEMENT:
        _run_statement(job, by=by, inline=True)
    else:
        _run_journal(job, by=by, inline=True)
    _finish(job, by=by)
    return job


def statement_upload(*, bank_account: BankAccount, file: Any, by: User | None, **options: Any) -> ImportJob:
    """Create a statement import job and run it at once, in one transaction (the upload answered
    with the statement). A refusal rolls everything back and removes the stored file."""
    job = None
    try:
        with transaction.atomic():
            job = statement_import_job_create(bank_account=bank_account, file=file, by=by, **options)
            import_job_execute_inline(job=job, by=by)
    except APIError:
        if job is not None and job.file:
            job.file.delete(save=False)
        raise
    return job


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Run a queued job (the Celery task's body). Idempotent: a finished job is returned as it is."""
    job = (
        ImportJob.objects.select_related("company", "bank_account", "requested_by").filter(pk=job_id).first()
    )
    if job is None or job.status in (JobStatus.DONE, JobStatus.FAILED):
        return job
    # One run at a time per job: a second message for it (a redelivery, or the stalled-jobs sweep
    # sending again while the first waited in a backed-up queue) waits, then finds it finished.
    with named_lock(f"import:{job.pk}", wait=IMPORT_LOCK_WAIT):
        job.refresh_from_db()
        if job.status in (JobStatus.DONE, JobStatus.FAILED):
            return job
        ImportJob.objects.filter(pk=job.pk).update(
            status=JobStatus.RUNNING, started_at=timezone.now(), progress=0
        )
        job.status = JobStatus.RUNNING
        by = job.requested_by
        try:
            with transaction.atomic():
                if job.kind == ImportKind.BANK_STATEMENT:
                    _run_statement(job, by=by, inline=False)
                else:
                    _run_journal(job, by=by, inline=False)
                _finish(job, by=by)
        except APIError as exc:
            return _fail(job, exc)
        except (OperationalError, InterfaceError):
            raise  # the database went away: the job stays queued, and is run again (jobs-requeue-stalled)
        except Exception:
            # A file no check foresaw (or a bug): the job ends failed, rolled back and logged, rather
            # than "running" for ever and sent again by every sweep.
            logger.exception("import job %s failed on an unexpected error", job.pk)
            return _fail(
                job,
                InternalError(
                    "The import failed on an unexpected error; nothing was written. It has been logged."
                ),
            )
    return job
