"""Believable books for demos and benchmarks, on the small-business chart.

- `demo_entries_create` posts a few months of a small trading company's entries one by one
  through the services (with a reversal and some drafts), for `make run`'s demo company.
- `synthetic_entries` yields any number of realistic entries (sales with tax, purchases,
  payroll, rent, bank fees, receipts, supplier payments...) for `journal_entries_import`;
  `manage.py generate_ledger` feeds them in batches.

Both are deterministic: the same arguments give the same books. Amounts are exact at the
company currency's precision (JPY 0 places, USD 2, KWD 3); nothing is rounded by the ledger.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import Account, Company, User
from ledger.models import JournalEntry
from ledger.services import EntryInput, journal_entry_create, journal_entry_reverse
from sofinance.money import currency_exponent

TAX_RATE = Decimal("0.08")
PAYROLL_WITHHOLDING = Decimal("0.20")
EMPLOYER_PAYROLL_TAX = Decimal("0.0765")

# Every small-business account the generators post to (all leaves of that chart).
ACCOUNT_CODES = (
    "1010", "1020", "1100", "1200", "1400", "1500", "1510", "2000", "2100", "2200", "2300", "2400",
    "2700", "3000", "4000", "4100", "4910", "5000", "5100", "6000", "6050", "6100", "6200", "6300",
    "6400", "6500", "6600", "6700", "6800", "6900", "6910", "6920", "7000",
)  # fmt: skip

CUSTOMERS = (
    "Northwind Traders", "Blue Harbor Cafe", "Alder & Finch", "Greenleaf Market", "Summit Outfitters",
    "Copperline Studio", "Riverbend Hotel", "Maple Street Bakery", "Orbit Logistics", "Juniper Dental",
)  # fmt: skip
SUPPLIERS = (
    "Atlas Wholesale", "Pioneer Packaging", "Keystone Supply Co.", "Brightway Freight",
    "Evergreen Paper", "Delta Components",
)  # fmt: skip
CARD_EXPENSES = (
    ("6300", "Office supplies"),
    ("6900", "Travel"),
    ("6910", "Telephone and internet"),
    ("6920", "Software subscription"),
    ("6500", "Online advertising"),
)


def missing_accounts(*, company: Company) -> list[str]:
    """Codes the generators need that the company lacks as active postable (leaf) accounts."""
    usable = set(
        Account.objects.filter(company=company, code__in=ACCOUNT_CODES, is_active=True)
        .exclude(Exists(Account.objects.filter(parent=OuterRef("pk"))))
        .values_list("code", flat=True)
    )
    return [code for code in ACCOUNT_CODES if code not in usable]


class Money:
    """Amounts at one currency's precision; currencies without minor units get larger figures."""

    def __init__(self, currency: str) -> None:
        self.places = currency_exponent(currency)
        self.unit = Decimal(1).scaleb(-self.places)
        self.scale = 100 if self.places == 0 else 1

    def exact(self, value: Decimal | str | int) -> Decimal:
        return (Decimal(value) * self.scale).quantize(self.unit, ROUND_HALF_UP)

    def between(self, rng: random.Random, low: int, high: int) -> Decimal:
        minor = 10**self.places
        return Decimal(rng.randint(low * self.scale * minor, high * self.scale * minor)).scaleb(-self.places)

    def part(self, amount: Decimal, rate: Decimal) -> Decimal:
        return (amount * rate).quantize(self.unit, ROUND_HALF_UP)


def _dr(code: str, amount: Decimal) -> dict:
    return {"account": code, "debit": amount}


def _cr(code: str, amount: Decimal) -> dict:
    return {"account": code, "credit": amount}


# --------------------------------------------------------------------------- synthetic entries

# (description, reference, lines)
Drafted = tuple[str, str, list[dict]]
Scenario = Callable[[random.Random, Money, int], Drafted]


