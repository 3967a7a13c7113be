"""A company's books as a Beancount ledger (https://beancount.github.io/), written as a stream.

- `open` directives for every account of the chart, named `<Root>:<code>-<Name>` (Assets,
  Liabilities, Equity, Income, Expenses by the account's type), with the account's currency;
- `price` directives for the stored exchange rates;
- one transaction per posted journal entry, dated like it, linked `^<number>`, with its reference
  and source as metadata. Each line posts its functional-currency amount, so Beancount's balances
  of an account equal SOFinance's trial balance on every date; a line of an account kept in a
  foreign currency posts that currency's amount at its exact functional total
  (`-100.00 EUR @@ 108.50 USD`), so the account holds its own currency and the transaction still
  balances to the cent. Foreign lines on functional accounts keep their currency and rate as
  posting metadata.

`bean-check` accepts the file with no errors (tested with beancount as a test dependency).
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import TextIO

from accounts.models import Account, AccountType, Company
from ledger.models import FIRST_BOOK_DATE, LAST_BOOK_DATE, ExchangeRate, JournalLine
from ledger.selectors import posted_lines_stream
from sofinance.money import format_amount, money_from_sum

ROOTS = {
    AccountType.ASSET: "Assets",
    AccountType.LIABILITY: "Liabilities",
    AccountType.EQUITY: "Equity",
    AccountType.INCOME: "Income",
    AccountType.EXPENSE: "Expenses",
}
_NOT_NAME = re.compile(r"[^A-Za-z0-9]+")


def _component(code: str, name: str) -> str:
    """`<code>-<Name-In-Words>`: ASCII letters, digits and dashes, starting with a capital or a digit."""
    ascii_text = unicodedata.normalize("NFKD", f"{code} {name}").encode("ascii", "ignore").decode()
    words = [w for w in _NOT_NAME.split(ascii_text) if w]
    text = "-".join(w[:1].upper() + w[1:] for w in words) or "Account"
    return text if text[0].isdigit() or text[0].isupper() else f"A{text}"


def account_names(accounts: list[Account]) -> dict[int, str]:
    """Beancount names of the accounts, unique (an account id is added on a clash)."""
    names: dict[int, str] = {}
    used: set[str] = set()
    for account in sorted(accounts, key=lambda a: (a.code, a.pk)):
        name = f"{ROOTS[account.type]}:{_component(account.code, account.name)}"
        if name in used:
            name = f"{name}-{account.pk}"
        used.add(name)
        names[account.pk] = name
    return names


def _quoted(text: str) -> str:
    cleaned = " ".join((text or "").split())
    return '"' + cleaned.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _link(number: str) -> str:
    return re.sub(r"[^A-Za-z0-9\-_/.]", "-", number)


def beancount_write(
    *,
    company: Company,
    out: TextIO,
    date_to: datetime.date | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the books up to `date_to` (default: all) to `out`; returns the transactions written.
    `progress(lines_written)` is called after each transaction."""
    functional = company.currency
    accounts = list(Account.objects.filter(company=company))
    names = account_names(accounts)
    by_code = {a.code: a for a in accounts}
    own_currency = {a.pk: a.currency for a in accounts if a.currency and a.currency != functional}
    end = date_to or LAST_BOOK_DATE
    first = (
        JournalLine.objects.filter(company=company, entry_sequence__isnull=False)
        .order_by("date")
        .values_list("date", flat=True)
        .first()
    )
    rates = ExchangeRate.objects.filter(company=company, date__lte=end).order_by(
        "date", "from_currency", "to_currency"
    )
    first_rate = rates.values_list("date", flat=True).first()
    opened = min(d for d in (first, first_rate, datetime.date.today()) if d is not None)

    out.write(f"option {_quoted('title')} {_quoted(company.name)}\n")
    out.write(f'option "operating_currency" "{functional}"\n\n')
    for account in sorted(accounts, key=lambda a: names[a.pk]):
        currency = own_currency.get(account.pk, functional)
        out.write(f"{opened.isoformat()} open {names[account.pk]} {currency}\n")
    out.write("\n")
    for rate in rates.iterator(chunk_size=2000):
        out.write(
            f"{rate.date.isoformat()} price {rate.from_currency} {format(rate.rate.normalize(), 'f')} "
            f"{rate.to_currency}\n"
        )
    out.write("\n")

    written = lines_written = 0
    for entry in _entries(company, end):
        date, number, reference, description, source, lines = entry
        out.write(f"{date.isoformat()} * {_quoted(description or number)} ^{_link(number)}\n")
        if reference:
            out.write(f"  reference: {_quoted(reference)}\n")
        out.write(f"  source: {_quoted(source)}\n")
        for code, line_description, currency, amount, fx_rate, base in lines:
            account = by_code[code]
            name = names[account.pk]
            kept_in = own_currency.get(account.pk)
            if kept_in:
                out.write(
                    f"  {name}  {format_amount(amount, kept_in)} {kept_in} @@ "
                    f"{format_amount(abs(base), functional)} {functional}\n"
                )
            else:
                out.write(f"  {name}  {format_amount(base, functional)} {functional}\n")
                if currency != functional:
                    out.write(f"    amount: {_quoted(f'{format_amount(amount, currency)} {currency}')}\n")
                    out.write(f"    fx_rate: {_quoted(format(fx_rate.normalize(), 'f'))}\n")
            if line_description and line_description != description:
                out.write(f"    description: {_quoted(line_description)}\n")
        out.write("\n")
        written += 1
        lines_written += len(lines)
        if progress is not None:
            progress(lines_written)
    return written


def _entries(company: Company, end: datetime.date) -> Iterator[tuple]:
    """Posted entries in book order with their lines, from one stream of lines."""
    current = None
    lines: list[tuple] = []
    for (
        _id,
        date,
        _sequence,
        entry_id,
        number,
        reference,
        entry_description,
        source,
        _line_no,
        code,
        _name,
        description,
        _debit,
        _credit,
        currency,
        amount,
        fx_rate,
        base,
    ) in posted_lines_stream(company=company, date_from=FIRST_BOOK_DATE, date_to=end):
        if current is not None and current[0] != entry_id:
            yield (*current[1:], lines)
            lines = []
        current = (entry_id, date, number, reference, entry_description, source)
        rate = fx_rate if isinstance(fx_rate, Decimal) else Decimal(repr(fx_rate))
        lines.append((code, description, currency, money_from_sum(amount), rate, money_from_sum(base)))
    if current is not None:
        yield (*current[1:], lines)
