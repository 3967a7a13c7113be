"""Matching bank lines to the books: suggestions, confirmation (by a person or automatically above
the company's confidence), manual match and unmatch.

A bank line matches posted ledger lines of its bank account's ledger account whose amounts (in
the bank account's currency) add up to its amount: one line (the usual case) or several (one
transfer paying several entries). Suggestions score each candidate 0-100:

- the amount: 50 for one ledger line of exactly the bank amount, 40 for a group of two or three
  lines adding up to it (groups are looked for only among lines of the same direction);
- the date: up to 30, falling linearly with the days between the bank line and the furthest
  ledger line, to 0 beyond the company's date window (candidates are only looked for within it);
- the reference: 20 when the entry's reference or number appears in the bank line's reference,
  counterparty or description, or the bank reference in the entry's texts.

A line of a reconciled statement left unmatched (a carried item: a fee missing from the books at
the month's end, a payment recorded late) is matched, and unmatched, only with ledger lines dated
after the bank account's last reconciled day: such a match counts in no stored reconciled
position (the report dates a match by both of its sides). Its suggestions are looked for there.

Lock order: the bank account's row (in share mode), the bank line's row, then the ledger lines'
matches (unique per ledger line). Uploading, reconciling and reopening lock the bank account for
update first, so a match waits for them and they for it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from audit.services import audit_record
from banking import errors, selectors
from banking.models import (
    BankAccount,
    BankMatch,
    BankStatement,
    BankStatementLine,
    LineStatus,
    MatchSuggestion,
    StatementStatus,
)
from banking.services.statements import bank_account_held, line_status_refresh
from ledger.models import JournalEntry, JournalLine
from sofinance.money import format_amount

MAX_SUGGESTIONS = 5
MAX_GROUP_CANDIDATES = 25
CARRIED_DAYS = 31  # a carried line's candidates: the month after the last reconciled day (and the window)
AMOUNT_SCORE, GROUP_SCORE, DATE_SCORE, REFERENCE_SCORE = 50, 40, 30, 20
_NON_ALNUM = re.compile(r"[^0-9a-z]")


def _norm(text: str) -> str:
    return _NON_ALNUM.sub("", (text or "").lower())


@dataclass(frozen=True)
class Candidate:
    """A posted, unmatched ledger line on the bank's ledger account, as matching sees it."""

    id: int
    date: object
    amount: Decimal  # in the bank account's currency, signed (debit +: money in)
    texts: str  # normalised entry reference, number and descriptions
    reference: str  # normalised entry reference


@dataclass
class Proposal:
    line_ids: tuple[int, ...]
    confidence: int
    reasons: list[str] = field(default_factory=list)
    distance: int = 0


def cancelled_entries(bank: BankAccount, entry_partners: dict[int, int]) -> dict[int, int]:
    """Of entries that are reversed or are reversals (`{entry: its partner}`), those whose pair
    cancels out of the bank's account: neither the entry's line there nor its partner's is matched
    (a payment voided, an entry reversed as a mistake). Such a line is no money through the bank:
    it is never suggested, offered or matched (once one side is matched, to a receipt, the other,
    a bounced cheque say, is a real movement and stays). Returns `{entry: partner}` of those."""
    if not entry_partners:
        return {}
    matched = set(
        JournalLine.objects.filter(
            company_id=bank.company_id,
            account_id=bank.account_id,
            entry_id__in={*entry_partners, *entry_partners.values()},
            bank_match__isnull=False,
        ).values_list("entry_id", flat=True)
    )
    return {
        entry: partner
        for entry, partner in entry_partners.items()
        if entry not in matched and partner not in matched
    }


def candidates_for(bank: BankAccount, start, end, *, exclude_ids: Iterable[int] = ()) -> list[Candidate]:
    amount_field = bank.ledger_amount_field
    rows = list(
        JournalLine.objects.filter(
            company_id=bank.company_id,
            account_id=bank.account_id,
            entry_sequence__isnull=False,
            date__gte=start,
            date__lte=end,
            bank_match__isnull=True,
        )
        .exclude(pk__in=list(exclude_ids))
        .values_list(
            "id",
            "date",
            amount_field,
            "description",
            "entry__reference",
            "entry__number",
            "entry__description",
            "entry_id",
            "entry__reversal_of_id",
            "entry__reversed_by_id",
        )
        .order_by("date", "id")
    )
    partners = {row[7]: row[8] or row[9] for row in rows if row[8] is not None or row[9] is not None}
    cancelled = cancelled_entries(bank, partners)
    return [
        Candidate(
            id=pk,
            date=date,
            amount=amount,
            texts=_norm(f"{reference} {number} {description} {entry_description}"),
            reference=_norm(reference),
        )
        for pk, date, amount, description, reference, number, entry_description, entry, _, _ in rows
        if entry not in cancelled
    ]


