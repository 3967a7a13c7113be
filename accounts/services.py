"""Writes for users, companies, memberships and the chart of accounts.

Each service runs in one transaction and records its audit event inside it.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, ProtectedError, Q, Value
from django.db.models.functions import Concat, Substr
from django.template.loader import render_to_string
from django.utils import timezone

from accounts import errors
from accounts.chart_templates import TEMPLATES, TemplateAccount
from accounts.models import (
    PATH_SEPARATOR,
    Account,
    AccountType,
    Company,
    Invitation,
    InvitationStatus,
    Membership,
    RefreshToken,
    User,
    UserPreference,
)
from accounts.selectors import invitation_token_hash
from audit.changes import diff, snapshot
from audit.models import AuditAction
from audit.services import audit_record
from sofinance.errors import APIError
from sofinance.money import is_valid_currency
from sofinance.permissions import Role

COMPANY_FIELDS = ("name", "currency", "fiscal_year_start")
ACCOUNT_FIELDS = (
    "code",
    "name",
    "type",
    "parent",
    "currency",
    "is_active",
    "system_role",
    "description",
)


def _full_clean(obj, *, exclude: list[str] | None = None) -> None:
    try:
        obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except DjangoValidationError as exc:
        raise errors.InvalidCompany("The request is invalid.", details=exc.message_dict) from exc


# --------------------------------------------------------------------------- users


def user_create(
    *,
    username: str,
    email: str,
    password: str | None,
    is_staff: bool = False,
    is_superuser: bool = False,
    by: User | None = None,
    **extra: Any,
) -> User:
    """Create a user; usernames and emails are unique (emails case-insensitively)."""
    with transaction.atomic():
        if User.objects.filter(Q(username=username) | Q(email__iexact=email)).exists():
            raise errors.MembershipConflict("A user with this username or email already exists.")
        user = User(username=username, email=email, is_staff=is_staff, is_superuser=is_superuser, **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        audit_record(action="create", obj=user, actor=by, changes=diff(None, snapshot(user)))
    return user


# --------------------------------------------------------------------------- refresh tokens

REVOKED_BY_LOGOUT = "logout"
REVOKED_BY_REUSE = "reuse"


def _refresh_token_create(*, user: User, family: uuid.UUID) -> RefreshToken:
    now = timezone.now()
    return RefreshToken.objects.create(
        jti=uuid.uuid4().hex,
        family=family,
        user=user,
        issued_at=now,
        expires_at=now + settings.JWT_REFRESH_TOKEN_LIFETIME,
    )


def refresh_token_issue(*, user: User) -> RefreshToken:
    """The first refresh token of a login: it starts a new family."""
    with transaction.atomic():
        return _refresh_token_create(user=user, family=uuid.uuid4())


def _family_revoke(*, family: uuid.UUID, reason: str) -> int:
    return RefreshToken.objects.filter(family=family, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason=reason
    )


def refresh_token_rotate(*, jti: str, subject: str) -> RefreshToken:
    """Use a refresh token once: it is marked used and its successor (same family) is returned.

    A token used a second time was copied (or a client replayed it): the whole family, every
    token descending from the same login, is revoked and the use is refused. The revocation
    commits even though the request fails, and is audited. A revoked or unknown token, or one of
    an inactive user, is refused.
    """
    with transaction.atomic():
        token = (
            RefreshToken.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(jti=jti)
            .first()
        )
        if token is None or str(token.user_id) != subject:
            raise errors.RefreshTokenRefused()
        if token.revoked_at is not None:
            raise errors.RefreshTokenRevoked()
        if token.used_at is None:
            if not token.user.is_active:
                raise errors.RefreshTokenRefused("User not found or inactive.")
            token.used_at = timezone.now()
            token.save(update_fields=["used_at"])
            return _refresh_token_create(user=token.user, family=token.family)
        revoked = _family_revoke(family=token.family, reason=REVOKED_BY_REUSE)
        audit_record(
            action=AuditAction.REVOKE,
            obj=token.user,
            actor=token.user,
            metadata={"reason": "refresh_token_reused", "family": str(token.family), "revoked": revoked},
        )
    raise errors.RefreshTokenReused()


def refresh_token_revoke(*, jti: str, subject: str) -> int:
    """Log out: revoke the refresh token and every token of its family (its login).

    Access tokens already issued keep working until they expire (JWT_ACCESS_TOKEN_LIFETIME).
    Revoking a revoked family again changes nothing; returns how many tokens were revoked.
    """
    with transaction.atomic():
        token = (
            RefreshToken.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(jti=jti)
            .first()
        )
        if token is None or str(token.user_id) != subject:
            raise errors.RefreshTokenRefused()
        revoked = _family_revoke(family=token.family, reason=REVOKED_BY_LOGOUT)
        if revoked:
            audit_record(
                action=AuditAction.LOGOUT,
                obj=token.user,
                actor=token.user,
                metadata={"channel": "api", "family": str(token.family), "revoked": revoked},
            )
    return revoked


def refresh_tokens_purge() -> int:
    """Delete the rows of refresh tokens that have expired (they are refused by their signature's
    expiry anyway); returns how many."""
    deleted, _ = RefreshToken.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted


# --------------------------------------------------------------------------- companies


def company_create(
    *,
    name: str,
    currency: str,
    fiscal_year_start: int = 1,
    created_by: User,
    chart_template: str | None = None,
) -> Company:
    """Create a company; its creator becomes its admin. Optionally load a chart template."""
    currency = (currency or "").upper()
    if not is_valid_currency(currency):
        raise errors.InvalidCompany(details={"currency": [f"{currency!r} is not an ISO 4217 code."]})
    if chart_template and chart_template not in TEMPLATES:
        # Said of the field the request named, before anything is written.
        raise errors.UnknownChartTemplate(
            details={"chart_template": [f"Choose one of: {', '.join(sorted(TEMPLATES))}."]}
        )
    company = Company(
        name=name, currency=currency, fiscal_year_start=fiscal_year_start, created_by=created_by
    )
    _full_clean(company, exclude=["created_by"])
    with transaction.atomic():
        company.save()
        audit_record(
            action="create",
            company=company,
            obj=company,
            actor=created_by,
            changes=diff(None, snapshot(company, COMPANY_FIELDS)),
        )
        membership = Membership.objects.create(user=created_by, company=company, role=Role.ADMIN)
        audit_record(
            action="create",
            company=company,
            obj=membership,
            actor=created_by,
            changes=diff(None, {"user": created_by.pk, "role": Role.ADMIN}),
        )
        if chart_template:
            chart_template_load(company=company, template=chart_template, by=created_by)
    return company


def company_change_check(company: Company, field: str, value: Any) -> None:
    """Refuse a change of `field` the company's books no longer allow (InvalidCompany naming the
    field): the functional currency once it has accounts (every stored base amount is in it),
    the fiscal year start while a fiscal year is closed (a closed year's closing entry moved that
    year's income into retained earnings; with another start month the years overlapping it
    would be closed again and the same income moved twice). The admin's company form asks too."""
    message = None
    if field == "currency" and value != company.currency and company.accounts.exists():
        message = "The functional currency cannot change once the company has accounts."
    elif (
        field == "fiscal_year_start"
        and value != company.fiscal_year_start
        and (closed := _closed_years(company))
    ):
        message = (
            "The fiscal year start cannot change while a fiscal year is closed: reopen the closed "
            f"years first (their closing entries were made for the current start; closed: {closed})."
        )
    if message:
        raise errors.InvalidCompany(message, details={field: [message]})


