"""The stored daily sales summary's recompute: the command, the Celery task and its nightly schedule."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from sales.models import DailySalesSummary
from sales.tasks import sales_summary_rebuild_task
from sales.tests.factories import day, issued, sales_books

pytestmark = pytest.mark.django_db


@pytest.fixture
def books():
    books = sales_books()
    issued(books, books.acme, "2026-03-01", "100.00")
    issued(books, books.globex, "2026-03-02", "40.00")
    DailySalesSummary.objects.filter(company=books.company, date=day("2026-03-02")).update(
        invoiced_net=Decimal("1")
    )
    return books


def test_the_command_reports_then_rebuilds_the_days_that_differ(books):
    out = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("rebuild_sales_summary", "--company", str(books.company.pk), "--check", stdout=out)
    assert exited.value.code == 1
    assert f"Company {books.company.pk}: 1 days differ:" in out.getvalue()
    assert DailySalesSummary.objects.get(
        company=books.company, date=day("2026-03-02")
    ).invoiced_net == Decimal("1")

    with pytest.raises(SystemExit):
        call_command("rebuild_sales_summary", "--company", str(books.company.pk), stdout=io.StringIO())
    assert DailySalesSummary.objects.get(
        company=books.company, date=day("2026-03-02")
    ).invoiced_net == Decimal("40.00")
    out = io.StringIO()
    call_command("rebuild_sales_summary", "--company", str(books.company.pk), "--check", stdout=out)
    assert "the summary matches (2 days with sales)" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("rebuild_sales_summary", "--company", "999999")
    with pytest.raises(CommandError):
        call_command("rebuild_sales_summary", "--from", "2026-13-01")


def test_the_task_recomputes_a_range_and_says_what_differed(books):
    result = sales_summary_rebuild_task(
        company_id=books.company.pk, date_from="2026-03-01", date_to="2026-03-31"
    )
    assert result == {"from": "2026-03-01", "to": "2026-03-31", "companies": 1, "differed": 1}
    again = sales_summary_rebuild_task(date_from="2026-03-01", date_to="2026-03-31")
    assert again["differed"] == 0 and again["companies"] >= 1
    today = datetime.date.today()
    default = sales_summary_rebuild_task()
    assert default["to"] == today.isoformat()
    assert default["from"] == (today - datetime.timedelta(days=6)).isoformat()
