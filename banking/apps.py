from django.apps import AppConfig


class BankingConfig(AppConfig):
    name = "banking"
    verbose_name = "Banking"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from banking import errors
        from banking.models import ImportJob
        from jobs import requeue
        from sofinance.db_errors import register_trigger_errors

        register_trigger_errors(
            {
                errors.BankingErrorCode.STATEMENT_RECONCILED: errors.StatementReconciled,
                errors.BankingErrorCode.MATCH_WRONG_ACCOUNT: errors.MatchWrongAccount,
                errors.BankingErrorCode.MATCH_IMMUTABLE: errors.MatchImmutable,
                errors.BankingErrorCode.BANK_ACCOUNT_IN_USE: errors.BankAccountInUse,
            }
        )

        def send_import(pk: int) -> None:
            from banking.tasks import import_job_run_task

            import_job_run_task.delay(pk)

        # an import whose task never reached a worker (the broker down after its commit) is sent again
        requeue.register(requeue.QueuedJobs("imports", ImportJob, send_import))
