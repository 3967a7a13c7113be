"""Request and response examples of the sales API's OpenAPI documentation.

Response examples are whole envelopes, as a client receives them; a test validates each against
the schema its operation documents, so they cannot drift from the shapes.
"""

from __future__ import annotations

from sofinance.api.schema import envelope_example, error_example, request_example

CUSTOMER = {
    "id": 7,
    "name": "Northwind Traders",
    "email": "ap@northwind.example",
    "tax_id": "GB123456789",
    "billing_address": "12 Harbour Road\nBristol BS1 4QA",
    "currency": "USD",
    "payment_terms_days": 30,
    "receivables_account": None,
    "is_active": True,
    "created_at": "2026-03-02T09:00:00Z",
    "updated_at": "2026-03-02T09:00:00Z",
}
CUSTOMER_CREATE = [
    request_example(
        "A customer",
        {
            "name": "Northwind Traders",
            "email": "ap@northwind.example",
            "tax_id": "GB123456789",
            "billing_address": "12 Harbour Road\nBristol BS1 4QA",
            "currency": "USD",
            "payment_terms_days": 30,
        },
    ),
    envelope_example("Created", CUSTOMER, status=201),
]
CUSTOMER_UPDATE = [
    request_example("Longer terms", {"payment_terms_days": 45}),
    envelope_example("Changed", {**CUSTOMER, "payment_terms_days": 45, "updated_at": "2026-03-09T10:30:00Z"}),
]

TAX_RATE = {
    "id": 5,
    "name": "VAT 20%",
    "rate": "20.00",
    "account": 76,
    "account_code": "2200",
    "is_active": True,
    "created_at": "2026-01-05T10:00:00Z",
    "updated_at": "2026-01-05T10:00:00Z",
}
TAX_RATE_CREATE = [
    request_example("Standard VAT", {"name": "VAT 20%", "rate": "20.00", "account": "2200"}),
    envelope_example("Created", TAX_RATE, status=201),
    error_example(
        "Name taken",
        status=409,
        code="conflict",
        message="An active tax rate is already called 'VAT 20%'.",
        details={"reason": "duplicate_name", "name": "VAT 20%"},
    ),
]
TAX_RATE_UPDATE = [
    request_example("Deactivate", {"is_active": False}),
    envelope_example("Deactivated", {**TAX_RATE, "is_active": False, "updated_at": "2026-06-30T17:00:00Z"}),
    error_example(
        "Used by invoices",
        status=409,
        code="tax_rate_in_use",
        message="VAT 20% is used by invoices: deactivate it and create a new rate instead.",
        details={"tax_rate": 5},
    ),
]

ITEM_CREATE = [
    request_example(
        "A service item",
        {"name": "Consulting hour", "unit_price": "150.00", "revenue_account": "4100", "tax_rate": 5},
    ),
    envelope_example(
        "Created",
        {
            "id": 3,
            "name": "Consulting hour",
            "description": "",
            "unit_price": "150.00",
            "revenue_account": 85,
            "revenue_account_code": "4100",
            "tax_rate": 5,
            "is_active": True,
            "created_at": "2026-01-05T10:05:00Z",
            "updated_at": "2026-01-05T10:05:00Z",
        },
        status=201,
    ),
    error_example(
        "Too many decimals",
        status=422,
        code="currency_precision",
        message="150.005 has more decimal places than USD allows (2).",
        details={"unit_price": ["150.005 has more decimal places than USD allows (2)."]},
    ),
]

SETTINGS_UPDATE = [
    request_example(
        "Payment instructions",
        {"legal_name": "Books Ltd", "payment_instructions": "IBAN GB33 BUKB 2020 1555 5555 55"},
    ),
    envelope_example(
        "Changed",
        {
            "legal_name": "Books Ltd",
            "address": "",
            "tax_id": "",
            "email": "",
            "phone": "",
            "payment_instructions": "IBAN GB33 BUKB 2020 1555 5555 55",
            "fx_gain_loss_account": None,
            "updated_at": "2026-03-02T09:30:00Z",
        },
    ),
]