def _reference_hit(line: BankStatementLine, candidates: Sequence[Candidate]) -> bool:
    bank_text = _norm(f"{line.reference} {line.counterparty} {line.description}")
    bank_reference = _norm(line.reference)
    for candidate in candidates:
        if len(candidate.reference) >= 3 and candidate.reference in bank_text:
            return True
        if len(bank_reference) >= 3 and bank_reference in candidate.texts:
            return True
    return False


def _score(line: BankStatementLine, group: Sequence[Candidate], window: int, base: int) -> Proposal:
    distance = max(abs((c.date - line.date).days) for c in group)
    date_points = round(DATE_SCORE * (1 - distance / (window + 1))) if window >= 0 else 0
    reasons = ["amount" if len(group) == 1 else "amount_sum", f"date_{distance}d"]
    confidence = base + max(date_points, 0)
    if _reference_hit(line, group):
        confidence += REFERENCE_SCORE
        reasons.append("reference")
    return Proposal(tuple(c.id for c in group), min(confidence, 100), reasons, distance)


def proposals_for(
    line: BankStatementLine, candidates: Sequence[Candidate], window: int, *, carried_after=None
) -> list[Proposal]:
    """The best few ways to match `line` among `candidates` (already within the date window).

    A carried line (`carried_after`: the last reconciled day) is matched only to ledger lines
    dated after that day, within a month and the date window of it."""
    if carried_after is None:
        near = [c for c in candidates if abs((c.date - line.date).days) <= window]
    else:
        near = [c for c in candidates if 0 < (c.date - carried_after).days <= CARRIED_DAYS + window]
    proposals = [_score(line, [c], window, AMOUNT_SCORE) for c in near if c.amount == line.amount]
    same_direction = [c for c in near if c.amount * line.amount > 0 and abs(c.amount) < abs(line.amount)]
    same_direction.sort(key=lambda c: (abs((c.date - line.date).days), c.id))
    pool = same_direction[:MAX_GROUP_CANDIDATES]
    if len(pool) >= 2 and len(proposals) < MAX_SUGGESTIONS:
        for size in (2, 3):
            for group in itertools.combinations(pool, size):
                if sum((c.amount for c in group), Decimal(0)) == line.amount:
                    proposals.append(_score(line, group, window, GROUP_SCORE))
    proposals.sort(key=lambda p: (-p.confidence, len(p.line_ids), p.distance, p.line_ids))
    return proposals[:MAX_SUGGESTIONS]


def suggestions_refresh(
    *,
    bank_account: BankAccount,
    lines: Sequence[BankStatementLine] | None = None,
    auto_confirm: bool = True,
) -> int:
    """Work out the suggestions of the bank account's unmatched lines (or of `lines`) again, then
    auto-confirm what the company's confidence allows. Returns how many lines got matched.

    Carried lines (left unmatched by a reconciled statement) get suggestions dated after the last
    reconciled day and are never confirmed automatically: a person decides what settles a line
    from a month already reconciled. Runs in the caller's transaction, or its own."""
    settings = selectors.banking_settings_for(company=bank_account.company)
    window = settings.date_window_days
    with transaction.atomic():
        # First the bank account (the matches' lock): then the lines' suggestions and statuses
        # rewritten here are no match's meanwhile.
        bank_account_held(bank_account.pk)
        if lines is None:
            lines = list(
                BankStatementLine.objects.filter(bank_account=bank_account)
                .exclude(status=LineStatus.MATCHED)
                .order_by("date", "id")
            )
        else:
            lines = [line for line in lines if line.status != LineStatus.MATCHED]
        if not lines:
            return 0
        through = selectors.reconciled_through(bank_account_id=bank_account.pk)
        reconciled = set(
            BankStatement.objects.filter(
                bank_account=bank_account, status=StatementStatus.RECONCILED
            ).values_list("id", flat=True)
        )
        carried = {line.pk for line in lines if line.statement_id in reconciled}
        ids = [line.pk for line in lines]
        MatchSuggestion.objects.filter(bank_line_id__in=ids).delete()
        start = min(line.date for line in lines)
        end = max(
            through + timedelta(days=CARRIED_DAYS) if line.pk in carried else line.date for line in lines
        )
        candidates = candidates_for(
            bank_account, start - timedelta(days=window), end + timedelta(days=window)
        )
        suggestions = []
        best: dict[int, list[Proposal]] = {}
        for line in lines:
            proposals = proposals_for(
                line, candidates, window, carried_after=through if line.pk in carried else None
            )
            best[line.pk] = proposals
            suggestions += [
                MatchSuggestion(
                    company_id=line.company_id,
                    bank_line=line,
                    journal_line_ids=list(p.line_ids),
                    confidence=p.confidence,
                    reasons=p.reasons,
                    rank=rank,
                )
                for rank, p in enumerate(proposals, start=1)
            ]
        MatchSuggestion.objects.bulk_create(suggestions)
        line_status_refresh(ids)
        if not auto_confirm:
            return 0
        ordinary = [line for line in lines if line.pk not in carried]
        return _auto_confirm(bank_account, ordinary, best, settings.auto_confirm_confidence)


