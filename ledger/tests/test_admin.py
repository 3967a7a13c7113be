"""The ledger admin: pages render, drafts are written through the services, posted entries are
read-only, post/reverse report each outcome, and the chart shows rolled-up balances."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import Account, Company
from accounts.services import account_update, company_create, membership_add
from accounts.tests.factories import UserFactory
from audit.models import AuditEvent
from ledger.models import (
    AccountingPeriod,
    EntrySource,
    EntryStatus,
    ExchangeRate,
    JournalEntry,
    JournalLine,
    PeriodStatus,
)
from ledger.services import exchange_rate_set, journal_entry_create, journal_entry_post, journal_entry_reverse
from sofinance.permissions import Role

pytestmark = pytest.mark.django_db

ENTRY_TYPE = "ledger.journalentry"


@pytest.fixture
def books(superuser) -> Company:
    return company_create(
        name="Books Ltd", currency="USD", created_by=superuser, chart_template="small_business"
    )


def acct(company: Company, code: str) -> Account:
    return Account.objects.get(company=company, code=code)


def entry(company, date, *lines, post=True, description="", by=None) -> JournalEntry:
    """entry(company, "2026-01-05", ("1010", "100.00", "D"), ("4000", "100.00", "C"))."""
    return journal_entry_create(
        company=company,
        date=datetime.date.fromisoformat(date),
        lines=[
            {"account": code, "debit" if side == "D" else "credit": amount} for code, amount, side in lines
        ],
        by=by,
        description=description,
        post=post,
    )


def entry_form(company, *lines, date="2026-03-31", description="March rent", reference="R-1", initial=0):
    """POST data of the journal entry admin form with its inline lines."""
    data = {
        "company": str(company.pk),
        "date": date,
        "description": description,
        "reference": reference,
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": str(initial),
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    for index, line in enumerate(lines):
        for key, value in line.items():
            data[f"lines-{index}-{key}"] = value
    return data


def messages_of(response) -> list[str]:
    """The messages shown by the page a redirect led to (or queued by this request)."""
    if response.context is not None and "messages" in response.context:
        return [str(m) for m in response.context["messages"]]
    return [str(m) for m in get_messages(response.wsgi_request)]


def entry_audit_count() -> int:
    return AuditEvent.objects.filter(object_type=ENTRY_TYPE).count()


# --------------------------------------------------------------------------- pages render


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:accounts_account_changelist",
        "admin:accounts_account_add",
        "admin:ledger_journalentry_changelist",
        "admin:ledger_journalentry_add",
        "admin:ledger_exchangerate_changelist",
        "admin:ledger_exchangerate_add",
        "admin:ledger_accountingperiod_changelist",
        "admin:accounts_company_changelist",
        "admin:accounts_membership_changelist",
    ],
)
def test_admin_pages_render_for_a_superuser(client_admin, books, url_name):
    # given a company with a chart and some entries
    entry(books, "2026-01-05", ("1010", "100.00", "D"), ("4000", "100.00", "C"))
    entry(books, "2026-01-06", ("6100", "40.00", "D"), ("1010", "40.00", "C"), post=False)

    # when
    response = client_admin.get(reverse(url_name))

    # then
    assert response.status_code == 200


def test_journal_entry_changelist_shows_number_status_and_total(client_admin, books):
    # given
    posted = entry(
        books, "2026-01-05", ("1010", "1250.00", "D"), ("4000", "1250.00", "C"), description="Sale"
    )
    draft = entry(books, "2026-01-06", ("6100", "40.50", "D"), ("1010", "40.50", "C"), post=False)

    # when
    response = client_admin.get(reverse("admin:ledger_journalentry_changelist"))

    # then
    content = response.content.decode()
    assert posted.number in content
    assert f"Draft #{draft.pk}" in content
    assert "1,250.00" in content
    assert "40.50" in content


def test_draft_change_page_has_editable_lines(client_admin, books):
    # given
    draft = entry(books, "2026-01-06", ("6100", "40.50", "D"), ("1010", "40.50", "C"), post=False)

    # when
    response = client_admin.get(reverse("admin:ledger_journalentry_change", args=[draft.pk]))

    # then
    content = response.content.decode()
    assert response.status_code == 200
    assert 'name="date"' in content
    assert 'name="lines-0-debit"' in content
    assert 'value="40.50"' in content
    assert 'id="post-entry"' in content
    assert 'id="reverse-entry"' not in content


# --------------------------------------------------------------------------- drafts through the admin


def test_admin_creates_exactly_the_draft_entered(client_admin, books, superuser):
    # given
    rent, bank = acct(books, "6100"), acct(books, "1010")
    data = entry_form(
        books,
        {"account": rent.pk, "debit": "1200.00", "description": "Rent"},
        {"account": bank.pk, "credit": "1200.00"},
    )

    # when
    response = client_admin.post(reverse("admin:ledger_journalentry_add"), data)

    # then
    assert response.status_code == 302
    created = JournalEntry.objects.get()
    assert (created.company_id, created.date, created.status, created.number) == (
        books.pk,
        datetime.date(2026, 3, 31),
        EntryStatus.DRAFT,
        None,
    )
    assert (created.description, created.reference, created.source) == (
        "March rent",
        "R-1",
        EntrySource.MANUAL,
    )
    assert created.created_by == superuser
    lines = list(
        created.lines.order_by("line_no").values_list(
            "account__code", "debit", "credit", "base_amount", "description"
        )
    )
    assert lines == [
        ("6100", Decimal("1200.0000"), Decimal("0.0000"), Decimal("1200.0000"), "Rent"),
        ("1010", Decimal("0.0000"), Decimal("1200.0000"), Decimal("-1200.0000"), ""),
    ]
    # the service recorded its event, once
    assert list(AuditEvent.objects.filter(object_type=ENTRY_TYPE).values_list("action", "object_id")) == [
        ("create", str(created.pk))
    ]


def test_unbalanced_submission_shows_the_service_message_and_writes_nothing(client_admin, books):
    # given
    data = entry_form(
        books,
        {"account": acct(books, "6100").pk, "debit": "100.00"},
        {"account": acct(books, "1010").pk, "credit": "90.00"},
    )

    # when
    response = client_admin.post(reverse("admin:ledger_journalentry_add"), data)

    # then the form comes back with the service's words and the user's input
    content = response.content.decode()
    assert response.status_code == 200
    assert "Debits 100.00 do not equal credits 90.00." in content
    assert 'value="90.00"' in content
    assert JournalEntry.objects.count() == 0
    assert JournalLine.objects.count() == 0
    assert entry_audit_count() == 0
    assert not any("successfully" in m for m in messages_of(response))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"debit": "100.005"}, "100.005 has more decimal places than USD allows (2)."),
        ({"debit": "100.00", "credit": "100.00"}, "A line has a debit or a credit, not both."),
        ({"debit": "-100.00"}, "Amounts must be positive; use the other side."),
    ],
)
def test_invalid_line_is_refused_on_its_field_and_nothing_is_written(client_admin, books, line, message):
    # given
    data = entry_form(
        books,
        {"account": acct(books, "6100").pk, **line},
        {"account": acct(books, "1010").pk, "credit": "100.00"},
    )

    # when
    response = client_admin.post(reverse("admin:ledger_journalentry_add"), data)

    # then
    assert response.status_code == 200
    assert message in response.content.decode()
    assert JournalEntry.objects.count() == 0
    assert entry_audit_count() == 0


def test_inactive_account_is_refused_and_nothing_is_written(client_admin, books):
    # given
    rent = account_update(account=acct(books, "6100"), by=None, is_active=False)
    data = entry_form(
        books,
        {"account": rent.pk, "debit": "100.00"},
        {"account": acct(books, "1010").pk, "credit": "100.00"},
    )

    # when
    response = client_admin.post(reverse("admin:ledger_journalentry_add"), data)

    # then
    assert response.status_code == 200
    assert "Line 1: Account 6100 is inactive." in response.content.decode()
    assert JournalEntry.objects.count() == 0


def test_entry_in_a_closed_period_is_refused(client_admin, books):
    # given (periods have no admin or service writes yet: set up directly)
    AccountingPeriod.objects.create(
        company=books,
        start_date=datetime.date(2026, 3, 1),
        end_date=datetime.date(2026, 3, 31),
        status=PeriodStatus.CLOSED,
    )
    data = entry_form(
        books,
        {"account": acct(books, "6100").pk, "debit": "100.00"},
        {"account": acct(books, "1010").pk, "credit": "100.00"},
    )

    # when
    response = client_admin.post(reverse("admin:ledger_journalentry_add"), data)

    # then
    assert response.status_code == 200
    assert "2026-03-31 falls in the closed period 2026-03-01 – 2026-03-31." in response.content.decode()
    # said at the date, where it is corrected, with what to do
    assert response.context["adminform"].form.errors["date"] == [
        "2026-03-31 falls in the closed period 2026-03-01 – 2026-03-31. "
        "A controller reopens the period to post there, or date it in an open period."
    ]
    assert JournalEntry.objects.count() == 0


def test_admin_updates_a_draft_through_the_service(client_admin, books):
    # given
    draft = entry(books, "2026-01-06", ("6100", "40.00", "D"), ("1010", "40.00", "C"), post=False)
    first, second = draft.lines.order_by("line_no")
    data = entry_form(
        books,
        {"id": first.pk, "entry": draft.pk, "account": acct(books, "6200").pk, "debit": "55.00"},
        {"id": second.pk, "entry": draft.pk, "account": acct(books, "1010").pk, "credit": "55.00"},
        date="2026-01-07",
        description="Electricity",
        initial=2,
    )

    # when
    response = client_admin.post(reverse("admin:ledger_journalentry_change", args=[draft.pk]), data)

    # then
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.date, draft.description, draft.status) == (
        datetime.date(2026, 1, 7),
        "Electricity",
        EntryStatus.DRAFT,
    )
    assert list(draft.lines.order_by("line_no").values_list("account__code", "debit", "credit")) == [
        ("6200", Decimal("55.0000"), Decimal("0.0000")),
        ("1010", Decimal("0.0000"), Decimal("55.0000")),
    ]
    assert list(
        AuditEvent.objects.filter(object_type=ENTRY_TYPE, object_id=str(draft.pk)).values_list(
            "action", flat=True
        )
    ) == ["update", "create"]


def test_admin_deletes_a_draft_through_the_service(client_admin, books):
    # given
    draft = entry(books, "2026-01-06", ("6100", "40.00", "D"), ("1010", "40.00", "C"), post=False)

    # when
    response = client_admin.post(
        reverse("admin:ledger_journalentry_delete", args=[draft.pk]), {"post": "yes"}
    )

    # then
    assert response.status_code == 302
    assert JournalEntry.objects.count() == 0
    assert AuditEvent.objects.filter(object_type=ENTRY_TYPE, action="delete").count() == 1


# --------------------------------------------------------------------------- posted entries are read-only


def test_posted_entry_change_page_is_read_only(client_admin, books):
    # given
    posted = entry(books, "2026-01-05", ("1010", "100.00", "D"), ("4000", "100.00", "C"))

    # when
    response = client_admin.get(reverse("admin:ledger_journalentry_change", args=[posted.pk]))

    # then: values shown, no input of the entry or its lines, no save or delete, a Reverse button
    content = response.content.decode()
    assert response.status_code == 200
    assert posted.number in content
    assert "100.00" in content
    controls = re.findall(r"<(?:input|select|textarea)\b[^>]*>", content)
    editable = [
        c
        for c in controls
        if 'type="hidden"' not in c and 'name="reversal_date"' not in c and "nav-filter" not in c
    ]
    assert editable == []
    assert 'name="_save"' not in content
    assert "deletelink" not in content
    assert 'id="reverse-entry"' in content
    assert 'id="post-entry"' not in content


def test_post_to_a_posted_entry_changes_nothing(client_admin, books):
    # given
    posted = entry(books, "2026-01-05", ("1010", "100.00", "D"), ("4000", "100.00", "C"), description="Sale")
    line = posted.lines.get(line_no=1)
    events = AuditEvent.objects.count()
    data = entry_form(
        books,
        {"id": line.pk, "entry": posted.pk, "account": acct(books, "1010").pk, "debit": "999.00"},
        description="Tampered",
        initial=1,
    )

    # when
    change = client_admin.post(reverse("admin:ledger_journalentry_change", args=[posted.pk]), data)
    delete = client_admin.post(reverse("admin:ledger_journalentry_delete", args=[posted.pk]), {"post": "yes"})

    # then
    assert change.status_code == 403
    assert delete.status_code == 403
    posted.refresh_from_db()
    assert (posted.description, posted.status) == ("Sale", EntryStatus.POSTED)
    assert list(posted.lines.values_list("debit", flat=True).order_by("line_no")) == [
        Decimal("100.0000"),
        Decimal("0.0000"),
    ]
    assert AuditEvent.objects.count() == events


# --------------------------------------------------------------------------- post and reverse


def changelist_action(client, action, entries):
    return client.post(
        reverse("admin:ledger_journalentry_changelist"),
        {"action": action, "_selected_action": [str(e.pk) for e in entries], "post": "yes"},
        follow=True,
    )


def hidden_fields(page: str) -> list[tuple[str, str]]:
    """The hidden inputs of the confirmation form, as a browser would send them back."""
    return re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)


@pytest.mark.parametrize(
    ("action", "post", "verb"),
    [
        ("post_drafts", False, "Post"),
        ("reverse_entries", True, "Reverse"),
        ("delete_drafts", False, "Delete"),
    ],
)
def test_a_bulk_action_asks_first_and_changes_nothing_until_confirmed(
    client_admin, books, action, post, verb
):
    # given two entries
    first = entry(
        books, "2026-01-05", ("1010", "100.00", "D"), ("4000", "100.00", "C"), post=post, description="Sale"
    )
    second = entry(
        books, "2026-01-06", ("6100", "40.00", "D"), ("1010", "40.00", "C"), post=post, description="Fees"
    )
    before = list(JournalEntry.objects.order_by("pk").values_list("pk", "status", "number", "reversed_by"))
    events = AuditEvent.objects.count()

    # when the list's action is chosen (the changelist's own POST, without post=yes)
    response = client_admin.post(
        reverse("admin:ledger_journalentry_changelist"),
        {"action": action, "_selected_action": [str(first.pk), str(second.pk)]},
    )

    # then a page says what will happen to which entries, and nothing has happened yet
    page = response.content.decode()
    assert response.status_code == 200
    assert f"<title>{verb} 2 journal entries?" in page
    listed = re.findall(r"<li>([^<]*)</li>", page.split('id="confirm-rows"')[1].split("</ul>")[0])
    assert listed == [
        f"{first} of 2026-01-05: Sale ({first.get_status_display().lower()})",
        f"{second} of 2026-01-06: Fees ({second.get_status_display().lower()})",
    ]
    assert ("post", "yes") in hidden_fields(page) and ("action", action) in hidden_fields(page)
    assert (
        list(JournalEntry.objects.order_by("pk").values_list("pk", "status", "number", "reversed_by"))
        == before
    )
    assert AuditEvent.objects.count() == events


def test_the_confirmation_page_sends_back_what_the_action_needs(client_admin, books):
    # given a posted entry and the confirmation page of reversing it
    original = entry(books, "2026-01-05", ("1010", "100.00", "D"), ("4000", "100.00", "C"))
    url = reverse("admin:ledger_journalentry_changelist") + "?status__exact=posted"
    page = client_admin.post(url, {"action": "reverse_entries", "_selected_action": [str(original.pk)]})

    # when the page's form is sent as it stands, to where it points
    html = page.content.decode()
    target = re.search(r'<form method="post" action="([^"]*)"', html).group(1).replace("&amp;", "&")
    data: dict[str, list[str]] = {}
    for name, value in hidden_fields(html):
        data.setdefault(name, []).append(value)
    response = client_admin.post(target, data, follow=True)

    # then the entry is reversed, once, and the list comes back with its filter
    assert target == url
    original.refresh_from_db()
    assert original.reversed_by is not None
    assert messages_of(response) == [f"{original}: reversed by {original.reversed_by.number}."]
    assert response.redirect_chain[-1][0] == url


def test_an_entrys_history_is_its_audit_trail(client, books):
    # given an entry drafted, posted and reversed, and an auditor and a clerk of the company
    draft = entry(books, "2026-01-05", ("1010", "100.00", "D"), ("4000", "100.00", "C"), post=False)
    journal_entry_post(entry=draft, posted_by=None)
    journal_entry_reverse(entry=draft, by=None, description="Entered twice")
    draft.refresh_from_db()
    auditor = UserFactory(is_staff=True)
    clerk = UserFactory(is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(codename="view_journalentry"))
    auditor.user_permissions.add(*Permission.objects.filter(codename="view_journalentry"))
    membership_add(company=books, user=auditor, role=Role.AUDITOR, by=None)
    membership_add(company=books, user=clerk, role=Role.CLERK, by=None)
    url = reverse("admin:ledger_journalentry_history", args=[draft.pk])

    # when the auditor opens the entry's History
    client.force_login(auditor)
    page = client.get(url).content.decode()

    # then it lists the entry's own events, oldest first, in words, each linked to the trail
    events = AuditEvent.objects.filter(object_type="ledger.journalentry", object_id=str(draft.pk)).order_by(
        "id"
    )
    rows = re.findall(r"<tr><td class=\"date\">.*?</tr>", page, re.S)
    assert [re.findall(r"<td>([A-Z][a-z]+)</td>", row)[0] for row in rows] == [
        e.action.capitalize() for e in events
    ]
    assert [e.action for e in events][:2] == ["create", "post"]
    assert [re.findall(r"<td>([^<]*)</td>", row)[-1] for row in rows] == [
        "date 2026-01-05; 2 lines; source Manual; status Draft",
        "number JE-2026-000001; status Draft → Posted",
        "reversed by JE-2026-000002; reversal number: JE-2026-000002",  # the entry, not its id
    ]
    for event in events:
        assert reverse("admin:audit_auditevent_change", args=[event.pk]) in page
    trail = re.search(r'<a href="([^"]+)" id="history-in-trail">', page).group(1).replace("&amp;", "&")
    listed = client.get(trail).content.decode()
    assert f"journal entry {draft.pk}" in listed
    assert f"journal entry {JournalEntry.objects.get(reversal_of=draft).pk}<" not in listed

    # and a clerk, who may not read the trail, is told who can, and sees none of it
    client.force_login(clerk)
    own = client.get(url).content.decode()
    assert 'id="no-trail-access"' in own and "a controller, an auditor or an admin" in own
    assert 'id="audit-history"' not in own and "status Draft → Posted" not in own


def test_post_action_posts_drafts_and_reports_each_failure(client_admin, books):
    # given a good draft and one whose account was deactivated after it was saved
    good = entry(books, "2026-01-05", ("1010", "100.00", "D"), ("4000", "100.00", "C"), post=False)
    stale = entry(books, "2026-01-06", ("6100", "40.00", "D"), ("1010", "40.00", "C"), post=False)
    account_update(account=acct(books, "6100"), by=None, is_active=False)

    # when
    response = changelist_action(client_admin, "post_drafts", [good, stale])

    # then
    good.refresh_from_db()
    stale.refresh_from_db()
    assert (good.status, good.number) == (EntryStatus.POSTED, "JE-2026-000001")
    assert (stale.status, stale.number) == (EntryStatus.DRAFT, None)
    assert messages_of(response) == [
        f"Draft #{good.pk}: posted as JE-2026-000001.",
        f"Draft #{stale.pk}: Line 1: account 6100 is inactive.",
    ]


def test_post_action_on_a_posted_entry_reports_the_service_refusal(client_admin, books):
    # given
    posted = entry(books, "2026-01-05", ("1010", "100.00", "D"), ("4000", "100.00", "C"))

    # when
    response = changelist_action(client_admin, "post_drafts", [posted])

    # then
    assert messages_of(response) == ["JE-2026-000001: The entry is already posted."]
    assert JournalEntry.objects.count() == 1


def test_reverse_action_reverses_once_and_reports_the_second_attempt(client_admin, books):
    # given
    original = entry(books, "2026-01-05", ("1010", "100.00", "D"), ("4000", "100.00", "C"))

    # when
    first = changelist_action(client_admin, "reverse_entries", [original])
    second = changelist_action(client_admin, "reverse_entries", [original])

    # then
    original.refresh_from_db()
    reversal = JournalEntry.objects.get(reversal_of=original)
    assert original.reversed_by_id == reversal.pk
    assert (reversal.number, reversal.status, reversal.source, reversal.date) == (
        "JE-2026-000002",
        EntryStatus.POSTED,
        EntrySource.REVERSAL,
        datetime.date(2026, 1, 5),
    )
    assert list(reversal.lines.order_by("line_no").values_list("account__code", "debit", "credit")) == [
        ("1010", Decimal("0.0000"), Decimal("100.0000")),
        ("4000", Decimal("100.0000"), Decimal("0.0000")),
    ]
    assert messages_of(first) == ["JE-2026-000001: reversed by JE-2026-000002."]
    assert messages_of(second) == ["JE-2026-000001: JE-2026-000001 was already reversed."]
    assert JournalEntry.objects.count() == 2


def test_delete_selected_is_replaced_by_service_backed_delete_drafts(client_admin, books):
    # given
    draft = entry(books, "2026-01-06", ("6100", "40.00", "D"), ("1010", "40.00", "C"), post=False)
    posted = entry(books, "2026-01-05", ("1010", "100.00", "D"), ("4000", "100.00", "C"))

    # when
    response = changelist_action(client_admin, "delete_drafts", [draft, posted])

    # then
    assert list(JournalEntry.objects.values_list("pk", flat=True)) == [posted.pk]
    assert messages_of(response) == [
        "JE-2026-000001: A posted entry cannot be deleted; reverse it instead.",
        f"Draft #{draft.pk}: deleted.",
    ]
    assert (
        "delete_selected"
        not in client_admin.get(reverse("admin:ledger_journalentry_changelist")).content.decode()
    )


def test_post_button_posts_the_draft(client_admin, books):
    # given
    draft = entry(books, "2026-01-06", ("6100", "40.00", "D"), ("1010", "40.00", "C"), post=False)
    url = reverse("admin:ledger_journalentry_post", args=[draft.pk])

    # when: the button opens the confirmation page, whose form posts
    confirmation = client_admin.get(url)
    after_get = JournalEntry.objects.get(pk=draft.pk).status
    response = client_admin.post(url)

    # then: the GET said what will happen and changed nothing
    assert confirmation.status_code == 200
    content = confirmation.content.decode()
    assert "Posting puts Draft #" in content and 'id="confirm-post"' in content
    assert "debit 40.00 · credit 40.00 USD" in content
    assert after_get == EntryStatus.DRAFT
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.status, draft.number) == (EntryStatus.POSTED, "JE-2026-000001")
    assert messages_of(response) == [f"Draft #{draft.pk}: posted as JE-2026-000001."]


def test_posting_before_a_closed_period_is_warned_of_on_the_confirmation(client_admin, books):
    # given January and February 2026 closed, no period for 2025, March open
    for month, status in ((1, PeriodStatus.CLOSED), (2, PeriodStatus.CLOSED), (3, PeriodStatus.OPEN)):
        AccountingPeriod.objects.create(
            company=books,
            start_date=datetime.date(2026, month, 1),
            end_date=datetime.date(2026, month, 28),
            status=status,
        )
    before = entry(books, "2025-12-15", ("1000", "500.00", "D"), ("4900", "500.00", "C"), post=False)
    after = entry(books, "2026-03-02", ("1000", "5.00", "D"), ("4900", "5.00", "C"), post=False)

    # when each draft's Post page is opened
    warned = client_admin.get(reverse("admin:ledger_journalentry_post", args=[before.pk])).content.decode()
    plain = client_admin.get(reverse("admin:ledger_journalentry_post", args=[after.pk])).content.decode()

    # then the one dated before the closed months says what posting it changes; the other does not
    assert 'id="closed-after-warning"' in warned
    assert "2025-12-15 comes before 2 closed periods (2026-01-01 – 2026-02-28)." in warned
    assert "No period covers it, so it is open and posts" in warned
    assert "or create and close the periods of 2025 first" in warned
    assert 'id="closed-after-warning"' not in plain
    # and it is a warning, not a refusal: posting still works
    client_admin.post(reverse("admin:ledger_journalentry_post", args=[before.pk]))
    before.refresh_from_db()
    assert before.status == EntryStatus.POSTED
    # the list's "Post selected drafts" names the draft that would move them, and not the other
    another = entry(books, "2025-12-16", ("1000", "5.00", "D"), ("4900", "5.00", "C"), post=False)
    bulk = client_admin.post(
        reverse("admin:ledger_journalentry_changelist"),
        {"action": "post_drafts", "_selected_action": [str(another.pk), str(after.pk)]},
    ).content.decode()
    listed = re.findall(r"<li>([^<]*)</li>", bulk.split('id="confirm-rows"')[1].split("</ul>")[0])
    assert listed[0].endswith(
        "— ⚠ dated before 2 closed periods (2026-01-01 – 2026-02-28): the balances they start from change"
    )
    assert "⚠" not in listed[1]
    # a reversal dated before the closed months says the same
    page = client_admin.get(
        reverse("admin:ledger_journalentry_reverse", args=[before.pk]) + "?reversal_date=2025-12-31"
    ).content.decode()
    assert "2025-12-31 comes before 2 closed periods" in page


def test_reverse_button_uses_the_given_date_and_reports_a_closed_period(client_admin, books):
    # given
    original = entry(books, "2026-01-05", ("1010", "100.00", "D"), ("4000", "100.00", "C"))
    AccountingPeriod.objects.create(
        company=books,
        start_date=datetime.date(2026, 1, 1),
        end_date=datetime.date(2026, 1, 31),
        status=PeriodStatus.CLOSED,
    )
    url = reverse("admin:ledger_journalentry_reverse", args=[original.pk])

    # when
    refused = client_admin.post(url, {"reversal_date": ""}, follow=True)
    accepted = client_admin.post(url, {"reversal_date": "2026-02-01"}, follow=True)

    # then
    assert messages_of(refused) == [
        "JE-2026-000001: 2026-01-05 falls in the closed period 2026-01-01 – 2026-01-31."
        " A controller reopens the period to post there, or date it in an open period."
    ]
    reversal = JournalEntry.objects.get(reversal_of=original)
    assert reversal.date == datetime.date(2026, 2, 1)
    assert accepted.redirect_chain == [(reverse("admin:ledger_journalentry_change", args=[reversal.pk]), 302)]
    assert messages_of(accepted) == ["JE-2026-000001: reversed by JE-2026-000002."]
    # described "Reversal of …" unless the page says otherwise
    assert reversal.description == "Reversal of JE-2026-000001"


def test_the_reverse_page_says_why_in_the_new_entrys_description(client_admin, books):
    original = entry(books, "2026-01-05", ("1010", "100.00", "D"), ("4000", "100.00", "C"))
    url = reverse("admin:ledger_journalentry_reverse", args=[original.pk])

    page = client_admin.get(url)
    client_admin.post(
        url,
        {
            "reversal_date": "2026-01-06",
            "reversal_description": "  Reversal of JE-2026-000001:   invoiced twice ",
        },
    )

    assert 'name="reversal_description"' in page.content.decode()
    assert 'value="Reversal of JE-2026-000001"' in page.content.decode()
    reversal = JournalEntry.objects.get(reversal_of=original)
    assert reversal.description == "Reversal of JE-2026-000001: invoiced twice"


# --------------------------------------------------------------------------- chart with balances


def balance_cells(response) -> dict[str, str]:
    """{account code: balance cell text} of the account changelist."""
    rows = re.findall(r"<tr>.*?</tr>", response.content.decode(), flags=re.S)
    cells = {}
    for row in rows:
        code = re.search(r'class="field-code[^"]*">(?:<a [^>]*>)?([^<]+)<', row)
        balance = re.search(r'class="field-balance[^"]*">([^<]*)<', row)
        if code and balance:
            cells[code.group(1).strip()] = balance.group(1).strip()
    return cells


def test_account_changelist_rolls_parents_up_from_their_children(client_admin, books):
    # given
    entry(books, "2026-01-02", ("1010", "1000.00", "D"), ("3000", "1000.00", "C"))
    entry(books, "2026-01-03", ("6100", "250.00", "D"), ("1010", "250.00", "C"))
    entry(books, "2026-02-10", ("1100", "540.00", "D"), ("4000", "500.00", "C"), ("2200", "40.00", "C"))
    entry(
        books, "2026-02-11", ("6200", "75.25", "D"), ("1010", "75.25", "C"), post=False
    )  # drafts don't count
    url = reverse("admin:accounts_account_changelist")

    # when
    today = balance_cells(client_admin.get(url, {"company__id__exact": books.pk}))
    january = balance_cells(client_admin.get(url, {"company__id__exact": books.pk, "as_of": "2026-01-31"}))

    # then
    assert {
        code: today[code]
        for code in ["10", "1010", "1100", "1200", "20", "2200", "30", "3000", "40", "60", "6100", "6200"]
    } == {
        "10": "1,290.00 Dr",
        "1010": "750.00 Dr",
        "1100": "540.00 Dr",
        "1200": "0.00",
        "20": "40.00 Cr",
        "2200": "40.00 Cr",
        "30": "1,000.00 Cr",
        "3000": "1,000.00 Cr",
        "40": "500.00 Cr",
        "60": "250.00 Dr",
        "6100": "250.00 Dr",
        "6200": "0.00",
    }
    assert {code: january[code] for code in ["10", "1010", "1100", "20", "40", "60"]} == {
        "10": "750.00 Dr",
        "1010": "750.00 Dr",
        "1100": "0.00",
        "20": "0.00",
        "40": "0.00",
        "60": "250.00 Dr",
    }


def test_account_changelist_is_in_tree_order_with_indented_names(client_admin, books):
    # when
    response = client_admin.get(
        reverse("admin:accounts_account_changelist"), {"company__id__exact": books.pk}
    )

    # then
    content = response.content.decode()
    codes = re.findall(r'class="field-code[^"]*">(?:<a [^>]*>)?([^<]+)<', content)
    assert codes[:4] == ["10", "1000", "1010", "1020"]
    assert codes.index("15") == codes.index("1400") + 1
    assert 'padding-left:1.5em">Bank - operating account' in content
    assert "Balances as of" in content


def test_account_change_page_shows_the_balance_today(client_admin, books):
    # given
    entry(books, "2026-01-02", ("1010", "1000.00", "D"), ("3000", "1000.00", "C"))

    # when
    response = client_admin.get(reverse("admin:accounts_account_change", args=[acct(books, "10").pk]))

    # then
    assert "1,000.00 Dr" in response.content.decode()


# --------------------------------------------------------------------------- exchange rates and periods


def test_exchange_rate_admin_stores_rates_through_the_service(client_admin, books):
    # given
    data = {
        "company": books.pk,
        "from_currency": "eur",
        "to_currency": "USD",
        "date": "2026-01-05",
        "rate": "1.0850",
    }

    # when
    response = client_admin.post(reverse("admin:ledger_exchangerate_add"), data)

    # then
    assert response.status_code == 302
    rate = ExchangeRate.objects.get()
    assert (rate.from_currency, rate.to_currency, rate.rate) == ("EUR", "USD", Decimal("1.0850000000"))
    assert AuditEvent.objects.filter(object_type="ledger.exchangerate", action="create").count() == 1


def test_exchange_rate_admin_shows_the_service_refusal_and_writes_nothing(client_admin, books):
    # given
    data = {
        "company": books.pk,
        "from_currency": "USD",
        "to_currency": "USD",
        "date": "2026-01-05",
        "rate": "1",
    }

    # when
    response = client_admin.post(reverse("admin:ledger_exchangerate_add"), data)

    # then
    assert response.status_code == 200
    assert "A rate converts between two different currencies." in response.content.decode()
    assert ExchangeRate.objects.count() == 0
    assert AuditEvent.objects.filter(object_type="ledger.exchangerate").count() == 0


def test_exchange_rate_change_replaces_only_the_rate(client_admin, books):
    # given
    rate = exchange_rate_set(
        company=books,
        from_currency="EUR",
        to_currency="USD",
        date=datetime.date(2026, 1, 5),
        rate="1.08",
        by=None,
    )

    # when
    response = client_admin.post(
        reverse("admin:ledger_exchangerate_change", args=[rate.pk]), {"rate": "1.09", "from_currency": "GBP"}
    )

    # then
    assert response.status_code == 302
    rate.refresh_from_db()
    assert (rate.from_currency, rate.rate) == ("EUR", Decimal("1.0900000000"))


def test_periods_are_list_only_for_now(client_admin, books):
    # given
    period = AccountingPeriod.objects.create(
        company=books, start_date=datetime.date(2026, 1, 1), end_date=datetime.date(2026, 1, 31)
    )

    # when
    add = client_admin.get(reverse("admin:ledger_accountingperiod_add"))
    change = client_admin.post(
        reverse("admin:ledger_accountingperiod_change", args=[period.pk]), {"status": "locked"}
    )

    # then
    assert add.status_code == 403
    assert change.status_code == 403
    period.refresh_from_db()
    assert period.status == PeriodStatus.OPEN


# --------------------------------------------------------------------------- tenancy and roles


def test_staff_member_sees_only_their_companies_and_posts_only_with_the_role(client, books):
    # given a clerk of Books Ltd (may draft, may not post) and another company's entry
    from django.contrib.auth.models import Permission

    from accounts.services import membership_add

    clerk = UserFactory(username="clerk", is_staff=True)
    clerk.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_journalentry", "add_journalentry", "change_journalentry", "view_account"]
        )
    )
    membership_add(company=books, user=clerk, role="clerk", by=None)
    other = company_create(
        name="Other Co", currency="USD", created_by=UserFactory(), chart_template="small_business"
    )
    mine = entry(
        books, "2026-01-05", ("1010", "10.00", "D"), ("4000", "10.00", "C"), post=False, description="mine"
    )
    theirs = entry(
        other, "2026-01-05", ("1010", "20.00", "D"), ("4000", "20.00", "C"), post=False, description="theirs"
    )
    client.force_login(clerk)

    # when
    listing = client.get(reverse("admin:ledger_journalentry_changelist"))
    foreign = client.get(reverse("admin:ledger_journalentry_change", args=[theirs.pk]))
    post = client.post(reverse("admin:ledger_journalentry_post", args=[mine.pk]))

    # then
    content = listing.content.decode()
    assert f"Draft #{mine.pk}" in content
    assert f"Draft #{theirs.pk}" not in content
    assert "Other Co" not in content
    assert foreign.status_code == 302  # the admin's "does not exist" redirect: nothing leaks
    assert post.status_code == 403
    mine.refresh_from_db()
    assert mine.status == EntryStatus.DRAFT


def test_posted_entry_numbers_come_from_the_posting_service(client_admin, books):
    # given two drafts posted out of date order through the admin
    later = entry(books, "2026-02-01", ("1010", "10.00", "D"), ("4000", "10.00", "C"), post=False)
    earlier = entry(books, "2026-01-01", ("1010", "20.00", "D"), ("4000", "20.00", "C"), post=False)

    # when the action posts them (in date order)
    changelist_action(client_admin, "post_drafts", [later, earlier])

    # then numbers are gapless and follow posting order
    assert list(JournalEntry.objects.order_by("sequence").values_list("pk", "number")) == [
        (earlier.pk, "JE-2026-000001"),
        (later.pk, "JE-2026-000002"),
    ]


def test_line_account_autocomplete_offers_only_active_postable_accounts(client_admin, books):
    # given an inactive leaf among the bank accounts
    account_update(account=acct(books, "1020"), by=None, is_active=False)

    # when the line's account autocomplete is asked for "10"
    response = client_admin.get(
        reverse("admin:autocomplete"),
        {"app_label": "ledger", "model_name": "journalline", "field_name": "account", "term": "10"},
    )

    # then the header account 10 and the inactive 1020 are not offered
    codes = [result["text"].split(" ")[0] for result in response.json()["results"]]
    assert codes == [
        "1000",
        "1010",
        "1100",
        "1510",
        "2100",
        "3100",
        "4100",
        "4910",
        "5100",
        "6100",
        "6910",
        "7100",
    ]


def test_a_foreign_currency_entry_reads_each_amount_with_its_currency_and_totals_in_the_companys(
    client, superuser, books
):
    posted = journal_entry_create(
        company=books,
        date=datetime.date(2026, 3, 2),
        lines=[
            {"account": "1100", "debit": "1080.00", "currency": "EUR", "fx_rate": "1.10"},
            {"account": "4000", "credit": "1188.00"},
        ],
        by=None,
        post=True,
    )
    client.force_login(superuser)
    page = client.get(reverse("admin:ledger_journalentry_change", args=[posted.pk])).content.decode()
    # the debit column says its currency where it is not the company's; the company's is plain
    assert ">1,080.00 EUR<" in page and ">1,188.00<" in page
    # the functional amounts read as debits and credits, and the totals say their currency
    assert ">1,188.00 Dr<" in page and ">1,188.00 Cr<" in page
    assert "1,188.00 USD" in page
