"""The company an admin user is working in ("current company").

A user with several companies works in one at a time: every admin list, form and report shows
that company's books only (sofinance.admin scopes them), and the header's switcher changes it.
The choice is kept in the session and remembered as the user's preference
(accounts.UserPreference, written by `accounts.services.preferred_company_set`), so the next
login opens in the same company. Resolution order: the session, the preference, then the first
company (by name) the user may open. A membership removed since is never honoured: only the
companies the user may see now count (every company for a superuser).
"""

from __future__ import annotations

from django.http import HttpRequest

from accounts.models import Company, Membership, UserPreference
from accounts.services import preferred_company_set

SESSION_KEY = "sofinance_company_id"


def selectable_companies(request: HttpRequest) -> list[Company]:
    """The companies the user may switch to, by name: their memberships (superusers: all)."""
    cached = getattr(request, "_sofinance_companies", None)
    if cached is None:
        user = request.user
        companies = Company.objects.order_by("name", "pk")
        if not user.is_superuser:
            companies = companies.filter(
                pk__in=Membership.objects.filter(user_id=user.pk).values("company_id")
            )
        cached = list(companies)
        request._sofinance_companies = cached  # type: ignore[attr-defined]
    return cached


def current_company(request: HttpRequest) -> Company | None:
    """The company the user works in now; None when they may open none."""
    if hasattr(request, "_sofinance_company"):
        return request._sofinance_company  # type: ignore[attr-defined]
    companies = {c.pk: c for c in selectable_companies(request)} if request.user.is_authenticated else {}
    chosen = None
    for candidate in (request.session.get(SESSION_KEY), _preferred_company_id(request)):
        if candidate in companies:
            chosen = companies[candidate]
            break
    if chosen is None and companies:
        chosen = next(iter(companies.values()))
    if chosen is not None and request.session.get(SESSION_KEY) != chosen.pk:
        request.session[SESSION_KEY] = chosen.pk
    request._sofinance_company = chosen  # type: ignore[attr-defined]
    return chosen


def _preferred_company_id(request: HttpRequest) -> int | None:
    return UserPreference.objects.filter(user_id=request.user.pk).values_list("company_id", flat=True).first()


def current_company_id(request: HttpRequest) -> int | None:
    company = current_company(request)
    return company.pk if company is not None else None


def company_switch(request: HttpRequest, company: Company) -> Company:
    """Work in `company` from now on (it must be one of `selectable_companies`): the session
    changes at once and the preference is remembered for the next login."""
    preferred_company_set(user=request.user, company=company)
    request.session[SESSION_KEY] = company.pk
    request._sofinance_company = company  # type: ignore[attr-defined]
    return company
