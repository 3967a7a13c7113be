"""Journal imports from CSV and XLSX: all or nothing, every error by row and column, dry run,
batches of 1,000 through the ledger's bulk path, the same file posted once."""

from __future__ import annotations

import datetime
import html
import io
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from audit.models import AuditEvent
from banking import errors, selectors, services
from banking.models import ImportJob, JobStatus
from banking.services import journal_import
from banking.tests.factories import banking_rows, fixture
from ledger import errors as ledger_errors
from ledger.models import AccountingPeriod, DailyBalance, JournalEntry, JournalLine, MonthlyBalance
from ledger.services import exchange_rate_set
from ledger.tests.factories import company_with_chart

pytestmark = pytest.mark.django_db


def run(company, data: bytes, **kwargs) -> ImportJob:
    job = services.journal_import_job_create(company=company, file=data, by=None, **kwargs)
    return services.import_job_run(job_id=job.pk)


def test_a_csv_journal_is_posted_entry_by_entry_in_file_order():
    company = company_with_chart()

    job = run(company, fixture("journal_ok.csv"))

    assert (job.status, job.progress, job.row_count, job.entry_count, job.line_count) == (
        JobStatus.DONE,
        100,
        7,
        3,
        7,
    )
    entries = list(JournalEntry.objects.filter(company=company).order_by("sequence"))
    assert [(e.number, e.date, e.description, e.reference, e.source) for e in entries] == [
        ("JE-2026-000001", datetime.date(2026, 3, 1), "March rent", "R-1", "import"),
        ("JE-2026-000002", datetime.date(2026, 3, 2), "Paper", "", "import"),
        ("JE-2026-000003", datetime.date(2026, 3, 3), "Invoice", "S-9", "import"),
    ]
    assert job.result == {
        "entries": 3,
        "lines": 7,
        "total_debit": "1355.99",
        "total_credit": "1355.99",
        "first_date": "2026-03-01",
        "last_date": "2026-03-03",
        "first_number": "JE-2026-000001",
        "last_number": "JE-2026-000003",
    }
    assert (
        AuditEvent.objects.filter(
            company_id=company.pk, action="import", object_type="banking.importjob"
        ).count()
        == 1
    )


def test_every_problem_is_listed_by_row_and_column_and_nothing_is_posted():
    company = company_with_chart()

    job = run(company, fixture("journal_bad.csv"))

    assert (job.status, job.error_code) == (JobStatus.FAILED, "invalid_import_file")
    # the rows' own problems and the ledger's (entry 1 does not balance, account 9999 is unknown) together
    assert job.errors == [
        {"line": 2, "entry": "1", "message": "Entry 1 (rows 2–3): Debits 1200.00 do not equal credits 1100.00."},
        {"line": 4, "column": "date", "message": "'2026-31-03' is not a date (YYYY-MM-DD)."},
        {"line": 5, "column": "account", "message": "Account '9999' does not exist."},
        {"line": 6, "column": "debit", "message": "'abc' is not a plain decimal number: write amounts like \"1250.00\" (ASCII digits and one optional point; no exponent or spaces)."},
    ]  # fmt: skip
    assert JournalEntry.objects.filter(company=company).count() == 0


def test_an_exchange_rate_of_zero_is_refused_not_taken_for_the_stored_rate():
    # given a stored EUR rate, and a file whose rate column says 0
    company = company_with_chart()
    exchange_rate_set(
        company=company,
        from_currency="EUR",
        to_currency="USD",
        date=datetime.date(2026, 1, 1),
        rate="1.10",
        by=None,
    )
    data = (
        b"entry,date,account,debit,credit,currency,fx_rate\n"
        b"FZ,2026-11-20,6100,5.00,,EUR,0\n"
        b"FZ,2026-11-20,1000,,5.00,EUR,0\n"
    )

    # when it is imported
    job = run(company, data)

    # then it fails on each row's rate, and nothing is posted
    assert (job.status, job.error_code) == (JobStatus.FAILED, "invalid_import_file")
    assert [(e["line"], e["column"]) for e in job.errors] == [(2, "fx_rate"), (3, "fx_rate")]
    assert all("positive" in e["message"] for e in job.errors)
    assert JournalEntry.objects.filter(company=company).count() == 0


