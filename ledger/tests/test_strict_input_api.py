"""Money is never rounded silently, and the ledger API takes booleans and dates only as written."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from ledger.models import AccountingPeriod, DailyBalance, ExchangeRate, JournalEntry, JournalLine
from ledger.tests.factories import company_with_chart, post_entry
from sofinance.permissions import Role
from sofinance.tests.asserts import assert_error
from sofinance.tests.test_hostile_corpus import Number, to_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def books():
    return company_with_chart()


@pytest.fixture
def admin(books, make_member):
    return make_member(books, Role.ADMIN)[1]


def written(company) -> tuple[int, int, int, int, int, int]:
    return (
        JournalEntry.objects.filter(company=company).count(),
        JournalLine.objects.filter(company=company).count(),
        DailyBalance.objects.filter(company=company).count(),
        ExchangeRate.objects.filter(company=company).count(),
        AccountingPeriod.objects.filter(company=company).count(),
        AuditEvent.objects.filter(company_id=company.pk).count(),
    )


def entry(debit, credit="10.00", **extra) -> dict:
    return {
        "date": "2026-03-31",
        "post": True,
        "lines": [{"account": "6100", "debit": debit}, {"account": "1000", "credit": credit}],
        **extra,
    }


def send(client, url, body):
    return client.generic("POST", url, to_json(body), content_type="application/json")


# --------------------------------------------------------------------------- money


def test_an_amount_past_the_context_precision_is_refused_not_rounded(books, admin):
    # given: this was stored as 10.0000 / 10.0000 and posted
    before = written(books)

    # when
    response = send(
        admin, f"/api/v1/companies/{books.pk}/journal-entries", entry("9.999999999999999999999999999999")
    )

    # then: refused by the API's money field (a money column holds 4 places) before the service
    error = assert_error(response, 422, "currency_precision")
    message = "The amount 9.999999999999999999999999999999 has more decimal places than can be stored (4)."
    assert error["message"] == message
    assert error["details"] == {"lines": {"0": {"debit": [message]}}}
    assert written(books) == before


def test_an_amount_within_the_column_but_past_the_currency_is_refused_by_the_service(books, admin):
    before = written(books)

    response = send(admin, f"/api/v1/companies/{books.pk}/journal-entries", entry("9.999", credit="9.999"))

    error = assert_error(response, 422, "currency_precision")
    assert error["message"] == "Line 1: 9.999 has more decimal places than USD allows (2)."
    assert written(books) == before


@pytest.mark.parametrize("field", ["debit", "fx_rate"])
def test_a_json_number_too_small_to_store_is_currency_precision(books, admin, field):
    # given: 1e-999999999 used to pass the check as 0 places and overflow on the insert (500)
    body = entry("10.00")
    body["lines"][0][field] = Number("1e-999999999")
    before = written(books)

    # when
    response = send(admin, f"/api/v1/companies/{books.pk}/journal-entries", body)

    # then
    error = assert_error(response, 422, "currency_precision")
    assert "1E-999999999 has more decimal places than" in error["message"]
    assert written(books) == before


def test_a_rate_the_column_cannot_hold_is_currency_precision(books, admin):
    before = written(books)
    url = f"/api/v1/companies/{books.pk}/exchange-rates"

    tiny = send(admin, url, {"from_currency": "EUR", "date": "2026-01-01", "rate": Number("1e-999999999")})
    huge = send(admin, url, {"from_currency": "EUR", "date": "2026-01-01", "rate": "123456789012345"})

    assert assert_error(tiny, 422, "currency_precision")["details"] == {
        "rate": ["The rate 1E-999999999 has more decimal places than can be stored (10)."]
    }
    assert assert_error(huge, 422, "currency_precision")["details"] == {
        "rate": ["The rate 123456789012345 has more digits than can be stored (14 before the point)."]
    }
    assert written(books) == before


@pytest.mark.parametrize("text", ["1E2", " 10.00 ", "١٠.٠٠", "1e-999999999", "10,00", "+10.00"])
def test_amount_strings_must_be_plain_ascii_decimals(books, admin, text):
    before = written(books)

    response = send(admin, f"/api/v1/companies/{books.pk}/journal-entries", entry(text, credit=text))

    error = assert_error(response, 400, "validation_error")
    (message,) = error["details"]["lines"]["0"]["debit"]
    assert message.endswith(
        'is not a plain decimal number: write amounts like "1250.00" (ASCII digits and one optional point; no exponent or spaces).'
    )
    assert written(books) == before


def test_json_numbers_stay_accepted_and_exact(books, admin):
    response = send(admin, f"/api/v1/companies/{books.pk}/journal-entries", entry(Number("10.00"), credit=10))

    assert response.status_code == 201, response.content
    lines = response.json()["data"]["lines"]
    assert [(ln["debit"], ln["credit"]) for ln in lines] == [("10.00", "0.00"), ("0.00", "10.00")]


# --------------------------------------------------------------------------- booleans


@pytest.mark.parametrize("value", ["true", 1, "yes", "false", 0, None])
def test_post_must_be_a_json_boolean(books, admin, value):
    before = written(books)

    response = send(admin, f"/api/v1/companies/{books.pk}/journal-entries", entry("10.00", post=value))

    error = assert_error(response, 400, "validation_error")
    assert error["details"]["post"] in (
        ["Must be a JSON boolean: true or false."],
        ["This field may not be null."],
    )
    assert written(books) == before


def test_is_active_must_be_a_json_boolean(books, admin):
    response = send(
        admin,
        f"/api/v1/companies/{books.pk}/accounts",
        {"code": "1999", "name": "x", "type": "asset", "is_active": "no"},
    )

    assert assert_error(response, 400, "validation_error")["details"] == {
        "is_active": ["Must be a JSON boolean: true or false."]
    }


# --------------------------------------------------------------------------- dates


BAD_DATES = ["20260331", "2026-W13-2", "2026-3-31", "٢٠٢٦-٠٣-٣١", "2026-03-31T00:00:00"]


@pytest.mark.parametrize("date", BAD_DATES)
def test_entry_dates_must_be_yyyy_mm_dd(books, admin, date):
    before = written(books)

    response = send(admin, f"/api/v1/companies/{books.pk}/journal-entries", entry("10.00", date=date))

    assert assert_error(response, 400, "validation_error")["details"] == {
        "date": ["Must be a date written YYYY-MM-DD, e.g. 2026-03-31."]
    }
    assert written(books) == before


@pytest.mark.parametrize("date", BAD_DATES)
def test_every_date_input_of_the_ledger_is_strict(books, admin, date):
    # given
    posted = post_entry(books, "2026-01-05", ("6100", "5.00", "D"), ("1000", "5.00", "C"))
    base = f"/api/v1/companies/{books.pk}"
    before = written(books)

    # when
    responses = {
        "reverse": send(admin, f"{base}/journal-entries/{posted.pk}/reverse", {"date": date}),
        "rate": send(admin, f"{base}/exchange-rates", {"from_currency": "EUR", "date": date, "rate": "1.1"}),
        "period": send(admin, f"{base}/periods", {"start_date": date, "end_date": "2026-12-31"}),
        "report": admin.get(f"{base}/reports/trial-balance", {"as_of": date}),
        "filter": admin.get(f"{base}/journal-entries", {"from": date}),
    }

    # then
    for name, response in responses.items():
        assert response.status_code == 400, (name, response.content)
        assert response.json()["error"]["code"] == "validation_error"
    assert written(books) == before


def test_a_us_style_date_filter_is_refused(books, admin):
    response = admin.get(f"/api/v1/companies/{books.pk}/journal-entries", {"from": "3/31/2026"})

    assert assert_error(response, 400, "validation_error")["details"] == {
        "from": ["Enter a date written YYYY-MM-DD, e.g. 2026-03-31."]
    }


@pytest.mark.parametrize("value", ["2027.0", True, "٢٠٢٧"])
def test_integers_are_whole_json_numbers(books, admin, value):
    response = send(admin, f"/api/v1/companies/{books.pk}/periods/generate", {"fiscal_year": value})

    assert assert_error(response, 400, "validation_error")["details"] == {
        "fiscal_year": ["Must be a whole number."]
    }
    assert AccountingPeriod.objects.filter(company=books).count() == 0
