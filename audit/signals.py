"""Receivers that record what has no service of its own: logins, failed logins and logouts
(Django's auth signals, sent by the admin's login, by `authenticate()` and by the API's token
view), and the naming of every Celery task as the actor of the events it records."""

from __future__ import annotations

from typing import Any

from celery.signals import task_postrun, task_prerun
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from audit.context import current, system_actor
from audit.models import AuditAction
from audit.services import audit_record

# Usernames longer than this are cut (a password typed into the username field stays partial).
_ATTEMPTED_LOGIN_MAX = 150


def _channel(request: Any) -> str:
    path = getattr(request, "path", "") or ""
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/admin/"):
        return "admin"
    return "session" if request is not None else "other"


@receiver(user_logged_in, dispatch_uid="audit_user_logged_in")
def record_login(sender, request=None, user=None, **kwargs) -> None:
    audit_record(action=AuditAction.LOGIN, obj=user, actor=user, metadata={"channel": _channel(request)})


@receiver(user_logged_out, dispatch_uid="audit_user_logged_out")
def record_logout(sender, request=None, user=None, **kwargs) -> None:
    if user is None:  # logging out without being logged in changes nothing
        return
    audit_record(action=AuditAction.LOGOUT, obj=user, actor=user, metadata={"channel": _channel(request)})


@receiver(user_login_failed, dispatch_uid="audit_user_login_failed")
def record_login_failed(sender, credentials=None, request=None, **kwargs) -> None:
    """Only the login that was tried is kept; Django has already masked the password, and the
    credentials dict is not stored."""
    credentials = credentials or {}
    user_model = get_user_model()
    attempted = str(
        credentials.get("username")
        or credentials.get(user_model.USERNAME_FIELD)
        or credentials.get("email")
        or ""
    )[:_ATTEMPTED_LOGIN_MAX]
    audit_record(
        action=AuditAction.LOGIN_FAILED,
        object_type=user_model._meta.label_lower,
        object_repr=attempted,
        metadata={"channel": _channel(request), "login": attempted},
    )


# --------------------------------------------------------------------------- Celery tasks

_task_actors: dict[str, Any] = {}


@task_prerun.connect(dispatch_uid="audit_task_prerun")
def name_task_actor(task_id=None, task=None, **kwargs) -> None:
    """Every task acts as "task:<name>"; its events share the surrounding request's id (a task run
    eagerly inside a request) or else the task id."""
    manager = system_actor(f"task:{task.name}", request_id=current().request_id or task_id)
    manager.__enter__()
    _task_actors[task_id] = manager


@task_postrun.connect(dispatch_uid="audit_task_postrun")
def release_task_actor(task_id=None, **kwargs) -> None:
    manager = _task_actors.pop(task_id, None)
    if manager is not None:
        manager.__exit__(None, None, None)
