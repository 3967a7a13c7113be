"""The audit trail over the API: list, detail and verification (read-only, thin views)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView

from audit import selectors
from audit.api.filters import AuditEventFilter
from audit.api.serializers import AuditEventOutput, ChainVerificationOutput
from audit.models import AuditEvent
from audit.services import verify_audit_chain
from sofinance.api.pagination import EnvelopeCursorPagination
from sofinance.api.tenancy import CompanyScopedMixin
from sofinance.api.views import ok
from sofinance.errors import NotFound
from sofinance.permissions import Action


class AuditEventListView(CompanyScopedMixin, GenericAPIView):
    """The company's audit events, newest first, cursor-paginated."""

    serializer_class = AuditEventOutput
    filterset_class = AuditEventFilter
    pagination_class = EnvelopeCursorPagination
    actions = {"get": Action.AUDIT_VIEW}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no company
            return AuditEvent.objects.none()
        return selectors.audit_events_for_company(company_id=self.company.pk)

    @extend_schema(
        operation_id="audit_events_list",
        summary="List audit events",
        description=(
            "The company's audit trail, newest first, a page at a time (keyset cursor: follow "
            "`meta.pagination.next`): every write through any door (API, admin, jobs, commands) "
            "with who, what, when, the changes (`{field: {before, after}}`), the request id and "
            "the client address. Events are sealed into the company's hash chain a moment after "
            "their commit (`sealed`, `seq`, `hash`). Narrow with `object_type` and `object_id`, "
            "`action`, `actor` and `from` / `to` (a date, or an ISO 8601 date-time; `to` as a date "
            "includes that whole day). A malformed date or an offset beyond ±15:59 is 400."
        ),
        parameters=[
            OpenApiParameter(
                "from",
                str,
                description="Events from this day (YYYY-MM-DD, UTC) or this ISO 8601 date-time on.",
            ),
            OpenApiParameter(
                "to",
                str,
                description="Events up to this day (YYYY-MM-DD, UTC, the whole day) or this ISO 8601 date-time.",
            ),
        ],
        responses={200: AuditEventOutput(many=True)},
    )
    def get(self, request, company_id):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(AuditEventOutput(page, many=True).data)


class AuditEventDetailView(CompanyScopedMixin, GenericAPIView):
    serializer_class = AuditEventOutput
    actions = {"get": Action.AUDIT_VIEW}

    @extend_schema(
        operation_id="audit_events_retrieve",
        summary="Get an audit event",
        description="One event of the company's trail, with its seal when it has been chained.",
        responses={200: AuditEventOutput},
    )
    def get(self, request, company_id, pk):
        event = selectors.audit_event_get(company_id=self.company.pk, pk=int(pk))
        if event is None:
            raise NotFound()
        return ok(AuditEventOutput(event).data)


class AuditChainVerifyView(CompanyScopedMixin, GenericAPIView):
    """Verify the company's chain now. A broken chain is a 200 whose `ok` is false, naming the
    first broken event: the check itself succeeded."""

    serializer_class = ChainVerificationOutput
    actions = {"get": Action.AUDIT_VIEW}

    @extend_schema(
        operation_id="audit_events_verify",
        summary="Verify the audit trail",
        description=(
            "Check the company's hash chain now: every sealed event's signature and link, no gap "
            "in the sequence, and the chain's head against the newest anchor kept outside the "
            "database (so a trail wiped or rolled back is not reported intact). A broken chain is "
            "still a 200, with `ok` false, the first `broken_event_id` and a `reason` "
            "(`signature_mismatch`, `seq_gap`, `chain_missing`, `behind_anchor`, ...): the check "
            "itself succeeded. `meta.duration_ms` is how long it took."
        ),
        responses={200: ChainVerificationOutput},
    )
    def get(self, request, company_id):
        result = verify_audit_chain(company_id=self.company.pk)
        (chain,) = result.chains
        return ok(
            ChainVerificationOutput(chain).data,
            meta={"duration_ms": round(result.duration_seconds * 1000, 1)},
        )
