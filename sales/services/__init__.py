"""Every write of the sales app (one transaction each, with its audit event).

- master data: customers, items, tax rates, sales settings (`master_data`)
- invoices: drafts, issue, void (`invoices`)
- credit notes (`credit_notes`)
- payments: record, allocate, unallocate, void (`payments`)
- the stored daily sales summary (`summary`)

Lock order, for every one of them: the payment row, then invoice rows in id order, then the
document's number, then the ledger's posting (which takes its own locks last). Each posts at most
one journal entry.
"""

from sales.services.credit_notes import (
    CreditLineInput,
    CreditPlan,
    credit_note_create,
    credit_note_plan,
    invoice_lines_remaining,
)
from sales.services.invoices import (
    UNSET,
    InvoiceLineInput,
    customer_resolve,
    invoice_create,
    invoice_delete,
    invoice_issue,
    invoice_lines_build,
    invoice_update,
    invoice_void,
    invoice_void_refusal,
)
from sales.services.master_data import (
    customer_create,
    customer_delete,
    customer_update,
    item_create,
    item_delete,
    item_update,
    sales_settings_update,
    tax_rate_create,
    tax_rate_delete,
    tax_rate_resolve,
    tax_rate_update,
)
from sales.services.payments import (
    AllocationInput,
    allocation_remove,
    allocations_oldest_first,
    payment_allocate,
    payment_record,
    payment_void,
    payment_void_earliest,
)
from sales.services.summary import sales_summaries_rebuild, sales_summary_rebuild

__all__ = [
    "UNSET",
    "AllocationInput",
    "CreditLineInput",
    "CreditPlan",
    "InvoiceLineInput",
    "allocation_remove",
    "allocations_oldest_first",
    "credit_note_create",
    "credit_note_plan",
    "customer_create",
    "customer_delete",
    "customer_resolve",
    "customer_update",
    "invoice_create",
    "invoice_delete",
    "invoice_issue",
    "invoice_lines_build",
    "invoice_lines_remaining",
    "invoice_update",
    "invoice_void",
    "invoice_void_refusal",
    "item_create",
    "item_delete",
    "item_update",
    "payment_allocate",
    "payment_record",
    "payment_void",
    "payment_void_earliest",
    "sales_settings_update",
    "sales_summaries_rebuild",
    "sales_summary_rebuild",
    "tax_rate_create",
    "tax_rate_delete",
    "tax_rate_resolve",
    "tax_rate_update",
]
