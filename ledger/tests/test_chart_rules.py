"""Chart-of-accounts rules that involve postings: leaves only, no deletion once used, tree moves."""

import pytest

from accounts import errors as account_errors
from accounts.models import Account
from accounts.services import account_create, account_delete, account_update
from ledger import errors
from ledger.tests.factories import account, company_with_chart, post_entry
from sofinance.permissions import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def books():
    return company_with_chart()


def test_an_account_with_postings_cannot_be_deleted_only_deactivated(books):
    post_entry(books, "2026-01-05", ("6100", "10.00", "D"), ("1000", "10.00", "C"))
    rent = account(books, "6100")
    with pytest.raises(account_errors.AccountInUse):
        account_delete(account=rent, by=None)
    assert Account.objects.filter(pk=rent.pk).exists()
    account_update(account=rent, by=None, is_active=False)
    with pytest.raises(errors.InvalidAccount):
        post_entry(books, "2026-01-06", ("6100", "10.00", "D"), ("1000", "10.00", "C"))


def test_an_unused_leaf_account_can_be_deleted(books):
    account_delete(account=account(books, "6990"), by=None)
    assert not Account.objects.filter(company=books, code="6990").exists()


def test_parent_accounts_are_not_postable_and_used_accounts_get_no_children(books):
    with pytest.raises(errors.InvalidAccount):
        post_entry(books, "2026-01-05", ("60", "10.00", "D"), ("1000", "10.00", "C"))
    post_entry(books, "2026-01-05", ("6100", "10.00", "D"), ("1000", "10.00", "C"))
    with pytest.raises(account_errors.InvalidAccount):
        account_create(
            company=books,
            code="6101",
            name="Office rent",
            type="expense",
            parent=account(books, "6100"),
            by=None,
        )
    assert not Account.objects.filter(company=books, code="6101").exists()


def test_sub_accounts_share_their_parents_type(books):
    with pytest.raises(account_errors.InvalidAccount):
        account_create(
            company=books, code="6150", name="Odd", type="asset", parent=account(books, "60"), by=None
        )
    with pytest.raises(account_errors.InvalidAccount):
        account_update(account=account(books, "6200"), by=None, parent=account(books, "10"))
    assert account(books, "6200").parent == account(books, "60")


def test_moving_an_account_rewrites_only_its_subtree(books):
    # given a small subtree 65 > 6510 > 6511 under operating expenses
    group = account_create(
        company=books, code="65", name="Marketing", type="expense", parent=account(books, "60"), by=None
    )
    mid = account_create(company=books, code="6510", name="Online", type="expense", parent=group, by=None)
    leaf = account_create(company=books, code="6511", name="Search ads", type="expense", parent=mid, by=None)
    untouched = account(books, "6100").updated_at
    # when the group moves to the top level
    account_update(account=group, by=None, parent=None)
    # then its descendants follow, and nothing else is rewritten
    leaf.refresh_from_db()
    mid.refresh_from_db()
    assert (mid.path, mid.depth, leaf.path, leaf.depth) == ("65/6510", 1, "65/6510/6511", 2)
    assert account(books, "6100").updated_at == untouched
    # and an account cannot move under its own descendant
    with pytest.raises(account_errors.InvalidAccount):
        account_update(account=account(books, "65"), by=None, parent=leaf)


def test_recoding_an_account_updates_descendant_paths(books):
    account_update(account=account(books, "60"), by=None, code="61")
    assert account(books, "6100").path == "61/6100"


def test_account_delete_through_the_api_is_a_conflict_when_used(books, make_member):
    _, admin = make_member(books, Role.ADMIN)
    post_entry(books, "2026-01-05", ("6100", "10.00", "D"), ("1000", "10.00", "C"))
    response = admin.delete(f"/api/v1/companies/{books.pk}/accounts/{account(books, '6100').pk}")
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "conflict",
        "message": "The account has postings or sub-accounts; deactivate it instead.",
        "details": {"reason": "account_in_use"},
    }
    response = admin.patch(
        f"/api/v1/companies/{books.pk}/accounts/{account(books, '6100').pk}",
        {"is_active": False},
        format="json",
    )
    assert response.json()["data"]["is_active"] is False
