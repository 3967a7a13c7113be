"""Errors raised by the accounts services."""

from sofinance.errors import (
    Conflict,
    DomainError,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)


class InvalidAccount(DomainError):
    code = "invalid_account"
    default_message = "The account cannot be used here."


class AccountInUse(Conflict):
    reason = "account_in_use"
    default_message = "The account has postings or sub-accounts; deactivate it instead."


class DuplicateAccountCode(Conflict):
    reason = "duplicate_code"
    default_message = "An account with this code already exists."


class InvalidCompany(ValidationFailed):
    pass


class MembershipConflict(Conflict):
    reason = "membership_conflict"
    default_message = "The membership change conflicts with the company's members."


class InvitationNotFound(NotFound):
    default_message = "No invitation has this token."


class InvitationNotPending(Conflict):
    """The invitation was accepted, revoked or has expired."""

    reason = "invitation_not_pending"
    default_message = "This invitation can no longer be accepted."


class InvitationForAnotherEmail(PermissionDenied):
    default_message = (
        "This invitation was sent to another email address; log in with the account of that address."
    )


class AlreadyMember(Conflict):
    reason = "already_member"
    default_message = "This address belongs to a member of the company already."


class UnknownChartTemplate(ValidationFailed):
    default_message = "Unknown chart template."


class RefreshTokenRefused(NotAuthenticated):
    """A refresh token that is signed and unexpired but not (or no longer) valid."""

    reason = "refresh_token_invalid"
    default_message = "The refresh token is not valid."


class RefreshTokenRevoked(RefreshTokenRefused):
    reason = "refresh_token_revoked"
    default_message = "The refresh token has been revoked; log in again."


class RefreshTokenReused(RefreshTokenRefused):
    reason = "refresh_token_reused"
    default_message = (
        "The refresh token was already used: every token of this login has been revoked; log in again."
    )


class NotAMember(PermissionDenied):
    default_message = "You are not a member of this company."
