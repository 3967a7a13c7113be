"""Integrity reconciliation: run the checks, record what they find, quarantine, propose, alert.

A run never changes the books. It reads them in one consistent snapshot (the ledger's and the
sales checks, `sofinance.integrity.consistent_snapshot`), verifies the company's audit chain, and
then, in one transaction, records each finding as a discrepancy (or finds it again: an open
discrepancy about the same thing is the same row), quarantines the records it names, and where
the finding carries a balanced correction creates it as a **draft** journal entry for an
accountant to review and post. Resolving a discrepancy is a person's act, audited with why.

Runs of one company never overlap: each holds the company's named lock (a PostgreSQL advisory
lock held across its transactions, released by the server if the process dies). A second run
waits for the first and then finds its discrepancies already recorded, so nothing is written
twice; the same run delivered twice finds itself finished and does nothing.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import sentry_sdk
import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from sentry_sdk.integrations.logging import ignore_logger

from accounts.models import Company, User
from audit.anchoring import AnchorError, latest_anchor
from audit.models import GLOBAL_CHAIN, AuditEvent
from audit.services import audit_event_build, audit_events_write, audit_record, verify_audit_chain
from audit.verification import ChainVerification, audit_chain_verify
from jobs.errors import AlreadyResolved
from jobs.models import FINISHED, Discrepancy, DiscrepancyStatus, IntegrityRun, JobStatus, RunScope, Trigger
from ledger import integrity as ledger_checks
from ledger.models import EntrySource
from ledger.services import journal_entry_create
from sales import integrity as sales_checks
from sofinance.errors import APIError
from sofinance.integrity import Finding, consistent_snapshot
from sofinance.locks import named_lock
from sofinance.models import Quarantine
from sofinance.money import format_amount

logger = structlog.get_logger("sofinance.jobs")
# Alerts go to the log and, once, to Sentry as a message: the logging integration must not turn
# the same error line into a second event.
ALERT_LOGGER = "sofinance.jobs.alerts"
ignore_logger(ALERT_LOGGER)
alerts = structlog.get_logger(ALERT_LOGGER)

AUDIT_CHAIN_BROKEN = "audit_chain_broken"
# Every kind of discrepancy a run records: the ledger's and the sales ledger's findings, and the
# audit chain's (the API's `?kind=` filter takes exactly these).
DISCREPANCY_KINDS: tuple[str, ...] = (
    ledger_checks.LedgerFinding.BALANCE_BUCKET_MISMATCH,
    ledger_checks.LedgerFinding.UNBALANCED_ENTRY,
    ledger_checks.LedgerFinding.ENTRY_LINE_MISMATCH,
    sales_checks.SalesFinding.INVOICE_ENTRY_MISMATCH,
    sales_checks.SalesFinding.CREDIT_NOTE_ENTRY_MISMATCH,
    sales_checks.SalesFinding.PAYMENT_ENTRY_MISMATCH,
    sales_checks.SalesFinding.RECEIVABLES_CONTROL_MISMATCH,
    sales_checks.SalesFinding.CUSTOMER_RECEIVABLES_MISMATCH,
    sales_checks.SalesFinding.SALES_SUMMARY_MISMATCH,
    AUDIT_CHAIN_BROKEN,
)

Progress = Callable[[str, int, int], None]  # (check name, checks done, checks in all)


class JobsAudit:
    """The audit actions of this app."""

    REQUEST = "request"
    RECONCILE = "reconcile"
    FLAG = "flag"
    RESOLVE = "resolve"


def _actor(by: User | None) -> User | None:
    return by if by is not None and by.is_authenticated else None


# --------------------------------------------------------------------------- requesting runs


def integrity_run_request(
    *, company: Company | None, by: User | None, trigger: str = Trigger.API, enqueue: bool = True
) -> IntegrityRun:
    """Queue a run of the company's books (None: the audit chain of no company). The task is
    sent once the transaction commits; with `enqueue` off the caller runs it itself."""
    with transaction.atomic():
        run = IntegrityRun.objects.create(
            company=company,
            scope=RunScope.COMPANY if company is not None else RunScope.PLATFORM,
            trigger=trigger,
            requested_by=_actor(by),
        )
        audit_record(
            action=JobsAudit.REQUEST,
            company=company,
            obj=run,
            actor=by,
            metadata={"trigger": trigger, "scope": run.scope},
        )
        if enqueue:
            from jobs.tasks import integrity_run as task

            transaction.on_commit(lambda: task.delay(run_id=run.pk), robust=True)
    return run


def integrity_runs_request_all(
    *, by: User | None = None, trigger: str = Trigger.SCHEDULE, enqueue: bool = True
) -> list[IntegrityRun]:
    """One run per company and one for the platform's own audit chain."""
    runs = [
        integrity_run_request(company=company, by=by, trigger=trigger, enqueue=enqueue)
        for company in Company.objects.order_by("pk")
    ]
    runs.append(integrity_run_request(company=None, by=by, trigger=trigger, enqueue=enqueue))
    return runs


