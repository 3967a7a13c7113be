"""The banking admin: upload, the lines of a month with their suggestions confirmed at once, a
line's match page (confirm, match by hand, post an entry), the reconciliation page, reconcile,
the journal import page, and roles."""

from __future__ import annotations

import datetime
import re

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Membership
from accounts.tests.factories import UserFactory
from banking import services
from banking.admin_reports import reconciliation_url
from banking.models import BankMatch, BankStatement, BankStatementLine, ImportJob, LineStatus, StatementStatus
from banking.tests.factories import (
    bank_books,
    bank_side,
    banking_rows,
    fixture,
    line,
    march_books,
    march_reconciled,
    statement_of,
    upload,
)
from ledger.models import AccountingPeriod, JournalEntry, PeriodStatus
from ledger.services import periods_generate
from ledger.tests.factories import post_entry
from sales.models import Payment
from sales.tests.factories import issued, sales_books
from sofinance.permissions import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def bank():
    return bank_books()


def test_upload_page_imports_and_shows_errors(client_admin, bank):
    url = reverse("admin:banking_bankaccount_upload", args=[bank.pk])

    page = client_admin.get(url)
    done = client_admin.post(
        url, {"file": SimpleUploadedFile("m.xml", fixture("camt053_march.xml")), "format": ""}
    )
    bad = client_admin.post(
        url, {"file": SimpleUploadedFile("x.xml", fixture("xml_external_entity.xml")), "format": ""}
    )

    assert page.status_code == 200
    statement = BankStatement.objects.get()
    assert done.status_code == 302 and done["Location"] == reverse(
        "admin:banking_bankstatement_change", args=[statement.pk]
    )
    assert bad.status_code == 200
    assert "The XML declares a DTD" in bad.content.decode()
    assert BankStatement.objects.count() == 1


def test_the_same_file_uploaded_twice_on_the_page_is_named_and_adds_no_empty_statement(client_admin, bank):
    url = reverse("admin:banking_bankaccount_upload", args=[bank.pk])
    first = client_admin.post(
        url, {"file": SimpleUploadedFile("m.xml", fixture("camt053_march.xml")), "format": ""}
    )
    statement = BankStatement.objects.get()
    before = banking_rows(bank.company)

    again = client_admin.post(
        url, {"file": SimpleUploadedFile("m2.xml", fixture("camt053_march.xml")), "format": ""}
    )

    assert first.status_code == 302
    assert again.status_code == 200
    assert (
        f"This file was imported already, as the statement 2026-03-01 – 2026-03-31 ({statement.line_count} lines, "
        f"uploaded {statement.created_at:%Y-%m-%d}): nothing was imported." in again.content.decode()
    )
    assert banking_rows(bank.company) == before  # no empty statement, no job, nothing
    # an overlapping file (other bytes) still goes through, its known lines skipped
    overlapping = fixture("camt053_march.xml").replace(b"</Document>", b"</Document>\n")
    assert (
        client_admin.post(url, {"file": SimpleUploadedFile("m3.xml", overlapping), "format": ""}).status_code
        == 302
    )
    assert BankStatement.objects.count() == 2


def test_a_balance_chain_break_names_the_upload_pages_checkbox(client_admin, bank):
    # given a first statement, and a second whose opening balance is 100.00 off its closing
    upload(bank, "ofx_march_1.ofx")
    gap = fixture("ofx_march_2.ofx").replace(b"<BALAMT>2656.65", b"<BALAMT>2756.65")
    url = reverse("admin:banking_bankaccount_upload", args=[bank.pk])

    # when it is uploaded on the page
    refused = client_admin.post(
        url, {"file": SimpleUploadedFile("b.ofx", gap), "format": ""}
    ).content.decode()

    # then the message says which box to tick, and that box is on the page; ticked, it imports
    assert (
        "The statement opens at 2,600.00, but the previous statement closed at 2,500.00. If the gap is real "
        "(a statement is missing), tick “Accept a break in the balance chain” and upload again" in refused
    )
    assert "accept_chain_break=true" not in refused  # the API's name is for the API
    assert '<label for="id_accept_chain_break">Accept a break in the balance chain' in refused
    assert BankStatement.objects.count() == 1
    accepted = client_admin.post(
        url, {"file": SimpleUploadedFile("b.ofx", gap), "format": "", "accept_chain_break": "on"}
    )
    assert accepted.status_code == 302
    assert BankStatement.objects.order_by("-id").first().chain_break == 100


