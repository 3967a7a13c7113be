"""Storing parsed statements: account checks, balances, chaining, de-duplication.

Lock order: the bank account's row (so two imports into one bank account queue, and the
de-duplication sees what the other stored), then the rows written.
"""

from __future__ import annotations

import datetime
import hashlib
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction

from accounts.models import User
from audit.services import audit_record
from banking import errors, selectors
from banking.models import (
    BankAccount,
    BankMatch,
    BankStatement,
    BankStatementLine,
    LineStatus,
    Reconciliation,
    StatementStatus,
)
from banking.parsers.common import MAX_UNIQUE_ID_STORED, ParsedLine, ParsedStatement
from ledger import errors as ledger_errors
from sofinance.money import MoneyError, check_precision, format_amount

ZERO = Decimal(0)
ONE_DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class StatementOverrides:
    """What the uploader states beside the file (a CSV has no balances of its own)."""

    opening_balance: Decimal | None = None
    closing_balance: Decimal | None = None
    accept_chain_break: bool = False


def _normalised(value: str) -> str:
    return "".join(value.split()).upper()


def _belongs(bank: BankAccount, parsed: ParsedStatement) -> bool:
    """Whether a statement of the file is this bank account's (by IBAN or number); a file that
    names no account, or a bank account with neither, is taken as the bank account's."""
    ours = {_normalised(v) for v in (bank.iban, bank.number) if v}
    theirs = {_normalised(v) for v in parsed.account_ids if v}
    if not ours or not theirs:
        return True
    return bool(ours & theirs) or any(
        t.endswith(o) or o.endswith(t) for t in theirs for o in ours if len(o) >= 4
    )


def statements_for_bank(bank: BankAccount, parsed: list[ParsedStatement]) -> list[ParsedStatement]:
    """The file's statements of this bank account, in date order; refuses a file of another
    account or currency (`statement_account_mismatch`)."""
    mine = [statement for statement in parsed if _belongs(bank, statement)]
    if not mine:
        named = ", ".join(sorted({v for s in parsed for v in s.account_ids}))[:200]
        raise errors.StatementAccountMismatch(
            f"The file is a statement of {named or 'another account'}, not of {bank.name} "
            f"({bank.iban or bank.number}).",
            details={
                "file_accounts": sorted({v for s in parsed for v in s.account_ids}),
                "bank_account": bank.pk,
            },
        )
    for statement in mine:
        if statement.currency and statement.currency != bank.currency:
            raise errors.StatementAccountMismatch(
                f"The statement is in {statement.currency}; {bank.name} is in {bank.currency}.",
                details={"currency": statement.currency, "bank_account_currency": bank.currency},
            )
    return sorted(mine, key=lambda s: (s.start_date or datetime.date.max, s.end_date or datetime.date.max))


def dedupe_keys(lines: list[ParsedLine]) -> list[str]:
    """Each line's identity across imports: "id:<bank's unique id>", else a hash of date, amount,
    reference and the line's rank among identical lines of its file (two genuine 5.00 card
    payments on one day with one reference stay two lines)."""
    seen: Counter[tuple] = Counter()
    keys = []
    for line in lines:
        if line.unique_id:
            # An id longer than the key's column is kept whole through its hash (ids up to 100
            # characters keep the key they have always had, so re-imports still find them).
            if len(line.unique_id) <= 100:
                keys.append(f"id:{line.unique_id}")
            else:
                keys.append("id#" + hashlib.sha256(line.unique_id.encode()).hexdigest())
            continue
        triple = (line.date.isoformat(), format(line.amount.normalize(), "f"), line.reference.strip().lower())
        seen[triple] += 1
        raw = "|".join((*triple, str(seen[triple])))
        keys.append("h:" + hashlib.sha256(raw.encode()).hexdigest())
    return keys


def _check_balance_precision(amount: Decimal | None, currency: str, column: str, given: bool) -> None:
    """A balance with more places than the bank account's currency allows is refused
    (`currency_precision`), never rounded: the column would round it silently, and the chain,
    the statement's sum and the reconciliation would all read the rounded figure."""
    if amount is None:
        return
    try:
        check_precision(amount, currency)
    except MoneyError as exc:
        where = "given" if given else "in the file"
        message = f"The {column.replace('_', ' ')} {where}: {exc}"
        raise ledger_errors.CurrencyPrecision(
            message, details={"errors": [{"line": None, "column": column, "message": message}]}
        ) from exc