# --------------------------------------------------------------------------- running


def _lock_name(run: IntegrityRun) -> str:
    return f"integrity:{run.company_id if run.company_id is not None else 'platform'}"


def integrity_run_execute(
    *, run_id: int, progress: Progress | None = None, lock_wait: float | None = None
) -> IntegrityRun:
    """Run a queued run (idempotent: a finished run is returned as it is).

    Waits up to `lock_wait` seconds (INTEGRITY_LOCK_WAIT) for another run of the same company;
    `sofinance.locks.LockBusy` when it waited longer (the task retries later). A check that fails
    marks the run failed and raises; a database or broker hiccup leaves it to be retried.
    """
    run = IntegrityRun.objects.get(pk=run_id)
    if run.status in FINISHED:
        return run
    wait = settings.INTEGRITY_LOCK_WAIT if lock_wait is None else lock_wait

    def waiting(seconds: float) -> None:
        logger.info("integrity_run_waiting", run_id=run.pk, company_id=run.company_id, lock=_lock_name(run))

    with named_lock(_lock_name(run), wait=wait, on_wait=waiting):
        run.refresh_from_db()
        if run.status in FINISHED:  # the same run, finished by another delivery while this one waited
            return run
        IntegrityRun.objects.filter(pk=run.pk).update(
            status=JobStatus.RUNNING, started_at=timezone.now(), attempts=run.attempts + 1
        )
        run.refresh_from_db()
        started = time.perf_counter()
        findings, counts = _collect(run, progress)
        counts["seconds"] = round(time.perf_counter() - started, 3)
        _record(run, findings, counts)
    _alert(run)
    return run


def integrity_run_fail(*, run_id: int, error: str) -> None:
    """Mark a run failed (its task gave up), keeping what went wrong."""
    IntegrityRun.objects.filter(pk=run_id).exclude(status__in=FINISHED).update(
        status=JobStatus.FAILED, finished_at=timezone.now(), error=error[:5000]
    )
    logger.error("integrity_run_failed", run_id=run_id, error=error[:500])


