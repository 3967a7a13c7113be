"""Customers, items, tax rates and sales settings: validation, audit, and what documents protect."""

from decimal import Decimal

import pytest

from audit.models import AuditEvent
from sales import services
from sales.models import Customer, Item, SalesSettings, TaxRate
from sales.tests.factories import day, eur_rate, issued, sales_books, written
from sofinance.errors import APIError

pytestmark = pytest.mark.django_db


@pytest.fixture
def books():
    return sales_books()


def test_a_customer_takes_the_company_currency_and_is_audited(books):
    customer = services.customer_create(
        company=books.company,
        name="  Initech  ",
        by=None,
        email="ap@initech.example",
        tax_id="US-123",
        billing_address="1 Loop Rd\nAustin TX",
        payment_terms_days=45,
        receivables_account="1100",
    )
    assert (
        customer.name,
        customer.currency,
        customer.payment_terms_days,
        customer.receivables_account.code,
    ) == (
        "Initech",
        "USD",
        45,
        "1100",
    )
    event = AuditEvent.objects.get(object_type="sales.customer", object_id=str(customer.pk))
    assert event.action == "create"
    assert event.changes["name"] == {"before": None, "after": "Initech"}


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"name": ""}, "validation_error", "name"),
        ({"email": "not-an-email"}, "validation_error", "email"),
        ({"currency": "usd1"}, "validation_error", "currency"),
        ({"payment_terms_days": -1}, "validation_error", "payment_terms_days"),
        ({"payment_terms_days": 4000}, "validation_error", "payment_terms_days"),
        ({"receivables_account": "4000"}, "invalid_account", "receivables_account"),
        ({"receivables_account": "10"}, "invalid_account", "receivables_account"),
        ({"receivables_account": 999999}, "invalid_account", "receivables_account"),
    ],
)
def test_bad_customers_are_refused(books, changes, code, field):
    before = written(books.company)
    arguments = {"company": books.company, "name": "New", "by": None, **changes}
    with pytest.raises(APIError) as refused:
        services.customer_create(**arguments)
    assert refused.value.code == code
    assert field in refused.value.details
    assert written(books.company) == before


def test_a_bank_account_with_postings_is_never_a_customers_receivables(books):
    # given the bank account in use (1010 holds deposits)
    services.payment_record(
        company=books.company, customer=books.acme, date=day("2026-03-01"), amount="25.00", by=None
    )
    before = written(books.company)

    # when a customer is given it as their receivables account
    with pytest.raises(APIError) as refused:
        services.customer_create(company=books.company, name="Bank-ish", receivables_account="1010", by=None)

    # then it is refused (its balance would count as owed by customers), nothing written
    assert refused.value.code == "invalid_account"
    assert refused.value.details["receivables_account"] == [
        "Account 1010 already holds other postings (a bank, cash or other asset account); receivables "
        "are kept on the receivables account, or on a new account of their own."
    ]
    assert written(books.company) == before
    # while the receivables account itself is accepted
    assert (
        services.customer_create(
            company=books.company, name="Fine", receivables_account="1100", by=None
        ).receivables_account.code
        == "1100"
    )


def test_a_customers_receivables_account_stays_once_documents_exist(books):
    from accounts.services import account_create

    other_ar = account_create(
        company=books.company, code="1110", name="Receivables - export", type="asset", parent=None, by=None
    )
    services.customer_update(customer=books.globex, by=None, receivables_account=other_ar.pk)
    issued(books, books.globex, "2026-03-01", "10.00")
    with pytest.raises(APIError) as refused:
        services.customer_update(customer=books.globex, by=None, receivables_account=None)
    assert refused.value.details["reason"] == "receivables_account_in_use"
    # other details still change
    changed = services.customer_update(
        customer=books.globex, by=None, name="Globex Corp", payment_terms_days=7
    )
    assert (changed.name, changed.payment_terms_days, changed.receivables_account_id) == (
        "Globex Corp",
        7,
        other_ar.pk,
    )