def test_ledger_rules_are_checked_for_every_entry_before_anything_is_posted():
    company = company_with_chart()
    AccountingPeriod.objects.create(
        company=company,
        start_date=datetime.date(2026, 2, 1),
        end_date=datetime.date(2026, 2, 28),
        status="closed",
    )
    data = (
        b"entry,date,account,debit,credit\n"
        b"A,2026-03-01,6100,100.00,\nA,2026-03-01,1010,,90.00\n"
        b"B,2026-03-02,9999,5.00,\nB,2026-03-02,1010,,5.00\n"
        b"C,2026-02-10,6100,5.00,\nC,2026-02-10,1010,,5.00\n"
        b"D,2026-03-03,6100,1.005,\nD,2026-03-03,1010,,1.005\n"
        b"E,2026-03-04,6100,7.00,\nE,2026-03-04,1010,,7.00\n"
    )

    job = run(company, data)

    assert job.status == JobStatus.FAILED
    assert [(e["line"], e.get("entry"), e.get("column")) for e in job.errors] == [
        (2, "A", None),  # A does not balance: the entry as a whole
        (4, None, "account"),  # B: no account 9999
        (6, "C", None),  # C: closed period
        (8, None, "debit"),  # D: more decimals than USD
        (9, None, "credit"),
    ]
    assert job.errors[0]["message"] == "Entry A (rows 2–3): Debits 100.00 do not equal credits 90.00."
    assert (
        job.errors[2]["message"]
        == "Entry C (rows 6–7): 2026-02-10 falls in the closed period 2026-02-01 – 2026-02-28."
    )
    assert JournalEntry.objects.filter(company=company).count() == 0


def test_a_dry_run_reports_what_would_be_posted_and_posts_nothing():
    company = company_with_chart()

    job = run(company, fixture("journal_ok.csv"), dry_run=True)

    assert (job.status, job.dry_run, job.result["entries"], job.result["total_debit"]) == (
        JobStatus.DONE,
        True,
        3,
        "1355.99",
    )
    assert job.result["first_number"] is None
    assert JournalEntry.objects.filter(company=company).count() == 0
    assert (
        run(company, fixture("journal_ok.csv")).status == JobStatus.DONE
    )  # a dry run does not block the real one


def test_the_same_file_is_posted_once():
    company = company_with_chart()
    first = run(company, fixture("journal_ok.csv"))

    with pytest.raises(errors.DuplicateImport) as refused:
        services.journal_import_job_create(company=company, file=fixture("journal_ok.csv"), by=None)

    assert refused.value.details == {
        "reason": "duplicate_import",
        "job": first.pk,
        "file_hash": first.file_hash,
    }
    assert JournalEntry.objects.filter(company=company).count() == 3


def test_an_xlsx_journal_with_date_and_number_cells():
    company = company_with_chart()
    book = Workbook()
    sheet = book.active
    sheet.append(["Entry", "Date", "Account", "Debit", "Credit", "Description"])
    sheet.append([1, datetime.date(2026, 4, 1), 6100, 1200.5, None, "Rent"])
    sheet.append([1, datetime.date(2026, 4, 1), "1010", None, 1200.5, "Rent"])
    buffer = io.BytesIO()
    book.save(buffer)

    job = run(company, buffer.getvalue())

    assert (job.status, job.format) == (JobStatus.DONE, "xlsx")
    assert sorted(JournalLine.objects.filter(company=company).values_list("debit", "credit")) == [
        (Decimal("0"), Decimal("1200.50")),
        (Decimal("1200.50"), Decimal("0")),
    ]


