"""Links from journal entries to the documents that posted them (an invoice, a payment...).

The ledger knows entries, not the documents of the apps above it; those apps register a resolver
that names the document behind each entry, so a general-ledger line or an entry's page can open
it (sales registers invoices, credit notes and payments; banking the bank line matched to an entry).

    admin_links.register_document_resolver(lambda entry_ids: {entry_id: DocumentLink(...), ...})
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class DocumentLink:
    label: str  # "Invoice INV-2026-000012"
    url: str


Resolver = Callable[[list[int]], dict[int, DocumentLink]]
_resolvers: list[Resolver] = []


def register_document_resolver(resolver: Resolver) -> None:
    if resolver not in _resolvers:
        _resolvers.append(resolver)


def documents_of_entries(entry_ids: Iterable[int]) -> dict[int, DocumentLink]:
    """{entry id: the document it was posted for}, for the entries that have one."""
    ids = sorted(set(entry_ids))
    found: dict[int, DocumentLink] = {}
    if not ids:
        return found
    for resolver in _resolvers:
        for entry_id, link in resolver(ids).items():
            found.setdefault(entry_id, link)
    return found
