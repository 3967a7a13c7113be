from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "sales"
    verbose_name = "Sales"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from sales import errors
        from sofinance.db_errors import register_trigger_errors

        register_trigger_errors(
            {
                errors.SalesErrorCode.INVOICE_IMMUTABLE: errors.InvoiceImmutable,
                errors.SalesErrorCode.INVOICE_INCONSISTENT: errors.InvoiceInconsistent,
                errors.SalesErrorCode.CREDIT_NOTE_IMMUTABLE: errors.CreditNoteImmutable,
                errors.SalesErrorCode.PAYMENT_IMMUTABLE: errors.PaymentImmutable,
                errors.SalesErrorCode.ALLOCATION_IMMUTABLE: errors.AllocationImmutable,
                errors.SalesErrorCode.TAX_RATE_IN_USE: errors.TaxRateInUse,
            }
        )
