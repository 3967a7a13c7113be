"""Structured logging: one JSON object per line on stdout, for Django's loggers and ours.

structlog renders; the standard library's loggers (Django, Celery, gunicorn) go through the same
processor chain, so every line carries the request id (and actor, company) bound in contextvars.
"""

from __future__ import annotations

import logging
import logging.config
import re
import sys

import structlog

from sofinance.context import get_request_id

# Keys whose values never reach a log line, whoever logs them (ours, Django's, a library's).
SENSITIVE_KEYS = re.compile(
    r"pass(word|wd)?|secret|token|authori[sz]ation|cookie|session|csrf|api[_-]?key|private|"
    r"signature|^access$|^refresh$|^jwt|hmac",
    re.IGNORECASE,
)
# Values that are credentials wherever they appear: bearer tokens and JWTs in any text.
SENSITIVE_TEXT = re.compile(
    r"(?i:bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}|eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"
)
REDACTED = "[redacted]"


def _redacted(value, depth: int = 0):
    if isinstance(value, str):
        return SENSITIVE_TEXT.sub(REDACTED, value) if ("." in value or " " in value) else value
    if depth > 6:
        return value
    if isinstance(value, dict):
        return {
            k: REDACTED if isinstance(k, str) and SENSITIVE_KEYS.search(k) else _redacted(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return type(value)(_redacted(v, depth + 1) for v in value)
    return value


def redact_secrets(_logger, _method_name, event_dict):
    """Drop credentials from every log line: values of sensitive keys, and bearer tokens or JWTs
    inside any text (an exception message quoting a header, say)."""
    return _redacted(event_dict)


def _add_request_id(_logger, _method_name, event_dict):
    request_id = get_request_id()
    if request_id and "request_id" not in event_dict:
        event_dict["request_id"] = request_id
    return event_dict


def configure_logging(*, level: str = "INFO", json: bool = True, tasks_eager: bool = False) -> None:
    """Configure stdlib logging and structlog once.

    With `tasks_eager` (no broker: tasks run inside web requests and commands) Celery's
    per-task "succeeded" lines are dropped below WARNING; a worker keeps them.
    """
    shared_processors = [
        structlog.contextvars.merge_contextvars,
        _add_request_id,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        redact_secrets,
    ]
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {
                "structured": {
                    "()": structlog.stdlib.ProcessorFormatter,
                    "foreign_pre_chain": shared_processors,
                    "processors": [
                        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                        structlog.processors.format_exc_info,
                        redact_secrets,  # tracebacks are text too
                        renderer,
                    ],
                }
            },
            "handlers": {
                "stdout": {
                    "class": "logging.StreamHandler",
                    "stream": sys.stdout,
                    "formatter": "structured",
                }
            },
            "root": {"handlers": ["stdout"], "level": level},
            "loggers": {
                "django.db.backends": {"level": "WARNING"},
                "django.server": {"level": level},
                # Our exception handler logs 4xx/5xx itself; avoid a second line per request.
                "django.request": {"level": "ERROR"},
                "celery.app.trace": {"level": "WARNING" if tasks_eager else level},
            },
        }
    )
    structlog.configure(
        processors=[
            *shared_processors,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
