"""Reads for users, companies, memberships and the chart of accounts."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Account, AccountRole, Company, Invitation, InvitationStatus, Membership, User

INVITATION_STATES = ("pending", "expired", "accepted", "revoked", "all")


def username_for_login(*, login: str) -> str | None:
    """The username of the account (active or not) a login names: a username, or an email in
    any case; None when no account has it."""
    usernames = User.objects.values_list("username", flat=True)
    return usernames.filter(username=login).first() or usernames.filter(email__iexact=login).first()


def membership_get(*, user: User, company_id: int) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.select_related("company").filter(user=user, company_id=company_id).first()


def user_memberships(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.select_related("company").filter(user=user).order_by("company_id")


def companies_for_user(*, user: User) -> QuerySet[Company]:
    return Company.objects.filter(memberships__user=user).order_by("id")


def company_members(*, company: Company) -> QuerySet[Membership]:
    return Membership.objects.select_related("user").filter(company=company).order_by("id")


def company_invitations(*, company: Company, state: str = "pending") -> QuerySet[Invitation]:
    """The company's invitations in one state, newest first: `pending` (still acceptable),
    `expired` (pending past their expiry), `accepted`, `revoked`, or `all`."""
    qs = (
        Invitation.objects.select_related("invited_by").filter(company=company).order_by("-created_at", "-id")
    )
    now = timezone.now()
    if state == "pending":
        return qs.filter(status=InvitationStatus.PENDING, expires_at__gt=now)
    if state == "expired":
        return qs.filter(status=InvitationStatus.PENDING, expires_at__lte=now)
    if state in (InvitationStatus.ACCEPTED, InvitationStatus.REVOKED):
        return qs.filter(status=state)
    return qs


def invitation_get(*, company: Company, pk: int) -> Invitation | None:
    return Invitation.objects.select_related("invited_by").filter(company=company, pk=pk).first()


def accounts_for_company(*, company: Company) -> QuerySet[Account]:
    return Account.objects.filter(company=company).order_by("path")


def account_get(*, company: Company, ref: int | str) -> Account | None:
    """An account by id (a JSON number / int) or by code (a string)."""
    qs = Account.objects.filter(company=company)
    if isinstance(ref, int) and not isinstance(ref, bool):
        return qs.filter(pk=ref).first()
    return qs.filter(code=str(ref)).first()


def account_is_leaf(*, account: Account) -> bool:
    return not account.children.exists()


def system_account(*, company: Company, role: AccountRole | str) -> Account | None:
    return Account.objects.filter(company=company, system_role=role).first()


def membership_roles(*, user_id: int | None) -> dict[int, str]:
    """{company_id: role} for every company where the user holds a membership."""
    if user_id is None:
        return {}
    return dict(Membership.objects.filter(user_id=user_id).values_list("company_id", "role"))