def test_the_lines_list_confirms_the_best_suggestions_of_a_month_at_once(client_admin, bank):
    books = march_books(bank.company)
    upload(bank, "camt053_march.xml")
    changelist = reverse("admin:banking_bankstatementline_changelist")

    listed = client_admin.get(changelist + f"?bank_account__id__exact={bank.pk}")
    confirmed = client_admin.post(
        changelist,
        {
            "action": "confirm_best_suggestions",
            "_selected_action": [
                line(bank, u).pk for u in ("CAMT-0001", "CAMT-0002", "CAMT-0003", "CAMT-0004")
            ],
        },
    )

    assert listed.status_code == 200 and "96%" in listed.content.decode()
    assert confirmed.status_code == 302
    shown = [str(m) for m in get_messages(confirmed.wsgi_request)]
    fee = line(bank, "CAMT-0002")
    matched = [line(bank, u) for u in ("CAMT-0001", "CAMT-0003", "CAMT-0004")]
    # one message per outcome, not one per line: the lines matched, and the one left (said, not skipped)
    assert shown == [
        f"3 lines matched: {'; '.join(str(m) for m in matched)}.",
        f"1 line with no suggestion, not matched (open each to match it by hand or post its entry): {fee}.",
    ]
    assert {u: line(bank, u).status for u in ("CAMT-0001", "CAMT-0002", "CAMT-0003", "CAMT-0004")} == {
        "CAMT-0001": LineStatus.MATCHED,
        "CAMT-0002": LineStatus.UNMATCHED,
        "CAMT-0003": LineStatus.MATCHED,
        "CAMT-0004": LineStatus.MATCHED,
    }
    assert (
        BankMatch.objects.filter(bank_line=line(bank, "CAMT-0003")).get().journal_line_id
        == bank_side(books["rent"]).pk
    )


def test_a_lines_match_page_matches_by_hand_and_posts_an_entry(client_admin, bank):
    books = march_books(bank.company)
    upload(bank, "camt053_march.xml")
    transfer, fee = line(bank, "CAMT-0004"), line(bank, "CAMT-0002")
    fees = bank.company.accounts.get(code="6700")

    page = client_admin.get(reverse("admin:banking_bankstatementline_match", args=[transfer.pk]))
    # the entry's account is chosen, never defaulted to the chart's first account (Cash)
    unchosen = client_admin.post(
        reverse("admin:banking_bankstatementline_match", args=[fee.pk]),
        {"action": "entry", "account": "", "description": "Fee"},
        follow=True,
    )
    assert '<select name="account" required' in page.content.decode()
    assert '<option value="">Choose the account' in page.content.decode()
    # a customer's money is recorded as their payment: receivables are not offered for an entry
    offered = set(page.context["accounts"].values_list("code", flat=True))
    assert "6700" in offered and "1100" not in offered and "1010" not in offered
    assert 'class="error"' in unchosen.content.decode()
    assert JournalEntry.objects.filter(company=bank.company, description="Fee").count() == 0
    manual = client_admin.post(
        reverse("admin:banking_bankstatementline_match", args=[transfer.pk]),
        {"action": "match", "journal_line": [bank_side(books["order_a"]).pk, bank_side(books["order_b"]).pk]},
    )
    entry = client_admin.post(
        reverse("admin:banking_bankstatementline_match", args=[fee.pk]),
        {"action": "entry", "account": fees.pk, "description": "Fee"},
    )
    wrong = client_admin.post(
        reverse("admin:banking_bankstatementline_match", args=[line(bank, "CAMT-0001").pk]),
        {"action": "match", "journal_line": [bank_side(books["rent"]).pk]},
        follow=True,
    )

    assert page.status_code == 200 and books["order_a"].number in page.content.decode()
    # the reasons in words (the API keeps the codes)
    assert "date_" not in page.content.decode() and "the amounts add up" in page.content.decode()
    assert manual.status_code == 302 and line(bank, "CAMT-0004").status == LineStatus.MATCHED
    assert entry.status_code == 302 and line(bank, "CAMT-0002").status == LineStatus.MATCHED
    fee_entry = JournalEntry.objects.get(company=bank.company, description="Fee")
    # each message names what was written or matched, so it can be found
    assert f"{line(bank, 'CAMT-0002')}: posted as {fee_entry.number} and matched." in [
        str(m) for m in get_messages(entry.wsgi_request)
    ]
    assert f"{line(bank, 'CAMT-0004')}: matched to {books['order_a'].number}, {books['order_b'].number}." in [
        str(m) for m in get_messages(manual.wsgi_request)
    ]
    assert "add up to -300.00" in wrong.content.decode()
    assert line(bank, "CAMT-0001").status == LineStatus.SUGGESTED


def test_the_match_page_describes_a_line_by_its_entry_when_it_has_no_description_of_its_own(
    client_admin, bank
):
    # given a bank-side line posted without a description, in an entry that has one
    described = post_entry(
        bank.company,
        "2026-03-19",
        ("1010", "200.00", "D"),
        ("4000", "200.00", "C"),
        description="Order 5117, Blue Harbor Cafe",
    )
    upload(bank, "camt053_march.xml")

    # when the match page of a bank line near it is opened
    page = client_admin.get(
        reverse("admin:banking_bankstatementline_match", args=[line(bank, "CAMT-0004").pk])
    )

    # then the candidate reads as its entry: "Order 5117, Blue Harbor Cafe", not a blank cell
    row = next(r for r in page.context["candidates"] if r["entry_id"] == described.pk)
    assert bank_side(described).description == ""
    assert row["description"] == "Order 5117, Blue Harbor Cafe"
    assert '<td class="text">Order 5117, Blue Harbor Cafe</td>' in page.content.decode()


def test_the_match_page_says_what_to_do_and_what_happened(client_admin, bank):
    books = march_books(bank.company)
    upload(bank, "camt053_march.xml")
    receipt = line(bank, "CAMT-0001")
    url = reverse("admin:banking_bankstatementline_match", args=[receipt.pk])

    nothing = client_admin.post(url, {"action": "match"}, follow=True).content.decode()
    client_admin.post(url, {"action": "match", "journal_line": [bank_side(books["receipt"]).pk]})
    unmatched = client_admin.post(url, {"action": "unmatch"}, follow=True).content.decode()

    assert "Tick at least one ledger line to match this bank line with." in nothing
    receipt.refresh_from_db()
    assert receipt.status == LineStatus.SUGGESTED  # unmatched, its suggestion back
    assert f"{receipt}: unmatched (a suggestion is ready below)." in unmatched


