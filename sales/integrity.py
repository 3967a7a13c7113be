"""Integrity checks of the sales ledger against the books, returning plain findings
(sofinance.integrity).

1. Each issued invoice, credit note and payment against the journal entries it posted (its own,
   its void's, and a payment's exchange-difference and unallocation entries): the entry is posted,
   in the company, dated like the document, and moves exactly what the document says on each
   account. What the document should move per account is worked out as the posting services do
   (`sales.postings`: revenue per account and tax per rate converted once at the document's rate,
   receivables by the document's carrying amount); rounding and exchange lines, which go to the
   exchange gains and losses account, are compared in total on whatever account the entry used.
   When the per-account differences balance, the finding carries them as a compensating entry.
2. The receivables control accounts against the open documents as of the run date (the AR aging),
   in total and per customer (each customer's share of the control accounts being what the
   entries of their documents put there). A total that differs while every customer agrees points
   at entries on a receivables account that belong to no document: they are named and quarantined.
3. The stored daily sales summary against the revenue and tax the documents' entries posted, day
   by day.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection

from accounts.models import AccountRole, Company
from ledger.models import EntryStatus, JournalEntry
from sales.models import (
    Allocation,
    CreditNote,
    CreditNoteLine,
    Customer,
    DailySalesSummary,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentStatus,
    TaxRate,
)
from sales.postings import base_of
from sales.reports import ar_aging
from sales.selectors import receivables_account_ids
from sofinance.integrity import Finding, RecordRef, lines_from_differences
from sofinance.money import format_amount, money_from_sum, money_sum_sql

ZERO = Decimal(0)
CHUNK = 1000
ENTRY = JournalEntry._meta.label_lower


class SalesFinding:
    """The kinds of finding this module reports (stable names)."""

    INVOICE_ENTRY_MISMATCH = "invoice_entry_mismatch"
    CREDIT_NOTE_ENTRY_MISMATCH = "credit_note_entry_mismatch"
    PAYMENT_ENTRY_MISMATCH = "payment_entry_mismatch"
    RECEIVABLES_CONTROL_MISMATCH = "receivables_control_mismatch"
    CUSTOMER_RECEIVABLES_MISMATCH = "customer_receivables_mismatch"
    SALES_SUMMARY_MISMATCH = "sales_summary_mismatch"


# --------------------------------------------------------------------------- documents vs entries

_ROLE_WORDS = {
    "entry": "journal entry",
    "void": "void entry",
    "fx": "exchange entry",
    "unallocation": "unallocation entry",
}


@dataclass
class ExpectedEntry:
    """What one document should have posted in one entry."""

    document: RecordRef
    number: str
    role: str  # "entry", "void", "fx:<entry id>", "unallocation:<allocation id>"
    entry_id: int | None
    date: datetime.date
    amounts: dict[int, Decimal] = field(default_factory=dict)  # account id -> signed base amount
    receivables: set[int] = field(default_factory=set)  # the receivables accounts among them

    def add(self, account_id: int, amount: Decimal) -> None:
        self.amounts[account_id] = self.amounts.get(account_id, ZERO) + amount

    def negated(self, role: str, entry_id: int | None, date: datetime.date) -> ExpectedEntry:
        return ExpectedEntry(
            self.document,
            self.number,
            role,
            entry_id,
            date,
            {a: -v for a, v in self.amounts.items()},
            set(self.receivables),
        )


@dataclass(frozen=True)
class FoundEntry:
    status: str
    company_id: int
    date: datetime.date
    amounts: dict[int, Decimal]


def _found_entries(entry_ids: set[int]) -> dict[int, FoundEntry]:
    if not entry_ids:
        return {}
    ids = sorted(entry_ids)
    placeholders = ", ".join(["%s"] * len(ids))
    base_sum = money_sum_sql("base_amount", connection.vendor)
    amounts: dict[int, dict[int, Decimal]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT entry_id, account_id, {base_sum} FROM ledger_journalline "  # noqa: S608
            f"WHERE entry_id IN ({placeholders}) GROUP BY entry_id, account_id",
            ids,
        )
        for entry_id, account_id, total in cursor.fetchall():
            amounts[entry_id][account_id] = money_from_sum(total)
    return {
        pk: FoundEntry(status, company_id, date, amounts.get(pk, {}))
        for pk, status, company_id, date in JournalEntry.objects.filter(pk__in=ids).values_list(
            "pk", "status", "company_id", "date"
        )
    }


def _fx_account_fallback(company: Company) -> int | None:
    from sales.models import SalesSettings

    configured = SalesSettings.objects.filter(company=company).values_list("fx_gain_loss_account", flat=True)
    account = next(iter(configured), None)
    if account is not None:
        return account
    from accounts.models import Account

    return (
        Account.objects.filter(company=company, system_role=AccountRole.FX_GAIN_LOSS)
        .values_list("pk", flat=True)
        .first()
    )


def _compare_entry(
    company: Company, kind: str, expected: ExpectedEntry, found: FoundEntry | None, fx_account: int | None
) -> Finding | None:
    currency = company.currency
    what = f"{expected.number}'s {_ROLE_WORDS.get(expected.role.split(':')[0], 'entry')}"
    related = (RecordRef(ENTRY, expected.entry_id),) if expected.entry_id else ()

    def finding(expected_text: str, found_text: str, message: str, **extra) -> Finding:
        return Finding(
            kind=kind,
            object_type=expected.document.object_type,
            object_id=expected.document.object_id,
            object_repr=expected.number,
            company_id=company.pk,
            key=expected.role,
            expected=expected_text,
            found=found_text,
            message=message,
            related=related,
            **extra,
        )

    if expected.entry_id is None or found is None:
        return finding("a posted journal entry", "none", f"{what} is missing.")
    if found.company_id != company.pk:
        return finding(
            f"company {company.pk}", f"company {found.company_id}", f"{what} belongs to another company."
        )
    if found.status != EntryStatus.POSTED:
        return finding(EntryStatus.POSTED, found.status, f"{what} is not posted.")
    if found.date != expected.date:
        return finding(
            expected.date.isoformat(),
            found.date.isoformat(),
            f"{what} is dated {found.date}, the document {expected.date}.",
        )
    differences = {
        account: amount - found.amounts.get(account, ZERO)
        for account, amount in expected.amounts.items()
        if amount != found.amounts.get(account, ZERO)
    }
    others = {a: v for a, v in found.amounts.items() if a not in expected.amounts and v}
    other_expected = -sum(expected.amounts.values(), ZERO)  # rounding and exchange lines
    other_difference = other_expected - sum(others.values(), ZERO)
    if not differences and not other_difference:
        return None
    corrections = dict(differences)
    if other_difference:
        account = next(iter(others)) if len(others) == 1 else fx_account
        if account is not None:
            corrections[account] = corrections.get(account, ZERO) + other_difference
    lines = lines_from_differences(corrections, description=f"Correction of {what}")
    receivables = next((a for a in differences if a in expected.receivables), None)
    focus = receivables if receivables is not None else next(iter(differences), None)
    if focus is not None:
        want, have = expected.amounts[focus], found.amounts.get(focus, ZERO)
    else:
        want, have = other_expected, sum(others.values(), ZERO)
    return finding(
        format_amount(want, currency),
        format_amount(have, currency),
        f"{what} does not move what the document says: "
        + "; ".join(
            f"account {account} {format_amount(found.amounts.get(account, ZERO), currency)} instead of "
            f"{format_amount(expected.amounts.get(account, ZERO), currency)}"
            for account in differences
        )
        + (
            f"; rounding and exchange lines {format_amount(sum(others.values(), ZERO), currency)} "
            f"instead of {format_amount(other_expected, currency)}"
            if other_difference
            else ""
        )
        + ".",
        difference=want - have,
        lines=lines,
        details={
            "entry": expected.entry_id,
            "expected": {str(a): format_amount(v, currency) for a, v in sorted(expected.amounts.items())},
            "found": {str(a): format_amount(v, currency) for a, v in sorted(found.amounts.items())},
        },
    )


def _check(
    company: Company, kind: str, expectations: list[ExpectedEntry], fx_account: int | None
) -> list[Finding]:
    found = _found_entries({e.entry_id for e in expectations if e.entry_id})
    findings = []
    for expected in expectations:
        result = _compare_entry(company, kind, expected, found.get(expected.entry_id or 0), fx_account)
        if result is not None:
            findings.append(result)
    return findings


def _chunks(queryset) -> Iterator[list]:
    """Rows of a queryset (values) in primary-key order, a chunk at a time (keyset)."""
    last = 0
    while True:
        rows = list(queryset.filter(pk__gt=last).order_by("pk")[:CHUNK])
        if not rows:
            return
        yield rows
        last = rows[-1]["pk"]


def _grouped(queryset, keys: tuple[str, ...], column: str) -> dict[tuple, Decimal]:
    """{keys: exact sum of column} (values of a queryset, summed in Python exactly)."""
    sums: dict[tuple, Decimal] = defaultdict(Decimal)
    for row in queryset.values_list(*keys, column):
        sums[tuple(row[:-1])] += row[-1]
    return sums


def invoice_findings(*, company: Company, limit: int) -> tuple[list[Finding], int]:
    """(findings, invoices checked): each issued invoice against its entry (and its void's)."""
    fx_account = _fx_account_fallback(company)
    invoices = (
        Invoice.objects.filter(company=company)
        .exclude(status=InvoiceStatus.DRAFT)
        .values(
            "pk",
            "number",
            "status",
            "date",
            "fx_rate",
            "total_base",
            "receivables_account_id",
            "journal_entry_id",
            "void_entry_id",
            "voided_on",
        )
    )
    findings: list[Finding] = []
    checked = 0
    tax_accounts = dict(TaxRate.objects.filter(company=company).values_list("pk", "account_id"))
    for rows in _chunks(invoices):
        ids = [row["pk"] for row in rows]
        lines = InvoiceLine.objects.filter(invoice_id__in=ids)
        revenue = _grouped(lines, ("invoice_id", "account_id"), "net")
        taxes = _grouped(lines.filter(tax_rate__isnull=False), ("invoice_id", "tax_rate_id"), "tax")
        by_invoice: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
        for (invoice_id, account_id), net in revenue.items():
            by_invoice[invoice_id].append((account_id, net))
        for (invoice_id, rate_id), tax in taxes.items():
            if tax:
                by_invoice[invoice_id].append((tax_accounts[rate_id], tax))
        expectations = []
        for row in rows:
            expected = ExpectedEntry(
                RecordRef(Invoice._meta.label_lower, row["pk"]),
                row["number"],
                "entry",
                row["journal_entry_id"],
                row["date"],
            )
            rate = row["fx_rate"] or Decimal(1)
            expected.add(row["receivables_account_id"], row["total_base"])
            for account_id, amount in by_invoice[row["pk"]]:
                if amount > 0:
                    expected.add(account_id, -base_of(amount, rate, company))
            expected.receivables.add(row["receivables_account_id"])
            expectations.append(expected)
            if row["status"] == InvoiceStatus.VOID:
                expectations.append(expected.negated("void", row["void_entry_id"], row["voided_on"]))
        findings += _check(company, SalesFinding.INVOICE_ENTRY_MISMATCH, expectations, fx_account)
        checked += len(rows)
        if len(findings) >= limit:
            break
    return findings[:limit], checked


def credit_note_findings(*, company: Company, limit: int) -> tuple[list[Finding], int]:
    """(findings, credit notes checked): each credit note against its entry."""
    fx_account = _fx_account_fallback(company)
    notes = CreditNote.objects.filter(company=company).values(
        "pk", "number", "date", "fx_rate", "total_base", "invoice__receivables_account_id", "journal_entry_id"
    )
    findings: list[Finding] = []
    checked = 0
    for rows in _chunks(notes):
        ids = [row["pk"] for row in rows]
        lines = CreditNoteLine.objects.filter(credit_note_id__in=ids)
        revenue = _grouped(lines, ("credit_note_id", "invoice_line__account_id"), "net")
        taxes = _grouped(
            lines.filter(invoice_line__tax_rate__isnull=False),
            ("credit_note_id", "invoice_line__tax_rate__account_id", "invoice_line__tax_rate_id"),
            "tax",
        )
        by_note: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
        for (note_id, account_id), net in revenue.items():
            by_note[note_id].append((account_id, net))
        for (note_id, account_id, _rate), tax in taxes.items():
            by_note[note_id].append((account_id, tax))
        expectations = []
        for row in rows:
            receivables = row["invoice__receivables_account_id"]
            expected = ExpectedEntry(
                RecordRef(CreditNote._meta.label_lower, row["pk"]),
                row["number"],
                "entry",
                row["journal_entry_id"],
                row["date"],
            )
            expected.add(receivables, -row["total_base"])
            for account_id, amount in by_note[row["pk"]]:
                if amount > 0:
                    expected.add(account_id, base_of(amount, row["fx_rate"], company))
            expected.receivables.add(receivables)
            expectations.append(expected)
        findings += _check(company, SalesFinding.CREDIT_NOTE_ENTRY_MISMATCH, expectations, fx_account)
        checked += len(rows)
        if len(findings) >= limit:
            break
    return findings[:limit], checked


def payment_findings(*, company: Company, limit: int) -> tuple[list[Finding], int]:
    """(findings, payments checked): each payment against its entry, its void's, and the exchange
    and unallocation entries of its allocations."""
    fx_account = _fx_account_fallback(company)
    payments = Payment.objects.filter(company=company).values(
        "pk",
        "number",
        "status",
        "date",
        "amount_base",
        "account_id",
        "receivables_account_id",
        "journal_entry_id",
        "void_entry_id",
        "voided_on",
    )
    findings: list[Finding] = []
    checked = 0
    for rows in _chunks(payments):
        ids = [row["pk"] for row in rows]
        allocations: dict[int, list[dict]] = defaultdict(list)
        for allocation in Allocation.objects.filter(payment_id__in=ids).values(
            "pk",
            "payment_id",
            "date",
            "invoice_base",
            "payment_base",
            "fx_entry_id",
            "unallocated_on",
            "unallocation_entry_id",
            "invoice__receivables_account_id",
        ):
            allocations[allocation["payment_id"]].append(allocation)
        expectations = []
        for row in rows:
            document = RecordRef(Payment._meta.label_lower, row["pk"])
            receivables = {row["receivables_account_id"]}
            entry = ExpectedEntry(document, row["number"], "entry", row["journal_entry_id"], row["date"])
            entry.add(row["account_id"], row["amount_base"])
            entry.add(row["receivables_account_id"], -row["amount_base"])
            mine = [entry]
            later: dict[int, ExpectedEntry] = {}
            for allocation in allocations[row["pk"]]:
                difference = allocation["invoice_base"] - allocation["payment_base"]
                if not difference:
                    continue
                invoice_receivables = allocation["invoice__receivables_account_id"]
                receivables.add(invoice_receivables)
                fx_entry = allocation["fx_entry_id"]
                if fx_entry == row["journal_entry_id"]:
                    entry.add(invoice_receivables, -difference)
                elif fx_entry is not None:
                    if fx_entry not in later:
                        later[fx_entry] = ExpectedEntry(
                            document, row["number"], f"fx:{fx_entry}", fx_entry, allocation["date"]
                        )
                        mine.append(later[fx_entry])
                    later[fx_entry].add(invoice_receivables, -difference)
                if allocation["unallocated_on"] is not None:
                    undo = ExpectedEntry(
                        document,
                        row["number"],
                        f"unallocation:{allocation['pk']}",
                        allocation["unallocation_entry_id"],
                        allocation["unallocated_on"],
                    )
                    undo.add(invoice_receivables, difference)
                    mine.append(undo)
            if row["status"] == PaymentStatus.VOID:
                void = ExpectedEntry(document, row["number"], "void", row["void_entry_id"], row["voided_on"])
                void.add(row["account_id"], -row["amount_base"])
                void.add(row["receivables_account_id"], row["amount_base"])
                mine.append(void)
            for expected in mine:
                expected.receivables |= receivables
            expectations += mine
        findings += _check(company, SalesFinding.PAYMENT_ENTRY_MISMATCH, expectations, fx_account)
        checked += len(rows)
        if len(findings) >= limit:
            break
    return findings[:limit], checked


# --------------------------------------------------------------------------- receivables control


def _links_sql() -> tuple[str, int]:
    """SQL of (entry_id, customer_id) for every entry a sales document posted, and how many
    times it takes the company id."""
    invoice, note, payment, allocation = (
        m._meta.db_table for m in (Invoice, CreditNote, Payment, Allocation)
    )
    parts = [
        f"SELECT journal_entry_id AS entry_id, customer_id FROM {invoice} "  # noqa: S608
        "WHERE company_id = %s AND journal_entry_id IS NOT NULL",
        f"SELECT void_entry_id, customer_id FROM {invoice} WHERE company_id = %s AND void_entry_id IS NOT NULL",  # noqa: S608
        f"SELECT journal_entry_id, customer_id FROM {note} WHERE company_id = %s AND journal_entry_id IS NOT NULL",  # noqa: S608
        f"SELECT journal_entry_id, customer_id FROM {payment} "  # noqa: S608
        "WHERE company_id = %s AND journal_entry_id IS NOT NULL",
        f"SELECT void_entry_id, customer_id FROM {payment} WHERE company_id = %s AND void_entry_id IS NOT NULL",  # noqa: S608
        f"SELECT DISTINCT a.fx_entry_id, p.customer_id FROM {allocation} a JOIN {payment} p ON p.id = a.payment_id "  # noqa: S608
        "WHERE a.company_id = %s AND a.fx_entry_id IS NOT NULL AND a.fx_entry_id <> p.journal_entry_id",
        f"SELECT a.unallocation_entry_id, p.customer_id FROM {allocation} a JOIN {payment} p ON p.id = a.payment_id "  # noqa: S608
        "WHERE a.company_id = %s AND a.unallocation_entry_id IS NOT NULL",
    ]
    return " UNION ALL ".join(parts), len(parts)


def receivables_findings(*, company: Company, as_of: datetime.date, limit: int) -> tuple[list[Finding], int]:
    """(findings, customers compared): the receivables accounts against the open documents as of
    `as_of`, in total and per customer."""
    currency = company.currency
    accounts = sorted(receivables_account_ids(company))
    aging = ar_aging(company=company, as_of=as_of)
    expected_by_customer = {row.customer.id: row.total for row in aging.rows}
    names = {row.customer.id: row.customer.name for row in aging.rows}
    if not accounts:
        return [], 0
    vendor = connection.vendor
    account_list = ", ".join(["%s"] * len(accounts))
    links, times = _links_sql()
    base_sum = money_sum_sql("l.base_amount", vendor)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {base_sum} FROM ledger_journalline l WHERE l.company_id = %s "  # noqa: S608
            f"AND l.account_id IN ({account_list}) AND l.entry_sequence IS NOT NULL AND l.date <= %s",
            [company.pk, *accounts, as_of],
        )
        ledger_total = money_from_sum(cursor.fetchone()[0])
        cursor.execute(
            f"WITH links AS ({links}) SELECT links.customer_id, {base_sum} FROM links "  # noqa: S608
            "JOIN ledger_journalline l ON l.entry_id = links.entry_id "
            f"WHERE l.account_id IN ({account_list}) AND l.entry_sequence IS NOT NULL AND l.date <= %s "
            "GROUP BY links.customer_id",
            [*([company.pk] * times), *accounts, as_of],
        )
        found_by_customer = {customer_id: money_from_sum(total) for customer_id, total in cursor.fetchall()}
        cursor.execute(
            f"WITH links AS ({links}) SELECT l.entry_id, {base_sum} FROM ledger_journalline l "  # noqa: S608
            f"WHERE l.company_id = %s AND l.account_id IN ({account_list}) AND l.entry_sequence IS NOT NULL "
            "AND l.date <= %s AND NOT EXISTS (SELECT 1 FROM links WHERE links.entry_id = l.entry_id) "
            "GROUP BY l.entry_id ORDER BY l.entry_id",
            [*([company.pk] * times), company.pk, *accounts, as_of],
        )
        unlinked = [(entry_id, money_from_sum(total)) for entry_id, total in cursor.fetchall()]
    findings: list[Finding] = []
    expected_total = aging.totals.total
    if expected_total != ledger_total:
        unlinked = [(entry_id, total) for entry_id, total in unlinked if total]
        findings.append(
            Finding(
                kind=SalesFinding.RECEIVABLES_CONTROL_MISMATCH,
                object_type=Company._meta.label_lower,
                object_id=company.pk,
                object_repr=company.name,
                company_id=company.pk,
                key=as_of.isoformat(),
                expected=format_amount(expected_total, currency),
                found=format_amount(ledger_total, currency),
                difference=expected_total - ledger_total,
                message=(
                    f"On {as_of} the receivables accounts hold {format_amount(ledger_total, currency)} but the "
                    f"open invoices less unapplied payments come to {format_amount(expected_total, currency)}"
                    + (
                        f"; {len(unlinked)} entries on the receivables accounts belong to no sales document"
                        if unlinked
                        else ""
                    )
                    + "."
                ),
                details={
                    "as_of": as_of.isoformat(),
                    "accounts": accounts,
                    "entries_without_document": [
                        {"entry": entry_id, "amount": format_amount(total, currency)}
                        for entry_id, total in unlinked[:50]
                    ],
                },
                related=tuple(RecordRef(ENTRY, entry_id) for entry_id, _ in unlinked[:50]),
            )
        )
    customers = sorted(set(expected_by_customer) | {c for c, v in found_by_customer.items() if v})
    missing_names = [c for c in customers if c not in names]
    names.update(Customer.objects.filter(pk__in=missing_names).values_list("pk", "name"))
    for customer_id in customers:
        want = expected_by_customer.get(customer_id, ZERO)
        have = found_by_customer.get(customer_id, ZERO)
        if want == have:
            continue
        findings.append(
            Finding(
                kind=SalesFinding.CUSTOMER_RECEIVABLES_MISMATCH,
                object_type=Customer._meta.label_lower,
                object_id=customer_id,
                object_repr=names.get(customer_id, ""),
                company_id=company.pk,
                key=as_of.isoformat(),
                expected=format_amount(want, currency),
                found=format_amount(have, currency),
                difference=want - have,
                message=(
                    f"On {as_of} {names.get(customer_id, customer_id)}'s documents leave "
                    f"{format_amount(want, currency)} open but their entries put {format_amount(have, currency)} "
                    "on the receivables accounts."
                ),
                details={"as_of": as_of.isoformat()},
            )
        )
        if len(findings) >= limit:
            break
    return findings[:limit], len(customers)


