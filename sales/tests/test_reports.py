"""AR aging (today and as of past dates), open items, customer statements and the sales summary,
with exact amounts; the aging total always equals the receivables account that day."""

from decimal import Decimal

import pytest

from audit.models import AuditEvent
from ledger.balance_queries import account_totals
from sales import services
from sales.models import DailySalesSummary
from sales.reports import AgingRow, ar_aging, ar_open_items, customer_statement, sales_summary
from sales.tests.factories import day, eur_rate, euro_invoice, euro_payment, issued, sales_books

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def books():
    """Acme (30 days): INV 100.00 on 5 Jan, 200.00 on 10 Feb; paid 130.00 on 1 March (100.00 to
    the first, 30.00 left as credit); 20.00 credited on the second on 5 March.
    Globex (14 days): 80.00 on 1 Nov 2025; four widgets (50.00) on 1 March."""
    books = sales_books()
    books.inv1 = issued(books, books.acme, "2026-01-05", "100.00")
    books.inv2 = issued(books, books.acme, "2026-02-10", "200.00")
    books.inv4 = issued(books, books.globex, "2025-11-01", "80.00")
    books.inv3 = services.invoice_create(
        company=books.company,
        customer=books.globex,
        date=day("2026-03-01"),
        lines=[{"item": books.widget.pk, "quantity": "4", "unit_price": "12.50", "tax_rate": None}],
        by=None,
        issue=True,
    )
    services.payment_record(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-01"),
        amount="130.00",
        by=None,
        allocations=[{"invoice": books.inv1.pk, "amount": "100.00"}],
    )
    services.credit_note_create(
        invoice=books.inv2,
        by=None,
        date=day("2026-03-05"),
        lines=[{"invoice_line": books.inv2.lines.get().pk, "quantity": "0.1"}],
    )
    return books


def receivables(books, on: str) -> Decimal:
    found = account_totals(company_id=books.company.pk, end=day(on)).get(books.account("1100").pk)
    return found.balance if found else D(0)


def amounts(row: AgingRow) -> tuple:
    return (
        row.current,
        row.days_1_30,
        row.days_31_60,
        row.days_61_90,
        row.days_over_90,
        row.unapplied_credit,
        row.total,
    )


def test_aging_at_the_end_of_march(books):
    aging = ar_aging(company=books.company, as_of=day("2026-03-31"))

    assert (aging.as_of, aging.currency) == (day("2026-03-31"), "USD")
    assert [(r.customer.name, amounts(r)) for r in aging.rows] == [
        # the 200.00 invoice less 20.00 credited, 19 days past due; 30.00 of credit unapplied
        ("Acme Ltd", (D(0), D("180.00"), D(0), D(0), D(0), D("30.00"), D("150.00"))),
        # 50.00 due 15 March (16 days); 80.00 due 15 Nov (136 days)
        ("Globex", (D(0), D("50.00"), D(0), D(0), D("80.00"), D(0), D("130.00"))),
    ]
    assert amounts(aging.totals) == (D(0), D("230.00"), D(0), D(0), D("80.00"), D("30.00"), D("280.00"))
    assert aging.totals.total == receivables(books, "2026-03-31")


@pytest.mark.parametrize(
    ("as_of", "acme", "globex"),
    [
        # before the second invoice: the first is current (due 4 Feb); Globex's is 77 days late
        (
            "2026-01-31",
            (D("100.00"), D(0), D(0), D(0), D(0), D(0), D("100.00")),
            (D(0), D(0), D(0), D("80.00"), D(0), D(0), D("80.00")),
        ),
        # 20 Feb: the first 16 days late, the second current; nothing paid yet
        (
            "2026-02-20",
            (D("200.00"), D("100.00"), D(0), D(0), D(0), D(0), D("300.00")),
            (D(0), D(0), D(0), D(0), D("80.00"), D(0), D("80.00")),
        ),
        # 3 March: paid and credit left, not yet credited
        (
            "2026-03-03",
            (D("200.00"), D(0), D(0), D(0), D(0), D("30.00"), D("170.00")),
            (D("50.00"), D(0), D(0), D(0), D("80.00"), D(0), D("130.00")),
        ),
    ],
)
def test_aging_as_of_past_dates_is_what_was_open_then(books, as_of, acme, globex):
    aging = ar_aging(company=books.company, as_of=day(as_of))
    assert {r.customer.name: amounts(r) for r in aging.rows} == {"Acme Ltd": acme, "Globex": globex}
    assert aging.totals.total == receivables(books, as_of)