def test_customers_and_items_with_documents_are_deactivated_not_deleted(books):
    issued(books, books.acme, "2026-03-01", "10.00")
    services.invoice_create(
        company=books.company,
        customer=books.globex,
        date=day("2026-03-01"),
        lines=[{"item": books.widget.pk, "quantity": "1"}],
        by=None,
    )
    for call in (
        lambda: services.customer_delete(customer=books.acme, by=None),
        lambda: services.item_delete(item=books.widget, by=None),
    ):
        with pytest.raises(APIError) as refused:
            call()
        assert (refused.value.status_code, refused.value.details["reason"]) == (409, "in_use")
    lonely = services.customer_create(company=books.company, name="Lonely", by=None)
    services.customer_delete(customer=lonely, by=None)
    assert not Customer.objects.filter(pk=lonely.pk).exists()
    assert AuditEvent.objects.filter(
        object_type="sales.customer", action="delete", object_id=str(lonely.pk)
    ).exists()


def test_items_default_to_the_revenue_account_and_check_their_price(books):
    item = services.item_create(company=books.company, name="Gift card", unit_price="25", by=None)
    assert (item.revenue_account.code, item.tax_rate, item.unit_price) == ("4000", None, Decimal("25"))
    before = written(books.company)
    for arguments, code in (
        ({"unit_price": "25.001"}, "currency_precision"),
        ({"unit_price": "-1"}, "validation_error"),
        ({"unit_price": "abc"}, "validation_error"),
        ({"unit_price": "1", "revenue_account": "1010"}, "invalid_account"),
        ({"unit_price": "1", "tax_rate": 999999}, "invalid_tax_rate"),
    ):
        with pytest.raises(APIError) as refused:
            services.item_create(company=books.company, name="Bad", by=None, **arguments)
        assert refused.value.code == code
    assert written(books.company) == before


def test_revenue_and_tax_are_never_kept_on_accounts_payable_or_revenue_on_the_tax_account(books):
    # given liability accounts the service takes for revenue (deferred revenue) and tax, and two
    # liabilities kept for something else: accounts payable (2000) and the tax payable account (2200)
    before = written(books.company)
    refusals = (
        (
            lambda: services.item_create(
                company=books.company, name="Bad", unit_price="1", revenue_account="2000", by=None
            ),
            "revenue_account",
            "Account 2000 is accounts payable; revenue needs an income (or deferred-revenue liability) account.",
        ),
        (
            lambda: services.item_create(
                company=books.company, name="Bad", unit_price="1", revenue_account="2200", by=None
            ),
            "revenue_account",
            "Account 2200 is the tax payable account; revenue needs an income (or deferred-revenue liability) account.",
        ),
        (
            lambda: services.tax_rate_create(
                company=books.company, name="Bad", rate="5", account="2000", by=None
            ),
            "account",
            "Account 2000 is accounts payable; tax needs a tax liability account.",
        ),
        (
            lambda: services.invoice_create(
                company=books.company,
                customer=books.acme,
                date=day("2026-03-01"),
                by=None,
                lines=[{"description": "Fee", "quantity": "1", "unit_price": "10", "account": "2000"}],
            ),
            None,
            "Account 2000 is accounts payable",
        ),
    )
    # when each is given where revenue or tax is kept, it is refused, nothing written
    for call, field, message in refusals:
        with pytest.raises(APIError) as refused:
            call()
        assert refused.value.code == "invalid_account"
        if field:
            assert refused.value.details[field] == [message]
        else:
            assert message in refused.value.message
    assert written(books.company) == before
    # while deferred revenue (2500, a liability of no system role) still takes revenue
    deferred = services.item_create(
        company=books.company, name="Annual plan", unit_price="120", revenue_account="2500", by=None
    )
    assert deferred.revenue_account.code == "2500"