def _xlsx_with_cell(xml_cell: str) -> bytes:
    """A two-row journal workbook whose D2 cell is the given raw XML (what no spreadsheet writes,
    but a file can hold): openpyxl reads it only when the row is asked for."""
    import zipfile

    book = Workbook()
    sheet = book.active
    sheet.append(["entry", "date", "account", "debit", "credit"])
    sheet.append([1, "2026-04-01", "6100", 9, None])
    sheet.append([1, "2026-04-01", "1010", None, 9])
    buffer = io.BytesIO()
    book.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<c r="D2" t="n"><v>9</v></c>', xml_cell.encode())
                assert xml_cell.encode() in data
            target.writestr(item, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        ('<c r="D2" t="n"><v>nan</v></c>', "invalid literal for int()"),
        ('<c r="D2" t="n"><v>inf</v></c>', "invalid literal for int()"),
        ('<c r="ZZZZZZZ2" t="n"><v>1</v></c>', "is not a valid column name"),
        ('<c r="D2" t="d"><v>2026-13-45</v></c>', ""),
    ],
    ids=["nan", "inf", "bad-reference", "bad-date"],
)
def test_an_xlsx_cell_openpyxl_cannot_read_fails_the_job_with_its_row(cell, problem):
    # openpyxl reads a sheet lazily: these raised mid-iteration, outside the parser's checks, and
    # the job stayed "running" for ever (sent again by every stalled-jobs sweep)
    company = company_with_chart()
    events = AuditEvent.objects.count()

    job = run(company, _xlsx_with_cell(cell))

    assert job.status == JobStatus.FAILED
    assert job.error_code == "invalid_import_file"
    assert job.errors[0]["line"] == 2
    assert job.errors[0]["message"].startswith("The XLSX sheet cannot be read past this row")
    assert problem in job.errors[0]["message"]
    assert JournalEntry.objects.filter(company=company).count() == 0
    assert AuditEvent.objects.count() == events


def test_an_unforeseen_error_fails_the_job_rather_than_leaving_it_running(monkeypatch, caplog):
    # the class guard under the parsers: whatever a file makes fail, the job ends, rolled back
    from banking.services import jobs

    def broken(*args, **kwargs):
        raise RuntimeError("a bug nobody foresaw")

    monkeypatch.setattr(jobs, "parse_journal_file", broken)
    company = company_with_chart()

    job = run(company, b"entry,date,account,debit,credit\n1,2026-04-01,6100,9,\n1,2026-04-01,1010,,9\n")

    assert (job.status, job.error_code) == (JobStatus.FAILED, "internal_error")
    assert job.error_message.startswith("The import failed on an unexpected error; nothing was written.")
    assert "a bug nobody foresaw" not in job.error_message  # logged, not shown
    assert "import job" in caplog.text and "a bug nobody foresaw" in caplog.text
    assert JournalEntry.objects.filter(company=company).count() == 0


def test_a_file_of_many_batches_is_all_or_nothing(monkeypatch):
    # given: 1,200 entries (two calls of the ledger's bulk path, at 1,000 a call) and a ledger
    # that refuses the second call
    monkeypatch.setattr(journal_import, "ENTRIES_PER_CALL", 1000)
    company = company_with_chart()
    rows = ["entry,date,account,debit,credit"]
    for n in range(1200):
        rows += [f"{n},2026-03-01,6100,1.00,", f"{n},2026-03-01,1010,,1.00"]
    calls = []
    real = journal_import.journal_entries_import

    def second_batch_refused(**kwargs):
        calls.append(len(kwargs["entries"]))
        if len(calls) == 2:
            raise ledger_errors.InvalidBatch(
                "refused",
                details={"entries": [{"index": 5, "code": "period_closed", "message": "closed meanwhile"}]},
            )
        return real(**kwargs)

    monkeypatch.setattr(journal_import, "journal_entries_import", second_batch_refused)

    # when
    job = run(company, "\n".join(rows).encode())

    # then: the first call was posted and rolled back with the second, its balance buckets
    # (deferred to the end of the import) never written; the error names its row
    assert calls == [1000, 200]
    assert job.status == JobStatus.FAILED
    assert job.errors == [
        {"line": 2012, "entry": "1005", "message": "Entry 1005 (rows 2012–2013): closed meanwhile"}
    ]
    assert JournalEntry.objects.filter(company=company).count() == 0
    assert DailyBalance.objects.filter(company=company).count() == 0
    assert MonthlyBalance.objects.filter(company=company).count() == 0


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", None),
        (
            b"date,account,debit\n",
            [{"line": 1, "column": "entry", "message": "The header has no 'entry' column."}],
        ),
        (
            b"PK\x03\x04garbage",
            [{"line": None, "message": "The file is not a readable XLSX workbook (File is not a zip file)."}],
        ),
    ],
)
def test_unreadable_files_fail_with_a_clear_error(data, expected):
    company = company_with_chart()
    if not data:
        with pytest.raises(Exception) as refused:
            services.journal_import_job_create(company=company, file=data, by=None)
        assert refused.value.code == "validation_error"
        return

    job = run(company, data)

    assert (job.status, job.errors) == (JobStatus.FAILED, expected)


