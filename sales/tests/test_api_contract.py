"""Every sales operation's real responses, on their success and refusal paths, validated against
the published OpenAPI schema (sofinance/tests/openapi_contract.py): an undocumented status, a
field whose type or nullability lies, an undocumented or a missing field fail here."""

from __future__ import annotations

import uuid

import pytest

from sales.tests.factories import sales_books
from sofinance.permissions import Role
from sofinance.tests.openapi_contract import Contract

pytestmark = pytest.mark.django_db


def key() -> dict:
    return {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}


def test_every_sales_operation_answers_as_documented(make_member):
    contract = Contract()
    check = contract.check
    books = sales_books()
    _, accountant = make_member(books.company, Role.ACCOUNTANT)
    _, clerk = make_member(books.company, Role.CLERK)
    _, viewer = make_member(books.company, Role.VIEWER)
    base = f"/api/v1/companies/{books.company.pk}"

    # settings: null until first changed
    settings = check(viewer.get(f"{base}/sales-settings"), 200)
    assert settings["data"]["updated_at"] is None and settings["data"]["fx_gain_loss_account"] is None
    check(accountant.patch(f"{base}/sales-settings", {"legal_name": "Sales Co Ltd"}, format="json"), 200)
    check(accountant.patch(f"{base}/sales-settings", {"fx_gain_loss_account": "1000"}, format="json"), 422)
    check(clerk.patch(f"{base}/sales-settings", {"legal_name": "x"}, format="json"), 403)

    # customers
    customer = check(
        clerk.post(
            f"{base}/customers", {"name": "Northwind", "payment_terms_days": 30}, format="json", **key()
        ),
        201,
    )["data"]
    check(clerk.post(f"{base}/customers", {"name": "Bad", "receivables_account": "6100"}, format="json"), 422)
    check(clerk.post(f"{base}/customers", {"name": ""}, format="json"), 400)
    check(viewer.post(f"{base}/customers", {"name": "No"}, format="json"), 403)
    check(viewer.get(f"{base}/customers", {"search": "north", "is_active": "true"}), 200)
    customer_url = f"{base}/customers/{customer['id']}"
    check(viewer.get(customer_url), 200)
    check(clerk.patch(customer_url, {"payment_terms_days": 45}, format="json"), 200)
    spare = check(clerk.post(f"{base}/customers", {"name": "Spare"}, format="json"), 201)["data"]
    check(clerk.delete(f"{base}/customers/{spare['id']}"), 200)
    check(viewer.get(f"{base}/customers/{spare['id']}"), 404)

    # tax rates and items
    rate = check(
        accountant.post(f"{base}/tax-rates", {"name": "VAT 10%", "rate": "10.00"}, format="json", **key()),
        201,
    )
    check(accountant.post(f"{base}/tax-rates", {"name": "VAT 10%", "rate": "10.00"}, format="json"), 409)
    check(accountant.post(f"{base}/tax-rates", {"name": "VAT 10.5%", "rate": "10.12345"}, format="json"), 422)
    check(clerk.post(f"{base}/tax-rates", {"name": "VAT 1%", "rate": "1"}, format="json"), 403)
    check(viewer.get(f"{base}/tax-rates", {"is_active": "true"}), 200)
    rate_url = f"{base}/tax-rates/{rate['data']['id']}"
    check(viewer.get(rate_url), 200)
    check(accountant.patch(rate_url, {"name": "VAT ten"}, format="json"), 200)
    item = check(
        clerk.post(
            f"{base}/items",
            {"name": "Support", "unit_price": "99.00", "tax_rate": rate["data"]["id"]},
            format="json",
            **key(),
        ),
        201,
    )["data"]
    check(clerk.post(f"{base}/items", {"name": "Odd", "unit_price": "1.005"}, format="json"), 422)
    check(accountant.delete(rate_url), 409)
    check(viewer.get(f"{base}/items", {"search": "sup"}), 200)
    item_url = f"{base}/items/{item['id']}"
    check(viewer.get(item_url), 200)
    check(clerk.patch(item_url, {"unit_price": "89.00"}, format="json"), 200)
    check(clerk.patch(item_url, {"revenue_account": "1000"}, format="json"), 422)

    # invoices: a draft changed and issued, one issued at once, one deleted
    invoices = f"{base}/invoices"
    lines = [
        {"item": item["id"], "quantity": "2"},
        {
            "description": "Delivery",
            "quantity": "1",
            "unit_price": "25.00",
            "tax_rate": None,
            "account": "4000",
        },
    ]
    draft = check(
        clerk.post(
            invoices,
            {"customer": customer["id"], "date": "2026-03-10", "lines": lines},
            format="json",
            **key(),
        ),
        201,
    )["data"]
    assert draft["number"] is None and draft["total_base"] is None and draft["journal_entry"] is None
    check(
        clerk.post(
            invoices,
            {"customer": customer["id"], "date": "2026-03-10", "lines": lines, "issue": True},
            format="json",
        ),
        403,
    )
    check(
        clerk.post(invoices, {"customer": 999999999, "date": "2026-03-10", "lines": lines}, format="json"),
        422,
    )
    draft_url = f"{invoices}/{draft['id']}"
    check(clerk.patch(draft_url, {"reference": "PO-9"}, format="json"), 200)
    check(viewer.get(f"{draft_url}/document"), 200)
    check(accountant.post(f"{draft_url}/issue", format="json", **key()), 200)
    check(accountant.post(f"{draft_url}/issue", format="json"), 409)
    check(clerk.patch(draft_url, {"reference": "PO-10"}, format="json"), 409)
    check(clerk.delete(draft_url), 409)
    check(accountant.delete(rate_url), 409)
    issued = check(
        accountant.post(
            invoices,
            {"customer": customer["id"], "date": "2026-03-12", "lines": lines, "issue": True},
            format="json",
        ),
        201,
    )["data"]
    doomed = check(
        clerk.post(
            invoices, {"customer": customer["id"], "date": "2026-03-12", "lines": lines}, format="json"
        ),
        201,
    )
    check(clerk.delete(f"{invoices}/{doomed['data']['id']}"), 200)
    check(
        viewer.get(
            invoices,
            {"status": "issued", "customer": customer["id"], "from": "2026-03-01", "to": "2026-03-31"},
        ),
        200,
    )
    check(viewer.get(invoices, {"date_to": "2026-03-31"}), 400)
    check(viewer.get(f"{invoices}/{issued['id']}"), 200)

    # credit notes
    credit = check(
        accountant.post(
            f"{base}/credit-notes",
            {
                "invoice": issued["id"],
                "date": "2026-03-20",
                "lines": [{"invoice_line": issued["lines"][1]["id"], "quantity": "1"}],
            },
            format="json",
            **key(),
        ),
        201,
    )["data"]
    check(
        accountant.post(
            f"{base}/credit-notes",
            {"invoice": issued["id"], "lines": [{"invoice_line": issued["lines"][1]["id"], "quantity": "1"}]},
            format="json",
        ),
        422,
    )
    check(viewer.get(f"{base}/credit-notes", {"invoice": issued["id"]}), 200)
    check(viewer.get(f"{base}/credit-notes/{credit['id']}"), 200)

    # payments: record with an allocation, allocate the credit, unallocate, void
    payments = f"{base}/payments"
    payment = check(
        accountant.post(
            payments,
            {
                "customer": customer["id"],
                "date": "2026-03-25",
                "amount": "300.00",
                "allocations": [{"invoice": draft["id"], "amount": "100.00"}],
            },
            format="json",
            **key(),
        ),
        201,
    )["data"]
    check(
        accountant.post(
            payments, {"customer": customer["id"], "date": "2026-03-25", "amount": "1.001"}, format="json"
        ),
        422,
    )
    check(
        accountant.post(
            payments,
            {
                "customer": customer["id"],
                "date": "2026-03-25",
                "amount": "10.00",
                "allocations": [{"invoice": draft["id"], "amount": "900.00"}],
            },
            format="json",
        ),
        422,
    )
    check(
        clerk.post(
            payments, {"customer": customer["id"], "date": "2026-03-25", "amount": "1.00"}, format="json"
        ),
        403,
    )
    payment_url = f"{payments}/{payment['id']}"
    check(
        accountant.post(
            f"{payment_url}/allocations",
            {"allocations": [{"invoice": issued["id"], "amount": "50.00"}]},
            format="json",
            **key(),
        ),
        201,
    )
    allocations = check(viewer.get(f"{payment_url}/allocations", {"include_removed": "true"}), 200)["data"]
    check(accountant.post(f"{invoices}/{draft['id']}/void", {}, format="json"), 422)
    check(accountant.post(f"{payment_url}/void", {}, format="json"), 422)
    for allocation in allocations:
        check(
            accountant.post(
                f"{payment_url}/allocations/{allocation['id']}/unallocate",
                {"date": "2026-03-28"},
                format="json",
                **key(),
            ),
            200,
        )
    check(
        accountant.post(f"{payment_url}/allocations/{allocations[0]['id']}/unallocate", {}, format="json"),
        409,
    )
    check(viewer.get(payments, {"customer": customer["id"], "unallocated": "true"}), 200)
    check(viewer.get(payment_url), 200)
    voided = check(
        accountant.post(f"{payment_url}/void", {"date": "2026-03-29"}, format="json", **key()), 200
    )["data"]
    assert voided["status"] == "void"
    check(accountant.post(f"{payment_url}/void", {}, format="json"), 409)
    check(
        accountant.post(
            f"{payment_url}/allocations",
            {"allocations": [{"invoice": issued["id"], "amount": "5.00"}]},
            format="json",
        ),
        409,
    )
    check(
        accountant.post(f"{invoices}/{draft['id']}/void", {"date": "2026-03-30"}, format="json", **key()), 200
    )
    check(accountant.post(f"{invoices}/{draft['id']}/void", {}, format="json"), 409)

    # the master data in use
    check(clerk.delete(customer_url), 409)
    check(clerk.delete(item_url), 409)
    check(accountant.patch(rate_url, {"rate": "12.00"}, format="json"), 409)
    unused = check(accountant.post(f"{base}/tax-rates", {"name": "Zero", "rate": "0"}, format="json"), 201)
    check(accountant.delete(f"{base}/tax-rates/{unused['data']['id']}"), 200)
    lonely = check(clerk.post(f"{base}/items", {"name": "Lonely", "unit_price": "1.00"}, format="json"), 201)
    check(clerk.delete(f"{base}/items/{lonely['data']['id']}"), 200)

    # reports, as JSON and CSV
    reports = f"{base}/reports"
    check(viewer.get(f"{reports}/ar-aging", {"as_of": "2026-04-30"}), 200)
    check(viewer.get(f"{reports}/ar-aging", {"as_of": "2026-04-30", "format": "csv"}), 200)
    check(viewer.get(f"{reports}/ar-aging", {"as_of": "30/04/2026", "format": "csv"}), 400)
    check(
        viewer.get(
            f"{reports}/customer-statement",
            {"customer": customer["id"], "from": "2026-01-01", "to": "2026-04-30"},
        ),
        200,
    )
    check(viewer.get(f"{reports}/customer-statement", {"customer": customer["id"], "format": "csv"}), 200)
    check(viewer.get(f"{reports}/customer-statement", {"customer": 999999999}), 404)
    check(
        viewer.get(
            f"{reports}/sales-summary", {"from": "2026-03-01", "to": "2026-03-31", "group_by": "item"}
        ),
        200,
    )
    check(viewer.get(f"{reports}/sales-summary", {"group_by": "month", "format": "csv"}), 200)
    check(viewer.get(f"{reports}/sales-summary", {"group_by": "tax_rate"}), 200)
    check(viewer.get(f"{reports}/sales-summary", {"group_by": "week"}), 400)

    # syncing: what was deleted (the tax rate and the item above)
    deleted = check(viewer.get(f"{base}/sales-deletions", {"since": "2000-01-01"}), 200)
    assert {row["type"] for row in deleted["data"]} >= {"tax_rate", "item"}
    check(viewer.get(f"{base}/sales-deletions", {"since": "yesterday"}), 400)

    # then: every sales operation was checked, and every kind of refusal
    expected = contract.operations_of("sales")
    assert len(expected) == 39
    assert expected - contract.checked_operations() == set()
    assert {"400", "403", "404", "409", "422"} <= contract.checked_statuses()
