"""Tenancy for company-scoped endpoints under /api/v1/companies/{company_id}/...

A user who is not a member of the company gets 404 (the company's existence does not leak);
a member whose role lacks the view's action gets 403. The role table is sofinance.permissions.
OPTIONS answers any member with the methods the URL accepts (the role decides on the real request).
"""

from __future__ import annotations

from accounts.selectors import membership_get
from sofinance.errors import MethodNotAllowed, NotFound, PermissionDenied
from sofinance.permissions import Action, role_can

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CompanyScopedMixin:
    """Sets `self.company` and `self.membership`, and checks the role for the request.

    Views declare `actions`, mapping a DRF action name (or an HTTP method) to an `Action`.
    """

    company_url_kwarg = "company_id"
    actions: dict[str, Action] = {}

    def required_action(self, request) -> Action | None:
        name = getattr(self, "action", None)
        if name and name in self.actions:
            return self.actions[name]
        method = request.method.lower()
        # HEAD is a GET without the body (Django answers it with the GET handler): the same right.
        return self.actions.get("get" if method == "head" else method)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication, IsAuthenticated, throttles
        try:
            company_id = int(kwargs[self.company_url_kwarg])
        except (KeyError, TypeError, ValueError):
            raise NotFound() from None
        membership = getattr(request._request, "sofinance_membership", None)  # read with the token's user
        if membership is None or membership.company_id != company_id or membership.user_id != request.user.pk:
            membership = membership_get(user=request.user, company_id=company_id)
        if membership is None:
            raise NotFound()
        self.membership = membership
        self.company = membership.company
        if request.method == "OPTIONS":
            return  # what the URL accepts is no secret from a member: 200 with the allowed methods
        if request.method.lower() not in self.http_method_names or not hasattr(self, request.method.lower()):
            # A method the view does not have is a 405, whatever the role.
            raise MethodNotAllowed(f'Method "{request.method}" not allowed.')
        action = self.required_action(request)
        if action is None or not role_can(membership.role, action):
            raise PermissionDenied(
                f"Your role ({membership.role}) does not allow this action.",
                details={"role": membership.role, "action": str(action) if action else None},
            )
        if request.method in BODY_METHODS:
            # DRF parses a body only when the view reads it: an action that reads none (issue,
            # post, close, reconcile) would act on a malformed body. Parsing it here refuses any
            # such body (400 validation_error, as everywhere else) before anything is written.
            request.data  # noqa: B018
