from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from audit import signals  # noqa: F401 - connects the login and task receivers
        from audit.errors import AuditImmutable
        from sofinance.db_errors import register_trigger_errors

        register_trigger_errors({AuditImmutable.code: AuditImmutable})
