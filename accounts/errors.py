"""Errors raised by the accounts services."""

from sofinance.errors import Conflict, DomainError, NotFound, ValidationFailed


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


class UserNotFound(NotFound):
    default_message = "No active user with that username or email."


class UnknownChartTemplate(ValidationFailed):
    default_message = "Unknown chart template."
