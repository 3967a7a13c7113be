"""Inputs that used to reach a 500 get a 4xx envelope with a stable code and write nothing."""

from __future__ import annotations

import datetime
import json
import logging

import jwt as pyjwt
import pytest
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DataError
from django.test import Client, override_settings

from accounts.models import User
from audit.models import AuditEvent
from conftest import auth_client
from ledger.models import JournalEntry
from ledger.tests.factories import company_with_chart
from sofinance.api.exceptions import to_api_error
from sofinance.api.jwt import key_ring
from sofinance.api.parsers import MAX_JSON_DEPTH, json_value_problem
from sofinance.permissions import Role
from sofinance.tests.asserts import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def anonymous():
    return Client(raise_request_exception=False)


@pytest.fixture
def books():
    return company_with_chart()


@pytest.fixture
def admin(books, make_member):
    _, client = make_member(books, Role.ADMIN)
    client.raise_request_exception = False
    return client


def _events() -> int:
    return AuditEvent.objects.count()


# --------------------------------------------------------------------------- body size


def test_a_body_over_the_limit_is_413_even_unauthenticated(anonymous):
    # given: 3 MB, over the default 2.5 MB
    body = json.dumps({"username": "a" * 3_000_000, "password": "x"})
    events = _events()

    # when
    response = anonymous.post("/api/v1/auth/token", data=body, content_type="application/json")

    # then
    error = assert_error(response, 413, "payload_too_large")
    assert error["details"] == {"max_bytes": 2_621_440}
    assert _events() == events


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_the_body_limit_is_a_setting_and_covers_the_admin(anonymous, books, admin):
    # given
    big = "x" * 1001

    # when
    api = admin.post(
        f"/api/v1/companies/{books.pk}/accounts",
        data=json.dumps({"name": big}),
        content_type="application/json",
    )
    page = anonymous.post(
        "/admin/login/", data=f"username={big}&password=x", content_type="application/x-www-form-urlencoded"
    )
    multipart_fields = anonymous.post("/admin/login/", data={"username": big, "password": "x"})

    # then
    assert_error(api, 413, "payload_too_large")
    for refused in (page, multipart_fields):
        assert refused.status_code == 413
        assert refused["Content-Type"] == "text/plain; charset=utf-8"


@override_settings(UPLOAD_MAX_BYTES=2000)
def test_multipart_bodies_have_their_own_limit(anonymous):
    # given
    body = {"username": "u", "password": "p", "file": SimpleUploadedFile("x.csv", b"a" * 3000)}

    # when
    response = anonymous.post("/api/v1/auth/token", data=body)

    # then
    assert_error(response, 413, "payload_too_large")


def test_request_data_too_big_raised_inside_a_view_is_413():
    assert to_api_error(RequestDataTooBig("too big")).status_code == 413
    assert to_api_error(RequestDataTooBig("too big")).code == "payload_too_large"


def test_a_delete_other_records_still_refer_to_is_409_not_500():
    # A service should refuse such a delete in its own words first; a delete that reaches the
    # database's protection anyway is a conflict, not an internal error.
    from django.db.models import ProtectedError, RestrictedError

    for exc in (ProtectedError("protected", set()), RestrictedError("restricted", set())):
        error = to_api_error(exc)
        assert (error.status_code, error.code, error.details) == (409, "conflict", {"reason": "in_use"})


# --------------------------------------------------------------------------- JSON nesting


@pytest.mark.parametrize("depth", [2000, 200, MAX_JSON_DEPTH + 1])
def test_deeply_nested_json_is_400_even_unauthenticated(anonymous, depth):
    # given: 2000 levels exhausted the decoder's recursion; 200 levels parse but nothing needs them
    body = "[" * depth + "]" * depth

    # when
    response = anonymous.post("/api/v1/auth/token", data=body, content_type="application/json")

    # then
    error = assert_error(response, 400, "validation_error")
    assert error["message"] == f"JSON is nested too deeply (at most {MAX_JSON_DEPTH} levels)."


