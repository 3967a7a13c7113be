"""Exports: a report or the journal written to a file on the default storage by a worker.

`export_request` checks the kind, format and parameters (so a bad request writes nothing) and
queues the job; `export_execute` streams the rows into a local temporary file (constant memory:
keyset pages in, rows out as they come) and then saves it to the default storage (local
MEDIA_ROOT, or the S3/MinIO bucket) under `exports/<company>/<job>/`, replacing whatever an
earlier attempt left there, so a job retried after a crash still ends with exactly one file.
Progress is committed as it goes, so the API shows it while the job runs. Files expire after
EXPORT_TTL and are deleted by the clean-up schedule (`exports_purge_expired`).
"""

from __future__ import annotations

import datetime
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog
from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, Company, User
from audit.services import audit_record
from jobs.errors import InvalidExport
from jobs.exports.beancount import beancount_write
from jobs.exports.tables import PAGE, ExportParameters, export_table
from jobs.exports.writers import row_writer
from jobs.models import FINISHED, ExportFormat, ExportJob, ExportKind, JobStatus
from ledger import errors as ledger_errors
from ledger.models import FIRST_BOOK_DATE, LAST_BOOK_DATE
from sofinance.api.fields import parse_iso_date
from sofinance.errors import APIError, ValidationFailed
from sofinance.locks import named_lock

logger = structlog.get_logger("sofinance.jobs")

AS_OF, FROM, TO, ACCOUNT = "as_of", "from", "to", "account"
# The parameters each kind takes (and which of them it requires).
KIND_PARAMETERS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    ExportKind.TRIAL_BALANCE: (frozenset({AS_OF}), frozenset()),
    ExportKind.BALANCE_SHEET: (frozenset({AS_OF}), frozenset()),
    ExportKind.INCOME_STATEMENT: (frozenset({FROM, TO}), frozenset({FROM, TO})),
    ExportKind.GENERAL_LEDGER: (frozenset({ACCOUNT, FROM, TO}), frozenset({ACCOUNT})),
    ExportKind.JOURNAL_LINES: (frozenset({ACCOUNT, FROM, TO}), frozenset()),
    ExportKind.INVOICES: (frozenset({FROM, TO}), frozenset()),
    ExportKind.AR_AGING: (frozenset({AS_OF}), frozenset()),
    ExportKind.AUDIT_EVENTS: (frozenset({FROM, TO}), frozenset()),
    ExportKind.BEANCOUNT: (frozenset({TO}), frozenset()),
}
EXTENSIONS = {ExportFormat.CSV: "csv", ExportFormat.XLSX: "xlsx", ExportFormat.BEANCOUNT: "beancount"}
CONTENT_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.BEANCOUNT: "text/plain; charset=utf-8",
}


class ExportAudit:
    EXPORT = "export"
    EXPORTED = "export_done"
    FAILED = "export_failed"
    PURGE = "purge"


# --------------------------------------------------------------------------- parameters


def _date(value: Any, name: str) -> datetime.date:
    parsed = parse_iso_date(value) if isinstance(value, str) else None
    if parsed is None:
        raise ValidationFailed(f"`{name}` is not a date (YYYY-MM-DD).", details={name: ["Invalid date."]})
    if not FIRST_BOOK_DATE <= parsed <= LAST_BOOK_DATE:
        raise ValidationFailed(
            f"Dates run from {FIRST_BOOK_DATE} to {LAST_BOOK_DATE}.", details={name: ["Out of range."]}
        )
    return parsed


def _account(company: Company, ref: Any) -> Account:
    queryset = Account.objects.filter(company=company)
    account = None
    if isinstance(ref, int) and not isinstance(ref, bool) and 0 < ref < 2**63:
        account = queryset.filter(pk=ref).first()
    elif isinstance(ref, str) and ref.strip():
        account = queryset.filter(code=ref.strip()).first()
    if account is None:
        raise ledger_errors.InvalidAccount(
            f"Account {ref!r} does not exist in this company.", details={ACCOUNT: [str(ref)]}
        )
    return account


def export_format_default(kind: str) -> str:
    return ExportFormat.BEANCOUNT if kind == ExportKind.BEANCOUNT else ExportFormat.CSV


def export_parameters_parse(*, company: Company, kind: str, parameters: dict[str, Any]) -> ExportParameters:
    """The parameters of an export of `kind`, checked: only those the kind takes, the required
    ones given, dates as YYYY-MM-DD and in order, the account one of the company's."""
    allowed, required = KIND_PARAMETERS[kind]
    given = {name: value for name, value in parameters.items() if value not in (None, "")}
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise ValidationFailed(
            f"The {kind} export takes {', '.join(sorted(allowed)) or 'no parameters'}.",
            details={name: [f"Not a parameter of the {kind} export."] for name in unknown},
        )
    missing = sorted(required - set(given))
    if missing:
        raise ValidationFailed(
            f"The {kind} export needs {', '.join(missing)}.",
            details={name: ["Required."] for name in missing},
        )
    as_of = _date(given[AS_OF], AS_OF) if AS_OF in given else None
    date_from = _date(given[FROM], FROM) if FROM in given else None
    date_to = _date(given[TO], TO) if TO in given else None
    if date_from and date_to and date_to < date_from:
        raise ValidationFailed("`to` is before `from`.", details={TO: ["Must not be before from."]})
    account = _account(company, given[ACCOUNT]) if ACCOUNT in given else None
    return ExportParameters(as_of=as_of, date_from=date_from, date_to=date_to, account=account)