def _sale(revenue: str, receivable: str, label: str, prefix: str, low: int, high: int) -> Scenario:
    def build(rng: random.Random, money: Money, n: int) -> Drafted:
        net = money.between(rng, low, high)
        tax = money.part(net, TAX_RATE)
        customer = rng.choice(CUSTOMERS)
        return (
            f"{label} – {customer}",
            f"{prefix}-{n:06d}",
            [_dr(receivable, net + tax), _cr(revenue, net), _cr("2200", tax)],
        )

    return build


def _taxed_bill(expense: str, payable: str, label: str, low: int, high: int) -> Scenario:
    def build(rng: random.Random, money: Money, n: int) -> Drafted:
        net = money.between(rng, low, high)
        tax = money.part(net, TAX_RATE)
        supplier = rng.choice(SUPPLIERS)
        return (
            f"{label} – {supplier}",
            f"BILL-{n:06d}",
            [_dr(expense, net), _dr("1400", tax), _cr(payable, net + tax)],
        )

    return build


def _transfer(debit: str, credit: str, label: str, prefix: str, low: int, high: int) -> Scenario:
    def build(rng: random.Random, money: Money, n: int) -> Drafted:
        amount = money.between(rng, low, high)
        return label, f"{prefix}-{n:06d}", [_dr(debit, amount), _cr(credit, amount)]

    return build


def _customer_receipt(rng: random.Random, money: Money, n: int) -> Drafted:
    amount = money.between(rng, 50, 3000)
    return f"Receipt – {rng.choice(CUSTOMERS)}", f"RCV-{n:06d}", [_dr("1010", amount), _cr("1100", amount)]


def _supplier_payment(rng: random.Random, money: Money, n: int) -> Drafted:
    amount = money.between(rng, 100, 4000)
    return f"Payment – {rng.choice(SUPPLIERS)}", f"PAY-{n:06d}", [_dr("2000", amount), _cr("1010", amount)]


def _payroll(rng: random.Random, money: Money, n: int) -> Drafted:
    gross = money.between(rng, 8000, 40000)
    withheld = money.part(gross, PAYROLL_WITHHOLDING)
    employer_tax = money.part(gross, EMPLOYER_PAYROLL_TAX)
    return (
        "Payroll run",
        f"PR-{n:06d}",
        [
            _dr("6000", gross),
            _dr("6050", employer_tax),
            _cr("2300", withheld + employer_tax),
            _cr("1010", gross - withheld),
        ],
    )


def _card_expense(rng: random.Random, money: Money, n: int) -> Drafted:
    code, label = rng.choice(CARD_EXPENSES)
    net = money.between(rng, 10, 600)
    tax = money.part(net, TAX_RATE)
    return f"{label} (card)", f"CARD-{n:06d}", [_dr(code, net), _dr("1400", tax), _cr("2400", net + tax)]


def _sales_tax_settlement(rng: random.Random, money: Money, n: int) -> Drafted:
    output_tax = money.between(rng, 2000, 9000)
    input_tax = money.between(rng, 200, 1900)
    return (
        "Sales tax return – payment",
        f"TAX-{n:06d}",
        [_dr("2200", output_tax), _cr("1400", input_tax), _cr("1010", output_tax - input_tax)],
    )


SCENARIOS: list[tuple[Scenario, int]] = [
    (_sale("4000", "1100", "Invoice", "INV", 40, 2500), 18),
    (_sale("4000", "1010", "Cash sale", "CS", 10, 800), 14),
    (_sale("4100", "1100", "Service invoice", "SRV", 150, 4000), 7),
    (_customer_receipt, 16),
    (_transfer("5000", "1200", "Cost of goods sold", "COGS", 20, 1500), 8),
    (_taxed_bill("1200", "2000", "Stock purchase", 200, 6000), 8),
    (_supplier_payment, 8),
    (_payroll, 2),
    (_transfer("2300", "1010", "Payroll taxes remitted", "PRT", 2000, 12000), 1),
    (_taxed_bill("6200", "2000", "Utilities", 80, 900), 2),
    (_transfer("6700", "1010", "Bank fees", "BF", 5, 60), 3),
    (_card_expense, 5),
    (_transfer("2400", "1010", "Credit card payment", "CCP", 300, 3000), 1),
    (_taxed_bill("5100", "2000", "Freight", 30, 700), 2),
    (_sales_tax_settlement, 1),
    (_transfer("7000", "1010", "Loan interest", "INT", 100, 900), 1),
    (_transfer("1010", "4910", "Interest received", "INTR", 1, 80), 1),
    (_transfer("1020", "1010", "Transfer to savings", "TRF", 500, 5000), 1),
    (_transfer("6600", "2000", "Accountancy fees", "PF", 200, 2500), 1),
    (_transfer("6400", "1010", "Insurance premium", "INS", 150, 1200), 1),
]