def test_a_running_import_publishes_its_progress_while_it_posts(monkeypatch):
    # given: a journal of 2,500 entries, and a look at the published progress as the ledger
    # checks the 1st, the 1,001st and the 2,001st entry (it checks and sends them 250 at a time)
    from ledger.services import posting

    company = company_with_chart()
    rows = ["entry,date,account,debit,credit"]
    for n in range(2500):
        rows += [f"{n},2026-03-01,6100,1.00,", f"{n},2026-03-01,1010,,1.00"]
    job = services.journal_import_job_create(company=company, file="\n".join(rows).encode(), by=None)
    seen = []
    checked = []
    real = posting.build_lines

    def watched(**kwargs):
        if len(checked) in (0, 1000, 2000):
            running = ImportJob.objects.get(pk=job.pk)
            seen.append((running.status, selectors.job_progress(running)))
        checked.append(1)
        return real(**kwargs)

    monkeypatch.setattr(posting, "build_lines", watched)

    # when
    done = services.import_job_run(job_id=job.pk)

    # then: 10% once read, then 10 + 90% of the entries checked and sent so far
    assert seen == [("running", 10), ("running", 46), ("running", 82)]
    assert (done.status, done.progress, selectors.job_progress(done)) == (JobStatus.DONE, 100, 100)


def test_an_import_checks_each_entry_once_as_the_ledger_posts_it(monkeypatch):
    # given: a file of three entries, and a count of the ledger's line checks, wherever called
    from ledger.services import posting

    company = company_with_chart()
    checked = []
    for module in (posting, journal_import):
        real = module.build_lines

        def counted(*, real=real, **kwargs):
            checked.append(kwargs["date"])
            return real(**kwargs)

        monkeypatch.setattr(module, "build_lines", counted)

    # when
    job = run(company, fixture("journal_ok.csv"))

    # then: posted, each entry's lines checked once (a dry run checks them once too)
    assert (job.status, job.result["entries"], job.result["total_debit"]) == (JobStatus.DONE, 3, "1355.99")
    assert len(checked) == 3
    checked.clear()
    assert run(company, fixture("journal_ok.csv"), dry_run=True).status == JobStatus.DONE
    assert len(checked) == 3


def _xlsx(*rows: list) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "column", "positions"),
    [
        (
            b"entry,date,account,debit,debit,credit,description\n"
            b"1,2026-03-01,6100,10.00,7.00,,Rent\n1,2026-03-01,1010,,,7.00,Rent\n",
            "debit",
            "2 times (columns 4 and 5)",
        ),
        (  # the same name in other case and spacing, after the file's byte-order mark
            b"\xef\xbb\xbfEntry,date,account,Debit,credit, DEBIT \n"
            b"1,2026-03-01,6100,10.00,,7.00\n1,2026-03-01,1010,,7.00,\n",
            "debit",
            "2 times (columns 4 and 6)",
        ),
        (
            _xlsx(
                ["entry", "date", "account", "credit", "debit", "Credit", "credit"],
                [1, "2026-03-01", "6100", None, 7, None, None],
                [1, "2026-03-01", "1010", 7, None, 3, 4],
            ),
            "credit",
            "3 times (columns 4, 6 and 7)",
        ),
    ],
    ids=["csv", "case-spaces-bom", "xlsx-three-times"],
)
def test_a_header_naming_a_column_twice_is_refused_and_nothing_is_posted(data, column, positions):
    # given: a header whose repeated column was read by name, the last one winning (Dr 7.00
    # posted, the 10.00 beside it dropped unseen)
    company = company_with_chart()
    before = banking_rows(company)

    # when
    job = run(company, data)

    # then: refused like an unknown column, naming the column and where it is; only the failed
    # job is written
    assert (job.status, job.error_code) == (JobStatus.FAILED, "invalid_import_file")
    assert job.errors == [
        {
            "line": 1,
            "column": column,
            "message": f"The header names the column {column!r} {positions}: each column is named once.",
        }
    ]
    jobs_before = before[5]
    assert banking_rows(company) == (*before[:5], jobs_before + 1, *before[6:])
    assert JournalLine.objects.filter(company=company).count() == 0