def test_a_page_that_acts_on_post_sends_a_get_back_to_the_objects_page(client_admin, bank):
    upload(bank, "camt053_march.xml")
    statement = BankStatement.objects.get()

    for name in ("banking_bankstatement_reconcile", "banking_bankstatement_remove"):
        response = client_admin.get(reverse(f"admin:{name}", args=[statement.pk]))
        assert response.status_code == 302
        assert response["Location"] == reverse("admin:banking_bankstatement_change", args=[statement.pk])
    assert BankStatement.objects.filter(pk=statement.pk, status="open").exists()


def test_the_reconciliation_page_and_reconcile_button(client_admin, bank):
    books = march_books(bank.company)
    upload(bank, "camt053_march.xml")
    for unique_id, names in (
        ("CAMT-0001", ["receipt"]),
        ("CAMT-0003", ["rent"]),
        ("CAMT-0004", ["order_a", "order_b"]),
    ):
        client_admin.post(
            reverse("admin:banking_bankstatementline_match", args=[line(bank, unique_id).pk]),
            {"action": "match", "journal_line": [bank_side(books[n]).pk for n in names]},
        )
    statement = BankStatement.objects.get()

    page = client_admin.get(
        reverse("admin:banking_bankaccount_reconciliation", args=[bank.pk]) + "?as_of=2026-03-31",
        follow=True,  # the bank account's link opens the bank reconciliation report page for it
    )
    asked = client_admin.post(reverse("admin:banking_bankstatement_reconcile", args=[statement.pk]))
    statement.refresh_from_db()
    assert statement.status == "open"  # asked first: what it freezes and the position it stores
    # the bank fee is not in the books: "Yes" alone does not freeze it out of them
    unticked = client_admin.post(
        reverse("admin:banking_bankstatement_reconcile", args=[statement.pk]), {"confirmed": "yes"}
    )
    statement.refresh_from_db()
    assert unticked.status_code == 200 and statement.status == "open"
    reconciled = client_admin.post(
        reverse("admin:banking_bankstatement_reconcile", args=[statement.pk]),
        {"confirmed": "yes", "carry_bank_lines": "yes"},
    )
    statement_page = client_admin.get(reverse("admin:banking_bankstatement_change", args=[statement.pk]))

    text = page.content.decode()
    assert page.status_code == 200
    assert "2,654.50" in text and "2,570.00" in text
    # the unmatched fee reads as the bank wrote it
    unmatched = re.search(r'<table class="report" id="unmatched-bank">.*?</table>', text, re.S).group(0)
    assert '<td class="text">Account maintenance fee</td>' in unmatched
    # the balances agree, but the fee (45.50) is said to be missing from the books, not "reconciled"
    status = re.search(r'<p class="status-note" id="reconciled-status">\s*(.*?)</p>', text, re.S).group(1)
    assert (
        "but 1 bank line is not matched to the books: 1 with no book line of the same amount ((45.50)"
        in status
    )
    assert status.startswith("⚠") and "✔" not in status  # a warning, not a tick, while lines are left
    assert '<small class="not-in-books">no book line of this amount</small>' in text
    question = asked.content.decode()
    assert 'id="confirm-reconcile"' in question and "freezes it" in question
    assert (
        "<dt>Difference, after the items not matched</dt><dd>0.00</dd>" in question
        and "<dt>Lines not matched</dt><dd>1</dd>" in question
    )
    assert (
        'name="carry_bank_lines" value="yes" id="acknowledge" required> I carry the 1 bank line' in question
    )
    assert "Tick the box to carry" in unticked.content.decode()
    assert reconciled.status_code == 302
    statement.refresh_from_db()
    assert statement.status == "reconciled"
    assert "stored-position" in statement_page.content.decode()


def test_deleting_a_statement_asks_first_then_removes_it_and_its_lines(client_admin, bank):
    upload(bank, "camt053_march.xml")
    statement = BankStatement.objects.get()
    page = client_admin.get(
        reverse("admin:banking_bankstatement_change", args=[statement.pk])
    ).content.decode()
    remove = reverse("admin:banking_bankstatement_remove", args=[statement.pk])
    assert f'action="{remove}"' in page

    asked = client_admin.post(remove).content.decode()

    assert "<title>Delete " in asked and 'id="confirm-delete"' in asked
    assert f"its {statement.line_count} line(s) for good" in asked
    assert BankStatement.objects.count() == 1 and BankStatementLine.objects.count() == statement.line_count
    done = client_admin.post(remove, {"confirmed": "yes"}, follow=True)
    assert "deleted with its lines" in done.content.decode()
    assert BankStatement.objects.count() == 0 and BankStatementLine.objects.count() == 0