INVOICE = {
    "id": 41,
    "number": "INV-2026-000041",
    "status": "issued",
    "customer": 7,
    "customer_name": "Northwind Traders",
    "date": "2026-03-31",
    "due_date": "2026-04-30",
    "currency": "USD",
    "fx_rate": "1",
    "reference": "PO-4471",
    "notes": "",
    "lines": [
        {
            "id": 97,
            "line_no": 1,
            "item": 3,
            "description": "Consulting hour",
            "quantity": "3",
            "unit_price": "150.00",
            "discount": "10.00",
            "tax_rate": 5,
            "tax_percent": "20.00",
            "account": 85,
            "account_code": "4100",
            "net": "405.00",
            "tax": "81.00",
            "total": "486.00",
        },
        {
            "id": 98,
            "line_no": 2,
            "item": None,
            "description": "Delivery",
            "quantity": "1",
            "unit_price": "25.00",
            "discount": "0.00",
            "tax_rate": 2,
            "tax_percent": "5.00",
            "account": 84,
            "account_code": "4000",
            "net": "25.00",
            "tax": "1.25",
            "total": "26.25",
        },
    ],
    "subtotal": "430.00",
    "tax_total": "82.25",
    "total": "512.25",
    "amount_credited": "0.00",
    "amount_paid": "0.00",
    "amount_due": "512.25",
    "total_base": "512.25",
    "journal_entry": 5101,
    "journal_number": "JE-2026-000402",
    "void_entry": None,
    "voided_on": None,
    "issued_at": "2026-03-31T15:20:00Z",
    "created_at": "2026-03-31T15:20:00Z",
    "updated_at": "2026-03-31T15:20:00Z",
    "document_url": "/api/v1/companies/7/invoices/41/document",
}
DRAFT_INVOICE = {
    **INVOICE,
    "number": None,
    "status": "draft",
    "fx_rate": None,
    "total_base": None,
    "journal_entry": None,
    "journal_number": None,
    "issued_at": None,
}

INVOICE_CREATE = [
    request_example(
        "Issue an invoice of two lines",
        {
            "customer": 7,
            "date": "2026-03-31",
            "reference": "PO-4471",
            "issue": True,
            "lines": [
                {"item": 3, "quantity": "3", "discount": "10"},
                {
                    "description": "Delivery",
                    "quantity": "1",
                    "unit_price": "25.00",
                    "tax_rate": 2,
                    "account": "4000",
                },
            ],
        },
    ),
    envelope_example("Issued", INVOICE, status=201),
    error_example(
        "Inactive customer",
        status=422,
        code="invalid_customer",
        message="Northwind Traders is inactive.",
        details={"customer": ["Northwind Traders"]},
    ),
]
INVOICE_UPDATE = [
    request_example("Change the reference", {"reference": "PO-4471-B"}),
    envelope_example("Changed", {**DRAFT_INVOICE, "reference": "PO-4471-B"}),
    error_example(
        "Issued already",
        status=409,
        code="invoice_immutable",
        message="INV-2026-000041 is issued: it cannot be changed.",
    ),
]
INVOICE_ISSUE = [
    envelope_example("Issued", INVOICE),
    error_example(
        "No rate for the date",
        status=422,
        code="missing_exchange_rate",
        message="No EUR->USD rate given or stored on or before 2026-03-31.",
        details={"fx_rate": ["No EUR->USD rate on or before 2026-03-31."]},
    ),
]
INVOICE_VOID = [
    request_example("Void on another day", {"date": "2026-04-02"}),
    request_example("Void, dated like the invoice", {}),
    envelope_example(
        "Void",
        {
            **INVOICE,
            "status": "void",
            "amount_due": "0.00",
            "void_entry": 5160,
            "voided_on": "2026-04-02",
            "updated_at": "2026-04-02T08:00:00Z",
        },
    ),
    error_example(
        "Payments allocated",
        status=422,
        code="invoice_has_allocations",
        message="INV-2026-000041 has payments allocated; unallocate them before voiding it.",
        details={"invoice": 41},
    ),
]

