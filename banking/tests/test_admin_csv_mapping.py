"""A bank account's CSV column mapping in the admin: fields an accountant fills in (not a JSON
box), saved through the service as the API saves it, refused on the field it is about with
nothing saved, and shown again from what is saved."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.services import membership_add
from accounts.tests.factories import UserFactory
from audit.models import AuditEvent
from banking.models import BankAccount, BankStatementLine
from banking.parsers.csv_statement import csv_mapping_clean
from banking.services import bank_account_update
from banking.tests.factories import EUROPEAN_MAPPING, bank_books, statement_of, upload
from sofinance.permissions import Role

pytestmark = pytest.mark.django_db


def accountant(company) -> Client:
    user = UserFactory(is_staff=True)
    membership_add(company=company, user=user, role=Role.ACCOUNTANT, by=None)
    client = Client()
    client.force_login(user)
    return client


def change_url(bank: BankAccount) -> str:
    return reverse("admin:banking_bankaccount_change", args=[bank.pk])


def form_data(bank: BankAccount, **csv: str) -> dict[str, str]:
    """The change form as the page posts it: the account's fields, the CSV fields at the
    defaults, then `csv`."""
    return {
        "name": bank.name,
        "account": str(bank.account_id),
        "currency": bank.currency,
        "iban": bank.iban,
        "number": bank.number,
        "is_active": "on",
        "delimiter": "comma",
        "encoding": "utf-8",
        "skip_rows": "0",
        "date_column": "date",
        "date_format": "%Y-%m-%d",
        "date_format_other": "",
        "amounts": "signed",
        "amount_column": "amount",
        "debit_column": "",
        "credit_column": "",
        "decimal_separator": "point",
        "thousands_separator": "none",
        "counterparty_column": "counterparty",
        "reference_column": "reference",
        "description_column": "description",
        "unique_id_column": "",
        "balance_column": "",
        "value_date_column": "",
        **csv,
    }


def field_errors(response) -> dict[str, list[str]]:
    form = response.context["adminform"].form
    return {name: list(errors) for name, errors in form.errors.items()}


def test_the_csv_fields_save_the_mapping_the_service_cleans_and_a_statement_in_that_format_imports(
    make_member,
):
    # given a bank account with nothing set, and its bank's European CSV
    bank = bank_books()
    client = accountant(bank.company)
    _, api = make_member(bank.company, Role.ACCOUNTANT)

    # when the accountant fills in the CSV fields and saves
    response = client.post(
        change_url(bank),
        form_data(
            bank,
            delimiter="semicolon",
            date_column="Booking date",
            date_format="%d.%m.%Y",
            amount_column="Amount",
            decimal_separator="comma",
            thousands_separator="point",
            counterparty_column="Payee",
            reference_column="Reference",
            description_column="Details",
            balance_column="Balance",
        ),
    )

    # then the stored mapping is the one the service and the API keep for the same mapping...
    assert response.status_code == 302, field_errors(response)
    bank.refresh_from_db()
    assert bank.csv_mapping == csv_mapping_clean(EUROPEAN_MAPPING)
    assert bank.csv_mapping["delimiter"] == ";" and bank.csv_mapping["thousands_separator"] == "."
    event = AuditEvent.objects.filter(object_type="banking.bankaccount", action="update").get()
    assert set(event.changes) == {"csv_mapping"}  # saved through the service, audited there
    # ... which the API reads as it is, and would have stored the same: sent again, nothing changes
    url = f"/api/v1/companies/{bank.company_id}/bank-accounts/{bank.pk}"
    assert api.get(url).json()["data"]["csv_mapping"] == bank.csv_mapping
    assert api.patch(url, {"csv_mapping": EUROPEAN_MAPPING}, format="json").json()["data"]["csv_mapping"] == (
        bank.csv_mapping
    )
    assert AuditEvent.objects.filter(object_type="banking.bankaccount", action="update").count() == 1
    # ... and the bank's file reads with it
    statement = statement_of(upload(bank, "csv_european.csv"))
    assert (statement.opening_balance, statement.closing_balance, statement.line_count) == (
        Decimal("1000.00"),
        Decimal("2146.10"),
        5,
    )


def test_debit_and_credit_columns_save_a_two_column_mapping_that_imports():
    # given
    bank = bank_books()
    client = accountant(bank.company)

    # when amounts are said to be in two columns, dates day first with slashes, a tab-separated file
    response = client.post(
        change_url(bank),
        form_data(
            bank,
            delimiter="tab",
            date_column="Date",
            date_format="%d/%m/%Y",
            amounts="split",
            amount_column="",
            debit_column="Out",
            credit_column="In",
            reference_column="Ref",
            unique_id_column="Id",
            balance_column="Balance",
        ),
    )

    # then
    assert response.status_code == 302, field_errors(response)
    bank.refresh_from_db()
    expected = {
        "date_column": "Date", "date_format": "%d/%m/%Y", "delimiter": "\t", "debit_column": "Out",
        "credit_column": "In", "reference_column": "Ref", "unique_id_column": "Id", "balance_column": "Balance",
    }  # fmt: skip
    assert bank.csv_mapping == csv_mapping_clean(expected)
    assert bank.csv_mapping["amount_column"] == ""
    data = (
        b"Date\tRef\tId\tOut\tIn\tBalance\n"
        b"02/03/2026\tA\tT1\t\t100.00\t1100.00\n"
        b"09/03/2026\tB\tT2\t25.00\t\t1075.00\n"
    )
    statement = statement_of(upload(bank, data))
    assert (statement.opening_balance, statement.closing_balance) == (Decimal("1000.00"), Decimal("1075.00"))
    assert list(
        BankStatementLine.objects.filter(bank_account=bank).order_by("date").values_list("date", "amount")
    ) == [(datetime.date(2026, 3, 2), Decimal("100.00")), (datetime.date(2026, 3, 9), Decimal("-25.00"))]


def test_a_date_format_without_a_year_is_refused_on_the_date_format_field_and_nothing_is_saved():
    # given a bank account with a saved mapping
    bank = bank_books(csv_mapping=EUROPEAN_MAPPING)
    saved = BankAccount.objects.get(pk=bank.pk).csv_mapping
    client = accountant(bank.company)
    events = AuditEvent.objects.count()

    # when the accountant types a date format without a year (and renames the account)
    response = client.post(
        change_url(bank),
        form_data(bank, name="Renamed", date_format="other", date_format_other="%d.%m"),
    )

    # then the page says so on the date format field, keeps what was typed, and saves nothing
    assert response.status_code == 200
    assert field_errors(response) == {
        "date_format": [
            "A strftime format with day, month and year (e.g. %Y-%m-%d, %d/%m/%Y, %m/%d/%Y, %d.%m.%Y)."
        ]
    }
    page = response.content.decode()
    assert re.search(r'<input[^>]*name="date_format_other"[^>]*value="%d.%m"', page)
    stored = BankAccount.objects.get(pk=bank.pk)
    assert (stored.name, stored.csv_mapping) == ("Operating account", saved)
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        # two columns chosen: the amount column still holding its default is left out
        ("split", {"amount_column": "", "debit_column": "Out", "credit_column": "In"}),
        # one column chosen: money out and in, still named from before, are left out
        ("signed", {"amount_column": "Amount", "debit_column": "", "credit_column": ""}),
    ],
)
def test_amounts_are_read_as_the_chosen_layout_says_whatever_the_other_layouts_columns_hold(layout, expected):
    # given
    bank = bank_books()
    client = accountant(bank.company)

    # when every amount column is named but the layout says which apply
    response = client.post(
        change_url(bank),
        form_data(bank, amounts=layout, amount_column="Amount", debit_column="Out", credit_column="In"),
    )

    # then the mapping holds the chosen layout's columns only
    assert response.status_code == 302, field_errors(response)
    stored = BankAccount.objects.get(pk=bank.pk).csv_mapping
    assert {name: stored.get(name, "") for name in expected} == expected


def test_two_columns_chosen_without_naming_them_is_refused_on_each():
    bank = bank_books()
    client = accountant(bank.company)

    response = client.post(change_url(bank), form_data(bank, amounts="split", amount_column=""))

    assert response.status_code == 200
    assert set(field_errors(response)) == {"debit_column", "credit_column"}
    assert BankAccount.objects.get(pk=bank.pk).csv_mapping == {}


def test_editing_an_account_shows_its_saved_mapping_in_the_fields():
    # given an account whose mapping was saved through the API's service: two columns, a custom date
    bank = bank_books()
    bank_account_update(
        bank_account=bank,
        by=None,
        csv_mapping={
            "delimiter": "|",
            "encoding": "cp1252",
            "skip_rows": 3,
            "date_column": "Booked",
            "date_format": "%d %b %Y",
            "debit_column": "Paid out",
            "credit_column": "Paid in",
            "invert_sign": True,
            "decimal_separator": ",",
            "thousands_separator": " ",
            "value_date_column": "Value",
        },
    )
    client = accountant(bank.company)

    # when the accountant opens it
    response = client.get(change_url(bank))

    # then each field shows what is saved
    form = response.context["adminform"].form
    shown = {name: form[name].value() for name in form.fields if name not in ("company", "account")}
    assert shown == {
        "name": "Operating account",
        "currency": "USD",
        "iban": bank.iban,
        "number": "55501234",
        "is_active": True,
        "delimiter": "pipe",
        "encoding": "cp1252",
        "skip_rows": 3,
        "date_column": "Booked",
        "date_format": "%d %b %Y",  # shown as "Other format…" and the format typed in
        "amounts": "split",
        "amount_column": "",
        "debit_column": "Paid out",
        "credit_column": "Paid in",
        "invert_sign": True,
        "decimal_separator": "comma",
        "thousands_separator": "space",
        "counterparty_column": "counterparty",
        "reference_column": "reference",
        "description_column": "description",
        "unique_id_column": "",
        "balance_column": "",
        "value_date_column": "Value",
    }
    page = response.content.decode()
    assert 'name="csv_mapping"' not in page  # no JSON box
    assert re.search(r'<option value="pipe" selected>', page)
    assert re.search(r'<option value="other" selected>', page)
    assert re.search(r'<input type="text" name="date_format_other" value="%d %b %Y"', page)
    assert re.search(r'<input type="radio" name="amounts" value="split"[^>]*checked', page)
    assert "CSV statements" in page and 'class="module aligned csv-mapping"' in page  # open: it is set


def test_saving_an_account_whose_mapping_is_unset_keeps_it_unset_and_the_new_account_page_offers_defaults():
    # given an account with nothing set
    bank = bank_books()
    client = accountant(bank.company)

    # when its page is opened, and saved with the defaults shown and a new name
    page = client.get(change_url(bank)).content.decode()
    response = client.post(change_url(bank), form_data(bank, name="Main account"))
    add_page = client.get(reverse("admin:banking_bankaccount_add")).content.decode()

    # then it stays unset (as an API client that never sent a mapping sees it): the defaults apply
    assert response.status_code == 302
    stored = BankAccount.objects.get(pk=bank.pk)
    assert (stored.name, stored.csv_mapping) == ("Main account", {})
    assert 'class="module aligned csv-mapping collapse"' in page  # folded: nothing set
    for shown in (page, add_page):
        assert re.search(r'<input type="text" name="date_column" value="date"', shown)
        assert re.search(r'<option value="%Y-%m-%d" selected>', shown)


def test_adding_an_account_with_its_csv_fields_saves_its_mapping():
    # given a company whose savings account (1020) has no bank account yet
    bank = bank_books()
    client = accountant(bank.company)
    ledger = bank.company.accounts.get(code="1020")
    data = form_data(bank, name="Savings", date_column="Datum", date_format="%d-%m-%Y")
    data.update(company=str(bank.company_id), account=str(ledger.pk), iban="", number="")

    # when
    response = client.post(reverse("admin:banking_bankaccount_add"), data)

    # then
    assert response.status_code == 302, field_errors(response)
    saved = BankAccount.objects.get(company=bank.company, name="Savings")
    assert saved.csv_mapping == csv_mapping_clean({"date_column": "Datum", "date_format": "%d-%m-%Y"})


def test_a_viewer_reads_the_mapping_in_words():
    bank = bank_books(csv_mapping=EUROPEAN_MAPPING)
    user = UserFactory(is_staff=True)
    membership_add(company=bank.company, user=user, role=Role.VIEWER, by=None)
    client = Client()
    client.force_login(user)

    page = client.get(change_url(bank)).content.decode()

    assert "<th>Columns separated by</th><td>Semicolon ( ; )</td>" in page
    assert "<th>Dates written as</th><td>31.03.2026 (DD.MM.YYYY)</td>" in page
    assert "<th>Balance column</th><td>Balance</td>" in page
    assert 'name="delimiter"' not in page
