"""Period actions refused by the period's status: 409 `conflict` whose reason matches the status."""

from __future__ import annotations

import datetime

import pytest

from audit.models import AuditEvent
from ledger.models import AccountingPeriod
from ledger.tests.factories import company_with_chart
from sofinance.permissions import Role
from sofinance.tests.asserts import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def books():
    return company_with_chart()


@pytest.fixture
def controller(books, make_member):
    return make_member(books, Role.CONTROLLER)[1]


def march(books, status: str) -> AccountingPeriod:
    return AccountingPeriod.objects.create(
        company=books,
        start_date=datetime.date(2026, 3, 1),
        end_date=datetime.date(2026, 3, 31),
        status=status,
    )


def state(period: AccountingPeriod) -> tuple:
    period.refresh_from_db()
    return (
        period.status,
        period.closed_at,
        period.closed_by_id,
        AuditEvent.objects.filter(company_id=period.company_id).count(),
    )


@pytest.mark.parametrize(
    ("status", "method", "action", "message", "reason"),
    [
        ("closed", "post", "close", "The period is closed, not open.", "period_not_open"),
        ("locked", "post", "close", "The period is locked, not open.", "period_locked"),
        ("open", "post", "reopen", "The period is open, not closed.", "period_not_closed"),
        ("locked", "post", "reopen", "A locked period cannot be reopened.", "period_locked"),
        ("closed", "delete", "", "A closed period cannot be deleted.", "period_not_open"),
        ("locked", "delete", "", "A locked period cannot be deleted.", "period_locked"),
        ("locked", "post", "lock", "The period is already locked.", "period_locked"),
    ],
)
def test_an_action_the_status_refuses_is_a_conflict_whose_reason_matches_the_status(
    books, controller, status, method, action, message, reason
):
    # given
    period = march(books, status)
    before = state(period)
    path = f"/api/v1/companies/{books.pk}/periods/{period.pk}" + (f"/{action}" if action else "")

    # when
    body = {"reason": "Late invoice"} if action == "reopen" else {}  # only reopening takes a body
    response = getattr(controller, method)(path, body, format="json")

    # then
    error = assert_error(response, 409, "conflict")
    assert error["message"] == message
    assert error["details"] == {"status": status, "reason": reason}
    assert state(period) == before