def stale_suggestions_refresh() -> dict[int, int]:
    """Work the suggestions out again for every bank account with lines not matched whose ledger
    account got lines since they were last worked out here (an entry posted in the ledger, a
    payment recorded in sales), and auto-confirm what the companies allow; beat runs it every few
    minutes. Returns {bank account id: lines matched automatically} for those refreshed. A bank
    account busy meanwhile (an upload, a reconciliation, a refresh) is left for the next run."""
    waiting = (
        BankStatementLine.objects.exclude(status=LineStatus.MATCHED)
        .order_by("bank_account_id")
        .values_list("bank_account_id", flat=True)
        .distinct()
    )
    refreshed: dict[int, int] = {}
    for bank in BankAccount.objects.filter(pk__in=list(waiting)).select_related("company", "account"):
        newest = (
            JournalLine.objects.filter(
                company_id=bank.company_id, account_id=bank.account_id, id__gt=bank.suggestions_mark or 0
            )
            .order_by("-id")
            .values_list("id", flat=True)
            .first()
        )
        if newest is None:
            continue
        with transaction.atomic():
            if not BankAccount.objects.select_for_update(skip_locked=True).filter(pk=bank.pk).exists():
                continue
            refreshed[bank.pk] = suggestions_refresh(bank_account=bank)
            BankAccount.objects.filter(pk=bank.pk).update(suggestions_mark=newest)
    return refreshed


def _auto_confirm(bank_account, lines, best: dict[int, list[Proposal]], threshold: int | None) -> int:
    """Confirm each line's best suggestion when it reaches the company's confidence and stands
    alone at the top (a tie is left to a person), each ledger line used once."""
    if threshold is None:
        return 0
    used: set[int] = set()
    confirmed = 0
    for line in lines:
        proposals = best.get(line.pk) or []
        if not proposals or proposals[0].confidence < threshold:
            continue
        if len(proposals) > 1 and proposals[1].confidence == proposals[0].confidence:
            continue
        top = proposals[0]
        if used & set(top.line_ids):
            continue
        _match(line, list(top.line_ids), by=None, confidence=top.confidence, automatic=True)
        used |= set(top.line_ids)
        confirmed += 1
    return confirmed


# --------------------------------------------------------------------------- match and unmatch


def bank_line_locked(bank_line: BankStatementLine) -> BankStatementLine:
    bank_account_held(bank_line.bank_account_id)
    return (
        BankStatementLine.objects.select_for_update(of=("self",))
        .select_related("statement", "bank_account", "bank_account__account", "bank_account__company")
        .get(pk=bank_line.pk)
    )