def company_update(*, company: Company, by: User, **fields: Any) -> Company:
    """Change a company's name or fiscal year start. The functional currency is fixed once
    the company has accounts, because every stored base amount is in it."""
    with transaction.atomic():
        company = Company.objects.select_for_update(no_key=True).get(pk=company.pk)
        before = snapshot(company, COMPANY_FIELDS)
        for key, value in fields.items():
            if key not in COMPANY_FIELDS:
                raise errors.InvalidCompany(details={key: ["This field cannot be changed."]})
            if key == "currency":
                value = (value or "").upper()
            company_change_check(company, key, value)
            setattr(company, key, value)
        _full_clean(company, exclude=["created_by"])
        changes = diff(before, snapshot(company, COMPANY_FIELDS))
        if changes:
            company.save()
            audit_record(action="update", company=company, obj=company, actor=by, changes=changes)
    return company


def preferred_company_set(*, user: User, company: Company) -> UserPreference:
    """Remember the company `user` works in (the admin opens in it next time). Only a company
    where the user is a member, or any company for a superuser; unchanged choices write nothing."""
    if not user.is_superuser and not Membership.objects.filter(user=user, company=company).exists():
        raise errors.NotAMember("You are not a member of this company.")
    with transaction.atomic():
        preference, _ = UserPreference.objects.select_for_update().get_or_create(user=user)
        if preference.company_id == company.pk:
            return preference
        before = preference.company_id
        preference.company = company
        preference.save(update_fields=["company", "updated_at"])
        audit_record(
            action="update",
            company=None,
            obj=preference,
            actor=user,
            changes={"company": {"before": before, "after": company.pk}},
        )
    return preference


