"""Idempotency-Key: a replay returns the first response and writes nothing new."""

from __future__ import annotations

import datetime
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Company, Membership
from accounts.tests.factories import UserFactory
from audit.models import AuditEvent
from conftest import auth_client
from sofinance.models import IdempotencyRecord
from sofinance.tasks import idempotency_purge_expired
from sofinance.tests.asserts import assert_error, assert_success

URL = "/api/v1/companies"
BODY = {"name": "Acme Ltd", "currency": "USD"}


def _post(client, body, key, **extra):
    return client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY=key, **extra)


@pytest.mark.django_db
def test_a_replay_returns_the_first_response_and_writes_nothing():
    # given
    client = auth_client(UserFactory())
    first = _post(client, BODY, "key-1", HTTP_X_REQUEST_ID="first")
    first_body = assert_success(first, 201)
    writes = (Company.objects.count(), Membership.objects.count(), AuditEvent.objects.count())

    # when
    replay = _post(client, BODY, "key-1", HTTP_X_REQUEST_ID="second")

    # then
    replay_body = assert_success(replay, 201)
    assert replay_body["data"] == first_body["data"]
    assert replay_body["meta"] == {"request_id": "second", "idempotent_replay": True}
    assert replay["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert (
        (Company.objects.count(), Membership.objects.count(), AuditEvent.objects.count())
        == writes
        == (1, 1, 2)
    )
    record = IdempotencyRecord.objects.get()
    assert (record.key, record.method, record.path, record.response_status) == ("key-1", "POST", URL, 201)


@pytest.mark.django_db
def test_the_same_key_with_a_different_body_is_409():
    # given
    client = auth_client(UserFactory())
    assert_success(_post(client, BODY, "key-1"), 201)

    # when
    response = _post(client, {**BODY, "name": "Other Ltd"}, "key-1")

    # then
    assert_error(response, 409, "idempotency_conflict")
    assert list(Company.objects.values_list("name", flat=True)) == ["Acme Ltd"]
    assert AuditEvent.objects.count() == 2


@pytest.mark.django_db
def test_keys_belong_to_their_user():
    # given
    assert_success(_post(auth_client(UserFactory()), BODY, "shared-key"), 201)

    # when
    response = _post(auth_client(UserFactory()), BODY, "shared-key")

    # then: another user's identical key is a new request
    assert_success(response, 201)
    assert "Idempotent-Replayed" not in response
    assert Company.objects.count() == 2


@pytest.mark.django_db
def test_a_failed_request_keeps_no_record_so_the_key_can_be_retried():
    # given
    client = auth_client(UserFactory())
    assert_error(_post(client, {**BODY, "currency": "ZZZ"}, "key-1"), 400, "validation_error")
    assert IdempotencyRecord.objects.count() == 0

    # when
    response = _post(client, BODY, "key-1")

    # then
    assert_success(response, 201)
    assert Company.objects.count() == 1


@pytest.mark.django_db
def test_an_oversized_key_is_400_and_writes_nothing():
    client = auth_client(UserFactory())

    response = _post(client, BODY, "k" * 256)

    assert assert_error(response, 400, "validation_error")["details"] == {"header": "Idempotency-Key"}
    assert Company.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_create_exactly_one_company():
    # given: eight clients of one user firing the same keyed request at once
    user = UserFactory()
    clients = [auth_client(user) for _ in range(8)]
    barrier = threading.Barrier(len(clients))
    results: list = [None] * len(clients)

    def fire(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = _post(clients[index], BODY, "race-key")
        except BaseException as exc:  # surfaced by the assertions below
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=fire, args=(i,)) for i in range(len(clients))]

    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then
    assert all(not isinstance(r, BaseException) and r is not None for r in results), results
    assert [r.status_code for r in results] == [201] * len(clients)
    ids = {assert_success(r, 201)["data"]["id"] for r in results}
    company = Company.objects.get()
    assert ids == {company.pk}
    assert sum(1 for r in results if r.get("Idempotent-Replayed") == "true") == len(clients) - 1
    assert Membership.objects.count() == 1
    assert AuditEvent.objects.filter(object_type="accounts.company").count() == 1
    assert IdempotencyRecord.objects.count() == 1


@pytest.mark.django_db
def test_purge_deletes_only_expired_records():
    # given
    now = timezone.now()
    expired = IdempotencyRecord.objects.create(
        user_id=1,
        key="old",
        request_hash="0" * 64,
        method="POST",
        path=URL,
        expires_at=now - timedelta(seconds=1),
    )
    live = IdempotencyRecord.objects.create(
        user_id=1,
        key="new",
        request_hash="0" * 64,
        method="POST",
        path=URL,
        expires_at=now + timedelta(hours=1),
    )

    # when
    deleted = idempotency_purge_expired.delay().get()

    # then
    assert deleted == 1
    assert list(IdempotencyRecord.objects.values_list("pk", flat=True)) == [live.pk]
    assert not IdempotencyRecord.objects.filter(pk=expired.pk).exists()


