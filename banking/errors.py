"""Errors raised by the banking services, each with its stable code (the codes clients rely on)."""

from enum import StrEnum

from sofinance.errors import Conflict, DomainError, ValidationFailed


class BankingErrorCode(StrEnum):
    """Every code and conflict reason the banking app answers with. Never rename one."""

    INVALID_STATEMENT_FILE = "invalid_statement_file"
    INVALID_IMPORT_FILE = "invalid_import_file"
    STATEMENT_ACCOUNT_MISMATCH = "statement_account_mismatch"
    STATEMENT_UNBALANCED = "statement_unbalanced"
    BALANCE_CHAIN_BROKEN = "balance_chain_broken"
    INVALID_BANK_ACCOUNT = "invalid_bank_account"
    MATCH_REFUSED = "match_refused"
    MATCH_WRONG_ACCOUNT = "match_wrong_account"
    RECONCILIATION_DIFFERENCE = "reconciliation_difference"
    INVOICE_NOT_FOUND = "invoice_not_found"
    # reasons (and codes) of a 409
    STATEMENT_RECONCILED = "statement_reconciled"
    ALREADY_MATCHED = "already_matched"
    NOT_MATCHED = "not_matched"
    DUPLICATE_IMPORT = "duplicate_import"
    BANK_ACCOUNT_IN_USE = "bank_account_in_use"
    PREVIOUS_NOT_RECONCILED = "previous_statement_not_reconciled"
    STATEMENT_NOT_RECONCILED = "statement_not_reconciled"
    STATEMENT_HAS_MATCHES = "statement_has_matches"
    MATCH_IMMUTABLE = "match_immutable"
    LATER_RECONCILED = "later_statement_reconciled"
    DUPLICATE_ACCOUNT = "duplicate_account"
    DUPLICATE_NAME = "duplicate_name"


class InvalidStatementFile(DomainError):
    """A statement file refused as a whole: `details.errors` lists each problem by line."""

    code = BankingErrorCode.INVALID_STATEMENT_FILE
    default_message = "The statement file cannot be imported; nothing was written."


class InvalidImportFile(DomainError):
    """A journal import refused as a whole: `details.errors` lists each problem by row and column."""

    code = BankingErrorCode.INVALID_IMPORT_FILE
    default_message = "The import file cannot be posted; nothing was written."


class StatementAccountMismatch(DomainError):
    code = BankingErrorCode.STATEMENT_ACCOUNT_MISMATCH
    default_message = "The statement belongs to another bank account or currency."


class StatementUnbalanced(DomainError):
    code = BankingErrorCode.STATEMENT_UNBALANCED
    default_message = "The statement's opening balance plus its lines does not equal its closing balance."


class BalanceChainBroken(DomainError):
    code = BankingErrorCode.BALANCE_CHAIN_BROKEN
    default_message = "The opening balance does not equal the previous statement's closing balance."


class InvalidBankAccount(DomainError):
    code = BankingErrorCode.INVALID_BANK_ACCOUNT
    default_message = "The bank account is not valid."


class MatchRefused(DomainError):
    code = BankingErrorCode.MATCH_REFUSED
    default_message = "These ledger lines cannot be matched to the bank line."


class MatchWrongAccount(DomainError):
    code = BankingErrorCode.MATCH_WRONG_ACCOUNT
    default_message = "A bank line is matched only to posted lines of its bank account's ledger account."


class ReconciliationDifference(DomainError):
    code = BankingErrorCode.RECONCILIATION_DIFFERENCE
    default_message = "The statement does not reconcile with the books."


class InvoiceNotFound(DomainError):
    code = BankingErrorCode.INVOICE_NOT_FOUND
    default_message = "No open invoice matches the bank line."


class StatementReconciled(Conflict):
    code = BankingErrorCode.STATEMENT_RECONCILED
    default_message = "The statement is reconciled: its lines and matches no longer change."


class MatchImmutable(Conflict):
    code = BankingErrorCode.MATCH_IMMUTABLE
    default_message = "A match is created or removed, never changed."


class AlreadyMatched(Conflict):
    reason = BankingErrorCode.ALREADY_MATCHED
    default_message = "The bank line or a ledger line is already matched."


class NotMatched(Conflict):
    reason = BankingErrorCode.NOT_MATCHED
    default_message = "The bank line is not matched."


class DuplicateImport(Conflict):
    reason = BankingErrorCode.DUPLICATE_IMPORT
    default_message = "This file was already imported."


class BankAccountInUse(Conflict):
    reason = BankingErrorCode.BANK_ACCOUNT_IN_USE
    default_message = "The bank account has statements: its ledger account and currency no longer change."


class PreviousNotReconciled(Conflict):
    reason = BankingErrorCode.PREVIOUS_NOT_RECONCILED
    default_message = "Reconcile the earlier statements of this bank account first."


class StatementNotReconciled(Conflict):
    reason = BankingErrorCode.STATEMENT_NOT_RECONCILED
    default_message = "The statement is not reconciled."


class StatementHasMatches(Conflict):
    reason = BankingErrorCode.STATEMENT_HAS_MATCHES
    default_message = "Unmatch the statement's lines before deleting it."


class LaterStatementReconciled(Conflict):
    reason = BankingErrorCode.LATER_RECONCILED
    default_message = "Reopen the later reconciled statements of this bank account first."


class DuplicateBankLedgerAccount(Conflict):
    """One bank account per ledger account."""

    reason = BankingErrorCode.DUPLICATE_ACCOUNT
    default_message = "The ledger account already has a bank account."


class DuplicateBankAccountName(Conflict):
    reason = BankingErrorCode.DUPLICATE_NAME
    default_message = "A bank account of the company already has this name."


class TooManyLinesToWaitFor(ValidationFailed):
    """A statement upload too large to import while its request waits (400 `validation_error`):
    the file is imported by a worker instead (the API's `async=true`; the admin queues it)."""
