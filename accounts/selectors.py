"""Reads for users, companies, memberships and the chart of accounts."""

from __future__ import annotations

import hashlib

from django.db import connection
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


def _columns(model, alias: str) -> tuple[list[str], str]:
    names = [field.attname for field in model._meta.concrete_fields]
    return names, ", ".join(f'{alias}."{field.column}"' for field in model._meta.concrete_fields)


_MEMBERSHIP_FIELDS, _MEMBERSHIP_COLUMNS = _columns(Membership, "m")
_USER_FIELDS, _USER_COLUMNS = _columns(User, "u")
_COMPANY_FIELDS, _COMPANY_COLUMNS = _columns(Company, "c")
_MEMBERSHIP_WITH_USER = (
    f"SELECT {_MEMBERSHIP_COLUMNS}, {_USER_COLUMNS}, {_COMPANY_COLUMNS} "  # noqa: S608 - names from the models
    f"FROM {Membership._meta.db_table} m JOIN {User._meta.db_table} u ON u.id = m.user_id "
    f"JOIN {Company._meta.db_table} c ON c.id = m.company_id "
    "WHERE m.user_id = %s AND m.company_id = %s AND u.is_active"
)


def membership_with_user(*, user_id: int, company_id: int) -> Membership | None:
    """An active user's membership of a company, with the user and the company, in one query.

    Every authenticated company-scoped API request starts with it, so on PostgreSQL it is one
    fixed statement rather than an ORM query built anew each time (the building cost more than
    the query; psycopg returns the columns' Python types, no conversion is needed).
    """
    if connection.vendor != "postgresql":
        return (
            Membership.objects.select_related("user", "company")
            .filter(user_id=user_id, company_id=company_id, user__is_active=True)
            .first()
        )
    with connection.cursor() as cursor:
        cursor.execute(_MEMBERSHIP_WITH_USER, [user_id, company_id])
        row = cursor.fetchone()
    if row is None:
        return None
    first_user = len(_MEMBERSHIP_FIELDS)
    first_company = first_user + len(_USER_FIELDS)
    membership = Membership.from_db(connection.alias, _MEMBERSHIP_FIELDS, row[:first_user])
    membership.user = User.from_db(connection.alias, _USER_FIELDS, row[first_user:first_company])
    membership.company = Company.from_db(connection.alias, _COMPANY_FIELDS, row[first_company:])
    return membership


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


def invitation_token_hash(token: str) -> str:
    """What an invitation stores of its token (the token itself is only in the email)."""
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_for_token(token: str) -> Invitation | None:
    """The invitation a link's token names (only its hash is stored); None for an unknown token."""
    if not token:
        return None
    return (
        Invitation.objects.select_related("company", "invited_by")
        .filter(token_hash=invitation_token_hash(token))
        .first()
    )
