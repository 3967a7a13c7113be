from django.apps import AppConfig


class JobsConfig(AppConfig):
    """Scheduled integrity reconciliation and exports: the app at the top of the dependency order
    (jobs -> sales -> ledger -> accounts -> sofinance), so it may read and call every app below it
    while none of them imports it."""

    name = "jobs"
    verbose_name = "Integrity runs and exports"
    default_auto_field = "django.db.models.BigAutoField"