def test_the_journal_import_page_posts_or_lists_the_errors(client_admin, bank):
    url = reverse("admin:banking_importjob_journal")
    page = client_admin.get(url).content.decode()
    assert f'<option value="{bank.company_id}" selected>' in page  # the company worked in, chosen already

    bad = client_admin.post(
        url, {"company": bank.company_id, "file": SimpleUploadedFile("j.csv", fixture("journal_bad.csv"))}
    )
    good = client_admin.post(
        url, {"company": bank.company_id, "file": SimpleUploadedFile("j.csv", fixture("journal_ok.csv"))}
    )

    assert "Row 4, date: " in bad.content.decode()
    assert "Posted 3 entries, 7 lines (JE-2026-000001 – JE-2026-000003)." in [
        str(m) for m in good.context["messages"]
    ]
    assert JournalEntry.objects.filter(company=bank.company).count() == 3


def test_a_journal_dry_run_says_when_its_entries_come_before_closed_periods(client_admin, bank):
    # given the first months of 2026 closed, and a file of one entry dated in December 2025
    for month in (1, 2):
        AccountingPeriod.objects.create(
            company=bank.company,
            start_date=datetime.date(2026, month, 1),
            end_date=datetime.date(2026, month, 28),
            status=PeriodStatus.CLOSED,
        )
    late = b"entry,date,account,debit,credit\nA,2025-12-18,6700,25.00,\nA,2025-12-18,1010,,25.00\n"

    dry = client_admin.post(
        reverse("admin:banking_importjob_journal"),
        {"company": bank.company_id, "dry_run": "on", "file": SimpleUploadedFile("late.csv", late)},
    )

    # then the dry run says so before anything is posted, in one entry's words
    page = dry.content.decode()
    assert (
        "The file's earliest entry: 2025-12-18 comes before 2 closed periods (2026-01-01 – 2026-02-28)."
        in page
    )
    assert "Dry run: would post 1 entry, 2 lines." in [str(m) for m in dry.context["messages"]]
    assert JournalEntry.objects.filter(company=bank.company).count() == 0


def test_a_dry_run_that_passed_offers_to_post_the_same_file_without_choosing_it_again(client_admin, bank):
    url = reverse("admin:banking_importjob_journal")

    # when a good file is checked first
    dry = client_admin.post(
        url,
        {
            "company": bank.company_id,
            "dry_run": "on",
            "file": SimpleUploadedFile("j.csv", fixture("journal_ok.csv")),
        },
    )
    job = ImportJob.objects.get(company=bank.company, dry_run=True)
    page = dry.content.decode()

    # then nothing is posted, and the page offers to post the file it checked
    assert JournalEntry.objects.filter(company=bank.company).count() == 0
    assert 'id="post-checked"' in page and f'name="from_job" value="{job.pk}"' in page

    # when that is clicked, the stored file is posted as it was checked
    posted = client_admin.post(url, {"from_job": job.pk})
    assert "Posted 3 entries, 7 lines (JE-2026-000001 – JE-2026-000003)." in [
        str(m) for m in posted.context["messages"]
    ]
    assert JournalEntry.objects.filter(company=bank.company).count() == 3
    assert 'id="post-checked"' not in posted.content.decode()  # a real import offers nothing more

    # and twice is refused as the same file, with nothing more posted
    again = client_admin.post(url, {"from_job": job.pk})
    assert "This file was already imported" in again.content.decode()
    assert JournalEntry.objects.filter(company=bank.company).count() == 3
    # a job that is not one of the user's companies' is refused outright
    assert client_admin.post(url, {"from_job": job.pk + 1000}).status_code == 403


def test_a_viewer_sees_the_lines_but_cannot_match_or_upload(client, bank):
    viewer = UserFactory(is_staff=True)
    Membership.objects.create(user=viewer, company=bank.company, role=Role.VIEWER)
    viewer.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="banking", codename__startswith="view_")
    )
    client.force_login(viewer)
    upload(bank, "camt053_march.xml")
    fee = line(bank, "CAMT-0002")

    listed = client.get(reverse("admin:banking_bankstatementline_changelist"))
    match_page = client.get(reverse("admin:banking_bankstatementline_match", args=[fee.pk]))
    post = client.post(
        reverse("admin:banking_bankstatementline_match", args=[fee.pk]), {"action": "entry", "account": 1}
    )
    upload_page = client.get(reverse("admin:banking_bankaccount_upload", args=[bank.pk]))

    assert (listed.status_code, match_page.status_code, post.status_code, upload_page.status_code) == (
        200,
        200,
        403,
        403,
    )
    assert "Post and match" not in match_page.content.decode()


def test_an_upload_too_large_to_wait_for_is_imported_in_the_background(
    client_admin, bank, monkeypatch, django_capture_on_commit_callbacks
):
    # given: a limit of 2 lines for an import the page waits for
    from banking.models import ImportJob
    from banking.services import jobs

    monkeypatch.setattr(jobs, "SYNC_MAX_LINES", 2)
    url = reverse("admin:banking_bankaccount_upload", args=[bank.pk])

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client_admin.post(
            url, {"file": SimpleUploadedFile("m.ofx", fixture("ofx_march_1.ofx")), "format": ""}
        )

    # then: a job is queued (run at once here: no broker in the tests) and its page is shown
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:banking_importjob_change", args=[job.pk])
    assert (job.status, job.line_count) == ("done", 3)
    page = client_admin.get(response["Location"])
    assert "it is being imported in the background" in page.content.decode()
    assert "more than 2 lines" in page.content.decode()