def test_aging_before_anything_is_empty(books):
    aging = ar_aging(company=books.company, as_of=day("2025-10-31"))
    assert aging.rows == [] and aging.totals.total == 0


def test_open_items_behind_the_aging(books):
    items = ar_open_items(company=books.company, as_of=day("2026-03-31"))
    assert [(i.number, i.customer.name, i.open_amount, i.days_past_due) for i in items] == [
        ("INV-2025-000003", "Globex", D("80.00"), 136),  # numbered by the year of its date
        ("INV-2026-000002", "Acme Ltd", D("180.00"), 19),
        ("INV-2026-000004", "Globex", D("50.00"), 16),
    ]
    assert [
        i.number for i in ar_open_items(company=books.company, as_of=day("2026-02-20"), customer=books.acme)
    ] == [
        "INV-2026-000001",
        "INV-2026-000002",
    ]


def test_foreign_currency_aging_is_in_the_company_currency_at_the_invoice_rate(books):
    eur_rate(books, "2026-01-01", "1.10")
    services.invoice_create(
        company=books.company,
        customer=books.euro,
        date=day("2026-03-20"),
        lines=[{"description": "x", "quantity": "1", "unit_price": "100.00", "tax_rate": None}],
        by=None,
        issue=True,
    )
    aging = ar_aging(company=books.company, as_of=day("2026-03-31"))
    euro = next(r for r in aging.rows if r.customer.name == "Euro GmbH")
    assert (euro.current, euro.total) == (D("110.00"), D("110.00"))
    item = next(
        i for i in ar_open_items(company=books.company, as_of=day("2026-03-31")) if i.currency == "EUR"
    )
    assert (item.open_amount, item.open_base) == (D("100.00"), D("110.00"))
    assert aging.totals.total == receivables(books, "2026-03-31")


def test_customer_statement_for_a_range(books):
    statement = customer_statement(
        company=books.company, customer=books.acme, date_from=day("2026-02-01"), date_to=day("2026-03-31")
    )
    assert (statement.currency, statement.opening_balance, statement.closing_balance) == (
        "USD",
        D("100.00"),
        D("150.00"),
    )
    assert [
        (ln.date.isoformat(), ln.kind, ln.number, ln.debit, ln.credit, ln.balance) for ln in statement.lines
    ] == [
        ("2026-02-10", "invoice", "INV-2026-000002", D("200.00"), D(0), D("300.00")),
        ("2026-03-01", "payment", "PAY-2026-000001", D(0), D("130.00"), D("170.00")),
        ("2026-03-05", "credit_note", "CN-2026-000001", D(0), D("20.00"), D("150.00")),
    ]
    assert (statement.total_debit, statement.total_credit) == (D("200.00"), D("150.00"))
    assert statement.lines[2].reference == "INV-2026-000002"