def _collect(run: IntegrityRun, progress: Progress | None) -> tuple[list[Finding], dict[str, Any]]:
    """Every check's findings and what each read. The ledger and sales checks share one snapshot;
    the audit chain is verified after it (under the chain's own lock)."""
    limit = settings.INTEGRITY_MAX_FINDINGS
    findings: list[Finding] = []
    counts: dict[str, Any] = {}
    company = run.company

    def report(name: str, done: int, total: int) -> None:
        if progress is not None:
            progress(name, done, total)

    if company is None:
        _audit(run, findings, counts)
        report("audit_chain", 1, 1)
        return findings, counts
    as_of = run.as_of or timezone.localdate()
    IntegrityRun.objects.filter(pk=run.pk).update(as_of=as_of)
    run.as_of = as_of

    def counted(name: str, result: tuple[list[Finding], int]) -> None:
        found, counts[name] = result
        findings.extend(found)

    checks: list[tuple[str, Callable[[], None]]] = [
        (
            "balance_buckets",
            lambda: counted("balance_buckets", ledger_checks.bucket_findings(company=company, limit=limit)),
        ),
        (
            "journal_entries",
            lambda: findings.extend(
                ledger_checks.unbalanced_entry_findings(company=company, limit=limit)
                + ledger_checks.entry_line_findings(company=company, limit=limit)
            ),
        ),
        (
            "invoices",
            lambda: counted("invoices", sales_checks.invoice_findings(company=company, limit=limit)),
        ),
        (
            "credit_notes",
            lambda: counted("credit_notes", sales_checks.credit_note_findings(company=company, limit=limit)),
        ),
        (
            "payments",
            lambda: counted("payments", sales_checks.payment_findings(company=company, limit=limit)),
        ),
        (
            "receivables",
            lambda: counted(
                "customers", sales_checks.receivables_findings(company=company, as_of=as_of, limit=limit)
            ),
        ),
        (
            "sales_summary",
            lambda: counted("sales_days", sales_checks.sales_summary_findings(company=company, limit=limit)),
        ),
    ]
    total = len(checks) + 1
    with consistent_snapshot():
        for index, (name, check) in enumerate(checks, start=1):
            check()
            report(name, index, total)
    _audit(run, findings, counts)
    report("audit_chain", total, total)
    return findings, counts


def _audit(run: IntegrityRun, findings: list[Finding], counts: dict[str, Any]) -> None:
    """The audit chain of the run's company (or the global chain), checked against its anchor."""
    if run.company_id is not None:
        verification = verify_audit_chain(company_id=run.company_id)
        chains = verification.chains
    else:
        try:
            anchor, anchor_error = latest_anchor(), None
        except AnchorError as exc:
            anchor, anchor_error = None, exc
        chains = (audit_chain_verify(chain=GLOBAL_CHAIN, anchor=anchor, anchor_error=anchor_error),)
    counts["audit_events"] = sum(chain.events_checked for chain in chains)
    for chain in chains:
        if not chain.ok:
            findings.append(_chain_finding(run, chain))


def _chain_finding(run: IntegrityRun, chain: ChainVerification) -> Finding:
    event = chain.broken_event_id
    if event is not None:
        object_type, object_id = AuditEvent._meta.label_lower, event
    elif run.company_id is not None:
        object_type, object_id = Company._meta.label_lower, run.company_id
    else:
        object_type, object_id = AuditEvent._meta.label_lower, 0
    return Finding(
        kind=AUDIT_CHAIN_BROKEN,
        object_type=object_type,
        object_id=object_id,
        object_repr=f"audit event {event}" if event else chain.chain,
        company_id=run.company_id,
        key=chain.chain,
        expected="intact",
        found=chain.reason,
        message=f"The audit chain {chain.chain} is broken: {chain.detail}.",
        details={"chain": chain.chain, "reason": chain.reason, "events_checked": chain.events_checked},
    )


# --------------------------------------------------------------------------- recording


def _finding_key(company_id: int | None, finding: Finding) -> tuple:
    return (company_id, finding.kind, finding.object_type, finding.object_id, finding.key)