def add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + (day.month - 1) + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def synthetic_entries(
    *, currency: str, count: int, start: datetime.date, months: int, seed: int
) -> Iterator[EntryInput]:
    """`count` entries spread evenly over [start, start + months), in date order.

    The first is the owner's opening capital; the rest draw their kind by weight (sales and
    receipts most, payroll and rent monthly-ish). Deterministic for a given seed.
    """
    rng = random.Random(seed)  # noqa: S311 - reproducible fake data, not security
    money = Money(currency)
    end = add_months(start.replace(day=1), months)
    days = (end - start).days
    builders = [build for build, _ in SCENARIOS]
    weights = [weight for _, weight in SCENARIOS]
    rent = money.between(rng, 1500, 6000)
    capital = money.exact(500000)
    for index in range(count):
        date = start + datetime.timedelta(days=index * days // count)
        if index == 0:
            yield EntryInput(
                date=date,
                description="Owner's capital contribution",
                reference="CAP-000001",
                lines=[_dr("1010", capital), _cr("3000", capital)],
            )
            continue
        if rng.random() < 0.01:
            description, reference, lines = (
                "Office rent",
                f"RENT-{index:06d}",
                [_dr("6100", rent), _cr("1010", rent)],
            )
        else:
            build = rng.choices(builders, weights)[0]
            description, reference, lines = build(rng, money, index)
        yield EntryInput(date=date, description=description, reference=reference, lines=lines)


# --------------------------------------------------------------------------- the demo company


@dataclass(frozen=True)
class _Planned:
    day: int
    description: str
    reference: str
    lines: list[dict]
    customer: str = ""  # a credit sale (net before tax) or its receipt, for a CreditSales
    net: Decimal | None = None
    receipt_of: str = ""  # the reference of the credit sale a receipt pays
    next_month: bool = False  # falls in the following month (on `day` of it)


class CreditSales(Protocol):
    """Books the demo's credit sales and their receipts as documents instead of plain entries.

    The sales app passes one (ledger never imports sales): `invoice` issues an invoice of `net`
    plus tax at TAX_RATE to `customer` on `date` (posting Dr receivables / Cr revenue / Cr tax
    itself), `receipt` records the payment of the invoice made for `reference`.
    """

    def invoice(self, *, date: datetime.date, customer: str, net: Decimal, reference: str) -> None: ...

    def receipt(self, *, date: datetime.date, reference: str) -> None: ...


def _month_plan(rng: random.Random, money: Money, month: datetime.date, *, first: bool) -> list[_Planned]:
    """One month of a small trading company: about 25k of sales a month at a 55% gross margin,
    rent, stock bought and paid for, utilities, payroll (last month's taxes remitted), fees."""
    tag = f"{month:%y%m}"
    supplier = SUPPLIERS[month.month % len(SUPPLIERS)]
    rent = money.exact(2500)
    plan = [_Planned(1, "Office rent", f"RENT-{tag}", [_dr("6100", rent), _cr("1010", rent)])]
    # Stock bought each month covers what is sold (cost of sales is 45% of about 26k of sales):
    # Inventory never goes into credit. (Same draw width as before: the rest of the demo is unchanged.)
    stock = money.exact(rng.randint(12000, 16000))
    stock_tax = money.part(stock, TAX_RATE)
    plan.append(
        _Planned(
            4,
            f"Stock purchase – {supplier}",
            f"BILL-{tag}01",
            [_dr("1200", stock), _dr("1400", stock_tax), _cr("2000", stock + stock_tax)],
        )
    )
    sales = Decimal(0)
    for number, day in enumerate((3, 6, 9, 12, 16, 19, 22, 25), start=1):
        net = money.exact(rng.randint(1500, 4500))
        tax = money.part(net, TAX_RATE)
        customer = CUSTOMERS[(month.month * 3 + number) % len(CUSTOMERS)]
        sales += net
        plan.append(
            _Planned(
                day,
                f"Invoice – {customer}",
                f"INV-{tag}{number:02d}",
                [_dr("1100", net + tax), _cr("4000", net), _cr("2200", tax)],
                customer=customer,
                net=net,
            )
        )
        # Customers pay in about two weeks: late in the month, early in the next one.
        plan.append(
            _Planned(
                day + 12 if day + 12 <= 28 else day + 12 - 28,
                f"Receipt – {customer}",
                f"RCV-{tag}{number:02d}",
                [_dr("1010", net + tax), _cr("1100", net + tax)],
                customer=customer,
                receipt_of=f"INV-{tag}{number:02d}",
                next_month=day + 12 > 28,
            )
        )
    for number, day in enumerate((5, 15, 25), start=1):
        net = money.exact(rng.randint(300, 900))
        tax = money.part(net, TAX_RATE)
        sales += net
        plan.append(
            _Planned(
                day,
                "Cash sales",
                f"CS-{tag}{number:02d}",
                [_dr("1010", net + tax), _cr("4000", net), _cr("2200", tax)],
            )
        )
    utilities = money.exact(rng.randint(180, 320))
    utilities_tax = money.part(utilities, TAX_RATE)
    software = money.exact(149)
    plan += [
        _Planned(
            7, "Software subscription (card)", f"CARD-{tag}01", [_dr("6920", software), _cr("2400", software)]
        ),
        _Planned(
            12,
            "Electricity and water",
            f"UTIL-{tag}",
            [_dr("6200", utilities), _dr("1400", utilities_tax), _cr("2000", utilities + utilities_tax)],
        ),
        _Planned(
            18,
            f"Payment – {supplier}",
            f"PAY-{tag}01",
            [_dr("2000", stock + stock_tax), _cr("1010", stock + stock_tax)],
        ),
    ]
    gross = money.exact(7800)
    withheld = money.part(gross, PAYROLL_WITHHOLDING)
    employer_tax = money.part(gross, EMPLOYER_PAYROLL_TAX)
    if not first:
        plan.append(
            _Planned(
                14,
                "Payroll taxes remitted",
                f"PRT-{tag}",
                [_dr("2300", withheld + employer_tax), _cr("1010", withheld + employer_tax)],
            )
        )
    cost_of_sales = money.part(sales, Decimal("0.45"))
    fees = money.exact(35)
    plan += [
        _Planned(
            26,
            "Payroll",
            f"PR-{tag}",
            [
                _dr("6000", gross),
                _dr("6050", employer_tax),
                _cr("2300", withheld + employer_tax),
                _cr("1010", gross - withheld),
            ],
        ),
        _Planned(27, "Bank charges", f"BF-{tag}", [_dr("6700", fees), _cr("1010", fees)]),
        _Planned(
            28, "Cost of goods sold", f"COGS-{tag}", [_dr("5000", cost_of_sales), _cr("1200", cost_of_sales)]
        ),
    ]
    return plan


def demo_entries_create(
    *, company: Company, months: int = 4, by: User | None = None, credit_sales: CreditSales | None = None
) -> int:
    """Post a few months of believable entries (up to today) through the services; return the count.

    The books open with the owner's capital, a bank loan and an opening stock; each month has rent, stock
    purchases, invoices and cash sales with tax, receipts, utilities, a supplier payment,
    payroll, bank charges and cost of sales. One utilities bill is entered twice and the
    duplicate is reversed; two month-end adjustments stay as drafts for review.
    With `credit_sales`, the invoices and their receipts are handed to it, in date order, instead
    of being posted here (the count then leaves them out).
    Call it once per company (it does not look for earlier demo entries).
    """
    rng = random.Random(20240101)  # noqa: S311 - reproducible fake data, not security
    money = Money(company.currency)
    today = timezone.localdate()
    first = add_months(today.replace(day=1), -(months - 1))
    created = 0

    def post(
        date: datetime.date, description: str, reference: str, lines: list[dict], *, draft=False
    ) -> JournalEntry:
        nonlocal created
        entry = journal_entry_create(
            company=company,
            date=date,
            lines=lines,
            by=by,
            description=description,
            reference=reference,
            post=not draft,
        )
        created += 1
        return entry

    capital, loan, equipment = money.exact(50000), money.exact(20000), money.exact(6000)
    post(first, "Owner's capital contribution", "CAP-01", [_dr("1010", capital), _cr("3000", capital)])
    post(first, "Bank loan drawdown", "LOAN-01", [_dr("1010", loan), _cr("2700", loan)])
    post(
        first + datetime.timedelta(days=1),
        "Shop fittings and equipment",
        "EQ-01",
        [_dr("1500", equipment), _cr("1010", equipment)],
    )
    opening_stock = money.exact(8000)
    post(
        first + datetime.timedelta(days=1),
        f"Opening stock – {SUPPLIERS[0]}",
        "STOCK-01",
        [_dr("1200", opening_stock), _cr("1010", opening_stock)],
    )

    duplicate: JournalEntry | None = None
    carried: list[_Planned] = []  # last month's receipts that fall in this one
    for offset in range(months):
        month_start = add_months(first, offset)
        plan = _month_plan(rng, money, month_start, first=offset == 0)
        this_month = [p for p in plan if not p.next_month] + carried
        carried = [p for p in plan if p.next_month]
        for planned in sorted(this_month, key=lambda p: p.day):
            date = month_start.replace(day=planned.day)
            if date > today:
                continue
            if credit_sales is not None and planned.net is not None:
                credit_sales.invoice(
                    date=date, customer=planned.customer, net=planned.net, reference=planned.reference
                )
                continue
            if credit_sales is not None and planned.receipt_of:
                credit_sales.receipt(date=date, reference=planned.receipt_of)
                continue
            post(date, planned.description, planned.reference, planned.lines)
            if offset == 0 and planned.reference.startswith("UTIL-"):
                duplicate = post(date, planned.description, planned.reference, planned.lines)
    if duplicate is not None:
        journal_entry_reverse(
            entry=duplicate, by=by, description=f"Reversal of {duplicate.number}: bill entered twice"
        )
        created += 1

    fees, depreciation = money.exact(1200), money.exact(250)
    post(
        today,
        "Accrued accountancy fees (awaiting invoice)",
        "ACR-PF",
        [_dr("6600", fees), _cr("2100", fees)],
        draft=True,
    )
    post(
        today,
        "Depreciation – shop equipment",
        "DEP-EQ",
        [_dr("6800", depreciation), _cr("1510", depreciation)],
        draft=True,
    )
    return created


def demo_periods_close(*, company: Company, by: User | None, today: datetime.date | None = None) -> list:
    """The monthly periods of every fiscal year the demo's books touch, with the months before last
    month closed, as a small business that closes a month once its bank statement is reconciled:
    last month (its statement still being matched) and this month stay open. Returns the closed
    periods. A company that already has periods is left as it is."""
    from ledger.calendar import fiscal_year_of
    from ledger.services import period_close, periods_generate

    if company.periods.exists():
        return []
    today = today or timezone.localdate()
    first = company.journal_entries.order_by("date").values_list("date", flat=True).first() or today
    last_month = add_months(today, -1)  # its first day
    closed = []
    for year in range(
        fiscal_year_of(company=company, day=first), fiscal_year_of(company=company, day=today) + 1
    ):
        for period in sorted(periods_generate(company=company, year=year, by=by), key=lambda p: p.start_date):
            if period.end_date < last_month:
                closed.append(period_close(period=period, by=by))
    return closed