def _balances(bank: BankAccount, parsed: ParsedStatement, overrides: StatementOverrides, start, end):
    for column, given, in_file in (
        ("opening_balance", overrides.opening_balance, parsed.opening_balance),
        ("closing_balance", overrides.closing_balance, parsed.closing_balance),
    ):
        _check_balance_precision(given, bank.currency, column, given=True)
        _check_balance_precision(in_file, bank.currency, column, given=False)
    total = sum((line.amount for line in parsed.lines), ZERO)
    opening = overrides.opening_balance if overrides.opening_balance is not None else parsed.opening_balance
    closing = overrides.closing_balance if overrides.closing_balance is not None else parsed.closing_balance
    expected = selectors.bank_balance_on(bank_account=bank, date=start - ONE_DAY)
    if opening is None:
        opening = closing - total if closing is not None else (expected if expected is not None else None)
    if opening is None:
        raise errors.InvalidStatementFile(
            "The file states no balances and this is the bank account's first statement: give the opening "
            "balance (or the closing balance).",
            details={"errors": [{"line": None, "column": "opening_balance", "message": "Required."}]},
        )
    if closing is None:
        closing = opening + total
    currency = bank.currency
    if opening + total != closing:
        # A mistyped opening balance shows here first: say what the chain expected.
        hint = (
            f" The bank account's balance on {start - ONE_DAY} is {format_amount(expected, currency)}, from the "
            "previous statement: is the opening balance right?"
            if expected is not None and opening != expected
            else ""
        )
        raise errors.StatementUnbalanced(
            f"Opening balance {format_amount(opening, currency)} plus the lines ({format_amount(total, currency)}) "
            f"is {format_amount(opening + total, currency)}, not the closing balance {format_amount(closing, currency)}."
            + hint,
            details={
                "opening_balance": format_amount(opening, currency),
                "lines_total": format_amount(total, currency),
                "closing_balance": format_amount(closing, currency),
                "difference": format_amount(closing - opening - total, currency),
            },
        )
    chain_break = None
    if expected is not None and opening != expected:
        if not overrides.accept_chain_break:
            raise errors.BalanceChainBroken(
                f"The opening balance {format_amount(opening, currency)} does not equal the bank account's balance "
                f"on {start - ONE_DAY} ({format_amount(expected, currency)}, from the previous statement). If the "
                "gap is real (a missing statement), upload it again with “Accept a break in the balance chain” "
                "ticked (accept_chain_break=true in the API).",
                details={
                    "opening_balance": format_amount(opening, currency),
                    "expected_opening_balance": format_amount(expected, currency),
                    "difference": format_amount(opening - expected, currency),
                },
            )
        chain_break = opening - expected
    return opening, closing, chain_break


def _check_overlap(bank: BankAccount, *, start, end, opening: Decimal, closing: Decimal, fresh) -> None:
    """A statement over dates an imported statement covers must agree with the lines stored for
    them: opening + every line of the account in its dates (those already imported, which its own
    copies were skipped as, and its new ones) = closing. A second, different statement of the same
    days (lines the first did not have, at the same opening) would otherwise be stored beside it,
    and the bank's balance would no longer add up. Without an overlap this is opening + its lines =
    closing, checked already. A statement cut within a day (starting where the previous one ended,
    mid-day) breaks the chain first; accepting the break accepts this too."""
    stored = selectors.bank_lines_total_between(bank_account=bank, start=start, end=end)
    if stored == 0:
        return
    new = sum((line.amount for line, _ in fresh), ZERO)
    if opening + stored + new == closing:
        return
    currency = bank.currency
    raise errors.StatementUnbalanced(
        f"This statement covers {start} – {end}, dates of a statement already imported: opening balance "
        f"{format_amount(opening, currency)} plus the lines already imported for those dates "
        f"({format_amount(stored, currency)}) and its new lines ({format_amount(new, currency)}) is "
        f"{format_amount(opening + stored + new, currency)}, not its closing balance "
        f"{format_amount(closing, currency)}. Its lines differ from the imported statement's: check that it "
        "is a complete statement of this bank account (or delete the other statement and import this one).",
        details={
            "opening_balance": format_amount(opening, currency),
            "lines_already_imported": format_amount(stored, currency),
            "new_lines_total": format_amount(new, currency),
            "closing_balance": format_amount(closing, currency),
            "difference": format_amount(closing - opening - stored - new, currency),
        },
    )