def test_nesting_up_to_the_limit_is_parsed():
    assert json_value_problem(json.loads("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)) is None
    assert json_value_problem({"a": [{"b": [1]}]}) is None


# --------------------------------------------------------------------------- date-time filters


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-01-01T00:00:00+16:26", "UTC offsets run from -15:59 to +15:59."),
        ("2026-01-01T00:00:00-23:59", "UTC offsets run from -15:59 to +15:59."),
        ("9999-12-31T23:00:00-15:00", "The date-time is outside the calendar (years 1-9999 in UTC)."),
        ("0001-01-01T00:00:00+01:00", "The date-time is outside the calendar (years 1-9999 in UTC)."),
    ],
)
def test_a_datetime_filter_the_database_cannot_hold_is_400(books, admin, value, message):
    # when
    response = admin.get(f"/api/v1/companies/{books.pk}/audit-events", {"from": value})

    # then
    error = assert_error(response, 400, "validation_error")
    assert error["details"] == {"from": [message]}


def test_a_datetime_filter_at_the_widest_offset_is_accepted(books, admin):
    response = admin.get(f"/api/v1/companies/{books.pk}/audit-events", {"from": "2026-01-01T00:00:00+15:59"})

    assert response.status_code == 200, response.content


# --------------------------------------------------------------------------- NUL characters


def test_nul_in_a_query_parameter_is_400(books, admin):
    # when
    response = admin.get(f"/api/v1/companies/{books.pk}/reports/general-ledger?account=%00")

    # then
    error = assert_error(response, 400, "validation_error")
    assert error["message"] == "NUL characters are not allowed in the query string."


def test_nul_in_an_admin_search_is_400(client_admin):
    response = client_admin.get("/admin/accounts/account/?q=%00")

    assert response.status_code == 400
    assert response.content == b"NUL characters are not allowed in the query string."


def test_nul_in_a_header_or_the_path_is_400(books, admin):
    # when
    header = admin.get(f"/api/v1/companies/{books.pk}/accounts", HTTP_X_CLIENT="a\x00b")
    path = admin.get(f"/api/v1/companies/{books.pk}/accounts/\x00")

    # then
    assert assert_error(header, 400, "validation_error")["details"] == {"where": "header X-Client"}
    assert assert_error(path, 400, "validation_error")["details"] == {"where": "path"}


def test_nul_in_a_json_body_is_400_and_writes_nothing(books, admin):
    # given
    body = {
        "date": "2026-03-31",
        "description": "rent\u0000",
        "lines": [{"account": "6100", "debit": "10.00"}, {"account": "1000", "credit": "10.00"}],
    }
    events = _events()

    # when
    response = admin.post(f"/api/v1/companies/{books.pk}/journal-entries", body, format="json")
    in_a_key = admin.post(f"/api/v1/companies/{books.pk}/accounts", {"co\u0000de": "1"}, format="json")

    # then
    for refused in (response, in_a_key):
        error = assert_error(refused, 400, "validation_error")
        assert error["message"] == "Text must not contain NUL (\\u0000) characters."
    assert JournalEntry.objects.filter(company=books).count() == 0
    assert _events() == events


@pytest.mark.parametrize(
    "body",
    [
        b'{"code": "QS1", "name": "n", "type": "\\ud800"}',  # a choice field repeats it in its error
        b'{"code": "QS1", "name": "n\\udfff", "type": "expense"}',
        b'{"code": "QS1", "name": "n", "type": "expense", "\\uDBFF": 1}',  # in a key
    ],
)
def test_an_unpaired_surrogate_in_a_json_body_is_400_and_writes_nothing(books, admin, body):
    # JSON's \uD800-\uDFFF escapes name no character unless paired: no encoding can write one,
    # so an answer that repeats it (a choice field's "is not a valid choice") was a 500.
    events = _events()
    url = f"/api/v1/companies/{books.pk}/accounts"
    accounts = books.accounts.count()

    response = admin.generic("POST", url, body, content_type="application/json")

    error = assert_error(response, 400, "validation_error")
    assert (
        error["message"]
        == "Text must be Unicode characters: an unpaired surrogate (\\ud800-\\udfff) is not one."
    )
    assert (books.accounts.count(), _events()) == (accounts, events)


def test_a_surrogate_pair_is_one_character_and_a_utf7_surrogate_is_refused(books, admin):
    url = f"/api/v1/companies/{books.pk}/accounts"
    paired = admin.generic(
        "POST",
        url,
        b'{"code": "9901", "name": "Fun \\ud83d\\ude00", "type": "expense"}',
        content_type="application/json",
    )
    assert paired.status_code == 201, paired.content
    assert books.accounts.get(code="9901").name == "Fun \U0001f600"
    # a charset whose decoder lets a lone surrogate through (UTF-7 "+2AA-" is U+D800)
    utf7 = admin.generic(
        "POST",
        url,
        b'{"code": "9902", "name": "+2AA-", "type": "expense"}',
        content_type="application/json; charset=utf-7",
    )
    assert assert_error(utf7, 400, "validation_error")["message"].startswith(
        "Text must be Unicode characters"
    )
    assert not books.accounts.filter(code="9902").exists()