def _record(run: IntegrityRun, findings: list[Finding], counts: dict[str, Any]) -> None:
    """Record findings, quarantine, propose drafts and finish the run: one transaction."""
    now = timezone.now()
    with transaction.atomic():
        open_rows = {
            (d.company_id, d.kind, d.object_type, d.object_id, d.key): d
            for d in Discrepancy.objects.select_for_update().filter(
                company_id=run.company_id, status=DiscrepancyStatus.OPEN
            )
        }
        seen: list[Discrepancy] = []
        created: list[tuple[Discrepancy, Finding]] = []
        for finding in findings:
            existing = open_rows.get(_finding_key(run.company_id, finding))
            if existing is not None:
                _refresh(existing, finding, run, now)
                seen.append(existing)
                continue
            discrepancy = Discrepancy.objects.create(
                company_id=run.company_id,
                run=run,
                last_run=run,
                kind=finding.kind,
                object_type=finding.object_type,
                object_id=finding.object_id,
                object_repr=finding.object_repr[:255],
                key=finding.key[:100],
                expected=finding.expected[:255],
                found=finding.found[:255],
                difference=finding.difference,
                message=finding.message,
                details=finding.details,
                last_seen_at=now,
            )
            open_rows[_finding_key(run.company_id, finding)] = discrepancy
            seen.append(discrepancy)
            created.append((discrepancy, finding))
        run.discrepancies.add(*seen)
        Quarantine.objects.bulk_create(
            [
                Quarantine(
                    company_id=run.company_id,
                    object_type=ref.object_type,
                    object_id=ref.object_id,
                    discrepancy_id=discrepancy.pk,
                )
                for discrepancy, finding in created
                for ref in finding.records
            ],
            ignore_conflicts=True,
        )
        proposed = sum(1 for discrepancy, finding in created if _propose(run, discrepancy, finding))
        run.status = JobStatus.DONE
        run.finished_at = timezone.now()
        run.discrepancy_count = len(seen)
        run.new_discrepancy_count = len(created)
        run.proposed_count = proposed
        run.counts = counts
        run.error = ""
        run.save(
            update_fields=[
                "status",
                "finished_at",
                "discrepancy_count",
                "new_discrepancy_count",
                "proposed_count",
                "counts",
                "error",
            ]
        )
        events = [
            audit_event_build(
                action=JobsAudit.FLAG,
                company=run.company_id,
                obj=discrepancy,
                metadata={
                    "run": run.pk,
                    "kind": discrepancy.kind,
                    "object_type": discrepancy.object_type,
                    "object_id": discrepancy.object_id,
                    "expected": discrepancy.expected,
                    "found": discrepancy.found,
                    "quarantined": [f"{r.object_type}:{r.object_id}" for r in finding.records],
                    "proposed_entry": discrepancy.proposed_entry_id,
                },
            )
            for discrepancy, finding in created
        ]
        events.append(
            audit_event_build(
                action=JobsAudit.RECONCILE,
                company=run.company_id,
                obj=run,
                metadata={
                    "discrepancies": run.discrepancy_count,
                    "new": run.new_discrepancy_count,
                    "proposed": proposed,
                    "counts": counts,
                },
            )
        )
        audit_events_write(events)


def _refresh(discrepancy: Discrepancy, finding: Finding, run: IntegrityRun, now: datetime.datetime) -> None:
    """An open discrepancy found again: it is the same one, with what this run saw."""
    discrepancy.last_run = run
    discrepancy.last_seen_at = now
    discrepancy.expected = finding.expected[:255]
    discrepancy.found = finding.found[:255]
    discrepancy.difference = finding.difference
    discrepancy.message = finding.message
    discrepancy.details = finding.details
    discrepancy.save(
        update_fields=["last_run", "last_seen_at", "expected", "found", "difference", "message", "details"]
    )