def statement_store(
    *,
    bank_account: BankAccount,
    parsed: ParsedStatement,
    format: str,
    file_name: str,
    file_hash: str,
    stored_file: str,
    by: User | None,
    overrides: StatementOverrides = StatementOverrides(),
) -> tuple[BankStatement, list[BankStatementLine]]:
    """Store one parsed statement: its opening balance chains from the bank's balance the day
    before (else `balance_chain_broken`, unless the import accepts the break), opening + lines =
    closing (else `statement_unbalanced`), and lines already imported are skipped. The caller
    holds the bank account's row lock and the transaction."""
    if not parsed.lines and parsed.start_date is None:
        raise errors.InvalidStatementFile(
            "The statement has no lines and no period.",
            details={"errors": [{"line": None, "message": "No lines and no period."}]},
        )
    line_dates = [line.date for line in parsed.lines]
    start = min(d for d in (parsed.start_date, min(line_dates, default=None)) if d)
    end = max(d for d in (parsed.end_date, max(line_dates, default=None), start) if d)
    opening, closing, chain_break = _balances(bank_account, parsed, overrides, start, end)
    keys = dedupe_keys(parsed.lines)
    existing = set(
        BankStatementLine.objects.filter(bank_account=bank_account, dedupe_key__in=keys).values_list(
            "dedupe_key", flat=True
        )
    )
    fresh: list[tuple[ParsedLine, str]] = []
    skipped = 0
    for line, key in zip(parsed.lines, keys, strict=True):
        if key in existing:
            skipped += 1
            continue
        existing.add(key)  # the same unique id twice in one file: the second is a duplicate
        fresh.append((line, key))
    if not overrides.accept_chain_break:
        _check_overlap(bank_account, start=start, end=end, opening=opening, closing=closing, fresh=fresh)
    statement = BankStatement.objects.create(
        company_id=bank_account.company_id,
        bank_account=bank_account,
        start_date=start,
        end_date=end,
        opening_balance=opening,
        closing_balance=closing,
        line_count=len(fresh),
        duplicates_skipped=skipped,
        format=format,
        source_file=stored_file,
        file_name=file_name[:255],
        file_hash=file_hash,
        chain_break=chain_break,
        imported_by=by if by is not None and by.is_authenticated else None,
    )
    lines = BankStatementLine.objects.bulk_create(
        [
            BankStatementLine(
                company_id=bank_account.company_id,
                bank_account=bank_account,
                statement=statement,
                line_no=number,
                date=line.date,
                value_date=line.value_date,
                amount=line.amount,
                counterparty=line.counterparty,
                reference=line.reference,
                description=line.description,
                unique_id=line.unique_id[:MAX_UNIQUE_ID_STORED],
                dedupe_key=key,
            )
            for number, (line, key) in enumerate(fresh, start=1)
        ]
    )
    currency = bank_account.currency
    audit_record(
        action="import",
        company=bank_account.company,
        obj=statement,
        actor=by,
        changes={
            "bank_account": {"before": None, "after": bank_account.pk},
            "start_date": {"before": None, "after": start.isoformat()},
            "end_date": {"before": None, "after": end.isoformat()},
            "opening_balance": {"before": None, "after": format_amount(opening, currency)},
            "closing_balance": {"before": None, "after": format_amount(closing, currency)},
        },
        metadata={
            "format": format,
            "file_name": file_name[:255],
            "file_hash": file_hash,
            "line_count": len(fresh),
            "duplicates_skipped": skipped,
            "chain_break": format_amount(chain_break, currency) if chain_break is not None else None,
        },
    )
    return statement, lines


def bank_account_held(bank_account_id: int) -> None:
    """Hold the bank account's row for this transaction (FOR NO KEY UPDATE; SQLite writes one at a
    time): the matching writes of one bank account (a match, an unmatch, an entry or a payment
    from a line, a refresh of its suggestions) run one after another, and wait for a statement
    being uploaded, reconciled or reopened, which lock it for update. Each of them rewrites other
    lines' suggestions and statuses, so two of them at once deadlocked (a match and the
    suggestion refresh beat runs every few minutes: 503 `database_busy`). Inserts that refer to
    the bank account (its statement lines) do not wait for this lock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM banking_bankaccount WHERE id = %s FOR NO KEY UPDATE", [bank_account_id]
            )


def bank_account_locked(bank_account: BankAccount) -> BankAccount:
    return (
        BankAccount.objects.select_for_update(of=("self",))
        .select_related("company", "account")
        .get(pk=bank_account.pk)
    )


def statement_delete(*, statement: BankStatement, by: User | None) -> None:
    """Delete an imported statement and its lines (a wrong file): only when it is not reconciled
    and none of its lines is matched. A statement reconciled once and reopened goes with the
    positions stored when it was reconciled (each marked reopened); the audit trail keeps their
    reconcile and reopen events, with the figures."""
    with transaction.atomic():
        locked = (
            BankStatement.objects.select_for_update(of=("self", "bank_account"))
            .select_related("bank_account")
            .get(pk=statement.pk)
        )
        if locked.status == StatementStatus.RECONCILED:
            raise errors.StatementReconciled("A reconciled statement is not deleted; reopen it first.")
        if BankMatch.objects.filter(bank_line__statement=locked).exists():
            raise errors.StatementHasMatches()
        snapshot: dict[str, Any] = {
            "bank_account": locked.bank_account_id,
            "start_date": locked.start_date.isoformat(),
            "end_date": locked.end_date.isoformat(),
            "line_count": locked.line_count,
        }
        audit_record(
            action="delete",
            company=locked.bank_account.company,
            obj=locked,
            actor=by,
            changes={key: {"before": value, "after": None} for key, value in snapshot.items()},
        )
        Reconciliation.objects.filter(statement=locked, reopened_at__isnull=False).delete()
        locked.delete()


def line_status_refresh(line_ids: list[int]) -> None:
    """Set suggested/unmatched from whether unmatched lines have suggestions left."""
    if not line_ids:
        return
    lines = BankStatementLine.objects.filter(pk__in=line_ids).exclude(status=LineStatus.MATCHED)
    lines.filter(suggestions__isnull=False).exclude(status=LineStatus.SUGGESTED).update(
        status=LineStatus.SUGGESTED
    )
    lines.filter(suggestions__isnull=True).exclude(status=LineStatus.UNMATCHED).update(
        status=LineStatus.UNMATCHED
    )
