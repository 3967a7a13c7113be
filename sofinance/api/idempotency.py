"""Idempotency-Key: a retried POST returns the first result and writes nothing new.

The first request with a key inserts its record and runs inside the same transaction, so the
record and the write commit together or not at all. A concurrent duplicate blocks on the unique
(user, key) index until the first commits, then finds the record and replays it: exactly one write.
Only successful responses are kept; a failed request rolls back its record, so it may be retried.
"""

from __future__ import annotations

import hashlib
import json
from functools import wraps

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.response import Response

from sofinance.api.envelope import is_envelope
from sofinance.context import get_request_id
from sofinance.errors import IdempotencyConflict, ValidationFailed
from sofinance.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def request_fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
    raw = f"{request.method}\n{request.path.rstrip('/')}\n{body}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _replay(record: IdempotencyRecord) -> Response:
    body = record.response_body
    if is_envelope(body):
        body = {**body, "meta": {**body["meta"], "request_id": get_request_id(), "idempotent_replay": True}}
    response = Response(body, status=record.response_status)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(view_method):
    """Decorate a DRF view method that creates something."""

    @wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view_method(self, request, *args, **kwargs)
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ValidationFailed(
                f"{HEADER} must be 1-{MAX_KEY_LENGTH} characters.", details={"header": HEADER}
            )
        fingerprint = request_fingerprint(request)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        user_id=request.user.pk,
                        key=key,
                        request_hash=fingerprint,
                        method=request.method,
                        path=request.path[:500],
                        expires_at=timezone.now() + settings.IDEMPOTENCY_KEY_TTL,
                    )
            except IntegrityError:
                existing = IdempotencyRecord.objects.get(user_id=request.user.pk, key=key)
                if existing.request_hash != fingerprint:
                    raise IdempotencyConflict() from None
                return _replay(existing)
            response = view_method(self, request, *args, **kwargs)
            if response.status_code >= 400:
                transaction.set_rollback(True)
                return response
            record.response_status = response.status_code
            record.response_body = json.loads(json.dumps(response.data, cls=DjangoJSONEncoder))
            record.save(update_fields=["response_status", "response_body"])
        return response

    wrapper.idempotent = True  # read by the OpenAPI schema (sofinance.api.schema)
    return wrapper


def idempotency_records_purge(*, now=None) -> int:
    """Delete records past their time to live."""
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lt=now or timezone.now()).delete()
    return deleted