def test_a_statement_names_what_the_customer_owes_in_other_currencies(books):
    # given Acme, a USD customer, also invoiced 54.00 EUR
    euro_invoice(books, "2026-03-20", "54.00")

    # when its statement is read in its currency
    usd = customer_statement(
        company=books.company, customer=books.acme, date_from=day("2026-02-01"), date_to=day("2026-03-31")
    )

    # then the euro invoice is not among its lines, but its balance is named, at the last day
    assert usd.currency == "USD" and all(ln.number != "INV-2026-000005" for ln in usd.lines)
    assert [(o.currency, o.closing_balance) for o in usd.other_currencies] == [("EUR", D("54.00"))]
    # before the euro invoice there was nothing to name
    earlier = customer_statement(
        company=books.company, customer=books.acme, date_from=day("2026-02-01"), date_to=day("2026-03-19")
    )
    assert earlier.other_currencies == []
    # and the statement in EUR names the USD balance in turn
    eur = customer_statement(
        company=books.company,
        customer=books.acme,
        date_from=day("2026-02-01"),
        date_to=day("2026-03-31"),
        currency="EUR",
    )
    assert eur.closing_balance == D("54.00")
    assert [(o.currency, o.closing_balance) for o in eur.other_currencies] == [("USD", D("150.00"))]

    # a currency settled to zero is not named; one in the customer's favour is, negative
    euro_payment(books, "2026-03-25", "54.00")
    settled = customer_statement(
        company=books.company, customer=books.acme, date_from=day("2026-02-01"), date_to=day("2026-03-31")
    )
    assert settled.other_currencies == []
    euro_payment(books, "2026-03-26", "46.00")
    credit = customer_statement(
        company=books.company, customer=books.acme, date_from=day("2026-02-01"), date_to=day("2026-03-31")
    )
    assert [(o.currency, o.closing_balance) for o in credit.other_currencies] == [("EUR", D("-46.00"))]


def test_a_statement_shows_voids_on_their_dates(books):
    extra = issued(books, books.acme, "2026-04-02", "40.00")
    services.invoice_void(invoice=extra, by=None, date=day("2026-04-09"))
    statement = customer_statement(
        company=books.company, customer=books.acme, date_from=day("2026-04-01"), date_to=day("2026-04-30")
    )
    assert [(ln.kind, ln.debit, ln.credit, ln.balance) for ln in statement.lines] == [
        ("invoice", D("40.00"), D(0), D("190.00")),
        ("invoice_void", D(0), D("40.00"), D("150.00")),
    ]
    assert statement.opening_balance == statement.closing_balance == D("150.00")


def test_sales_summary_by_day_month_customer_and_item(books):
    by_day = sales_summary(
        company=books.company, date_from=day("2026-03-01"), date_to=day("2026-03-31"), group_by="day"
    )
    assert [(r.key, r.invoice_count, r.credit_note_count, r.net, r.total) for r in by_day.rows] == [
        ("2026-03-01", 1, 0, D("50.00"), D("50.00")),
        ("2026-03-05", 0, 1, D("-20.00"), D("-20.00")),
    ]
    by_month = sales_summary(
        company=books.company, date_from=day("2025-11-01"), date_to=day("2026-03-31"), group_by="month"
    )
    assert [(r.key, r.net) for r in by_month.rows] == [
        ("2025-11", D("80.00")),
        ("2026-01", D("100.00")),
        ("2026-02", D("200.00")),
        ("2026-03", D("30.00")),
    ]
    assert (by_month.totals.net, by_month.totals.invoice_count) == (D("410.00"), 4)
    by_customer = sales_summary(
        company=books.company, date_from=day("2026-01-01"), date_to=day("2026-12-31"), group_by="customer"
    )
    assert [(r.label, r.invoice_count, r.credit_note_count, r.net) for r in by_customer.rows] == [
        ("Acme Ltd", 2, 1, D("280.00")),
        ("Globex", 1, 0, D("50.00")),
    ]
    by_item = sales_summary(
        company=books.company, date_from=day("2026-01-01"), date_to=day("2026-12-31"), group_by="item"
    )
    assert [(r.label, r.quantity, r.net) for r in by_item.rows] == [
        ("Widget", D(4), D("50.00")),
        ("(lines without an item)", D("1.9"), D("280.00")),
    ]
    assert by_item.totals.net == by_customer.totals.net == D("330.00")


def test_the_stored_summary_is_rebuilt_from_the_documents(books):
    # given a day that no longer matches the documents
    DailySalesSummary.objects.filter(company=books.company, date=day("2026-03-01")).update(
        invoiced_net=D("999")
    )

    # when checked, then rebuilt
    check = services.sales_summary_rebuild(
        company=books.company, date_from=day("2026-01-01"), date_to=day("2026-12-31"), apply=False
    )
    rebuilt = services.sales_summary_rebuild(
        company=books.company, date_from=day("2026-01-01"), date_to=day("2026-12-31")
    )

    assert len(check.differences) == 1 and check.differences[0].startswith("2026-03-01: stored")
    assert rebuilt.differed and rebuilt.days == 4
    assert DailySalesSummary.objects.get(company=books.company, date=day("2026-03-01")).invoiced_net == D(
        "50.00"
    )
    assert AuditEvent.objects.filter(action="rebuild", object_type="sales.dailysalessummary").count() == 1
    again = services.sales_summary_rebuild(
        company=books.company, date_from=day("2026-01-01"), date_to=day("2026-12-31")
    )
    assert again.differences == []


