"""Errors raised by the ledger services, each with its stable code (the codes clients rely on)."""

from enum import StrEnum

from sofinance.errors import Conflict, DomainError, NotFound, ValidationFailed


class LedgerErrorCode(StrEnum):
    """Every code and conflict reason the ledger answers with. Never rename one."""

    UNBALANCED_ENTRY = "unbalanced_entry"
    INVALID_ACCOUNT = "invalid_account"
    CURRENCY_PRECISION = "currency_precision"
    MISSING_EXCHANGE_RATE = "missing_exchange_rate"
    PERIOD_CLOSED = "period_closed"
    ENTRY_IMMUTABLE = "entry_immutable"
    ENTRY_INCONSISTENT = "entry_inconsistent"
    INVALID_BATCH = "invalid_batch"
    FISCAL_YEAR_ERROR = "fiscal_year_error"
    # reasons of a 409 `conflict`
    PERIOD_LOCKED = "period_locked"
    PERIOD_NOT_OPEN = "period_not_open"
    PERIOD_NOT_CLOSED = "period_not_closed"
    PERIOD_OVERLAP = "period_overlap"
    ALREADY_REVERSED = "already_reversed"
    ENTRY_NOT_POSTED = "entry_not_posted"


class UnbalancedEntry(DomainError):
    code = LedgerErrorCode.UNBALANCED_ENTRY
    default_message = "The entry does not balance."


class InvalidAccount(DomainError):
    code = LedgerErrorCode.INVALID_ACCOUNT
    default_message = "The account cannot be posted to."


class CurrencyPrecision(DomainError):
    code = LedgerErrorCode.CURRENCY_PRECISION
    default_message = "The amount has more decimal places than its currency allows."


class MissingExchangeRate(DomainError):
    code = LedgerErrorCode.MISSING_EXCHANGE_RATE
    default_message = "No exchange rate is given or stored for this currency and date."


class PeriodClosed(DomainError):
    code = LedgerErrorCode.PERIOD_CLOSED
    default_message = "The date falls in a closed or locked period."


class EntryInconsistent(DomainError):
    code = LedgerErrorCode.ENTRY_INCONSISTENT
    default_message = "The entry's lines disagree with the entry."


class InvalidBatch(DomainError):
    """A bulk posting refused as a whole: `details.entries` lists each refused entry by index."""

    code = LedgerErrorCode.INVALID_BATCH
    default_message = "Some entries were refused; nothing was posted."


class PeriodLocked(Conflict):
    reason = LedgerErrorCode.PERIOD_LOCKED
    default_message = "The period is locked and cannot change."


class PeriodNotOpen(Conflict):
    """Closing or deleting a period that is already closed (a locked one is `PeriodLocked`)."""

    reason = LedgerErrorCode.PERIOD_NOT_OPEN
    default_message = "The period is not open."


class PeriodNotClosed(Conflict):
    """Reopening a period that is open."""

    reason = LedgerErrorCode.PERIOD_NOT_CLOSED
    default_message = "The period is not closed."


class PeriodOverlap(Conflict):
    reason = LedgerErrorCode.PERIOD_OVERLAP
    default_message = "The period overlaps another period."


class EntryImmutable(Conflict):
    code = LedgerErrorCode.ENTRY_IMMUTABLE
    default_message = "A posted entry cannot be changed; correct it with a reversal."


class AlreadyReversed(Conflict):
    reason = LedgerErrorCode.ALREADY_REVERSED
    default_message = "The entry has already been reversed."


class NotPosted(Conflict):
    reason = LedgerErrorCode.ENTRY_NOT_POSTED
    default_message = "Only posted entries can be reversed."


class EntryNotFound(NotFound):
    """The entry is gone (deleted by another request while this one waited for it)."""

    default_message = "The journal entry does not exist."


class FiscalYearError(DomainError):
    code = LedgerErrorCode.FISCAL_YEAR_ERROR
    default_message = "The fiscal year cannot be closed or reopened."


class BalanceOutOfRange(ValidationFailed):
    """The lines would carry a stored balance (an account's day or month) past what its column
    holds (DECIMAL(22,4): 18 digits before the point). A line is below 10^15, so it takes a
    thousand of the largest lines in one account and month: never a real book, but said plainly.
    A `validation_error`, as any number the books cannot hold, with `details.reason`."""

    default_message = (
        "These lines would take an account's balance for a day or a month past the largest amount "
        "the books hold (18 digits before the point); nothing was posted."
    )
