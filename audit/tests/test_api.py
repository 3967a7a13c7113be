"""GET /api/v1/companies/{id}/audit-events[/{id}|/verify]: who may read, filters, pages, verdicts."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from django.db import connection

from accounts.services import company_update
from accounts.tests.factories import CompanyFactory, UserFactory
from audit.models import AuditEvent
from audit.services import audit_chains_seal, audit_record
from audit.tests.helpers import triggers_disabled
from sofinance.permissions import Role

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


def at(day: int, hour: int = 12) -> datetime.datetime:
    return datetime.datetime(2026, 3, day, hour, 0, tzinfo=UTC)


def record_at(when: datetime.datetime, **kwargs):
    with mock.patch("audit.services.timezone.now", return_value=when):
        return audit_record(**kwargs)


@pytest.fixture
def books(make_member):
    """A company with an auditor and four events over four days, and another company's event."""
    company = CompanyFactory(name="Acme Ltd")
    other = CompanyFactory(name="Other Ltd")
    _auditor, client = make_member(company, Role.AUDITOR)
    alice = UserFactory(username="alice")
    events = [
        record_at(
            at(1), action="create", company=company, object_type="accounts.account", object_id=10, actor=alice
        ),
        record_at(
            at(2), action="update", company=company, object_type="accounts.account", object_id=10, actor=alice
        ),
        record_at(at(3), action="post", company=company, object_type="ledger.journalentry", object_id=7),
        record_at(
            at(4), action="update", company=company, object_type="accounts.company", object_id=company.pk
        ),
    ]
    foreign = record_at(at(2), action="update", company=other, object_type="accounts.account", object_id=10)
    return {
        "company": company,
        "other": other,
        "client": client,
        "alice": alice,
        "events": events,
        "foreign": foreign,
    }


def url(company, suffix: str = "") -> str:
    return f"/api/v1/companies/{company.pk}/audit-events{suffix}"


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["data"]]


def test_the_list_is_the_companys_events_newest_first_in_an_envelope(books):
    # when
    response = books["client"].get(url(books["company"]))
    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["success"], body["error"]) == (True, None)
    assert ids(response) == [e.pk for e in reversed(books["events"])]
    assert books["foreign"].pk not in ids(response)
    first = body["data"][-1]
    assert first["action"] == "create"
    assert (first["actor"], first["actor_type"], first["actor_id"]) == ("alice", "user", books["alice"].pk)
    assert (first["object_type"], first["object_id"], first["company"]) == (
        "accounts.account",
        "10",
        books["company"].pk,
    )
    assert first["created_at"] == "2026-03-01T12:00:00Z"
    assert (first["sealed"], first["seq"], first["hash"], first["prev_hash"]) == (False, None, None, None)
    assert set(body["meta"]["pagination"]) >= {"next", "previous"}


def test_sealed_events_show_their_place_in_the_chain(books):
    audit_chains_seal()
    data = books["client"].get(url(books["company"])).json()["data"]
    assert [row["seq"] for row in data] == [4, 3, 2, 1]
    assert all(row["sealed"] for row in data)
    assert data[-1]["prev_hash"] == "0" * 64
    assert data[0]["prev_hash"] == data[1]["hash"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("object_type=accounts.account", [1, 0]),
        ("object_type=accounts.account&object_id=10", [1, 0]),
        ("object_id=7", [2]),
        ("action=update", [3, 1]),
        ("actor=alice", [1, 0]),
        ("actor=system", [3, 2]),
        ("from=2026-03-02&to=2026-03-03", [2, 1]),
        ("from=2026-03-02T13:00:00Z", [3, 2]),
        ("to=2026-03-01", [0]),
        ("to=2026-03-02T12:00:00", [1, 0]),
        ("action=update&from=2026-03-03", [3]),
        ("to=9999-12-31", [3, 2, 1, 0]),  # the calendar's last day: everything (it was a 500)
        ("from=0001-01-01&to=9999-12-31", [3, 2, 1, 0]),
    ],
)
def test_filters(books, query, expected):
    response = books["client"].get(url(books["company"], f"?{query}"))
    assert response.status_code == 200
    assert ids(response) == [books["events"][i].pk for i in expected]


def test_the_actor_filter_takes_a_user_id(books):
    response = books["client"].get(url(books["company"], f"?actor={books['alice'].pk}"))
    assert ids(response) == [books["events"][1].pk, books["events"][0].pk]


def test_an_invalid_date_is_a_validation_error(books):
    response = books["client"].get(url(books["company"], "?from=last-tuesday"))
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["code"] == "validation_error"
    assert "from" in body["error"]["details"]