def _propose(run: IntegrityRun, discrepancy: Discrepancy, finding: Finding) -> bool:
    """Create the finding's correction as a draft entry (never posted here). False when there is
    none, or the ledger refuses it (a closed period today, an inactive account...): the reason is
    kept on the discrepancy."""
    if not finding.lines:
        discrepancy.proposal_note = "No correction can be computed: review the records named."
        discrepancy.save(update_fields=["proposal_note"])
        return False
    company = run.company
    try:
        with transaction.atomic():
            entry = journal_entry_create(
                company=company,
                date=run.as_of or timezone.localdate(),
                lines=[
                    {
                        "account": line.account_id,
                        "debit": line.debit or None,
                        "credit": line.credit or None,
                        "currency": company.currency,
                        "description": line.description[:500],
                    }
                    for line in finding.lines
                ],
                by=None,
                description=f"Proposed correction for discrepancy #{discrepancy.pk}: {finding.message}"[:500],
                reference=f"DISC-{discrepancy.pk}",
                source=EntrySource.MANUAL,
                post=False,
            )
    except APIError as exc:
        discrepancy.proposal_note = f"The correction could not be drafted: {exc.message}"[:500]
        discrepancy.save(update_fields=["proposal_note"])
        return False
    discrepancy.proposed_entry = entry
    total = sum((line.debit for line in finding.lines), Decimal(0))
    discrepancy.proposal_note = (
        f"Draft entry #{entry.pk} ({format_amount(total, company.currency)}) proposed for review; "
        "it is not posted."
    )
    discrepancy.save(update_fields=["proposed_entry", "proposal_note"])
    return True


def _alert(run: IntegrityRun) -> None:
    """An error log line and a Sentry event for a run that found discrepancies."""
    if run.status != JobStatus.DONE or not run.discrepancy_count:
        return
    kinds = list(run.discrepancies.order_by("kind").values_list("kind", flat=True).distinct())
    alerts.error(
        "integrity_discrepancies_found",
        run_id=run.pk,
        company_id=run.company_id,
        discrepancies=run.discrepancy_count,
        new=run.new_discrepancy_count,
        proposed=run.proposed_count,
        kinds=kinds,
    )
    with sentry_sdk.new_scope() as scope:
        scope.set_tag("integrity_run", run.pk)
        scope.set_tag("company_id", run.company_id)
        scope.set_context(
            "integrity_run",
            {"discrepancies": run.discrepancy_count, "new": run.new_discrepancy_count, "kinds": kinds},
        )
        scope.fingerprint = ["integrity-discrepancies", str(run.company_id)]
        sentry_sdk.capture_message(
            f"Integrity run #{run.pk} found {run.discrepancy_count} discrepancies "
            f"(company {run.company_id}): {', '.join(kinds)}",
            level="error",
        )


# --------------------------------------------------------------------------- resolving


def discrepancy_resolve(*, discrepancy: Discrepancy, by: User | None, note: str) -> Discrepancy:
    """Mark a discrepancy resolved with who and why, and lift its quarantine flags (a record other
    open discrepancies name stays quarantined). The books are not touched: a correction is posted
    by an accountant (the proposed draft, or another entry) before or after."""
    note = (note or "").strip()
    with transaction.atomic():
        locked = Discrepancy.objects.select_for_update().get(pk=discrepancy.pk)
        if locked.status == DiscrepancyStatus.RESOLVED:
            raise AlreadyResolved(
                f"Discrepancy #{locked.pk} was resolved on {locked.resolved_at:%Y-%m-%d}.",
                details={"discrepancy": locked.pk},
            )
        now = timezone.now()
        locked.status = DiscrepancyStatus.RESOLVED
        locked.resolved_at = now
        locked.resolved_by = _actor(by)
        locked.resolution_note = note
        locked.save(update_fields=["status", "resolved_at", "resolved_by", "resolution_note"])
        lifted = Quarantine.objects.filter(discrepancy_id=locked.pk, resolved_at__isnull=True).update(
            resolved_at=now
        )
        audit_record(
            action=JobsAudit.RESOLVE,
            company=locked.company_id,
            obj=locked,
            actor=by,
            changes={"status": {"before": DiscrepancyStatus.OPEN, "after": DiscrepancyStatus.RESOLVED}},
            metadata={
                "note": note,
                "kind": locked.kind,
                "object_type": locked.object_type,
                "object_id": locked.object_id,
                "quarantine_lifted": lifted,
                "proposed_entry": locked.proposed_entry_id,
            },
        )
    return locked