CREDIT_NOTE_CREATE = [
    request_example(
        "Credit one returned unit",
        {
            "invoice": 41,
            "date": "2026-04-03",
            "reason": "Returned damaged",
            "lines": [{"invoice_line": 97, "quantity": "1"}],
        },
    ),
    request_example("Credit everything left", {"invoice": 41, "reason": "Order cancelled"}),
    envelope_example(
        "Credited",
        {
            "id": 3,
            "number": "CN-2026-000003",
            "invoice": 41,
            "invoice_number": "INV-2026-000041",
            "customer": 7,
            "date": "2026-04-03",
            "currency": "USD",
            "fx_rate": "1",
            "reason": "Returned damaged",
            "lines": [
                {
                    "id": 5,
                    "line_no": 1,
                    "invoice_line": 97,
                    "description": "Consulting hour",
                    "quantity": "1",
                    "net": "135.00",
                    "tax": "27.00",
                    "total": "162.00",
                }
            ],
            "subtotal": "135.00",
            "tax_total": "27.00",
            "total": "162.00",
            "total_base": "162.00",
            "journal_entry": 5122,
            "created_at": "2026-04-03T11:00:00Z",
        },
        status=201,
    ),
    error_example(
        "More than is left",
        status=422,
        code="credit_exceeds_remaining",
        message="Line 1: 4 asked, 3 left to credit.",
        details={"lines": ["Line 1: 4 asked, 3 left to credit."]},
    ),
]

ALLOCATION = {
    "id": 12,
    "payment": 17,
    "invoice": 41,
    "invoice_number": "INV-2026-000041",
    "date": "2026-04-15",
    "amount": "300.00",
    "exchange_difference": "0.00",
    "fx_entry": None,
    "is_active": True,
    "unallocated_on": None,
    "unallocation_entry": None,
}
PAYMENT = {
    "id": 17,
    "number": "PAY-2026-000017",
    "status": "posted",
    "customer": 7,
    "customer_name": "Northwind Traders",
    "date": "2026-04-15",
    "amount": "500.00",
    "currency": "USD",
    "fx_rate": "1",
    "amount_base": "500.00",
    "account": 64,
    "account_code": "1010",
    "method": "bank_transfer",
    "reference": "BACS 99812",
    "notes": "",
    "allocations": [ALLOCATION],
    "amount_allocated": "300.00",
    "unallocated": "200.00",
    "journal_entry": 5130,
    "void_entry": None,
    "voided_on": None,
    "created_at": "2026-04-15T09:45:00Z",
    "updated_at": "2026-04-15T09:45:00Z",
}
PAYMENT_CREATE = [
    request_example(
        "A payment, partly allocated",
        {
            "customer": 7,
            "date": "2026-04-15",
            "amount": "500.00",
            "account": "1010",
            "method": "bank_transfer",
            "reference": "BACS 99812",
            "allocations": [{"invoice": 41, "amount": "300.00"}],
        },
    ),
    envelope_example("Recorded", PAYMENT, status=201),
    error_example(
        "More than is due",
        status=422,
        code="over_allocation",
        message="600.00 exceeds what INV-2026-000041 has due (512.25).",
        details={"allocations": {"0": {"invoice": ["INV-2026-000041"]}}, "amount_due": "512.25"},
    ),
]
ALLOCATE = [
    request_example(
        "Use the credit on another invoice", {"allocations": [{"invoice": 44, "amount": "150.00"}]}
    ),
    envelope_example(
        "Allocated",
        {
            **PAYMENT,
            "allocations": [
                ALLOCATION,
                {
                    **ALLOCATION,
                    "id": 13,
                    "invoice": 44,
                    "invoice_number": "INV-2026-000044",
                    "amount": "150.00",
                },
            ],
            "amount_allocated": "450.00",
            "unallocated": "50.00",
        },
        status=201,
    ),
]
UNALLOCATE = [
    request_example("Take it back on a day", {"date": "2026-04-20"}),
    envelope_example(
        "Unallocated", {**PAYMENT, "allocations": [], "amount_allocated": "0.00", "unallocated": "500.00"}
    ),
    error_example(
        "Taken back already",
        status=409,
        code="conflict",
        message="The allocation was removed on 2026-04-20.",
        details={"reason": "already_unallocated", "allocation": 12},
    ),
]
PAYMENT_VOID = [
    request_example("Void, dated like the payment", {}),
    envelope_example(
        "Void",
        {
            **PAYMENT,
            "status": "void",
            "allocations": [],
            "amount_allocated": "0.00",
            "unallocated": "0.00",
            "void_entry": 5170,
            "voided_on": "2026-04-15",
        },
    ),
    error_example(
        "Still allocated",
        status=422,
        code="payment_has_allocations",
        message="PAY-2026-000017 is allocated to invoices; unallocate it before voiding it.",
        details={"payment": 17},
    ),
]
