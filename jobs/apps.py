from django.apps import AppConfig


class JobsConfig(AppConfig):
    """Scheduled integrity reconciliation and exports: the app at the top of the dependency order
    (jobs -> sales -> ledger -> accounts -> sofinance), so it may read and call every app below it
    while none of them imports it."""

    name = "jobs"
    verbose_name = "Integrity runs and exports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from jobs import requeue
        from jobs.models import ExportJob, IntegrityRun

        def send_export(pk: int) -> None:
            from jobs.tasks import export_run

            export_run.delay(export_id=pk)

        def send_run(pk: int) -> None:
            from jobs.tasks import integrity_run

            integrity_run.delay(run_id=pk)

        requeue.register(requeue.QueuedJobs("exports", ExportJob, send_export))
        requeue.register(requeue.QueuedJobs("integrity_runs", IntegrityRun, send_run))