def test_a_database_refusal_on_an_admin_page_is_its_message_not_a_traceback(client_admin):
    # given: an entry matched to a line of a reconciled statement, and its reversal dated inside
    # the statement (the database refuses it: statement_reconciled)
    _bank, books, _statement, _stored = march_reconciled()
    rent = books["rent"]
    change = reverse("admin:ledger_journalentry_change", args=[rent.pk])
    entries = JournalEntry.objects.count()

    # when
    response = client_admin.post(
        reverse("admin:ledger_journalentry_reverse", args=[rent.pk]),
        {"reversal_date": "2026-03-25"},
        HTTP_REFERER=f"http://testserver{change}",
    )

    # then: back to the entry with the database's reason; nothing written
    assert response.status_code == 302
    assert response["Location"] == f"http://testserver{change}"
    page = client_admin.get(response["Location"])
    assert "statement" in page.content.decode() and "reconciled" in page.content.decode()
    assert 'class="error"' in page.content.decode()
    rent.refresh_from_db()
    assert rent.reversed_by_id is None
    assert JournalEntry.objects.count() == entries


def test_the_journal_import_button_is_for_who_may_import_and_a_refusal_is_a_page_of_the_admin(client):
    # given a clerk of the company (who may not import a journal)
    from accounts.services import membership_add
    from accounts.tests.factories import UserFactory

    company = bank_books().company
    clerk = UserFactory(username="cleo", is_staff=True)
    membership_add(company=company, user=clerk, role=Role.CLERK, by=None)
    client.force_login(clerk)

    # when
    imports = client.get(reverse("admin:banking_importjob_changelist"))
    refused = client.get(reverse("admin:banking_importjob_journal"))

    # then: no button that leads to a refusal; and the refusal itself is in the admin's frame
    assert imports.status_code == 200
    assert reverse("admin:banking_importjob_journal") not in imports.content.decode()
    assert refused.status_code == 403
    body = refused.content.decode()
    assert 'id="forbidden-reason"' in body and 'id="site-name"' in body


def test_a_suggestions_reasons_read_as_words_not_codes():
    from banking.admin_views import reasons_shown

    assert reasons_shown(["amount", "date_0d", "reference"]) == "same amount, same day, reference found"
    assert reasons_shown(["amount_sum", "date_1d"]) == "the amounts add up, 1 day apart"
    assert reasons_shown(["amount", "date_12d"]) == "same amount, 12 days apart"


def test_closing_a_period_names_the_statements_in_it_not_yet_reconciled(client_admin, bank):
    # given the periods of 2026, March's statement uploaded and left open, and another
    # company's open statement of the same month
    periods_generate(company=bank.company, year=2026, by=None)
    statement = statement_of(upload(bank, "camt053_march.xml"))
    other = bank_books(name="Other Co")
    upload(other, "camt053_march.xml")
    march, april = (
        AccountingPeriod.objects.get(company=bank.company, start_date=datetime.date(2026, month, 1))
        for month in (3, 4)
    )

    def notes(step: str, period: AccountingPeriod) -> list[str]:
        page = client_admin.get(reverse(f"admin:ledger_accountingperiod_{step}", args=[period.pk]))
        assert page.status_code == 200
        return [note.text for note in page.context["notes"]]

    # when March's close and lock pages are opened, then each names the statement and links its
    # reconciliation; April's does not
    expected = (
        "Operating account: the statement 2026-03-01 – 2026-03-31 is not reconciled "
        f"({statement.lines.exclude(status=LineStatus.MATCHED).count()} of {statement.line_count} lines not matched)."
    )
    assert notes("close", march) == [expected]
    assert notes("lock", march) == [expected]
    assert notes("close", april) == []
    close_page = client_admin.get(
        reverse("admin:ledger_accountingperiod_close", args=[march.pk])
    ).content.decode()
    reconcile = reconciliation_url(bank.pk, datetime.date(2026, 3, 31)).replace("&", "&amp;")
    assert f'<a href="{reconcile}">Reconcile it</a>' in close_page
    year = client_admin.get(reverse("admin:ledger_accountingperiod_close_year"), {"fiscal_year": 2026})
    assert [note.text for note in year.context["notes"]] == [expected]

    # and once the statement is reconciled, nothing is left to say (a warning, never a refusal:
    # the period closes either way)
    BankStatement.objects.filter(pk=statement.pk).update(status=StatementStatus.RECONCILED)
    assert notes("close", march) == []
    closed = client_admin.post(reverse("admin:ledger_accountingperiod_close", args=[march.pk]))
    assert closed.status_code == 302
    march.refresh_from_db()
    assert march.status == PeriodStatus.CLOSED


def receipt_naming_an_invoice():
    """Sales books with an issued invoice INV-2026-000001 (1,500.00) and March's CAMT statement,
    whose receipt CAMT-0001 names it: (books, that bank line)."""
    books = sales_books(name="Trading Co")
    issued(books, books.acme, "2026-03-01", "1500.00")
    bank = services.bank_account_create(company=books.company, by=None, name="Main", account="1010")
    upload(bank, "camt053_march.xml")
    return books, line(bank, "CAMT-0001")