def test_sales_summary_by_tax_rate_is_a_sales_tax_return_equal_to_the_tax_account():
    # given March's documents, by hand: (net, tax) per rate, 20 % standard, 5 % reduced
    books = sales_books()
    eur_rate(books, "2026-03-10", "1.0857")

    def invoice(customer, date, lines, **kwargs):
        return services.invoice_create(
            company=books.company,
            customer=customer,
            date=day(date),
            lines=lines,
            by=None,
            issue=True,
            **kwargs,
        )

    hours = {"item": books.consulting.pk}
    # A, 1 March: 2 hours (300.00, 60.00), 10 widgets (123.50, 6.175 -> 6.18), an untaxed 40.00
    a = invoice(
        books.acme,
        "2026-03-01",
        [
            {**hours, "quantity": "2"},
            {"item": books.widget.pk, "quantity": "10"},
            {
                "description": "Delivery",
                "quantity": "1",
                "unit_price": "40.00",
                "tax_rate": None,
                "account": "4000",
            },
        ],
    )
    # B, 10 March, in EUR at 1.0857: 3 hours, EUR 450.00 and 90.00 -> 488.57 and 97.71
    invoice(books.euro, "2026-03-10", [{**hours, "quantity": "3", "unit_price": "150.00"}])
    # C, 15 March: one widget (12.35, 0.62), voided on 25 March: nets out in March
    c = invoice(books.globex, "2026-03-15", [{"item": books.widget.pk, "quantity": "1"}])
    services.invoice_void(invoice=c, by=None, date=day("2026-03-25"))
    # D, 27 February: one hour, voided on 2 March: March takes back (150.00, 30.00)
    d = invoice(books.globex, "2026-02-27", [{**hours, "quantity": "1"}])
    services.invoice_void(invoice=d, by=None, date=day("2026-03-02"))
    # a credit note on A, 20 March: one hour (150.00, 30.00)
    services.credit_note_create(
        invoice=a,
        by=None,
        date=day("2026-03-20"),
        lines=[{"invoice_line": a.lines.get(line_no=1).pk, "quantity": "1"}],
    )

    # when
    report = sales_summary(
        company=books.company, date_from=day("2026-03-01"), date_to=day("2026-03-31"), group_by="tax_rate"
    )

    # then one row per rate and one for the untaxed line, with the documents counted
    assert [
        (r.key, r.label, r.invoice_count, r.credit_note_count, r.void_count, r.net, r.tax)
        for r in report.rows
    ] == [
        (str(books.standard.pk), "VAT 20% (20%)", 2, 1, 1, D("488.57"), D("97.71")),
        (str(books.reduced.pk), "VAT 5% (5%)", 2, 0, 1, D("123.50"), D("6.18")),
        ("", "(lines without a tax rate)", 1, 0, 0, D("40.00"), D("0.00")),
    ]
    # and the tax is exactly what March's documents moved on the tax account (2200)
    tax_account = books.account("2200").pk
    march = account_totals(company_id=books.company.pk, start=day("2026-03-01"), end=day("2026-03-31"))
    assert report.totals.tax == D("103.89") == -march[tax_account].balance
    # and the totals count each document once (A is on three rows): A, B, C; the credit; C, D
    assert (report.totals.invoice_count, report.totals.credit_note_count, report.totals.void_count) == (
        3,
        1,
        2,
    )
    # and the same report by customer nets the same sales
    by_customer = sales_summary(
        company=books.company, date_from=day("2026-03-01"), date_to=day("2026-03-31"), group_by="customer"
    )
    assert (by_customer.totals.net, by_customer.totals.tax) == (report.totals.net, report.totals.tax)