SQLITE_SCENARIO = """
import django, json
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from rest_framework.test import APIClient
from accounts.services import company_create, user_create
from sofinance.api.jwt import issue_token_pair
from sofinance.models import IdempotencyRecord
from ledger.models import JournalEntry
user = user_create(username="u", email="u@example.com", password=None)
company = company_create(name="Lite", currency="USD", created_by=user, chart_template="small_business")
client = APIClient(HTTP_HOST="localhost")
client.credentials(HTTP_AUTHORIZATION="Bearer " + issue_token_pair(user_id=user.pk)["access"])
body = {"date": "2026-03-02", "post": True,
        "lines": [{"account": "6100", "debit": "5.00"}, {"account": "1000", "credit": "5.00"}]}
url = f"/api/v1/companies/{company.pk}/journal-entries"
first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
second = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
other = client.post(url, {**body, "description": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
record = IdempotencyRecord.objects.get()
print(json.dumps({
    "statuses": [first.status_code, second.status_code, other.status_code],
    "replayed": second.get("Idempotent-Replayed"),
    "same_id": first.json()["data"]["id"] == second.json()["data"]["id"],
    "entries": JournalEntry.objects.count(),
    "stored_status": record.response_status,
    "stored_number": record.response_body["data"]["number"],
}))
"""


def test_keys_work_on_the_embedded_sqlite_default(tmp_path):
    import json
    import os
    import subprocess
    import sys

    from sofinance.tests.subprocesses import BASE_DIR

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sofinance.settings",
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'lite.sqlite3'}",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "LOG_LEVEL": "ERROR",
        "SOFINANCE_ENV_FILE": "",
    }
    result = subprocess.run(
        [sys.executable, "-c", SQLITE_SCENARIO],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out == {
        "statuses": [201, 201, 409],
        "replayed": "true",
        "same_id": True,
        "entries": 1,
        "stored_status": 201,
        "stored_number": "JE-2026-000001",
    }


# --------------------------------------------------------------------------- every write


def test_every_write_of_the_api_takes_an_idempotency_key():
    # DESIGN invariant 7 holds for every request that writes, not only for creations: a client
    # that retries a close, a match or a PATCH after a lost answer gets the first result back.
    from sofinance.tests.test_tenancy_matrix import ENDPOINTS

    writes = [e for e in ENDPOINTS if e.method != "get"]
    assert len(writes) > 50
    missing = [str(e) for e in writes if not getattr(getattr(e.view, e.method), "idempotent", False)]
    assert missing == []


@pytest.mark.django_db
def test_a_retried_period_close_returns_the_first_answer_and_writes_nothing():
    # given: a period of a company the caller administers
    from accounts.tests.factories import CompanyFactory, MembershipFactory
    from ledger.models import AccountingPeriod
    from ledger.services import period_create
    from sofinance.permissions import Role

    company = CompanyFactory()
    user = UserFactory()
    MembershipFactory(user=user, company=company, role=Role.ADMIN)
    period = period_create(
        company=company, start_date=datetime.date(2026, 3, 1), end_date=datetime.date(2026, 3, 31), by=user
    )
    client = auth_client(user)
    url = f"/api/v1/companies/{company.pk}/periods/{period.pk}/close"
    first = assert_success(client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="close-1"))
    events = AuditEvent.objects.count()

    # when: the answer was lost and the client retries with the same key
    replay = client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="close-1")

    # then: the first answer, nothing new written; without the key the same retry is a 409
    assert assert_success(replay)["data"] == first["data"]
    assert replay["Idempotent-Replayed"] == "true"
    assert AuditEvent.objects.count() == events
    assert AccountingPeriod.objects.get(pk=period.pk).status == "closed"
    assert_error(client.post(url, {}, format="json"), 409, "conflict")


@pytest.mark.django_db
def test_a_retried_delete_and_patch_replay_and_another_body_is_a_conflict():
    # given
    from accounts.models import Account
    from accounts.tests.factories import CompanyFactory, MembershipFactory
    from sofinance.permissions import Role

    company = CompanyFactory()
    user = UserFactory()
    MembershipFactory(user=user, company=company, role=Role.ADMIN)
    client = auth_client(user)
    base = f"/api/v1/companies/{company.pk}/accounts"
    created = assert_success(
        client.post(base, {"code": "6999", "name": "Sundry", "type": "expense"}, format="json"), 201
    )
    url = f"{base}/{created['data']['id']}"

    # when: a PATCH retried, then the same key with another body
    renamed = client.patch(url, {"name": "Sundry costs"}, format="json", HTTP_IDEMPOTENCY_KEY="p-1")
    replayed = client.patch(url, {"name": "Sundry costs"}, format="json", HTTP_IDEMPOTENCY_KEY="p-1")
    other = client.patch(url, {"name": "Other"}, format="json", HTTP_IDEMPOTENCY_KEY="p-1")

    # then
    assert assert_success(replayed)["data"] == assert_success(renamed)["data"]
    assert_error(other, 409, "idempotency_conflict")
    assert Account.objects.get(pk=created["data"]["id"]).name == "Sundry costs"

    # when: a DELETE retried
    deleted = client.delete(url, HTTP_IDEMPOTENCY_KEY="d-1")
    events = AuditEvent.objects.count()
    again = client.delete(url, HTTP_IDEMPOTENCY_KEY="d-1")

    # then: the first answer again (not the 404 a second delete would get), nothing written
    assert deleted.status_code < 300
    assert again.status_code == deleted.status_code
    assert again["Idempotent-Replayed"] == "true"
    assert AuditEvent.objects.count() == events
    assert not Account.objects.filter(pk=created["data"]["id"]).exists()
    assert client.delete(url).status_code == 404
