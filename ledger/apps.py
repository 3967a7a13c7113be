from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = "Ledger"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ledger import errors
        from sofinance.db_errors import register_trigger_errors

        register_trigger_errors(
            {
                errors.LedgerErrorCode.ENTRY_IMMUTABLE: errors.EntryImmutable,
                errors.LedgerErrorCode.UNBALANCED_ENTRY: errors.UnbalancedEntry,
                errors.LedgerErrorCode.PERIOD_CLOSED: errors.PeriodClosed,
                errors.LedgerErrorCode.PERIOD_LOCKED: errors.PeriodLocked,
                errors.LedgerErrorCode.ENTRY_INCONSISTENT: errors.EntryInconsistent,
            }
        )