def test_pages_follow_cursors(books):
    client = books["client"]
    first = client.get(url(books["company"], "?page_size=3"))
    assert ids(first) == [e.pk for e in reversed(books["events"][1:])]
    second = client.get(first.json()["meta"]["pagination"]["next"])
    assert ids(second) == [books["events"][0].pk]
    assert second.json()["meta"]["pagination"]["next"] is None


def test_detail_of_an_event_and_of_another_companys_event(books):
    client = books["client"]
    event = books["events"][3]
    response = client.get(url(books["company"], f"/{event.pk}"))
    assert response.status_code == 200
    assert (response.json()["data"]["id"], response.json()["data"]["action"]) == (event.pk, "update")
    for missing in (books["foreign"].pk, 999_999):
        response = client.get(url(books["company"], f"/{missing}"))
        assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")


def test_a_company_change_through_the_api_is_recorded_with_the_jwt_user_and_request(make_member):
    # given
    company = CompanyFactory(name="Acme Ltd")
    admin, client = make_member(company, Role.ADMIN)
    # when
    response = client.patch(
        f"/api/v1/companies/{company.pk}", {"name": "Acme API"}, format="json", HTTP_X_REQUEST_ID="api-req-9"
    )
    assert response.status_code == 200
    # then
    (row,) = client.get(url(company)).json()["data"]
    assert (row["action"], row["actor"], row["actor_id"]) == ("update", admin.username, admin.pk)
    assert row["changes"] == {"name": {"before": "Acme Ltd", "after": "Acme API"}}
    assert (row["request_id"], row["ip"]) == ("api-req-9", "127.0.0.1")


def test_verify_reports_an_intact_chain(books):
    audit_chains_seal()
    response = books["client"].get(url(books["company"], "/verify"))
    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["ok"], data["chain"], data["events_checked"], data["sealed_events"]) == (
        True,
        f"company:{books['company'].pk}",
        4,
        4,
    )
    assert (data["broken_event_id"], data["reason"], data["head_seq"]) == (None, "", 4)


def test_verify_names_the_first_broken_event(books):
    audit_chains_seal()
    tampered = books["events"][1]
    with triggers_disabled("audit_auditevent"), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET actor_repr = 'bob' WHERE id = %s", [tampered.pk])
    data = books["client"].get(url(books["company"], "/verify")).json()["data"]
    assert (data["ok"], data["broken_event_id"], data["reason"]) == (False, tampered.pk, "signature_mismatch")


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.CONTROLLER, Role.ADMIN])
def test_auditors_controllers_and_admins_may_read(books, make_member, role):
    _, client = make_member(books["company"], role)
    event = books["events"][0]
    for path in ("", f"/{event.pk}", "/verify"):
        assert client.get(url(books["company"], path)).status_code == 200


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CLERK, Role.ACCOUNTANT])
def test_other_roles_are_refused(books, make_member, role):
    _, client = make_member(books["company"], role)
    event = books["events"][0]
    for path in ("", f"/{event.pk}", "/verify"):
        response = client.get(url(books["company"], path))
        assert (response.status_code, response.json()["error"]["code"]) == (403, "permission_denied")
        assert response.json()["data"] is None


def test_another_companys_trail_is_not_found(books, make_member):
    # given: an auditor of the other company only
    _, client = make_member(books["other"], Role.AUDITOR)
    event = books["events"][0]
    # then
    for path in ("", f"/{event.pk}", "/verify"):
        response = client.get(url(books["company"], path))
        assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")


def test_anonymous_requests_are_refused(books, api_client):
    response = api_client.get(url(books["company"]))
    assert (response.status_code, response.json()["error"]["code"]) == (401, "not_authenticated")


def test_the_trail_cannot_be_written_through_the_api(books, make_member):
    # given: even a company admin
    _, client = make_member(books["company"], Role.ADMIN)
    event = books["events"][0]
    # when
    responses = [
        client.post(url(books["company"]), {"action": "delete"}, format="json"),
        client.delete(url(books["company"], f"/{event.pk}")),
        client.patch(url(books["company"], f"/{event.pk}"), {"action": "delete"}, format="json"),
    ]
    # then: refused, the trail has no write methods
    assert [(r.status_code, r.json()["error"]["code"]) for r in responses] == [
        (405, "method_not_allowed")
    ] * 3
    assert AuditEvent.objects.filter(company_id=books["company"].pk).count() == 4
    assert AuditEvent.objects.get(pk=event.pk).action == "create"


def test_a_service_write_shows_in_the_list_at_once_marked_unsealed(books):
    # when
    company_update(company=books["company"], by=books["alice"], name="Acme Next")
    # then
    newest = books["client"].get(url(books["company"])).json()["data"][0]
    assert (newest["action"], newest["actor"]) == ("update", "alice")
    assert newest["changes"] == {"name": {"before": "Acme Ltd", "after": "Acme Next"}}
    assert (newest["sealed"], newest["seq"]) == (False, None)
