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
from django.core.files.uploadedfile import UploadedFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from rest_framework.response import Response

from sofinance.api.envelope import is_envelope
from sofinance.context import get_request_id
from sofinance.db_batch import StatementBatch
from sofinance.errors import IdempotencyConflict, ValidationFailed
from sofinance.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


class _FingerprintEncoder(DjangoJSONEncoder):
    """JSON bodies as they are; an uploaded file (multipart) by its name, size and SHA-256, so the
    same key with another file is a conflict."""

    def default(self, o):
        if isinstance(o, UploadedFile):
            digest = hashlib.sha256()
            for chunk in o.chunks():
                digest.update(chunk)
            o.seek(0)
            return {"file": o.name, "size": o.size, "sha256": digest.hexdigest()}
        return super().default(o)


def request_fingerprint(request) -> str:
    data = request.data
    if hasattr(data, "lists"):  # a QueryDict (form or multipart): every value of every key
        data = {key: values if len(values) != 1 else values[0] for key, values in data.lists()}
    body = json.dumps(data, sort_keys=True, cls=_FingerprintEncoder, separators=(",", ":"))
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
            record_id = _claim(request, key, fingerprint)
            if record_id is None:
                existing = IdempotencyRecord.objects.get(user_id=request.user.pk, key=key)
                if existing.request_hash != fingerprint:
                    raise IdempotencyConflict()
                return _replay(existing)
            response = view_method(self, request, *args, **kwargs)
            if response.status_code >= 400:
                transaction.set_rollback(True)
                return response
            _keep(record_id, response)
        return response

    wrapper.idempotent = True  # read by the OpenAPI schema (sofinance.api.schema)
    return wrapper


_CLAIM_SQL = (
    "INSERT INTO platform_idempotencyrecord"
    " (user_id, key, request_hash, method, path, created_at, expires_at)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (user_id, key) DO NOTHING RETURNING id"
)
_KEEP_SQL = "UPDATE platform_idempotencyrecord SET response_status = %s, response_body = %s WHERE id = %s"
_KEEP_SQL_POSTGRESQL = _KEEP_SQL.replace("response_body = %s", "response_body = %s::jsonb")


def _claim(request, key: str, fingerprint: str) -> int | None:
    """Insert the key's record in the current transaction and return its id; None when the key
    is taken. A concurrent request with the same key waits on the unique (user, key) index until
    the first one's transaction ends: then its record is there to replay (or, rolled back, gone,
    and this one inserts). No savepoint: ON CONFLICT never raises for the key."""
    now = timezone.now()
    batch = StatementBatch()
    claimed = batch.add(
        _CLAIM_SQL,
        [
            request.user.pk,
            key,
            fingerprint,
            request.method,
            request.path[:500],
            now,
            now + settings.IDEMPOTENCY_KEY_TTL,
        ],
    )
    batch.run()
    row = claimed.one()
    return row[0] if row else None


def _keep(record_id: int, response: Response) -> None:
    """Store the response on the record; on PostgreSQL the transaction's COMMIT travels with it
    when this request's transaction is the outermost (sofinance.db_batch)."""
    batch = StatementBatch()
    batch.add(
        _KEEP_SQL_POSTGRESQL if batch.vendor == "postgresql" else _KEEP_SQL,
        [response.status_code, json.dumps(response.data, cls=DjangoJSONEncoder), record_id],
    )
    batch.run(last_in_transaction=True)


def idempotency_records_purge(*, now=None) -> int:
    """Delete records past their time to live."""
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lt=now or timezone.now()).delete()
    return deleted