def check_outside_reconciled(
    line: BankStatementLine, dated: Iterable[tuple[int | None, object]], *, unmatching: bool = False
) -> None:
    """A line of a reconciled statement is matched, or unmatched, only with ledger lines dated
    after the bank account's last reconciled day (409 `statement_reconciled` otherwise, with
    `reconciled_through` and the ledger lines dated too early): such a match changes no stored
    reconciled position. `dated`: (ledger line id, or None for one about to be posted, date).
    Lines of open statements pass."""
    if line.statement.status != StatementStatus.RECONCILED:
        return
    through = selectors.reconciled_through(bank_account_id=line.bank_account_id)
    dated = list(dated)
    early = [pk for pk, date in dated if date <= through]
    if dated and not early:
        return
    if unmatching:
        message = (
            f"The match counts in the reconciled position of {line.bank_account.name} on {through:%Y-%m-%d}: "
            f"reopen the statement {line.statement} first."
        )
    else:
        message = (
            f"The line belongs to the reconciled statement {line.statement}: it is matched only to ledger "
            f"lines dated after {through:%Y-%m-%d}, the last reconciled day (date what is posted for it "
            "after that day), or the statement is reopened first."
        )
    details = {"statement": line.statement_id, "reconciled_through": through.isoformat()}
    if any(pk is not None for pk in early):
        details["journal_lines"] = [pk for pk in early if pk is not None]
    raise errors.StatementReconciled(message, details=details)


def _match(
    line: BankStatementLine,
    journal_line_ids: list[int],
    *,
    by,
    confidence: int | None,
    automatic: bool = False,
) -> BankStatementLine:
    """Match a locked, unmatched bank line to ledger lines (checked here)."""
    bank = line.bank_account
    ids = []
    for ref in journal_line_ids:
        if isinstance(ref, bool) or not isinstance(ref, int) or not 0 < ref < 2**63:
            message = f"Ledger lines are given by id ({str(ref)[:40]!r} is not one)."
            raise errors.MatchRefused(message, details={"journal_lines": [message]})
        ids.append(ref)
    if not ids or len(set(ids)) != len(ids):
        raise errors.MatchRefused(
            "Give one or more different ledger lines.",
            details={"journal_lines": ["At least one, each once."]},
        )
    amount_field = bank.ledger_amount_field
    found = {
        row["id"]: row
        for row in JournalLine.objects.filter(company_id=line.company_id, pk__in=ids).values(
            "id",
            "account_id",
            "entry_sequence",
            amount_field,
            "date",
            "entry_id",
            "entry__reversal_of_id",
            "entry__reversed_by_id",
        )
    }
    for pk in ids:
        row = found.get(pk)
        if row is None or row["account_id"] != bank.account_id or row["entry_sequence"] is None:
            message = f"Ledger line {pk} is not a posted line of account {bank.account.code} ({bank.name}'s ledger account)."
            raise errors.MatchWrongAccount(
                message,
                details={"journal_lines": [message]},
            )
    check_outside_reconciled(line, ((pk, found[pk]["date"]) for pk in ids))
    partners = {
        row["entry_id"]: row["entry__reversal_of_id"] or row["entry__reversed_by_id"]
        for row in found.values()
        if row["entry__reversal_of_id"] is not None or row["entry__reversed_by_id"] is not None
    }
    cancelled = cancelled_entries(bank, partners)
    if cancelled:
        entry, partner = next(iter(cancelled.items()))
        numbers = dict(JournalEntry.objects.filter(pk__in=(entry, partner)).values_list("pk", "number"))
        message = (
            f"{numbers.get(entry)} and its reversal pair {numbers.get(partner)} cancel out: neither is "
            "money through the bank (a voided payment, a reversed mistake), so neither is matched."
        )
        raise errors.MatchRefused(
            message,
            details={"journal_lines": [pk for pk in ids if found[pk]["entry_id"] in cancelled]},
        )
    taken = list(
        BankMatch.objects.filter(journal_line_id__in=ids).values_list("journal_line_id", "bank_line_id")
    )
    if taken:
        raise errors.AlreadyMatched(
            f"Ledger line {taken[0][0]} is already matched to bank line {taken[0][1]}.",
            details={"journal_lines": [pk for pk, _ in taken]},
        )
    total = sum((found[pk][amount_field] for pk in ids), Decimal(0))
    if total != line.amount:
        raise errors.MatchRefused(
            f"The ledger lines add up to {format_amount(total, bank.currency)}; the bank line is "
            f"{format_amount(line.amount, bank.currency)}.",
            details={
                "ledger_total": format_amount(total, bank.currency),
                "bank_amount": format_amount(line.amount, bank.currency),
            },
        )
    user = by if by is not None and by.is_authenticated else None
    try:
        with transaction.atomic():
            BankMatch.objects.bulk_create(
                [
                    BankMatch(company_id=line.company_id, bank_line=line, journal_line_id=pk, created_by=user)
                    for pk in ids
                ]
            )
    except IntegrityError as exc:  # a concurrent match took one of the ledger lines
        raise errors.AlreadyMatched("A ledger line was matched by someone else meanwhile.") from exc
    line.status = LineStatus.MATCHED
    line.matched_at = timezone.now()
    line.matched_by = user
    line.match_confidence = confidence
    line.save(update_fields=["status", "matched_at", "matched_by", "match_confidence"])
    MatchSuggestion.objects.filter(bank_line=line).delete()
    stale = list(
        MatchSuggestion.objects.filter(bank_line__bank_account_id=bank.pk)
        .exclude(bank_line=line)
        .values_list("id", "bank_line_id", "journal_line_ids")
    )
    stale_ids = [pk for pk, _, journal_ids in stale if set(journal_ids) & set(ids)]
    if stale_ids:
        MatchSuggestion.objects.filter(pk__in=stale_ids).delete()
        line_status_refresh(sorted({bank_line_id for pk, bank_line_id, _ in stale if pk in stale_ids}))
    audit_record(
        action="match",
        company=bank.company,
        obj=line,
        actor=by,
        changes={
            "status": {"before": LineStatus.UNMATCHED, "after": LineStatus.MATCHED},
            "matches": {"before": [], "after": ids},
        },
        metadata={"confidence": confidence, "automatic": automatic},
    )
    return line