# --------------------------------------------------------------------------- memberships


def _admin_count(company: Company) -> int:
    return Membership.objects.filter(company=company, role=Role.ADMIN).count()


def membership_add(*, company: Company, user: User, role: str, by: User | None) -> Membership:
    """Give a user a role in a company (one membership per user and company)."""
    if role not in Role.values:
        raise errors.InvalidCompany(details={"role": [f"{role!r} is not a role."]})
    with transaction.atomic():
        if Membership.objects.filter(company=company, user=user).exists():
            raise errors.MembershipConflict("This user is already a member of the company.")
        membership = Membership.objects.create(company=company, user=user, role=role)
        audit_record(
            action="create",
            company=company,
            obj=membership,
            actor=by,
            changes=diff(None, {"user": user.pk, "role": role}),
        )
    return membership


# --------------------------------------------------------------------------- invitations

INVITATION_FIELDS = ("email", "role", "status", "expires_at")


def _lock_company(company: Company) -> None:
    """Serialise the membership changes of one company (invitations and their checks)."""
    list(Company.objects.select_for_update(no_key=True).filter(pk=company.pk))


def _normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError as exc:
        raise errors.InvalidCompany(details={"email": ["Enter a valid email address."]}) from exc
    return email


def _send_invitation_email(*, invitation_id: int, token: str) -> None:
    invitation = Invitation.objects.select_related("company", "invited_by").get(pk=invitation_id)
    accept_url = settings.INVITATION_ACCEPT_URL
    context = {
        "invitation": invitation,
        "token": token,
        "accept_link": f"{accept_url}{'&' if '?' in accept_url else '?'}token={token}" if accept_url else "",
        "inviter": invitation.invited_by.get_full_name() or invitation.invited_by.username
        if invitation.invited_by
        else "An administrator",
    }
    send_mail(
        subject=f"You are invited to join {invitation.company.name} on SOFinance",
        message=render_to_string("accounts/email/invitation.txt", context),
        from_email=None,  # DEFAULT_FROM_EMAIL
        recipient_list=[invitation.email],
    )


