"""The stored daily sales summary: kept current by the posting services, recomputable for any range.

Issuing an invoice adds to its date, a credit note to its date, a void to the void date, each in
the posting's own transaction with an atomic upsert (INSERT ... ON CONFLICT DO UPDATE SET x = x +
excluded.x), so concurrent postings never lose an update. Amounts are the functional-currency
revenue and tax the journal entries posted. `sales_summary_rebuild` recomputes days from the
documents and replaces what differs (the reconciliation compares the summary with the ledger).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction

from accounts.models import Company, User
from audit.services import audit_record
from sales.models import CreditNote, DailySalesSummary, Invoice, InvoiceStatus

ZERO = Decimal(0)
COUNTS = ("invoice_count", "credit_note_count", "void_count")
AMOUNTS = ("invoiced_net", "invoiced_tax", "credited_net", "credited_tax", "voided_net", "voided_tax")
COLUMNS = COUNTS + AMOUNTS


@dataclass
class DayTotals:
    invoice_count: int = 0
    credit_note_count: int = 0
    void_count: int = 0
    invoiced_net: Decimal = ZERO
    invoiced_tax: Decimal = ZERO
    credited_net: Decimal = ZERO
    credited_tax: Decimal = ZERO
    voided_net: Decimal = ZERO
    voided_tax: Decimal = ZERO

    def values(self) -> tuple:
        return tuple(getattr(self, name) for name in COLUMNS)


def sales_summary_add(*, company_id: int, date: datetime.date, **increments) -> None:
    """Add one posting's figures to its day (call inside the posting transaction)."""
    totals = DayTotals(**increments)
    table = DailySalesSummary._meta.db_table
    columns = ", ".join(COLUMNS)
    placeholders = ", ".join(["%s"] * (len(COLUMNS) + 2))
    updates = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in COLUMNS)
    sql = (
        f"INSERT INTO {table} (company_id, date, {columns}) VALUES ({placeholders}) "  # noqa: S608 - our names
        f"ON CONFLICT (company_id, date) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [company_id, date, *totals.values()])


def summary_from_documents(
    *, company_id: int, date_from: datetime.date, date_to: datetime.date
) -> dict[datetime.date, DayTotals]:
    """The summary the documents give for each day of the range (days without sales are absent)."""
    days: dict[datetime.date, DayTotals] = defaultdict(DayTotals)
    issued = Invoice.objects.filter(company_id=company_id).exclude(status=InvoiceStatus.DRAFT)
    for day, net, tax in issued.filter(date__range=(date_from, date_to)).values_list(
        "date", "subtotal_base", "tax_total_base"
    ):
        totals = days[day]
        totals.invoice_count += 1
        totals.invoiced_net += net
        totals.invoiced_tax += tax
    for day, net, tax in issued.filter(voided_on__range=(date_from, date_to)).values_list(
        "voided_on", "subtotal_base", "tax_total_base"
    ):
        totals = days[day]
        totals.void_count += 1
        totals.voided_net += net
        totals.voided_tax += tax
    for day, net, tax in CreditNote.objects.filter(
        company_id=company_id, date__range=(date_from, date_to)
    ).values_list("date", "subtotal_base", "tax_total_base"):
        totals = days[day]
        totals.credit_note_count += 1
        totals.credited_net += net
        totals.credited_tax += tax
    return dict(days)


@dataclass(frozen=True)
class SummaryRebuild:
    company_id: int
    date_from: datetime.date
    date_to: datetime.date
    days: int
    differences: list[str] = field(default_factory=list)

    @property
    def differed(self) -> bool:
        return bool(self.differences)


def sales_summary_rebuild(
    *,
    company: Company,
    date_from: datetime.date,
    date_to: datetime.date,
    apply: bool = True,
    by: User | None = None,
) -> SummaryRebuild:
    """Recompute the stored summary of [date_from, date_to] from the documents; report every day
    that differed and (with `apply`) replace the range. Audited when it changed anything."""
    computed = summary_from_documents(company_id=company.pk, date_from=date_from, date_to=date_to)
    with transaction.atomic():
        stored_rows = DailySalesSummary.objects.select_for_update().filter(
            company=company, date__range=(date_from, date_to)
        )
        stored = {
            row.date: DayTotals(**{name: getattr(row, name) for name in COLUMNS}) for row in stored_rows
        }
        differences = []
        for day in sorted(set(stored) | set(computed)):
            have = stored.get(day, DayTotals()).values()
            want = computed.get(day, DayTotals()).values()
            if have != want:
                differences.append(
                    f"{day}: stored {dict(zip(COLUMNS, have, strict=True))} computed {dict(zip(COLUMNS, want, strict=True))}"
                )
        if apply and differences:
            DailySalesSummary.objects.filter(company=company, date__range=(date_from, date_to)).delete()
            DailySalesSummary.objects.bulk_create(
                [
                    DailySalesSummary(
                        company=company, date=day, **{name: getattr(t, name) for name in COLUMNS}
                    )
                    for day, t in sorted(computed.items())
                ]
            )
            audit_record(
                action="rebuild",
                company=company,
                object_type=DailySalesSummary._meta.label_lower,
                object_id=f"{date_from}..{date_to}",
                object_repr=f"Daily sales summary {date_from} – {date_to}",
                actor=by,
                metadata={"differences": len(differences), "first": differences[:20]},
            )
    return SummaryRebuild(
        company_id=company.pk,
        date_from=date_from,
        date_to=date_to,
        days=len(computed),
        differences=differences,
    )


def sales_summaries_rebuild(
    *,
    date_from: datetime.date,
    date_to: datetime.date,
    company: Company | None = None,
    apply: bool = True,
    by: User | None = None,
) -> list[SummaryRebuild]:
    """`sales_summary_rebuild` for one company or every company, each in its own transaction."""
    companies = [company] if company is not None else list(Company.objects.order_by("pk"))
    return [
        sales_summary_rebuild(company=item, date_from=date_from, date_to=date_to, apply=apply, by=by)
        for item in companies
    ]