def _stored_parameters(kind: str, parsed: ExportParameters, given: dict[str, Any]) -> dict[str, Any]:
    """What the job keeps: dates as YYYY-MM-DD (a report as of "today" is pinned to the day it
    was asked for), the account as given with its id."""
    stored: dict[str, Any] = {}
    allowed, _ = KIND_PARAMETERS[kind]
    if AS_OF in allowed:
        stored[AS_OF] = (parsed.as_of or timezone.localdate()).isoformat()
    if parsed.date_from:
        stored[FROM] = parsed.date_from.isoformat()
    if parsed.date_to:
        stored[TO] = parsed.date_to.isoformat()
    if parsed.account is not None:
        stored[ACCOUNT] = given[ACCOUNT]
        stored["account_id"] = parsed.account.pk
    return stored


def _parameters_of(job: ExportJob) -> ExportParameters:
    p = job.parameters
    account = None
    if "account_id" in p:
        account = Account.objects.filter(company_id=job.company_id, pk=p["account_id"]).first()
        if account is None:
            raise InvalidExport("The export's account no longer exists.", details={ACCOUNT: [p.get(ACCOUNT)]})
    return ExportParameters(
        as_of=datetime.date.fromisoformat(p[AS_OF]) if AS_OF in p else None,
        date_from=datetime.date.fromisoformat(p[FROM]) if FROM in p else None,
        date_to=datetime.date.fromisoformat(p[TO]) if TO in p else None,
        account=account,
    )


# --------------------------------------------------------------------------- requesting


def export_request(
    *,
    company: Company,
    by: User | None,
    kind: str,
    fmt: str | None = None,
    parameters: dict[str, Any] | None = None,
    enqueue: bool = True,
) -> ExportJob:
    """Queue an export. Refused before anything is written: an unknown kind or format, a format
    the kind is not made in (Beancount only as `beancount`, the others as `csv` or `xlsx`), a
    parameter the kind does not take or lacks, a bad date, an unknown account (`invalid_account`)."""
    if kind not in ExportKind.values:
        message = f"{kind!r} is not a kind of export."
        raise ValidationFailed(message, details={"kind": [message]})
    fmt = fmt or export_format_default(kind)
    if fmt not in ExportFormat.values:
        message = f"{fmt!r} is not an export format."
        raise ValidationFailed(message, details={"format": [message]})
    if (kind == ExportKind.BEANCOUNT) != (fmt == ExportFormat.BEANCOUNT):
        message = (
            "A Beancount ledger is made in the `beancount` format."
            if kind == ExportKind.BEANCOUNT
            else f"The {kind} export is made as `csv` or `xlsx`."
        )
        raise ValidationFailed(message, details={"format": [message]})
    given = dict(parameters or {})
    parsed = export_parameters_parse(company=company, kind=kind, parameters=given)
    with transaction.atomic():
        job = ExportJob.objects.create(
            company=company,
            kind=kind,
            format=fmt,
            parameters=_stored_parameters(kind, parsed, given),
            requested_by=by if by is not None and by.is_authenticated else None,
        )
        audit_record(
            action=ExportAudit.EXPORT,
            company=company,
            obj=job,
            actor=by,
            metadata={"kind": kind, "format": fmt, "parameters": job.parameters},
        )
        if enqueue:
            from jobs.tasks import export_run

            transaction.on_commit(lambda: export_run.delay(export_id=job.pk), robust=True)
    return job


# --------------------------------------------------------------------------- running


def export_file_name(job: ExportJob, title: str) -> str:
    p = job.parameters
    dates = [p[name] for name in (AS_OF, FROM, TO) if name in p]
    stem = "-".join([title, *dates])
    return f"exports/{job.company_id}/{job.pk}/{stem}.{EXTENSIONS[job.format]}"


