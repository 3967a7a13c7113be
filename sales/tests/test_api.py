"""The sales API as DESIGN.md's contract gives it: shapes, roles, tenancy, idempotency, keyset
pages, refusals that write nothing, reports (JSON and CSV) and the printable invoice."""

import uuid
from decimal import Decimal

import pytest

from accounts.tests.factories import UserFactory
from conftest import auth_client
from sales import services
from sales.models import Allocation, CreditNote, Customer, Invoice, InvoiceStatus, Payment
from sales.tests.factories import day, euro_invoice, issued, sales_books, written
from sofinance.permissions import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def books():
    return sales_books()


@pytest.fixture
def accountant(books, make_member):
    return make_member(books.company, Role.ACCOUNTANT)[1]


def url(books, suffix: str) -> str:
    return f"/api/v1/companies/{books.company.pk}/{suffix}"


def body(response, status: int = 200) -> dict:
    assert response.status_code == status, response.content[:2000]
    data = response.json()
    assert data["success"] is (status < 400)
    return data


def invoice_payload(books, **extra) -> dict:
    return {
        "customer": books.acme.pk,
        "date": "2026-03-10",
        "reference": "PO-1",
        "lines": [
            {"item": books.consulting.pk, "quantity": "3", "discount": "10"},
            {
                "description": "Paperback",
                "quantity": "1",
                "unit_price": "19.99",
                "tax_rate": None,
                "account": "4000",
            },
        ],
        **extra,
    }


