"""Housekeeping of the accounts app (thin: each task calls one service)."""

from celery import shared_task

from accounts.services import refresh_tokens_purge


@shared_task(name="accounts.tasks.refresh_tokens_purge_expired")
def refresh_tokens_purge_expired() -> int:
    return refresh_tokens_purge()
