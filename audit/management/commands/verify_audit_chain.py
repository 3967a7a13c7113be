"""`manage.py verify_audit_chain [--company ID]`: exit status 0 when the audit trail is intact,
1 naming the first broken event otherwise."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from audit.context import system_actor
from audit.services import verify_audit_chain


class Command(BaseCommand):
    help = "Verify the audit trail's signatures and hash chains; exit non-zero at the first broken event."

    def add_arguments(self, parser):
        parser.add_argument(
            "--company",
            type=int,
            default=None,
            help="Verify this company's chain only (default: every chain).",
        )

    def handle(self, *args, company: int | None = None, **options):
        with system_actor("command:verify_audit_chain"):
            result = verify_audit_chain(company_id=company)
        for chain in result.chains:
            state = "ok" if chain.ok else f"BROKEN at event {chain.broken_event_id} ({chain.reason})"
            anchored = f", anchored at seq {chain.anchored_seq}" if chain.anchored_seq is not None else ""
            self.stdout.write(
                f"{chain.chain}: {state}; {chain.events_checked} events checked "
                f"({chain.sealed_events} sealed, {chain.unsealed_events} awaiting seal), head seq {chain.head_seq}"
                f"{anchored}"
            )
        if not result.ok:
            raise CommandError(
                f"Audit chain {result.first_broken.chain} is broken at event {result.broken_event_id}: "
                f"{result.reason}: {result.detail}"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit trail intact: {result.events_checked} events in {len(result.chains)} chains "
                f"verified in {result.duration_seconds:.2f}s."
            )
        )