def test_create_and_issue_returns_the_contract_shape(books, accountant):
    response = accountant.post(
        url(books, "invoices"),
        invoice_payload(books, issue=True),
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    data = body(response, 201)["data"]
    invoice = Invoice.objects.get()
    assert {k: data[k] for k in ("id", "number", "customer", "date", "due_date", "currency", "status")} == {
        "id": invoice.pk,
        "number": "INV-2026-000001",
        "customer": books.acme.pk,
        "date": "2026-03-10",
        "due_date": "2026-04-09",
        "currency": "USD",
        "status": "issued",
    }
    assert [
        {
            k: line[k]
            for k in (
                "item",
                "description",
                "quantity",
                "unit_price",
                "discount",
                "tax_rate",
                "account",
                "net",
                "tax",
                "total",
            )
        }
        for line in data["lines"]
    ] == [
        {
            "item": books.consulting.pk,
            "description": "Consulting hour",
            "quantity": "3",
            "unit_price": "150.00",
            "discount": "10.00",
            "tax_rate": books.standard.pk,
            "account": books.account("4100").pk,
            "net": "405.00",
            "tax": "81.00",
            "total": "486.00",
        },
        {
            "item": None,
            "description": "Paperback",
            "quantity": "1",
            "unit_price": "19.99",
            "discount": "0.00",
            "tax_rate": None,
            "account": books.account("4000").pk,
            "net": "19.99",
            "tax": "0.00",
            "total": "19.99",
        },
    ]
    assert (data["subtotal"], data["tax_total"], data["total"], data["amount_paid"], data["amount_due"]) == (
        "424.99",
        "81.00",
        "505.99",
        "0.00",
        "505.99",
    )
    assert (
        data["journal_entry"] == invoice.journal_entry_id
        and data["journal_number"] == invoice.journal_entry.number
    )
    assert data["document_url"] == f"/api/v1/companies/{books.company.pk}/invoices/{invoice.pk}/document"


def test_amounts_travel_at_the_currency_places(make_member):
    books = sales_books(currency="JPY")
    _, client = make_member(books.company, Role.ACCOUNTANT)
    response = client.post(
        url(books, "invoices"),
        {
            "customer": books.acme.pk,
            "date": "2026-03-10",
            "issue": True,
            "lines": [{"item": books.widget.pk, "quantity": "3"}],
        },
        format="json",
    )
    data = body(response, 201)["data"]
    # 3 x 1235 = 3705, VAT 5 % = 185.25 -> 185
    assert (data["lines"][0]["unit_price"], data["subtotal"], data["tax_total"], data["total"]) == (
        "1235",
        "3705",
        "185",
        "3890",
    )


def test_clerks_draft_accountants_issue_viewers_and_auditors_read(books, make_member):
    _, clerk = make_member(books.company, Role.CLERK)
    _, viewer = make_member(books.company, Role.VIEWER)
    _, auditor = make_member(books.company, Role.AUDITOR)
    _, accountant = make_member(books.company, Role.ACCOUNTANT)
    before = written(books.company)
    # a clerk may not issue, even at creation; viewers and auditors write nothing
    assert (
        body(clerk.post(url(books, "invoices"), invoice_payload(books, issue=True), format="json"), 403)[
            "error"
        ]["code"]
        == "permission_denied"
    )
    for reader in (viewer, auditor):
        assert body(reader.post(url(books, "invoices"), invoice_payload(books), format="json"), 403)
        assert body(reader.post(url(books, "customers"), {"name": "X"}, format="json"), 403)
    assert written(books.company) == before
    draft = body(clerk.post(url(books, "invoices"), invoice_payload(books), format="json"), 201)["data"]
    assert draft["status"] == "draft" and draft["number"] is None
    assert body(clerk.post(url(books, f"invoices/{draft['id']}/issue"), format="json"), 403)
    assert body(
        clerk.post(
            url(books, "payments"),
            {"customer": books.acme.pk, "date": "2026-03-10", "amount": "1.00"},
            format="json",
        ),
        403,
    )
    assert body(clerk.post(url(books, "tax-rates"), {"name": "X", "rate": "1"}, format="json"), 403)
    assert body(clerk.post(url(books, "customers"), {"name": "Clerk's customer"}, format="json"), 201)
    issued_now = body(accountant.post(url(books, f"invoices/{draft['id']}/issue"), format="json"))["data"]
    assert issued_now["status"] == "issued"
    for reader in (viewer, auditor):
        assert body(reader.get(url(books, f"invoices/{draft['id']}")))["data"]["number"] == "INV-2026-000001"
        assert body(reader.get(url(books, "reports/ar-aging?as_of=2026-03-31")))
        assert body(reader.post(url(books, f"invoices/{draft['id']}/void"), format="json"), 403)


def test_another_companys_objects_are_not_found_and_references_are_refused(books, accountant):
    other = sales_books(name="Other Co")
    theirs = issued(other, other.acme, "2026-03-01", "10.00")
    for path in (
        f"invoices/{theirs.pk}",
        f"customers/{other.acme.pk}",
        f"items/{other.widget.pk}",
        f"tax-rates/{other.standard.pk}",
    ):
        assert body(accountant.get(url(books, path)), 404)["error"]["code"] == "not_found"
    assert body(accountant.post(url(books, f"invoices/{theirs.pk}/void"), format="json"), 404)
    before = written(books.company)
    response = accountant.post(
        url(books, "invoices"), {**invoice_payload(books), "customer": other.acme.pk}, format="json"
    )
    assert body(response, 422)["error"]["code"] == "invalid_customer"
    response = accountant.post(url(books, "credit-notes"), {"invoice": theirs.pk}, format="json")
    assert body(response, 422)["error"]["code"] == "invalid_invoice"
    response = accountant.post(
        url(books, "payments"),
        {
            "customer": books.acme.pk,
            "date": "2026-03-10",
            "amount": "10.00",
            "allocations": [{"invoice": theirs.pk, "amount": "10.00"}],
        },
        format="json",
    )
    assert body(response, 422)["error"]["code"] == "invalid_invoice"
    assert written(books.company) == before
    # a user who is no member of the company gets 404 for all of it
    stranger = auth_client(UserFactory())
    assert body(stranger.get(url(books, "invoices")), 404)["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ({"description": "x", "quantity": "-1", "unit_price": "5.00"}, "validation_error"),
        ({"description": "x", "quantity": "1", "unit_price": "5.001"}, "currency_precision"),
        ({"description": "x", "quantity": "1", "unit_price": "5.00", "tax_rate": 999999}, "invalid_tax_rate"),
        ({"item": 999999, "quantity": "1"}, "invalid_item"),
        ({"description": "x", "quantity": "1", "unit_price": "5.00", "account": "1010"}, "invalid_account"),
        ({"description": "x", "quantity": "one", "unit_price": "5.00"}, "validation_error"),
    ],
)
def test_bad_invoices_are_refused_with_codes_and_write_nothing(books, accountant, line, code):
    before = written(books.company)
    response = accountant.post(
        url(books, "invoices"), {**invoice_payload(books), "issue": True, "lines": [line]}, format="json"
    )
    error = body(response, 400 if code == "validation_error" else 422)["error"]
    assert error["code"] == code
    assert "0" in error["details"]["lines"]
    assert written(books.company) == before