def export_execute(
    *, export_id: int, lock_wait: float = 5.0, progress: Callable[[int, int], None] | None = None
) -> ExportJob:
    """Make the export's file (idempotent: a finished job is returned as it is).

    `progress(rows done, rows expected)` is called as rows are written (a command's progress bar);
    the job's own `progress` is committed every page either way.

    A job whose report cannot be made any more (its account deleted...) is marked failed with
    why; a database or storage hiccup is raised for the task to retry.
    """
    job = ExportJob.objects.select_related("company").get(pk=export_id)
    if job.status in FINISHED:
        return job
    with named_lock(f"export:{job.pk}", wait=lock_wait):
        job.refresh_from_db()
        if job.status in FINISHED:
            return job
        ExportJob.objects.filter(pk=job.pk).update(
            status=JobStatus.RUNNING, started_at=timezone.now(), attempts=job.attempts + 1, progress=0
        )
        job.refresh_from_db()
        try:
            with tempfile.TemporaryDirectory(prefix=f"export-{job.pk}-") as folder:
                name, rows = _write(job, Path(folder), progress)
                size = _store(job, Path(folder) / Path(name).name, name)
        except APIError as exc:
            export_fail(export_id=job.pk, error=exc.message)
            job.refresh_from_db()
            return job
        now = timezone.now()
        with transaction.atomic():
            ExportJob.objects.filter(pk=job.pk).update(
                status=JobStatus.DONE,
                progress=100,
                row_count=rows,
                file_name=name,
                file_size=size,
                finished_at=now,
                expires_at=now + settings.EXPORT_TTL,
                error="",
            )
            job.refresh_from_db()
            audit_record(
                action=ExportAudit.EXPORTED,
                company=job.company_id,
                obj=job,
                metadata={"file": name, "rows": rows, "bytes": size, "attempts": job.attempts},
            )
    logger.info("export_done", export_id=job.pk, kind=job.kind, rows=rows, bytes=size, file=name)
    return job


def _write(job: ExportJob, folder: Path, listener: Callable[[int, int], None] | None) -> tuple[str, int]:
    """Write the file into `folder`; (its storage name, rows written)."""

    def _progress(job: ExportJob, done: int, total: int) -> None:
        percent = min(99, done * 100 // total) if total else 0
        ExportJob.objects.filter(pk=job.pk).update(progress=percent, row_count=done)
        if listener is not None:
            listener(done, total)

    company = job.company
    params = _parameters_of(job)
    if job.kind == ExportKind.BEANCOUNT:
        name = export_file_name(job, "books")
        from ledger.selectors import posted_lines_count

        total = posted_lines_count(
            company=company, date_from=FIRST_BOOK_DATE, date_to=params.date_to or LAST_BOOK_DATE
        )
        step = {"next": PAGE}

        def progress(lines: int) -> None:
            if lines >= step["next"]:
                _progress(job, lines, total)
                step["next"] = lines + PAGE

        with (folder / Path(name).name).open("w", encoding="utf-8") as out:
            rows = beancount_write(company=company, out=out, date_to=params.date_to, progress=progress)
        return name, rows
    table = export_table(job.kind, company, params)
    name = export_file_name(job, table.title)
    writer = row_writer(
        job.format, folder / Path(name).name, table.columns, title=table.title, numeric=table.numeric
    )
    rows = 0
    try:
        for row in table.rows:
            writer.write(row)
            rows += 1
            if rows % PAGE == 0:
                _progress(job, rows, max(table.total, rows))
    finally:
        writer.close()
    return name, rows


def _store(job: ExportJob, path: Path, name: str) -> int:
    """Save the file under `name`, replacing what an earlier attempt stored there."""
    storage = storages["default"]
    if storage.exists(name):
        storage.delete(name)
    with path.open("rb") as handle:
        saved = storage.save(name, File(handle, name=path.name))
    if saved != name:  # a concurrent writer of the same name: keep exactly one file
        storage.delete(saved)
        raise OSError(f"Could not store the export as {name} (got {saved}).")
    return path.stat().st_size


def export_fail(*, export_id: int, error: str) -> None:
    """Mark an export failed (its report cannot be made, or its task gave up)."""
    with transaction.atomic():
        updated = (
            ExportJob.objects.filter(pk=export_id)
            .exclude(status__in=FINISHED)
            .update(status=JobStatus.FAILED, finished_at=timezone.now(), error=error[:5000])
        )
        if updated:
            job = ExportJob.objects.get(pk=export_id)
            audit_record(
                action=ExportAudit.FAILED, company=job.company_id, obj=job, metadata={"error": error[:500]}
            )
    logger.error("export_failed", export_id=export_id, error=error[:500])


def exports_purge_expired(*, now: datetime.datetime | None = None) -> int:
    """Delete the files of exports past their time to live; the jobs stay, marked without a file."""
    now = now or timezone.now()
    storage = storages["default"]
    expired = list(
        ExportJob.objects.filter(
            status=JobStatus.DONE, file_deleted_at__isnull=True, expires_at__lt=now
        ).order_by("pk")[:1000]
    )
    for job in expired:
        if job.file_name and storage.exists(job.file_name):
            storage.delete(job.file_name)
        with transaction.atomic():
            ExportJob.objects.filter(pk=job.pk).update(file_deleted_at=timezone.now())
            audit_record(
                action=ExportAudit.PURGE,
                company=job.company_id,
                obj=job,
                metadata={"file": job.file_name, "expired_at": job.expires_at.isoformat()},
            )
    return len(expired)