def bank_line_match(
    *,
    bank_line: BankStatementLine,
    journal_lines: Sequence[int] | None = None,
    suggestion: int | None = None,
    by: User | None,
) -> BankStatementLine:
    """Match a bank line to ledger lines (given by id, or by confirming one of its suggestions).

    Refused: a line of a reconciled statement, unless every ledger line is dated after the last
    reconciled day (`statement_reconciled`), a line already matched or a ledger
    line matched elsewhere (409 `already_matched`), a ledger line that is not a posted line of the
    bank's ledger account (`match_wrong_account`), amounts that do not add up (`match_refused`)."""
    with transaction.atomic():
        line = bank_line_locked(bank_line)
        if line.status == LineStatus.MATCHED:
            raise errors.AlreadyMatched("The bank line is already matched; unmatch it first.")
        confidence = None
        if suggestion is not None:
            valid = (
                isinstance(suggestion, int) and not isinstance(suggestion, bool) and 0 < suggestion < 2**63
            )
            chosen = MatchSuggestion.objects.filter(bank_line=line, pk=suggestion).first() if valid else None
            if chosen is None:
                message = f"Suggestion {suggestion} is not one of this line's (suggestions change as lines are matched)."
                raise errors.MatchRefused(
                    message,
                    details={"suggestion": [message]},
                )
            journal_lines, confidence = list(chosen.journal_line_ids), chosen.confidence
        return _match(line, list(journal_lines or []), by=by, confidence=confidence)


def bank_line_unmatch(*, bank_line: BankStatementLine, by: User | None) -> BankStatementLine:
    """Undo a match (while it counts in no reconciled position: the statement is open, or the
    match is a carried line's, dated after the last reconciled day); suggestions are worked out
    again."""
    with transaction.atomic():
        line = bank_line_locked(bank_line)
        matched = list(
            BankMatch.objects.filter(bank_line=line)
            .order_by("journal_line_id")
            .values_list("journal_line_id", "journal_line__date")
        )
        if not matched:
            raise errors.NotMatched()
        check_outside_reconciled(line, matched, unmatching=True)
        ids = [pk for pk, _ in matched]
        BankMatch.objects.filter(bank_line=line).delete()
        line.status = LineStatus.UNMATCHED
        line.matched_at = None
        line.matched_by = None
        line.match_confidence = None
        line.save(update_fields=["status", "matched_at", "matched_by", "match_confidence"])
        audit_record(
            action="unmatch",
            company=line.bank_account.company,
            obj=line,
            actor=by,
            changes={
                "status": {"before": LineStatus.MATCHED, "after": LineStatus.UNMATCHED},
                "matches": {"before": ids, "after": []},
            },
        )
        suggestions_refresh(bank_account=line.bank_account, lines=[line], auto_confirm=False)
        line.refresh_from_db(fields=["status"])
    return line


def match_lines_of_entry(
    line: BankStatementLine, entry_lines: Iterable[JournalLine], *, by
) -> BankStatementLine:
    """Match a locked bank line to the lines an entry just posted on its bank's ledger account."""
    ids = [jl.pk for jl in entry_lines if jl.account_id == line.bank_account.account_id]
    return _match(line, ids, by=by, confidence=None)