def test_malformed_bodies_are_400(books, accountant):
    before = written(books.company)
    for payload in (
        {"customer": "Acme", "date": "2026-03-10", "lines": []},
        {"customer": books.acme.pk, "date": "10/03/2026", "lines": []},
        {"customer": books.acme.pk, "date": "2026-03-10", "lines": "x"},
    ):
        assert (
            body(accountant.post(url(books, "invoices"), payload, format="json"), 400)["error"]["code"]
            == "validation_error"
        )
    response = accountant.post(
        url(books, "invoices"),
        data=b'{"customer": 1, "date": "2026-03-10", "lines": [{"quantity": NaN}]}',
        content_type="application/json",
    )
    assert body(response, 400)["error"]["code"] == "validation_error"
    assert written(books.company) == before


def test_a_retry_with_the_same_key_replays_and_another_body_conflicts(books, accountant):
    key = str(uuid.uuid4())
    first = accountant.post(
        url(books, "invoices"), invoice_payload(books, issue=True), format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    again = accountant.post(
        url(books, "invoices"), invoice_payload(books, issue=True), format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert body(first, 201)["data"] == body(again, 201)["data"]
    assert again["Idempotent-Replayed"] == "true"
    assert Invoice.objects.count() == 1
    clash = accountant.post(
        url(books, "invoices"),
        invoice_payload(books, reference="other"),
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert body(clash, 409)["error"]["code"] == "idempotency_conflict"
    payment = {"customer": books.acme.pk, "date": "2026-03-20", "amount": "100.00"}
    key = str(uuid.uuid4())
    accountant.post(url(books, "payments"), payment, format="json", HTTP_IDEMPOTENCY_KEY=key)
    accountant.post(url(books, "payments"), payment, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert Payment.objects.count() == 1


def test_invoice_lists_are_keyset_pages_with_filters(books, accountant, monkeypatch):
    monkeypatch.setattr("sales.api.views.timezone.localdate", lambda: day("2026-04-01"))
    for n in range(5):
        issued(books, books.acme if n % 2 else books.globex, f"2026-03-0{n + 1}", "10.00")
    first = body(accountant.get(url(books, "invoices?page_size=2")))
    assert [i["date"] for i in first["data"]] == ["2026-03-05", "2026-03-04"]
    second = body(accountant.get(first["meta"]["pagination"]["next"]))
    assert [i["date"] for i in second["data"]] == ["2026-03-03", "2026-03-02"]
    assert "cursor=" in first["meta"]["pagination"]["next"]
    acme = body(
        accountant.get(url(books, f"invoices?customer={books.acme.pk}&from=2026-03-02&to=2026-03-04"))
    )
    assert [i["date"] for i in acme["data"]] == ["2026-03-04", "2026-03-02"]
    assert body(accountant.get(url(books, "invoices?status=paid")))["data"] == []
    # Globex's (14 days) fell due on 15, 17 and 19 March; Acme's (30 days) on 1 and 3 April
    overdue = body(accountant.get(url(books, "invoices?overdue=true")))["data"]
    assert [i["due_date"] for i in overdue] == ["2026-03-19", "2026-03-17", "2026-03-15"]
    customers = body(accountant.get(url(books, "customers?page_size=2")))
    assert [c["name"] for c in customers["data"]] == ["Acme Ltd", "Euro GmbH"]


def test_issue_void_and_draft_changes_through_the_api(books, accountant):
    draft = body(accountant.post(url(books, "invoices"), invoice_payload(books), format="json"), 201)["data"]
    changed = body(
        accountant.patch(
            url(books, f"invoices/{draft['id']}"),
            {"reference": "PO-2", "lines": [{"item": books.widget.pk, "quantity": "2"}]},
            format="json",
        )
    )["data"]
    assert (changed["reference"], changed["total"]) == ("PO-2", "25.94")
    issued_now = body(accountant.post(url(books, f"invoices/{draft['id']}/issue"), format="json"))["data"]
    assert issued_now["status"] == "issued"
    assert (
        body(accountant.patch(url(books, f"invoices/{draft['id']}"), {"reference": "x"}, format="json"), 409)[
            "error"
        ]["code"]
        == "invoice_immutable"
    )
    assert (
        body(accountant.delete(url(books, f"invoices/{draft['id']}")), 409)["error"]["code"]
        == "invoice_immutable"
    )
    voided = body(
        accountant.post(url(books, f"invoices/{draft['id']}/void"), {"date": "2026-03-12"}, format="json")
    )["data"]
    assert (voided["status"], voided["voided_on"], voided["amount_due"]) == ("void", "2026-03-12", "0.00")
    again = body(accountant.post(url(books, f"invoices/{draft['id']}/void"), format="json"), 409)["error"]
    assert again["details"]["reason"] == "already_void"
    other = body(accountant.post(url(books, "invoices"), invoice_payload(books), format="json"), 201)["data"]
    assert body(accountant.delete(url(books, f"invoices/{other['id']}")))
    assert not Invoice.objects.filter(pk=other["id"]).exists()


def test_credit_notes_and_payments_through_the_api(books, accountant):
    invoice = issued(books, books.acme, "2026-03-01", "100.00", "50.00")
    lines = list(invoice.lines.order_by("line_no"))
    credit = body(
        accountant.post(
            url(books, "credit-notes"),
            {
                "invoice": invoice.pk,
                "date": "2026-03-05",
                "reason": "Returned",
                "lines": [{"invoice_line": lines[1].pk, "quantity": "1"}],
            },
            format="json",
        ),
        201,
    )["data"]
    assert (credit["number"], credit["invoice"], credit["total"], credit["lines"][0]["quantity"]) == (
        "CN-2026-000001",
        invoice.pk,
        "50.00",
        "1",
    )
    too_much = accountant.post(
        url(books, "credit-notes"),
        {"invoice": invoice.pk, "lines": [{"invoice_line": lines[1].pk, "quantity": "1"}]},
        format="json",
    )
    assert body(too_much, 422)["error"]["code"] == "credit_exceeds_remaining"
    assert CreditNote.objects.count() == 1

    payment = body(
        accountant.post(
            url(books, "payments"),
            {
                "customer": books.acme.pk,
                "date": "2026-03-10",
                "amount": "130.00",
                "reference": "BACS 1",
                "allocations": [{"invoice": invoice.pk, "amount": "60.00"}],
            },
            format="json",
        ),
        201,
    )["data"]
    assert (payment["number"], payment["amount"], payment["unallocated"], payment["status"]) == (
        "PAY-2026-000001",
        "130.00",
        "70.00",
        "posted",
    )
    assert [(a["invoice"], a["amount"], a["date"]) for a in payment["allocations"]] == [
        (invoice.pk, "60.00", "2026-03-10")
    ]
    over = accountant.post(
        url(books, f"payments/{payment['id']}/allocations"),
        {"allocations": [{"invoice": invoice.pk, "amount": "40.01"}]},
        format="json",
    )
    assert body(over, 422)["error"]["code"] == "over_allocation"
    more = body(
        accountant.post(
            url(books, f"payments/{payment['id']}/allocations"),
            {"allocations": [{"invoice": invoice.pk, "amount": "40.00"}]},
            format="json",
        ),
        201,
    )["data"]
    assert (more["unallocated"], len(more["allocations"])) == ("30.00", 2)
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.PAID
    first_allocation = Allocation.objects.filter(payment_id=payment["id"]).order_by("id").first()
    after = body(
        accountant.post(
            url(books, f"payments/{payment['id']}/allocations/{first_allocation.pk}/unallocate"),
            {"date": "2026-03-15"},
            format="json",
        )
    )["data"]
    assert after["unallocated"] == "90.00"
    history = body(accountant.get(url(books, f"payments/{payment['id']}/allocations?include_removed=true")))[
        "data"
    ]
    assert [(a["amount"], a["is_active"], a["unallocated_on"]) for a in history] == [
        ("60.00", False, "2026-03-15"),
        ("40.00", True, None),
    ]
    listed = body(accountant.get(url(books, "payments?unallocated=true")))["data"]
    assert [p["id"] for p in listed] == [payment["id"]]


def test_ar_aging_report_json_and_csv(books, accountant):
    issued(books, books.acme, "2026-01-05", "100.00")
    services.payment_record(
        company=books.company, customer=books.globex, date=day("2026-01-10"), amount="25.00", by=None
    )
    data = body(accountant.get(url(books, "reports/ar-aging?as_of=2026-03-31")))["data"]
    assert data == {
        "as_of": "2026-03-31",
        "currency": "USD",
        "rows": [
            {
                "customer": {"id": books.acme.pk, "name": "Acme Ltd"},
                "current": "0.00",
                "days_1_30": "0.00",
                "days_31_60": "100.00",
                "days_61_90": "0.00",
                "days_over_90": "0.00",
                "unapplied_credit": "0.00",
                "total": "100.00",
            },
            {
                "customer": {"id": books.globex.pk, "name": "Globex"},
                "current": "0.00",
                "days_1_30": "0.00",
                "days_31_60": "0.00",
                "days_61_90": "0.00",
                "days_over_90": "0.00",
                "unapplied_credit": "25.00",
                "total": "-25.00",
            },
        ],
        "totals": {
            "current": "0.00",
            "days_1_30": "0.00",
            "days_31_60": "100.00",
            "days_61_90": "0.00",
            "days_over_90": "0.00",
            "unapplied_credit": "25.00",
            "total": "75.00",
        },
    }
    csv = accountant.get(url(books, "reports/ar-aging?as_of=2026-03-31&format=csv"))
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert csv.content.decode().splitlines() == [
        "customer_id,customer,current,days_1_30,days_31_60,days_61_90,days_over_90,unapplied_credit,total",
        f"{books.acme.pk},Acme Ltd,0.00,0.00,100.00,0.00,0.00,0.00,100.00",
        f"{books.globex.pk},Globex,0.00,0.00,0.00,0.00,0.00,25.00,-25.00",
        ",Total,0.00,0.00,100.00,0.00,0.00,25.00,75.00",
    ]
    assert body(accountant.get(url(books, "reports/ar-aging?as_of=31-03-2026")), 400)["error"]["details"] == {
        "as_of": ["Invalid date."]
    }


def test_customer_statement_and_sales_summary_reports(books, accountant):
    issued(books, books.acme, "2026-01-05", "100.00")
    issued(books, books.acme, "2026-02-05", "40.00")
    statement = body(
        accountant.get(
            url(books, f"reports/customer-statement?customer={books.acme.pk}&from=2026-02-01&to=2026-02-28")
        )
    )["data"]
    assert (
        statement["from"],
        statement["to"],
        statement["opening_balance"],
        statement["closing_balance"],
    ) == ("2026-02-01", "2026-02-28", "100.00", "140.00")
    assert [(ln["kind"], ln["number"], ln["debit"], ln["balance"]) for ln in statement["lines"]] == [
        ("invoice", "INV-2026-000002", "40.00", "140.00")
    ]
    assert statement["other_currencies"] == []
    assert (
        body(accountant.get(url(books, "reports/customer-statement")), 400)["error"]["code"]
        == "validation_error"
    )
    assert body(accountant.get(url(books, "reports/customer-statement?customer=999999")), 404)
    summary = body(
        accountant.get(url(books, "reports/sales-summary?from=2026-01-01&to=2026-02-28&group_by=month"))
    )["data"]
    assert [(r["key"], r["net"], r["invoice_count"]) for r in summary["rows"]] == [
        ("2026-01", "100.00", 1),
        ("2026-02", "40.00", 1),
    ]
    assert summary["totals"]["net"] == "140.00"
    csv = accountant.get(
        url(books, "reports/sales-summary?from=2026-01-01&to=2026-02-28&group_by=customer&format=csv")
    )
    assert csv.content.decode().splitlines()[1] == f"{books.acme.pk},Acme Ltd,2,0,0,140.00,0.00,140.00,"
    assert body(accountant.get(url(books, "reports/sales-summary?group_by=week")), 400)
    assert body(accountant.get(url(books, "reports/sales-summary?from=2026-03-01&to=2026-02-01")), 400)
    # a document in another currency is not among the lines: its balance is named apart
    euro_invoice(books, "2026-02-10", "54.00")
    statement = body(
        accountant.get(
            url(books, f"reports/customer-statement?customer={books.acme.pk}&from=2026-02-01&to=2026-02-28")
        )
    )["data"]
    assert (len(statement["lines"]), statement["closing_balance"]) == (1, "140.00")
    assert statement["other_currencies"] == [{"currency": "EUR", "closing_balance": "54.00"}]
    # and the CSV says it under its closing balance
    csv = accountant.get(
        url(
            books,
            f"reports/customer-statement?customer={books.acme.pk}&from=2026-02-01&to=2026-02-28&format=csv",
        )
    )
    assert csv.content.decode().splitlines()[-2:] == [
        "2026-02-28,,,,Closing balance,,,140.00",
        "2026-02-28,,,,Also owed in EUR (another statement),,,54.00",
    ]
    assert f"statement-{books.acme.pk}-USD-2026-02-01-2026-02-28.csv" in csv["Content-Disposition"]


def test_the_sales_summary_by_tax_rate_over_the_api(books, accountant):
    services.invoice_create(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-01"),
        lines=[{"item": books.consulting.pk, "quantity": "2"}, {"item": books.widget.pk, "quantity": "10"}],
        by=None,
        issue=True,
    )
    query = "reports/sales-summary?from=2026-03-01&to=2026-03-31&group_by=tax_rate"
    summary = body(accountant.get(url(books, query)))["data"]
    assert summary["group_by"] == "tax_rate"
    assert [(r["key"], r["label"], r["net"], r["tax"], r["total"]) for r in summary["rows"]] == [
        (str(books.standard.pk), "VAT 20% (20%)", "300.00", "60.00", "360.00"),
        (str(books.reduced.pk), "VAT 5% (5%)", "123.50", "6.18", "129.68"),
    ]
    assert (summary["totals"]["net"], summary["totals"]["tax"]) == ("423.50", "66.18")
    csv = accountant.get(url(books, query + "&format=csv")).content.decode().splitlines()
    assert csv[0].startswith("tax_rate,label,")
    assert csv[1] == f"{books.standard.pk},VAT 20% (20%),1,0,0,300.00,60.00,360.00,"


def test_the_printable_invoice(books, accountant):
    services.sales_settings_update(
        company=books.company,
        by=None,
        legal_name="Sales Co Ltd",
        address="1 High Street\nLondon",
        tax_id="GB999",
        payment_instructions="Bank transfer to IBAN GB00 TEST 0000 0000",
    )
    invoice = services.invoice_create(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-10"),
        lines=[
            {"item": books.consulting.pk, "quantity": "3", "discount": "10"},
            {"item": books.widget.pk, "quantity": "7"},
        ],
        by=None,
        issue=True,
    )
    response = accountant.get(url(books, f"invoices/{invoice.pk}/document"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    for text in (
        "INV-2026-000001",
        "Sales Co Ltd",
        "GB999",
        "Acme Ltd",
        "Consulting hour",
        "405.00",
        '<td>VAT 20%</td><td class="num">20.00%</td><td class="num">405.00</td><td class="num">81.00</td>',
        '<td>VAT 5%</td><td class="num">5.00%</td><td class="num">86.45</td><td class="num">4.32</td>',
        "576.77",
        "9 Apr 2026",
        "IBAN GB00 TEST",
        "Please quote INV-2026-000001",
        "@media print",
    ):
        assert text in page, text
    assert "DRAFT" not in page
    other = sales_books(name="Other Co")
    assert body(accountant.get(url(other, f"invoices/{invoice.pk}/document")), 404)


def test_tax_rates_items_customers_and_settings_crud(books, accountant):
    rate = body(accountant.post(url(books, "tax-rates"), {"name": "Zero", "rate": "0"}, format="json"), 201)[
        "data"
    ]
    assert (rate["rate"], rate["account_code"], rate["is_active"]) == ("0.00", "2200", True)
    item = body(
        accountant.post(
            url(books, "items"), {"name": "Box", "unit_price": "2.50", "tax_rate": rate["id"]}, format="json"
        ),
        201,
    )["data"]
    assert (item["unit_price"], item["revenue_account_code"], item["tax_rate"]) == (
        "2.50",
        "4000",
        rate["id"],
    )
    changed = body(
        accountant.patch(url(books, f"tax-rates/{books.reduced.pk}"), {"rate": "6"}, format="json")
    )["data"]
    assert changed["rate"] == "6.00"
    issued_invoice = services.invoice_create(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-01"),
        lines=[{"item": books.widget.pk, "quantity": "1"}],
        by=None,
    )
    assert issued_invoice
    assert (
        body(
            accountant.patch(url(books, f"tax-rates/{books.reduced.pk}"), {"rate": "7"}, format="json"), 409
        )["error"]["code"]
        == "tax_rate_in_use"
    )
    customer = body(
        accountant.post(
            url(books, "customers"),
            {"name": "Hooli", "payment_terms_days": 10, "receivables_account": "1100"},
            format="json",
        ),
        201,
    )["data"]
    assert (customer["currency"], customer["payment_terms_days"], customer["receivables_account"]) == (
        "USD",
        10,
        books.account("1100").pk,
    )
    assert body(accountant.delete(url(books, f"customers/{customer['id']}")))
    assert not Customer.objects.filter(pk=customer["id"]).exists()
    settings = body(
        accountant.patch(
            url(books, "sales-settings"),
            {"legal_name": "Sales Co Ltd", "fx_gain_loss_account": "4950"},
            format="json",
        )
    )["data"]
    assert (settings["legal_name"], settings["fx_gain_loss_account"]) == (
        "Sales Co Ltd",
        books.account("4950").pk,
    )
    assert body(accountant.get(url(books, "sales-settings")))["data"]["legal_name"] == "Sales Co Ltd"
    assert Decimal(body(accountant.get(url(books, f"items/{item['id']}")))["data"]["unit_price"]) == Decimal(
        "2.5"
    )


def test_the_currency_filters_read_any_case(books, make_member):
    client = make_member(books.company, Role.VIEWER)[1]
    for query in ("EUR", "eur", " Eur "):
        customers = body(client.get(url(books, "customers"), {"currency": query}))["data"]
        assert [row["name"] for row in customers] == ["Euro GmbH"], query