def test_a_raw_nul_byte_in_a_json_string_is_400(books, admin):
    # The parser looks for NULs in the parsed texts only when the body holds the escape \u0000:
    # a raw NUL (any raw control character) inside a JSON string is refused by the decoder itself.
    url = f"/api/v1/companies/{books.pk}/accounts"
    response = admin.generic("POST", url, b'{"code": "9\x009", "name": "x"}', content_type="application/json")
    assert assert_error(response, 400, "validation_error")["message"].startswith(
        "JSON parse error - Invalid control character"
    )


def test_nul_in_a_form_body_is_400(books, admin):
    response = admin.post(f"/api/v1/companies/{books.pk}/accounts", {"code": "9\x009", "name": "x"})

    assert assert_error(response, 400, "validation_error")["message"] == (
        "Form fields must not contain NUL characters."
    )


# --------------------------------------------------------------------------- tokens


def _signed(sub) -> str:
    key = key_ring()[0]
    now = datetime.datetime.now(tz=datetime.UTC)
    claims = {"sub": sub, "iat": now, "exp": now + datetime.timedelta(minutes=5)}
    return key, claims


@pytest.mark.parametrize("sub", ["abc", "-1", "0", "1e3", "١", "99999999999999999999999", " 1"])
def test_a_signed_token_whose_subject_is_not_a_user_id_is_401(anonymous, sub, user):
    # given: correctly signed with the current key, so only the subject is wrong
    key, claims = _signed(sub)
    access = pyjwt.encode(
        {**claims, "type": "access"}, key.secret, algorithm="HS256", headers={"kid": key.kid}
    )
    refresh = pyjwt.encode(
        {**claims, "type": "refresh"}, key.secret, algorithm="HS256", headers={"kid": key.kid}
    )
    users = User.objects.count()

    # when
    me = anonymous.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {access}")
    renewed = anonymous.post("/api/v1/auth/refresh", {"refresh": refresh}, content_type="application/json")

    # then: the access token names no user; the refresh token was never issued (no stored row)
    assert assert_error(me, 401, "not_authenticated")["message"] == "Token subject is not a user id."
    assert assert_error(renewed, 401, "not_authenticated")["message"] == "The refresh token is not valid."
    assert User.objects.count() == users


def test_a_token_for_a_real_user_id_still_authenticates(user):
    response = auth_client(user).get("/api/v1/me")

    assert response.status_code == 200
    assert response.json()["data"]["user"]["id"] == user.pk


# --------------------------------------------------------------------------- the general net


def test_database_refusals_and_parse_errors_become_400_and_are_logged(caplog):
    # given: what a view would meet if validation let a value through
    data_error = DataError("numeric field overflow\nDETAIL: A field with precision 22, scale 4 must round...")
    value_error = ValueError("invalid literal for int() with base 10: 'x'")

    caplog.set_level(logging.WARNING, logger="sofinance.api")

    # when
    mapped = [to_api_error(data_error), to_api_error(value_error), to_api_error(TooManyFieldsSent("many"))]

    # then
    assert [(e.status_code, e.code, e.details) for e in mapped] == [
        (400, "validation_error", {"reason": "invalid_value"}),
        (400, "validation_error", {"reason": "invalid_value"}),
        (400, "validation_error", {}),
    ]
    assert "numeric field overflow" not in mapped[0].message
    logged = [(r.levelname, r.msg["event"], r.msg.get("exc_type")) for r in caplog.records]
    assert logged == [
        ("ERROR", "unvalidated_input", "DataError"),
        ("ERROR", "unvalidated_input", "ValueError"),
        ("WARNING", "suspicious_request", "TooManyFieldsSent"),
    ]


def test_the_docs_page_ignores_a_broken_authorization_header(anonymous):
    # given: a stale token in the browser used to break the page (500) while it rendered
    response = anonymous.get("/api/docs/", HTTP_AUTHORIZATION="Bearer a b")
    options = anonymous.options("/api/docs/")

    assert response.status_code == 200
    assert options.status_code == 405