def invitation_create(*, company: Company, email: str, role: str, by: User | None) -> Invitation:
    """Invite an email address to a role in the company.

    The invitee becomes a member only by accepting (`invitation_accept`). The answer is the same
    whether or not the address has an account; only an address that is already a member of this
    company (the company's admins see those anyway) is refused. Inviting an address again
    replaces its pending invitation (a new token and expiry: a resend). The email with the token
    is sent after commit; only the token's hash is stored.
    """
    email = _normalise_email(email)
    if role not in Role.values:
        raise errors.InvalidCompany(details={"role": [f"{role!r} is not a role."]})
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        _lock_company(company)
        if Membership.objects.filter(company=company, user__email__iexact=email).exists():
            raise errors.AlreadyMember()
        for previous in Invitation.objects.select_for_update().filter(
            company=company, email=email, status=InvitationStatus.PENDING
        ):
            _invitation_set_status(previous, InvitationStatus.REVOKED, by=by, reason="replaced")
        invitation = Invitation.objects.create(
            company=company,
            email=email,
            role=role,
            token_hash=invitation_token_hash(token),
            invited_by=by,
            expires_at=timezone.now() + settings.INVITATION_TTL,
        )
        audit_record(
            action="create",
            company=company,
            obj=invitation,
            actor=by,
            changes=diff(None, snapshot(invitation, INVITATION_FIELDS)),
        )
        invitation_id = invitation.pk
        transaction.on_commit(
            lambda: _send_invitation_email(invitation_id=invitation_id, token=token), robust=True
        )
    return invitation


def _invitation_set_status(invitation: Invitation, status: str, *, by: User | None, reason: str = "") -> None:
    before = invitation.status
    invitation.status = status
    now = timezone.now()
    if status == InvitationStatus.REVOKED:
        invitation.revoked_at = now
    elif status == InvitationStatus.ACCEPTED:
        invitation.accepted_at, invitation.accepted_by = now, by
    invitation.save(update_fields=["status", "revoked_at", "accepted_at", "accepted_by"])
    audit_record(
        action="update",
        company=invitation.company_id,
        obj=invitation,
        actor=by,
        changes={"status": {"before": before, "after": status}},
        metadata={"reason": reason} if reason else None,
    )


def invitation_revoke(*, invitation: Invitation, by: User | None) -> Invitation:
    """Withdraw a pending invitation: its token no longer works."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.status != InvitationStatus.PENDING:
            raise errors.InvitationNotPending(
                f"This invitation is {invitation.status} and cannot be revoked."
            )
        _invitation_set_status(invitation, InvitationStatus.REVOKED, by=by)
    return invitation


def _pending_invitation(token: str) -> Invitation:
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("company")
        .filter(token_hash=invitation_token_hash(token or ""))
        .first()
    )
    if invitation is None:
        raise errors.InvitationNotFound()
    if invitation.status != InvitationStatus.PENDING:
        raise errors.InvitationNotPending(f"This invitation was {invitation.status}.")
    if invitation.expires_at <= timezone.now():
        raise errors.InvitationNotPending("This invitation has expired; ask for a new one.")
    return invitation


def user_staff_grant(*, user: User, by: User | None, reason: str) -> User:
    """Let `user` log in to the admin (is_staff), never as a superuser; recorded with `reason`.
    A user who is staff already is left as is, and nothing is recorded.

    The flag opens the admin's door and nothing more: what a staff member sees and changes there
    is their role's, company by company (accounts.backends.RolePermissionBackend, the company-
    scoped admin pages). Granted when a person accepts an invitation on the admin's accept page
    (accounts.admin_members); accepting through the API leaves it as it is."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.is_staff:
            return locked
        locked.is_staff = True
        locked.save(update_fields=["is_staff"])
        audit_record(
            action=AuditAction.UPDATE,
            obj=locked,
            actor=by,
            changes={"is_staff": {"before": False, "after": True}},
            metadata={"reason": reason},
        )
    user.is_staff = True
    return locked


def invitation_accept(*, token: str, user: User) -> Membership:
    """Accept an invitation as `user`, who must own the invited address; makes the membership."""
    with transaction.atomic():
        invitation = _pending_invitation(token)
        if user.email.strip().lower() != invitation.email:
            raise errors.InvitationForAnotherEmail()
        membership = membership_add(company=invitation.company, user=user, role=invitation.role, by=user)
        _invitation_set_status(invitation, InvitationStatus.ACCEPTED, by=user)
    return membership