def test_recording_a_payment_from_a_bank_line_names_the_payment_and_its_entry(client_admin):
    # given an issued invoice INV-2026-000001 and the bank's receipt naming it
    books, receipt = receipt_naming_an_invoice()

    # when the page's "Record the payment" is used
    done = client_admin.post(
        reverse("admin:banking_bankstatementline_match", args=[receipt.pk]), {"action": "payment"}
    )

    # then the message names the payment and the entry it posted
    payment = Payment.objects.get(company=books.company)
    assert (
        f"{receipt}: recorded as payment {payment.number} ({payment.journal_entry.number}) and matched."
        in [str(m) for m in get_messages(done.wsgi_request)]
    )


def test_an_unmatched_bank_line_with_a_book_line_of_the_same_amount_is_pointed_out(client_admin, bank):
    # given the March statement with the rent not matched: on the bank and in the books, 300.00 out
    books = march_books(bank.company)
    upload(bank, "camt053_march.xml")
    client_admin.post(
        reverse("admin:banking_bankstatementline_match", args=[line(bank, "CAMT-0001").pk]),
        {"action": "match", "journal_line": [bank_side(books["receipt"]).pk]},
    )

    # when
    page = client_admin.get(
        reverse("admin:banking_bankaccount_reconciliation", args=[bank.pk]) + "?as_of=2026-03-31", follow=True
    ).content.decode()

    # then the rent's bank line names the entry of the same amount; the fee and the transfer have none
    rent = books["rent"].number
    assert f'<small class="same-amount">same amount as {rent}</small>' in page
    status = re.search(r'id="reconciled-status">\s*(.*?)</p>', page, re.S).group(1)
    assert "with a book line of the same amount (most likely the same payment" in status
    assert "2 with no book line of the same amount (454.50" in status  # the fee, and 500.00 paying two


def test_a_carried_lines_page_offers_what_is_dated_after_the_reconciled_month(client_admin):
    # given March reconciled with its bank fee carried, the fee booked twice by mistake: once
    # back-dated into March, once on April 2
    bank, _books, _march, _stored = march_reconciled()
    fee = line(bank, "CAMT-0002")
    back_dated = post_entry(bank.company, "2026-03-31", ("6700", "45.50", "D"), ("1010", "45.50", "C"))
    booked = post_entry(bank.company, "2026-04-02", ("6700", "45.50", "D"), ("1010", "45.50", "C"))
    url = reverse("admin:banking_bankstatementline_match", args=[fee.pk])

    # when the accountant opens the fee's page
    page = client_admin.get(url)

    # then it says the line is carried and offers only the April booking, and an entry dated April 1
    html = page.content.decode()
    assert 'id="carried"' in html and "after 2026-03-31, the last reconciled day" in html
    assert [row["id"] for row in page.context["candidates"]] == [bank_side(booked).pk]
    assert 'name="date" value="2026-04-01"' in html
    # a March line sent anyway is refused in words, nothing matched
    refused = client_admin.post(
        url, {"action": "match", "journal_line": [bank_side(back_dated).pk]}, follow=True
    )
    assert "dated after 2026-03-31" in refused.content.decode()
    assert line(bank, "CAMT-0002").status != LineStatus.MATCHED
    # the April booking is matched, and the carried match can be undone (unlike March's own)
    client_admin.post(url, {"action": "match", "journal_line": [bank_side(booked).pk]})
    assert line(bank, "CAMT-0002").status == LineStatus.MATCHED
    assert 'value="unmatch"' in client_admin.get(url).content.decode()
    rent_page = client_admin.get(
        reverse("admin:banking_bankstatementline_match", args=[line(bank, "CAMT-0003").pk])
    )
    assert 'value="unmatch"' not in rent_page.content.decode()
    assert "a controller reopens the statement to undo it" in rent_page.content.decode()


def test_an_entry_for_a_carried_line_is_posted_on_the_date_given_on_its_page(client_admin):
    bank, _books, _march, _stored = march_reconciled()
    fee = line(bank, "CAMT-0002")
    fees = bank.company.accounts.get(code="6700")
    url = reverse("admin:banking_bankstatementline_match", args=[fee.pk])

    inside = client_admin.post(
        url, {"action": "entry", "account": fees.pk, "date": "2026-03-31"}, follow=True
    )
    garbled = client_admin.post(
        url, {"action": "entry", "account": fees.pk, "date": "31/04/2026"}, follow=True
    )
    assert "dated after 2026-03-31" in inside.content.decode()
    assert "Enter a valid date, as YYYY-MM-DD." in garbled.content.decode()
    assert not JournalEntry.objects.filter(company=bank.company, lines__account=fees).exists()

    client_admin.post(
        url, {"action": "entry", "account": fees.pk, "date": "2026-04-01", "description": "March fee"}
    )

    entry = JournalEntry.objects.get(company=bank.company, description="March fee")
    assert entry.date == datetime.date(2026, 4, 1)
    assert line(bank, "CAMT-0002").status == LineStatus.MATCHED


def _march_reconciled_with_the_receipt_left(bank):
    """March reconciled with the receipt (1,500.00 on both sides) and the fee left unmatched."""
    books = march_books(bank.company)
    statement = statement_of(upload(bank, "camt053_march.xml"))
    for unique_id, names in (("CAMT-0003", ["rent"]), ("CAMT-0004", ["order_a", "order_b"])):
        services.bank_line_match(
            bank_line=line(bank, unique_id), journal_lines=[bank_side(books[n]).pk for n in names], by=None
        )
    return books, statement