# --------------------------------------------------------------------------- sales summary


def _ledger_sales_by_day(company: Company) -> dict[datetime.date, tuple[Decimal, Decimal]]:
    """{day: (net revenue, tax)} the documents' entries posted: lines on the revenue accounts of
    the document's lines and on their tax rates' accounts (credits positive)."""
    invoice, note, line, rate = (m._meta.db_table for m in (Invoice, CreditNote, InvoiceLine, TaxRate))
    vendor = connection.vendor
    base_sum = money_sum_sql("l.base_amount", vendor)
    revenue_of = f"SELECT il.account_id FROM {line} il WHERE il.invoice_id = {{invoice_id}}"  # noqa: S608
    tax_of = (
        f"SELECT r.account_id FROM {line} il JOIN {rate} r ON r.id = il.tax_rate_id "  # noqa: S608
        "WHERE il.invoice_id = {invoice_id}"
    )
    sources = [
        (f"JOIN {invoice} d ON l.entry_id = d.journal_entry_id", "d.id"),
        (f"JOIN {invoice} d ON l.entry_id = d.void_entry_id", "d.id"),
        (f"JOIN {note} d ON l.entry_id = d.journal_entry_id", "d.invoice_id"),
    ]
    days: dict[datetime.date, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    with connection.cursor() as cursor:
        for join, invoice_id in sources:
            for index, accounts in enumerate((revenue_of, tax_of)):
                cursor.execute(
                    f"SELECT l.date, {base_sum} FROM ledger_journalline l {join} "  # noqa: S608
                    f"WHERE d.company_id = %s AND l.entry_sequence IS NOT NULL "
                    f"AND l.account_id IN ({accounts.format(invoice_id=invoice_id)}) GROUP BY l.date",
                    [company.pk],
                )
                for day, total in cursor.fetchall():
                    if not isinstance(day, datetime.date):
                        day = datetime.date.fromisoformat(str(day))
                    days[day][index] -= money_from_sum(total)
    return {day: (net, tax) for day, (net, tax) in days.items()}


def sales_summary_findings(*, company: Company, limit: int) -> tuple[list[Finding], int]:
    """(findings, days compared): the stored daily sales summary against the revenue and tax the
    documents' entries posted each day."""
    currency = company.currency
    ledger = _ledger_sales_by_day(company)
    stored = {row.date: row for row in DailySalesSummary.objects.filter(company=company).order_by("date")}
    findings: list[Finding] = []
    days = sorted(set(ledger) | set(stored))
    for day in days:
        row = stored.get(day)
        have = (row.net_sales, row.net_tax) if row is not None else (ZERO, ZERO)
        want = ledger.get(day, (ZERO, ZERO))
        if want == have:
            continue
        findings.append(
            Finding(
                kind=SalesFinding.SALES_SUMMARY_MISMATCH,
                object_type=(DailySalesSummary if row is not None else Company)._meta.label_lower,
                object_id=row.pk if row is not None else company.pk,
                object_repr=f"Sales of {day}",
                company_id=company.pk,
                key=day.isoformat(),
                expected=format_amount(want[0], currency),
                found=format_amount(have[0], currency),
                difference=want[0] - have[0],
                message=(
                    f"The stored sales summary of {day} says net sales {format_amount(have[0], currency)} and "
                    f"tax {format_amount(have[1], currency)}; the ledger has {format_amount(want[0], currency)} "
                    f"and {format_amount(want[1], currency)}. The summary is derived from the documents: "
                    "recompute it (manage.py rebuild_sales_summary) once the documents are confirmed right."
                ),
                details={
                    "date": day.isoformat(),
                    "ledger": {
                        "net": format_amount(want[0], currency),
                        "tax": format_amount(want[1], currency),
                    },
                    "stored": {
                        "net": format_amount(have[0], currency),
                        "tax": format_amount(have[1], currency),
                    },
                },
            )
        )
        if len(findings) >= limit:
            break
    return findings, len(days)
