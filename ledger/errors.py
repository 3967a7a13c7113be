"""Errors raised by the ledger services, each with its stable code."""

from sofinance.errors import Conflict, DomainError, ValidationFailed


class UnbalancedEntry(DomainError):
    code = "unbalanced_entry"
    default_message = "The entry does not balance."


class InvalidAccount(DomainError):
    code = "invalid_account"
    default_message = "The account cannot be posted to."


class CurrencyPrecision(DomainError):
    code = "currency_precision"
    default_message = "The amount has more decimal places than its currency allows."


class MissingExchangeRate(DomainError):
    code = "missing_exchange_rate"
    default_message = "No exchange rate is given or stored for this currency and date."


class PeriodClosed(DomainError):
    code = "period_closed"
    default_message = "The date falls in a closed or locked period."


class PeriodLocked(Conflict):
    reason = "period_locked"
    default_message = "The period is locked and cannot change."


class PeriodOverlap(Conflict):
    reason = "period_overlap"
    default_message = "The period overlaps another period."


class EntryImmutable(Conflict):
    code = "entry_immutable"
    default_message = "A posted entry cannot be changed; correct it with a reversal."


class AlreadyReversed(Conflict):
    reason = "already_reversed"
    default_message = "The entry has already been reversed."


class NotPosted(Conflict):
    reason = "entry_not_posted"
    default_message = "Only posted entries can be reversed."


class InvalidLine(ValidationFailed):
    """A line's shape is wrong (no side, both sides, zero or negative, not a number)."""


class FiscalYearError(DomainError):
    code = "fiscal_year_error"
    default_message = "The fiscal year cannot be closed or reopened."