def test_a_tax_rate_in_use_is_deactivated_never_changed_or_deleted(books):
    rate = services.tax_rate_create(company=books.company, name="Hotel tax", rate="7.125", by=None)
    assert (rate.account.code, str(rate)) == ("2200", "Hotel tax (7.125%)")
    changed = services.tax_rate_update(tax_rate=rate, by=None, rate="7.5")  # not used yet: fine
    assert changed.rate == Decimal("7.5")
    services.invoice_create(
        company=books.company,
        customer=books.acme,
        date=day("2026-03-01"),
        lines=[{"description": "Night", "quantity": "1", "unit_price": "100", "tax_rate": rate.pk}],
        by=None,
    )
    before = written(books.company)
    for call in (
        lambda: services.tax_rate_update(tax_rate=rate, by=None, rate="8"),
        lambda: services.tax_rate_update(tax_rate=rate, by=None, account="2100"),
        lambda: services.tax_rate_delete(tax_rate=rate, by=None),
    ):
        with pytest.raises(APIError) as refused:
            call()
        assert (refused.value.code, refused.value.status_code) == ("tax_rate_in_use", 409)
    assert written(books.company) == before
    inactive = services.tax_rate_update(
        tax_rate=rate, by=None, is_active=False, name="Hotel tax (until 2026)"
    )
    assert (inactive.is_active, inactive.rate) == (False, Decimal("7.5"))
    # the name is free again for the new rate
    services.tax_rate_create(company=books.company, name="Hotel tax", rate="8", by=None)
    assert TaxRate.objects.filter(company=books.company, name__startswith="Hotel tax").count() == 2


def test_tax_rates_are_validated(books):
    before = written(books.company)
    for arguments, code in (
        ({"rate": "101"}, "validation_error"),
        ({"rate": "-1"}, "validation_error"),
        ({"rate": "1.00001"}, "validation_error"),
        ({"rate": "5", "account": "4000"}, "invalid_account"),
        ({"rate": "5", "name": "VAT 20%"}, "conflict"),  # an active rate has the name
    ):
        with pytest.raises(APIError) as refused:
            services.tax_rate_create(company=books.company, by=None, **{"name": "New", **arguments})
        assert refused.value.code == code
    assert written(books.company) == before


def test_unused_tax_rates_and_items_are_deleted(books):
    rate = services.tax_rate_create(company=books.company, name="Zero", rate="0", by=None)
    item = services.item_create(company=books.company, name="Spare", unit_price="1", tax_rate=rate, by=None)
    with pytest.raises(APIError) as refused:
        services.tax_rate_delete(tax_rate=rate, by=None)
    assert refused.value.details["reason"] == "in_use"
    services.item_delete(item=item, by=None)
    services.tax_rate_delete(tax_rate=rate, by=None)
    assert not Item.objects.filter(pk=item.pk).exists() and not TaxRate.objects.filter(pk=rate.pk).exists()


def test_sales_settings_choose_the_exchange_difference_account(books):
    from accounts.services import account_create

    fx = account_create(
        company=books.company, code="7200", name="Realised FX", type="expense", parent=None, by=None
    )
    settings = services.sales_settings_update(
        company=books.company,
        by=None,
        legal_name="Sales Co Ltd",
        address="1 High St",
        payment_instructions="IBAN GB00 0000",
        fx_gain_loss_account="7200",
    )
    assert SalesSettings.objects.get(company=books.company).fx_gain_loss_account_id == fx.pk
    assert settings.legal_name == "Sales Co Ltd"
    eur_rate(books, "2026-03-01", "1.10")
    invoice = services.invoice_create(
        company=books.company,
        customer=books.euro,
        date=day("2026-03-10"),
        lines=[{"description": "x", "quantity": "1", "unit_price": "100.00", "tax_rate": None}],
        by=None,
        issue=True,
    )
    payment = services.payment_record(
        company=books.company,
        customer=books.euro,
        date=day("2026-03-20"),
        amount="100.00",
        fx_rate="1.00",
        by=None,
        allocations=[{"invoice": invoice.pk, "amount": "100.00"}],
    )
    assert [ln.account.code for ln in payment.journal_entry.lines.order_by("line_no")] == [
        "1010",
        "1100",
        "7200",
        "1100",
    ]
    with pytest.raises(APIError) as refused:
        services.sales_settings_update(company=books.company, by=None, fx_gain_loss_account="1010")
    assert refused.value.code == "invalid_account"