def test_reconciling_with_a_bank_line_whose_payment_is_in_the_books_says_so_first(client_admin, bank):
    books, statement = _march_reconciled_with_the_receipt_left(bank)
    url = reverse("admin:banking_bankstatement_reconcile", args=[statement.pk])

    question = client_admin.post(url).content.decode()

    # the receipt's book entry has its amount: named, "match them first", before anything is stored
    assert "<dt>Of them, with a book line of the same amount</dt><dd>1: match them first</dd>" in question
    assert (
        f"1 of them have a book line of the same amount in these dates ({books['receipt'].number})"
        in question
    )
    assert "posting them again would count them twice" in question
    assert "frozen with the statement, and a charge" not in question  # carried, not frozen out of the books


def test_a_carried_line_already_in_the_books_says_so_and_is_not_posted_again_unasked(client_admin, bank):
    # given March reconciled with the receipt carried although its entry is in March's books
    books, statement = _march_reconciled_with_the_receipt_left(bank)
    services.statement_reconcile(statement=statement, by=None)
    receipt = line(bank, "CAMT-0001")
    url = reverse("admin:banking_bankstatementline_match", args=[receipt.pk])
    entries = JournalEntry.objects.filter(company=bank.company).count()

    # when the accountant opens the line, then posts it without ticking the box
    page = client_admin.get(url).content.decode()
    refused = client_admin.post(
        url,
        {"action": "entry", "account": bank.company.accounts.get(code="4000").pk, "date": "2026-04-01"},
        follow=True,
    )

    # then the page names the entry already in the books, and nothing is posted
    assert 'id="in-books-already"' in page and books["receipt"].number in page
    assert 'name="not_in_books" value="yes" required' in page
    assert (
        f"{books['receipt'].number} already holds this amount in the reconciled dates"
        in refused.content.decode()
    )
    assert JournalEntry.objects.filter(company=bank.company).count() == entries
    # ticked ("it is not that entry"), it is posted after the reconciled month
    client_admin.post(
        url,
        {
            "action": "entry",
            "account": bank.company.accounts.get(code="4000").pk,
            "date": "2026-04-01",
            "not_in_books": "yes",
        },
    )
    assert JournalEntry.objects.filter(company=bank.company).count() == entries + 1


def test_the_statement_page_and_the_dashboard_say_when_the_books_moved_since_reconciled(client_admin):
    # given March reconciled, reopened once (with a reason) and reconciled again, then a charge
    # back-dated into it
    bank, _books, statement, _stored = march_reconciled()
    services.statement_reopen(statement=statement, by=None, reason="Rent matched to the wrong line")
    services.statement_reconcile(statement=statement, by=None)
    late = post_entry(bank.company, "2026-03-20", ("6700", "20.00", "D"), ("1010", "20.00", "C"))

    page = client_admin.get(
        reverse("admin:banking_bankstatement_change", args=[statement.pk])
    ).content.decode()
    index = client_admin.get(reverse("admin:index")).content.decode()

    # then the page says the books moved, by which entry; lists the stored items; and keeps the
    # earlier reconciliation with its reason
    moved = re.search(r'<p id="changed-since".*?</p>', page, re.S).group(0)
    assert "is now 2,550.00 (stored 2,570.00)" in moved and late.number in moved
    # and what to do about it: nothing for money not yet through the bank, else reverse or reopen
    assert "a deposit in transit, a cheque not cleared) needs nothing" in " ".join(moved.split())
    assert "reversed after them, or a controller reopens the statement" in " ".join(moved.split())
    items = re.search(r'<table id="stored-items".*?</table>', page, re.S).group(0)
    assert "Bank line not in the books" in items and "(45.50)" in items and "(250.00)" in items
    assert "“Rent matched to the wrong line”" in page
    panel = re.search(r'<section[^>]*id="panel-bank-position".*?</section>', index, re.S).group(0)
    assert "reconciled, but the books moved since" in panel


def test_posting_or_reversing_into_a_reconciled_month_of_the_bank_is_said_before_it_is_done(client_admin):
    # given March reconciled on the bank's account 1010, and drafts on 1010 in March and April and
    # one in March that does not touch the bank
    bank, _books, _statement, _stored = march_reconciled()
    from ledger.services import journal_entry_create

    def draft(day: str, code: str) -> JournalEntry:
        return journal_entry_create(
            company=bank.company,
            date=datetime.date.fromisoformat(day),
            lines=[{"account": "6700", "debit": "20.00"}, {"account": code, "credit": "20.00"}],
            by=None,
        )

    in_march, in_april, elsewhere = (
        draft("2026-03-20", "1010"),
        draft("2026-04-02", "1010"),
        draft("2026-03-20", "1000"),
    )

    def post_page(entry) -> str:
        return client_admin.get(reverse("admin:ledger_journalentry_post", args=[entry.pk])).content.decode()

    # then only the March draft on the bank's account says what it changes, with the way to see it
    warned = post_page(in_march)
    note = re.search(r'<div class="status-warning" id="posting-notes">.*?</div>', warned, re.S).group(0)
    assert (
        "is reconciled through 2026-03-31: a line on its account dated 2026-03-20 changes a reconciled month"
        in note
    )
    assert reconciliation_url(bank.pk, datetime.date(2026, 3, 31)).replace("&", "&amp;") in note
    assert 'id="posting-notes"' not in post_page(in_april)
    assert 'id="posting-notes"' not in post_page(elsewhere)
    # a reversal dated in March says the same; dated in April, nothing
    client_admin.post(reverse("admin:ledger_journalentry_post", args=[in_april.pk]))
    reverse_url = reverse("admin:ledger_journalentry_reverse", args=[in_april.pk])
    assert (
        'id="posting-notes"' in client_admin.get(reverse_url + "?reversal_date=2026-03-30").content.decode()
    )
    assert 'id="posting-notes"' not in client_admin.get(reverse_url).content.decode()