def invitation_accept_with_signup(
    *, token: str, username: str, password: str, first_name: str = "", last_name: str = ""
) -> Membership:
    """Accept an invitation by creating the invitee's account (with the invited address and the
    name they give: colleagues see members by name).

    The password must pass the configured validators. An address that already has an account
    is refused: its owner logs in and accepts.
    """
    with transaction.atomic():
        invitation = _pending_invitation(token)
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise errors.MembershipConflict(
                "An account with this email address exists: log in and accept the invitation."
            )
        try:
            validate_password(
                password,
                user=User(
                    username=username, email=invitation.email, first_name=first_name, last_name=last_name
                ),
            )
        except DjangoValidationError as exc:
            raise errors.InvalidCompany(details={"password": exc.messages}) from exc
        user = user_create(
            username=username,
            email=invitation.email,
            password=password,
            by=None,
            first_name=" ".join((first_name or "").split())[:150],
            last_name=" ".join((last_name or "").split())[:150],
        )
        membership = membership_add(company=invitation.company, user=user, role=invitation.role, by=user)
        _invitation_set_status(invitation, InvitationStatus.ACCEPTED, by=user)
    return membership


def last_admin_refusal(membership: Membership, *, role: str | None = None) -> APIError | None:
    """Why taking `membership`'s admin role away (a new `role`, or None: removing it) is refused
    as things stand: the company's last admin. A page asks this before it offers "Yes"; the
    services ask again under the admin rows' lock."""
    if membership.role == Role.ADMIN and role != Role.ADMIN and _admin_count(membership.company) <= 1:
        return errors.MembershipConflict("A company must keep at least one admin.")
    return None


def membership_change_role(*, membership: Membership, role: str, by: User | None) -> Membership:
    """Change a member's role; a company always keeps at least one admin."""
    if role not in Role.values:
        raise errors.InvalidCompany(details={"role": [f"{role!r} is not a role."]})
    with transaction.atomic():
        # Lock the company's admin rows so two demotions cannot both pass the last-admin check.
        list(
            Membership.objects.select_for_update()
            .filter(company_id=membership.company_id, role=Role.ADMIN)
            .order_by("pk")
        )
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if membership.role == role:
            return membership
        if (refusal := last_admin_refusal(membership, role=role)) is not None:
            raise refusal
        before = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        audit_record(
            action="update",
            company=membership.company_id,
            obj=membership,
            actor=by,
            changes={"role": {"before": before, "after": role}},
        )
    return membership


def membership_remove(*, membership: Membership, by: User | None) -> None:
    """Remove a member; the last admin cannot be removed."""
    with transaction.atomic():
        list(
            Membership.objects.select_for_update()
            .filter(company_id=membership.company_id, role=Role.ADMIN)
            .order_by("pk")
        )
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if (refusal := last_admin_refusal(membership)) is not None:
            raise refusal
        audit_record(
            action="delete",
            company=membership.company_id,
            obj=membership,
            actor=by,
            changes=diff({"user": membership.user_id, "role": membership.role}, None),
        )
        membership.delete()


# --------------------------------------------------------------------------- chart of accounts


def _closed_years(company: Company) -> str:
    """The company's closed fiscal years, "2024-01-01 – 2024-12-31, …" ("" when none).
    `fiscal_year_closes` is the reverse accessor of ledger.FiscalYearClose.company."""
    closed = company.fiscal_year_closes.filter(reopened_at__isnull=True).order_by("start_date")
    return ", ".join(f"{start} – {end}" for start, end in closed.values_list("start_date", "end_date"))


def _has_postings(account: Account) -> bool:
    # `journal_lines` is the reverse accessor of ledger.JournalLine.account (PROTECT).
    return account.journal_lines.exists()


