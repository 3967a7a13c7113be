from django.apps import AppConfig


class PlatformConfig(AppConfig):
    """The cross-cutting API platform (idempotency records live here)."""

    name = "sofinance"
    label = "platform"
    verbose_name = "API platform"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the OpenAPI extension that documents JWT authentication.
        from django.conf import settings

        from sofinance.api import schema  # noqa: F401
        from sofinance.observability.tracing import configure_tracing

        # Before the first request builds the middleware chain (Django's span middleware joins it).
        configure_tracing(environment=settings.ENVIRONMENT)