def test_the_report_calls_a_carried_line_matched_since_a_timing_item(client_admin):
    bank, _books, _statement, _stored = march_reconciled()
    fee = line(bank, "CAMT-0002")
    services.bank_line_entry_create(bank_line=fee, account="6700", by=None, date=datetime.date(2026, 4, 1))

    page = client_admin.get(
        reverse("admin:banking_bankaccount_reconciliation", args=[bank.pk]) + "?as_of=2026-03-31", follow=True
    ).content.decode()

    assert '<small class="matched-later">to an entry dated after 2026-03-31</small>' in page
    assert "no book line of this amount" not in page
    assert "matched since, to entries dated after it (timing)" in page
    assert "Reconcile once only real timing items are left" not in page


def test_the_report_past_the_last_statement_says_the_bank_is_not_known_after_it(client_admin):
    bank, _books, _statement, _stored = march_reconciled()
    url = reverse("admin:banking_bankaccount_reconciliation", args=[bank.pk])

    after = client_admin.get(url + "?as_of=2026-04-02", follow=True).content.decode()
    on = client_admin.get(url + "?as_of=2026-03-31", follow=True).content.decode()

    assert 'id="beyond-statements"' in after and "The last statement ends 2026-03-31" in after
    assert 'id="beyond-statements"' not in on


def test_a_matched_lines_page_links_its_entry_and_its_statement(client_admin, bank):
    # given March's receipt matched to its ledger line
    books = march_books(bank.company)
    upload(bank, "camt053_march.xml")
    receipt = line(bank, "CAMT-0001")
    services.bank_line_match(bank_line=receipt, journal_lines=[bank_side(books["receipt"]).pk], by=None)

    # when its page is opened
    page = client_admin.get(
        reverse("admin:banking_bankstatementline_match", args=[receipt.pk])
    ).content.decode()

    # then the entry it is matched to opens from it, and so do its statement and the lines left
    entry_url = reverse("admin:ledger_journalentry_change", args=[books["receipt"].pk])
    assert f'<a href="{entry_url}" class="entry-link">{books["receipt"].number}</a>' in page
    statement_url = reverse("admin:banking_bankstatement_change", args=[receipt.statement_id])
    assert f'<a href="{statement_url}" id="statement-link">' in page
    assert f"?statement__id__exact={receipt.statement_id}&amp;matched=no" in page


def test_matching_the_statements_last_open_line_leads_to_the_statement_to_reconcile(client_admin, bank):
    # given March with every line matched but the last one (the transfer) and one before it (the fee)
    books = march_books(bank.company)
    upload(bank, "camt053_march.xml")
    for unique_id, book in (("CAMT-0001", "receipt"), ("CAMT-0003", "rent")):
        services.bank_line_match(
            bank_line=line(bank, unique_id), journal_lines=[bank_side(books[book]).pk], by=None
        )
    transfer, fee = line(bank, "CAMT-0004"), line(bank, "CAMT-0002")
    fees = bank.company.accounts.get(code="6700")

    # when the transfer (the last by date) is matched, the page moves back to the fee left open before it
    to_fee = client_admin.post(
        reverse("admin:banking_bankstatementline_match", args=[transfer.pk]),
        {"action": "match", "journal_line": [bank_side(books["order_a"]).pk, bank_side(books["order_b"]).pk]},
    )
    # and when the fee is posted, nothing is left: the statement's page, to reconcile it
    to_statement = client_admin.post(
        reverse("admin:banking_bankstatementline_match", args=[fee.pk]),
        {"action": "entry", "account": fees.pk, "description": "Fee"},
    )

    assert to_fee["Location"] == reverse("admin:banking_bankstatementline_match", args=[fee.pk])
    statement = BankStatement.objects.get()
    assert to_statement["Location"] == reverse("admin:banking_bankstatement_change", args=[statement.pk])
    assert f"Every line of {statement} is matched: check its position and reconcile it here." in [
        str(m) for m in get_messages(to_statement.wsgi_request)
    ]


def test_a_line_whose_reference_names_an_open_invoice_offers_its_payment_first(client_admin):
    # given an issued invoice and the bank's receipt naming it
    _books, receipt = receipt_naming_an_invoice()

    # when its page is opened
    page = client_admin.get(
        reverse("admin:banking_bankstatementline_match", args=[receipt.pk])
    ).content.decode()

    # then the payment of the invoice it names comes before the suggestions and the manual match
    assert "Customer payment: the reference names INV-2026-000001" in page
    assert (
        page.index('id="record-payment"') < page.index('id="suggestions"') < page.index('id="manual-match"')
    )
