"""Errors raised by the sales services, each with its stable code.

The ledger's own errors (`invalid_account`, `currency_precision`, `missing_exchange_rate`,
`period_closed`, `unbalanced_entry`) reach the caller unchanged when a posting refuses.
"""

from sofinance.errors import Conflict, DomainError


class InvalidCustomer(DomainError):
    code = "invalid_customer"
    default_message = "The customer does not exist in this company or is inactive."


class InvalidItem(DomainError):
    code = "invalid_item"
    default_message = "The item does not exist in this company or is inactive."


class InvalidTaxRate(DomainError):
    code = "invalid_tax_rate"
    default_message = "The tax rate does not exist in this company or is inactive."


class InvalidInvoice(DomainError):
    code = "invalid_invoice"
    default_message = "The invoice does not exist in this company."


class AccountNotConfigured(DomainError):
    code = "account_not_configured"
    default_message = "The company has no account configured for this posting."


class CurrencyMismatch(DomainError):
    code = "currency_mismatch"
    default_message = "The documents are in different currencies."


class InvoiceNotOpen(DomainError):
    code = "invoice_not_open"
    default_message = "The invoice is not open (draft, paid or void)."


class OverAllocation(DomainError):
    code = "over_allocation"
    default_message = "The allocation exceeds what the invoice has due or what the payment has left."


class CreditExceedsRemaining(DomainError):
    code = "credit_exceeds_remaining"
    default_message = "The credit note exceeds what is left to credit on the invoice."


class InvoiceHasAllocations(DomainError):
    code = "invoice_has_allocations"
    default_message = "The invoice has payments allocated; unallocate them before voiding it."


class InvoiceHasCreditNotes(DomainError):
    code = "invoice_has_credit_notes"
    default_message = "The invoice has credit notes; credit what is left instead of voiding it."


class PaymentHasAllocations(DomainError):
    code = "payment_has_allocations"
    default_message = "The payment is allocated to invoices; unallocate it before voiding it."


class DateOutOfOrder(DomainError):
    code = "date_out_of_order"
    default_message = "The date is before a document or event it depends on."


class InvoiceImmutable(Conflict):
    code = "invoice_immutable"
    default_message = "An issued invoice cannot be changed; credit or void it."


class PaymentImmutable(Conflict):
    code = "payment_immutable"
    default_message = "A recorded payment cannot be changed; void it and record it again."


class AlreadyVoid(Conflict):
    reason = "already_void"
    default_message = "The document is already void."


class AlreadyUnallocated(Conflict):
    reason = "already_unallocated"
    default_message = "The allocation was already removed."


class TaxRateInUse(Conflict):
    code = "tax_rate_in_use"
    default_message = "The tax rate is used by invoices: deactivate it and create a new one instead."


class InUse(Conflict):
    reason = "in_use"
    default_message = "The record is used by documents; deactivate it instead."