# --------------------------------------------------------------------------- bodies an action does not read


def _bodiless_targets(books):
    """A draft entry, another draft, and January of the year's periods: what the writes that
    take no body (post, delete, close, lock) act on."""
    from ledger.models import AccountingPeriod
    from ledger.services import journal_entry_create, periods_generate

    periods_generate(company=books, year=2026, by=None)
    lines = [{"account": "6100", "debit": "10.00"}, {"account": "1010", "credit": "10.00"}]
    draft = journal_entry_create(company=books, date=datetime.date(2026, 1, 5), lines=lines, by=None)
    other = journal_entry_create(company=books, date=datetime.date(2026, 1, 6), lines=lines, by=None)
    return draft, other, AccountingPeriod.objects.get(company=books, start_date=datetime.date(2026, 1, 1))


def test_a_malformed_body_is_refused_even_by_actions_that_read_no_body(books, admin):
    # given a draft entry, another one, and the year's periods
    draft, other, january = _bodiless_targets(books)
    base = f"/api/v1/companies/{books.pk}"
    events = _events()

    # when each action is sent a body that is not JSON
    for method, path in (
        ("post", f"{base}/journal-entries/{draft.pk}/post"),
        ("post", f"{base}/periods/{january.pk}/close"),
        ("post", f"{base}/integrity-runs"),
        ("delete", f"{base}/journal-entries/{other.pk}"),
    ):
        response = getattr(admin, method)(path, data='{"x":', content_type="application/json")

        # then each is refused as a malformed body, and nothing is written
        assert_error(response, 400, "validation_error")
    draft.refresh_from_db()
    january.refresh_from_db()
    assert (draft.status, january.status) == ("draft", "open")
    assert JournalEntry.objects.filter(pk=other.pk).exists()
    assert _events() == events

    # and with no body at all, the action does what it says
    posted = admin.post(f"{base}/journal-entries/{draft.pk}/post")
    assert posted.status_code == 200, posted.content
    draft.refresh_from_db()
    assert draft.status == "posted"


def test_a_field_sent_to_an_action_that_takes_no_body_is_refused_and_writes_nothing(books, admin):
    # given a draft entry, another one, and the year's periods
    draft, other, january = _bodiless_targets(books)
    base = f"/api/v1/companies/{books.pk}"
    events = _events()

    # when each is sent a field it does not take (a typo'd option on an irreversible lock, say)
    for method, path in (
        ("post", f"{base}/journal-entries/{draft.pk}/post"),
        ("post", f"{base}/periods/{january.pk}/lock"),
        ("post", f"{base}/periods/{january.pk}/close"),
        ("post", f"{base}/integrity-runs"),
        ("delete", f"{base}/journal-entries/{other.pk}"),
    ):
        response = getattr(admin, method)(path, {"foo": 1}, format="json")

        # then it is refused naming the field, as every other operation refuses one
        assert assert_error(response, 400, "validation_error")["details"] == {
            "foo": [
                "Unknown field: this operation does not take it (see its request body in the API documentation)."
            ]
        }, path
    draft.refresh_from_db()
    january.refresh_from_db()
    assert (draft.status, january.status) == ("draft", "open")
    assert JournalEntry.objects.filter(pk=other.pk).exists()
    assert _events() == events

    # and with an empty object, the action does what it says
    locked = admin.post(f"{base}/periods/{january.pk}/lock", {}, format="json")
    assert locked.status_code == 200, locked.content


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (b'{"date": "2026-03-01", "date": "2026-03-31", "lines": []}', "date"),
        (  # in a nested object: a line's debit given twice
            b'{"date": "2026-03-31", "lines": [{"account": "6100", "debit": "10.00", "debit": "1000.00"},'
            b' {"account": "1000", "credit": "10.00"}]}',
            "debit",
        ),
    ],
)
def test_a_json_object_naming_a_key_twice_is_400_and_writes_nothing(books, admin, body, key):
    # the last value silently won: a body's second "date" posted on another day than the first said
    events = _events()

    response = admin.generic(
        "POST", f"/api/v1/companies/{books.pk}/journal-entries", body, content_type="application/json"
    )

    error = assert_error(response, 400, "validation_error")
    assert error["message"] == f"The JSON object gives the key {key!r} twice: each key is given once."
    assert JournalEntry.objects.filter(company=books).count() == 0
    assert _events() == events