# Entry 1 is fine; entry 2's first row (4) has a bad date and amount, its second row (5) is fine;
# entry 3 does not balance; entry 4 has one line.
ENTRY_PROBLEMS_FILE = (
    b"entry,date,account,debit,credit,description\n"
    b"1,2026-03-01,6100,5.00,,Fine\n"
    b"1,2026-03-01,1010,,5.00,Fine\n"
    b"2,2026-31-03,6300,abc,,Paper\n"
    b"2,2026-03-02,1000,,45.99,Paper\n"
    b"3,2026-03-03,6300,10.00,,Unbalanced\n"
    b"3,2026-03-03,1000,,12.00,Unbalanced\n"
    b"4,2026-03-04,6300,1.00,,Alone\n"
)
NOT_PLAIN = (
    "'abc' is not a plain decimal number: write amounts like \"1250.00\" (ASCII digits and one "
    "optional point; no exponent or spaces)."
)
ENTRY_PROBLEMS = [
    {"line": 4, "column": "date", "message": "'2026-31-03' is not a date (YYYY-MM-DD)."},
    {"line": 4, "column": "debit", "message": NOT_PLAIN},
    {"line": 6, "entry": "3", "message": "Entry 3 (rows 6–7): Debits 10.00 do not equal credits 12.00."},
    {"line": 8, "entry": "4", "message": "Entry 4 (row 8): An entry needs at least two lines (it has 1)."},
]


@pytest.mark.parametrize("dry_run", [False, True], ids=["import", "dry-run"])
def test_rows_are_reported_by_column_and_entries_as_a_whole_only_when_their_rows_are_fine(dry_run):
    # given
    company = company_with_chart()
    before = banking_rows(company)

    # when
    job = run(company, ENTRY_PROBLEMS_FILE, dry_run=dry_run)

    # then: row 4's own problems; no "entry 2 has 1 line" knock-on (it has rows 4 and 5); the
    # entries whose rows are all fine checked as a whole, by entry, under no column
    assert (job.status, job.error_code) == (JobStatus.FAILED, "invalid_import_file")
    assert job.errors == ENTRY_PROBLEMS
    assert job.error_message == (
        "Row 4, date: '2026-31-03' is not a date (YYYY-MM-DD). (3 more problems; nothing was written.)"
    )
    assert banking_rows(company) == (*before[:5], before[5] + 1, *before[6:])
    assert JournalLine.objects.filter(company=company).count() == 0


def test_a_row_in_error_still_gets_the_ledgers_checks_of_its_other_rows():
    # given: entry 2's first row unreadable, its second row on an account that does not exist,
    # and entry 3's rows apart in the file (an entry's rows need not be adjacent)
    company = company_with_chart()
    data = (
        b"entry,date,account,debit,credit\n"
        b"2,2026-31-03,6300,45.99,\n"
        b"3,2026-03-03,6300,10.00,\n"
        b"2,2026-03-02,9999,,45.99\n"
        b"3,2026-03-03,1000,,12.00\n"
    )

    # when
    job = run(company, data)

    # then
    assert job.errors == [
        {"line": 2, "column": "date", "message": "'2026-31-03' is not a date (YYYY-MM-DD)."},
        {"line": 3, "entry": "3", "message": "Entry 3 (rows 3, 5): Debits 10.00 do not equal credits 12.00."},
        {"line": 4, "column": "account", "message": "Account '9999' does not exist."},
    ]
    assert JournalEntry.objects.filter(company=company).count() == 0


def test_the_admin_page_lists_each_problem_once_in_one_wording(client_admin):
    # given
    company = company_with_chart()
    before = banking_rows(company)

    # when
    page = client_admin.post(
        reverse("admin:banking_importjob_journal"),
        {"company": company.pk, "file": SimpleUploadedFile("j.csv", ENTRY_PROBLEMS_FILE)},
    ).content.decode()

    # then: every problem, once, as the API words it by row and column or by entry
    listed = re.search(r'<ul class="errorlist" id="journal-errors">(.*?)</ul>', page, re.S).group(1)
    assert [html.unescape(item) for item in re.findall(r"<li>(.*?)</li>", listed, re.S)] == [
        "Row 4, date: '2026-31-03' is not a date (YYYY-MM-DD).",
        f"Row 4, debit: {NOT_PLAIN}",
        "Entry 3 (rows 6–7): Debits 10.00 do not equal credits 12.00.",
        "Entry 4 (row 8): An entry needs at least two lines (it has 1).",
    ]
    assert "Nothing was posted." in page
    assert banking_rows(company) == (*before[:5], before[5] + 1, *before[6:])