def _check_parent(*, company: Company, parent: Account | None, type_: str, account: Account | None) -> None:
    if parent is None:
        return
    if parent.company_id != company.pk:
        raise errors.InvalidAccount(
            "The parent account belongs to another company.", details={"parent": parent.pk}
        )
    if parent.type != type_:
        raise errors.InvalidAccount(
            f"A sub-account must have its parent's type ({parent.type}).",
            details={"parent": parent.pk, "type": type_},
        )
    if account is not None:
        prefix = account.path + PATH_SEPARATOR
        if parent.pk == account.pk or parent.path.startswith(prefix):
            raise errors.InvalidAccount("An account cannot be moved under itself or its descendants.")
    if _has_postings(parent):
        raise errors.InvalidAccount(
            "The parent account has postings; only accounts without postings can have sub-accounts.",
            details={"parent": parent.pk},
        )


def _validate_account_fields(account: Account) -> None:
    try:
        account.full_clean(
            exclude=["company", "parent", "path", "depth"], validate_unique=False, validate_constraints=False
        )
    except DjangoValidationError as exc:
        raise errors.InvalidCompany("The request is invalid.", details=exc.message_dict) from exc


def account_create(
    *,
    company: Company,
    code: str,
    name: str,
    type: str,
    parent: Account | None = None,
    currency: str = "",
    is_active: bool = True,
    system_role: str = "",
    description: str = "",
    by: User | None,
) -> Account:
    """Add an account to the chart. Sub-accounts share their parent's type; codes are unique."""
    if type not in AccountType.values:
        raise errors.InvalidCompany(details={"type": [f"{type!r} is not an account type."]})
    account = Account(
        company=company,
        code=code,
        name=name,
        type=type,
        parent=parent,
        currency=(currency or "").upper(),
        is_active=is_active,
        system_role=system_role or "",
        description=description or "",
    )
    if account.currency == company.currency:
        account.currency = ""  # an account in the functional currency needs no currency of its own
    _validate_account_fields(account)
    with transaction.atomic():
        if parent is not None:
            parent = Account.objects.select_for_update().get(pk=parent.pk)
        _check_parent(company=company, parent=parent, type_=type, account=None)
        if Account.objects.filter(company=company, code=code).exists():
            raise errors.DuplicateAccountCode(details={"code": code})
        if system_role and Account.objects.filter(company=company, system_role=system_role).exists():
            raise errors.DuplicateAccountCode(
                f"Another account already has the role {system_role!r}.", details={"system_role": system_role}
            )
        account.path = (parent.path + PATH_SEPARATOR if parent else "") + code
        account.depth = (parent.depth + 1) if parent else 0
        try:
            with transaction.atomic():
                account.save()
        except IntegrityError as exc:
            raise errors.DuplicateAccountCode(details={"code": code}) from exc
        audit_record(
            action="create",
            company=company,
            obj=account,
            actor=by,
            changes=diff(None, snapshot(account, ACCOUNT_FIELDS)),
        )
    return account


def account_update(*, account: Account, by: User | None, **fields: Any) -> Account:
    """Change an account. Moving or re-coding rewrites only the account's own subtree paths."""
    with transaction.atomic():
        account = Account.objects.select_for_update(of=("self",)).select_related("company").get(pk=account.pk)
        company = account.company
        before = snapshot(account, ACCOUNT_FIELDS)
        old_path, old_depth = account.path, account.depth
        for key, value in fields.items():
            if key not in ACCOUNT_FIELDS:
                raise errors.InvalidCompany(details={key: ["This field cannot be changed."]})
            if key == "currency":
                value = (value or "").upper()
                if value == company.currency:
                    value = ""
            setattr(account, key, value)
        changes = diff(before, snapshot(account, ACCOUNT_FIELDS))
        if not changes:
            return account
        _validate_account_fields(account)
        if "type" in changes and account.children.exists():
            raise errors.InvalidAccount("An account with sub-accounts cannot change its type.")
        if ("currency" in changes or "type" in changes) and _has_postings(account):
            raise errors.InvalidAccount("The type and currency of an account with postings cannot change.")
        parent = account.parent
        if "parent" in changes or "type" in changes:
            if parent is not None:
                parent = Account.objects.select_for_update().get(pk=parent.pk)
            _check_parent(company=company, parent=parent, type_=account.type, account=account)
        if (
            "code" in changes
            and Account.objects.filter(company=company, code=account.code).exclude(pk=account.pk).exists()
        ):
            raise errors.DuplicateAccountCode(details={"code": account.code})
        if (
            "system_role" in changes
            and account.system_role
            and Account.objects.filter(company=company, system_role=account.system_role)
            .exclude(pk=account.pk)
            .exists()
        ):
            raise errors.DuplicateAccountCode(
                f"Another account already has the role {account.system_role!r}.",
                details={"system_role": account.system_role},
            )
        account.path = (parent.path + PATH_SEPARATOR if parent else "") + account.code
        account.depth = (parent.depth + 1) if parent else 0
        account.save()
        if account.path != old_path:
            # Rewrite descendants' paths and depths in one statement: only this subtree moves.
            Account.objects.filter(company=company, path__startswith=old_path + PATH_SEPARATOR).update(
                path=Concat(Value(account.path), Substr("path", len(old_path) + 1)),
                depth=F("depth") + (account.depth - old_depth),
            )
        audit_record(action="update", company=company, obj=account, actor=by, changes=changes)
    return account


