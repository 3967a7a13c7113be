"""The sales documents behind journal entries (sofinance.admin_links): an invoice and its void,
a credit note, a payment and its void, an allocation's exchange difference."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse

from sales.models import Allocation, CreditNote, Invoice, Payment
from sofinance.admin_links import DocumentLink


def sales_documents_of_entries(entry_ids: list[int]) -> dict[int, DocumentLink]:
    found: dict[int, DocumentLink] = {}
    for invoice in Invoice.objects.filter(Q(journal_entry_id__in=entry_ids) | Q(void_entry_id__in=entry_ids)):
        url = reverse("admin:sales_invoice_change", args=[invoice.pk])
        if invoice.journal_entry_id in entry_ids:
            found[invoice.journal_entry_id] = DocumentLink(f"Invoice {invoice.number}", url)
        if invoice.void_entry_id in entry_ids:
            found[invoice.void_entry_id] = DocumentLink(f"Void of invoice {invoice.number}", url)
    for note in CreditNote.objects.filter(journal_entry_id__in=entry_ids):
        found[note.journal_entry_id] = DocumentLink(
            f"Credit note {note.number}", reverse("admin:sales_creditnote_change", args=[note.pk])
        )
    for payment in Payment.objects.filter(Q(journal_entry_id__in=entry_ids) | Q(void_entry_id__in=entry_ids)):
        url = reverse("admin:sales_payment_change", args=[payment.pk])
        if payment.journal_entry_id in entry_ids:
            found[payment.journal_entry_id] = DocumentLink(f"Payment {payment.number}", url)
        if payment.void_entry_id in entry_ids:
            found[payment.void_entry_id] = DocumentLink(f"Void of payment {payment.number}", url)
    allocations = Allocation.objects.filter(
        Q(fx_entry_id__in=entry_ids) | Q(unallocation_entry_id__in=entry_ids)
    ).select_related("payment")
    for allocation in allocations:
        url = reverse("admin:sales_payment_change", args=[allocation.payment_id])
        for entry_id in (allocation.fx_entry_id, allocation.unallocation_entry_id):
            if entry_id in entry_ids:
                found[entry_id] = DocumentLink(f"Payment {allocation.payment.number}", url)
    return found
