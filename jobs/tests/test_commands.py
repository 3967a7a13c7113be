"""manage.py reconcile and manage.py export: the same services as the worker, with progress bars."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.storage import storages
from django.core.management import CommandError, call_command

from jobs.models import ExportJob, IntegrityRun
from jobs.tests.factories import books, sql

pytestmark = pytest.mark.django_db


def test_reconcile_reports_clean_books_and_exits_zero(capsys):
    b = books()

    call_command("reconcile", "--company", str(b.company.pk))

    out, err = capsys.readouterr()
    run = IntegrityRun.objects.get(company=b.company)
    assert (
        out.strip()
        == f"Run #{run.pk}, company {b.company.pk} ({b.company.name}): no discrepancy ({run.counts['seconds']:.1f} s)."
    )
    assert "check" in err and "audit_chain" in err  # the progress bar, on stderr
    assert (run.trigger, run.status) == ("command", "done")


def test_reconcile_lists_discrepancies_and_exits_one(capsys):
    b = books()
    sql(
        "UPDATE sales_dailysalessummary SET invoiced_tax = invoiced_tax + 1 WHERE company_id = %s AND date = %s",
        [b.company.pk, "2026-01-06"],
    )

    with pytest.raises(SystemExit) as exited:
        call_command("reconcile", "--company", str(b.company.pk), "--no-progress")

    out, err = capsys.readouterr()
    assert exited.value.code == 1
    assert "1 discrepancies (1 new, 0 corrections drafted)" in out
    assert "sales_summary_mismatch sales.dailysalessummary:" in out
    assert err == ""


def test_reconcile_without_a_company_runs_every_company_and_the_platform_chain(capsys):
    b = books()
    call_command("reconcile", "--no-progress")
    runs = list(IntegrityRun.objects.order_by("id").values_list("company_id", "scope", "status"))
    assert runs == [(b.company.pk, "company", "done"), (None, "platform", "done")]


def test_reconcile_refuses_an_unknown_company():
    with pytest.raises(CommandError, match="No company with id 999999"):
        call_command("reconcile", "--company", "999999")
    assert IntegrityRun.objects.count() == 0


def test_export_writes_the_file_and_copies_it(tmp_path: Path, capsys):
    b = books()
    target = tmp_path / "lines.csv"

    call_command(
        "export",
        "--company",
        str(b.company.pk),
        "--kind",
        "journal_lines",
        "--from",
        "2026-01-15",
        "--to",
        "2026-01-15",
        "--output",
        str(target),
    )

    job = ExportJob.objects.get()
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        f"Export #{job.pk}: 2 rows, {job.file_size} bytes, stored as {job.file_name}",
        f"Copied to {target}",
    ]
    assert "row" in err  # the progress bar
    with storages["default"].open(job.file_name, "rb") as stored:
        assert target.read_bytes() == stored.read()
    assert target.read_text().splitlines()[1].startswith(f"2026-01-15,{b.manual.number},1,6100,")


def test_export_refuses_a_bad_parameter_and_writes_nothing():
    b = books()
    with pytest.raises(CommandError, match="needs account"):
        call_command("export", "--company", str(b.company.pk), "--kind", "general_ledger")
    assert ExportJob.objects.count() == 0