def account_delete(*, account: Account, by: User | None) -> None:
    """Delete an account that has never been posted to and has no sub-accounts."""
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        if account.children.exists() or _has_postings(account):
            raise errors.AccountInUse()
        audit_record(
            action="delete",
            company=account.company_id,
            obj=account,
            actor=by,
            changes=diff(snapshot(account, ACCOUNT_FIELDS), None),
        )
        try:
            with transaction.atomic():
                account.delete()
        except ProtectedError as exc:
            raise errors.AccountInUse() from exc


def chart_template_load(*, company: Company, template: str, by: User | None) -> list[Account]:
    """Load a standard chart. Codes the company already has are left as they are.

    Set-based: one insert per tree level and one audit event listing what was created.
    """
    rows: list[TemplateAccount] | None = TEMPLATES.get(template)
    if rows is None:
        raise errors.UnknownChartTemplate(
            details={"template": [f"Choose one of: {', '.join(sorted(TEMPLATES))}."]}
        )
    created: list[Account] = []
    with transaction.atomic():
        _lock_chart(company)
        existing = {a.code: a for a in Account.objects.filter(company=company)}
        taken_roles = {a.system_role for a in existing.values() if a.system_role}
        pending = [row for row in rows if row.code not in existing]
        while pending:
            # A row is ready once its parent exists (templates list parents first, so one or two rounds).
            ready = [row for row in pending if row.parent is None or row.parent in existing]
            if not ready:
                raise errors.UnknownChartTemplate(f"Template {template!r} has rows with unknown parents.")
            batch = []
            for row in ready:
                parent = existing.get(row.parent) if row.parent else None
                if parent is not None and parent.type != row.type:
                    raise errors.InvalidAccount(f"Template row {row.code} does not share its parent's type.")
                role = row.system_role if row.system_role and row.system_role not in taken_roles else ""
                if role:
                    taken_roles.add(role)
                batch.append(
                    Account(
                        company=company,
                        code=row.code,
                        name=row.name,
                        type=row.type,
                        parent=parent,
                        system_role=role,
                        path=(parent.path + PATH_SEPARATOR if parent else "") + row.code,
                        depth=(parent.depth + 1) if parent else 0,
                    )
                )
            Account.objects.bulk_create(batch)
            for account in batch:
                existing[account.code] = account
            created += batch
            pending = [row for row in pending if row.code not in existing]
        if created:
            audit_record(
                action="create",
                company=company,
                object_type=Account._meta.label_lower,
                object_id=f"template:{template}",
                object_repr=f"Chart template {template} ({len(created)} accounts)",
                actor=by,
                metadata={"template": template, "codes": [a.code for a in created]},
            )
    return created


def _lock_chart(company: Company) -> None:
    """Serialise chart loads of one company (two concurrent loads would race on codes)."""
    list(Company.objects.select_for_update(no_key=True).filter(pk=company.pk))
