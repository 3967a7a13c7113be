"""The bank lines behind journal entries (sofinance.admin_links): an entry whose bank-account
line is matched to a bank statement line (an entry posted for a fee from the line, a transfer the
accountant matched) opens that line's page, which names its statement. Documents of the apps
below (an invoice's payment) are resolved first by their own app."""

from __future__ import annotations

from django.urls import reverse

from banking.models import BankMatch
from sofinance.admin_links import DocumentLink


def bank_lines_of_entries(entry_ids: list[int]) -> dict[int, DocumentLink]:
    found: dict[int, DocumentLink] = {}
    matches = (
        BankMatch.objects.filter(journal_line__entry_id__in=entry_ids)
        .order_by("journal_line__entry_id", "bank_line_id")
        .values_list(
            "journal_line__entry_id", "bank_line_id", "bank_line__date", "bank_line__bank_account__name"
        )
    )
    for entry_id, bank_line_id, date, bank_name in matches:
        found.setdefault(
            entry_id,
            DocumentLink(
                f"Bank line {date:%Y-%m-%d} ({bank_name})",
                reverse("admin:banking_bankstatementline_match", args=[bank_line_id]),
            ),
        )
    return found
