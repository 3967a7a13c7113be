"""Errors raised by the sales services, each with its stable code.

The ledger's own errors (`invalid_account`, `currency_precision`, `missing_exchange_rate`,
`period_closed`, `unbalanced_entry`) reach the caller unchanged when a posting refuses.
"""

from enum import StrEnum

from sofinance.errors import Conflict, DomainError


class SalesErrorCode(StrEnum):
    """Every code and conflict reason the sales app answers with. Never rename one."""

    INVALID_CUSTOMER = "invalid_customer"
    INVALID_ITEM = "invalid_item"
    INVALID_TAX_RATE = "invalid_tax_rate"
    INVALID_INVOICE = "invalid_invoice"
    ACCOUNT_NOT_CONFIGURED = "account_not_configured"
    CURRENCY_MISMATCH = "currency_mismatch"
    INVOICE_NOT_OPEN = "invoice_not_open"
    OVER_ALLOCATION = "over_allocation"
    CREDIT_EXCEEDS_REMAINING = "credit_exceeds_remaining"
    INVOICE_HAS_ALLOCATIONS = "invoice_has_allocations"
    INVOICE_HAS_CREDIT_NOTES = "invoice_has_credit_notes"
    PAYMENT_HAS_ALLOCATIONS = "payment_has_allocations"
    DATE_OUT_OF_ORDER = "date_out_of_order"
    INVOICE_IMMUTABLE = "invoice_immutable"
    INVOICE_INCONSISTENT = "invoice_inconsistent"
    CREDIT_NOTE_IMMUTABLE = "credit_note_immutable"
    PAYMENT_IMMUTABLE = "payment_immutable"
    ALLOCATION_IMMUTABLE = "allocation_immutable"
    TAX_RATE_IN_USE = "tax_rate_in_use"
    # reasons of a 409 `conflict`
    ALREADY_VOID = "already_void"
    ALREADY_UNALLOCATED = "already_unallocated"
    IN_USE = "in_use"


class InvalidCustomer(DomainError):
    code = SalesErrorCode.INVALID_CUSTOMER
    default_message = "The customer does not exist in this company or is inactive."


class InvalidItem(DomainError):
    code = SalesErrorCode.INVALID_ITEM
    default_message = "The item does not exist in this company or is inactive."


class InvalidTaxRate(DomainError):
    code = SalesErrorCode.INVALID_TAX_RATE
    default_message = "The tax rate does not exist in this company or is inactive."


class InvalidInvoice(DomainError):
    code = SalesErrorCode.INVALID_INVOICE
    default_message = "The invoice does not exist in this company."


class AccountNotConfigured(DomainError):
    code = SalesErrorCode.ACCOUNT_NOT_CONFIGURED
    default_message = "The company has no account configured for this posting."


class CurrencyMismatch(DomainError):
    code = SalesErrorCode.CURRENCY_MISMATCH
    default_message = "The documents are in different currencies."


class InvoiceNotOpen(DomainError):
    code = SalesErrorCode.INVOICE_NOT_OPEN
    default_message = "The invoice is not open (draft, paid or void)."


class OverAllocation(DomainError):
    code = SalesErrorCode.OVER_ALLOCATION
    default_message = "The allocation exceeds what the invoice has due or what the payment has left."


class CreditExceedsRemaining(DomainError):
    code = SalesErrorCode.CREDIT_EXCEEDS_REMAINING
    default_message = "The credit note exceeds what is left to credit on the invoice."


class InvoiceHasAllocations(DomainError):
    code = SalesErrorCode.INVOICE_HAS_ALLOCATIONS
    default_message = "The invoice has payments allocated; unallocate them before voiding it."


class InvoiceHasCreditNotes(DomainError):
    code = SalesErrorCode.INVOICE_HAS_CREDIT_NOTES
    default_message = "The invoice has credit notes; credit what is left instead of voiding it."


class PaymentHasAllocations(DomainError):
    code = SalesErrorCode.PAYMENT_HAS_ALLOCATIONS
    default_message = "The payment is allocated to invoices; unallocate it before voiding it."


class DateOutOfOrder(DomainError):
    code = SalesErrorCode.DATE_OUT_OF_ORDER
    default_message = "The date is before a document or event it depends on."


class InvoiceImmutable(Conflict):
    code = SalesErrorCode.INVOICE_IMMUTABLE
    default_message = "An issued invoice cannot be changed; credit or void it."


class PaymentImmutable(Conflict):
    code = SalesErrorCode.PAYMENT_IMMUTABLE
    default_message = "A recorded payment cannot be changed; void it and record it again."


class AlreadyVoid(Conflict):
    reason = SalesErrorCode.ALREADY_VOID
    default_message = "The document is already void."


class AlreadyUnallocated(Conflict):
    reason = SalesErrorCode.ALREADY_UNALLOCATED
    default_message = "The allocation was already removed."


class TaxRateInUse(Conflict):
    code = SalesErrorCode.TAX_RATE_IN_USE
    default_message = "The tax rate is used by invoices: deactivate it and create a new one instead."


class InUse(Conflict):
    reason = SalesErrorCode.IN_USE
    default_message = "The record is used by documents; deactivate it instead."


class InvoiceInconsistent(DomainError):
    code = SalesErrorCode.INVOICE_INCONSISTENT
    default_message = "The document's totals disagree with its lines."


class CreditNoteImmutable(Conflict):
    code = SalesErrorCode.CREDIT_NOTE_IMMUTABLE
    default_message = "A credit note cannot be changed."


class AllocationImmutable(Conflict):
    code = SalesErrorCode.ALLOCATION_IMMUTABLE
    default_message = "An allocation is only ever unallocated, once."
