"""The accountant's admin site: the audited site (audit.admin_site) with a company context,
a dashboard for an index and a menu grouped as accountants think.

- Company context (sofinance.company_context): the header's switcher POSTs to
  `admin:switch_company`; every page's context carries `current_company` and the companies the
  user may switch to.
- Dashboard: the index renders the panels apps registered (sofinance.dashboard) for the current
  company and the user's role there, above the menu.
- Menu: `get_app_list` regroups Django's list of models (which already obeys each admin's
  permissions) into the sections of sofinance.admin_menu, adds the registered links (reports,
  close steps) the user may open, and hides System (technical models) from everyone but
  superusers. An app's own index (/admin/<app_label>/) keeps Django's list for that app.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from audit.admin_site import AuditedAdminSite
from sofinance import admin_menu, dashboard
from sofinance.admin_menu import SECTION_ORDER, SECTION_TITLES, Section
from sofinance.company_context import company_switch, current_company, selectable_companies
from sofinance.permissions import Action


class AccountantAdminSite(AuditedAdminSite):
    site_header = "SOFinance"
    site_title = "SOFinance"
    index_title = "Dashboard"
    enable_nav_sidebar = True

    # ----------------------------------------------------------------- urls

    def get_urls(self):
        return [
            path(
                "switch-company/",
                self.admin_view(require_POST(self.switch_company_view)),
                name="switch_company",
            ),
            *super().get_urls(),
        ]

    def switch_company_view(self, request: HttpRequest) -> HttpResponseRedirect:
        """Work in another company from now on; back to `next` (a page of this site)."""
        raw = request.POST.get("company", "")
        company = next((c for c in selectable_companies(request) if str(c.pk) == raw), None)
        if company is None:
            raise Http404("No such company.")
        company_switch(request, company)
        messages.success(request, f"You are now working in {company.name}.")
        target = request.POST.get("next") or reverse("admin:index", current_app=self.name)
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = reverse("admin:index", current_app=self.name)
        # A list's filters may name the previous company's rows: start the page afresh.
        if urlsplit(target).path.startswith(reverse("admin:index", current_app=self.name)):
            target = urlsplit(target).path
        return HttpResponseRedirect(target)

    # ----------------------------------------------------------------- context

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        context = super().each_context(request)
        if request.user.is_authenticated and getattr(request.user, "is_staff", False):
            context["current_company"] = current_company(request)
            context["selectable_companies"] = selectable_companies(request)
            context["current_role"] = self.role_label(request)
        return context

    @staticmethod
    def role_label(request: HttpRequest) -> str:
        from sofinance.admin import admin_roles

        company = current_company(request)
        role = admin_roles(request).get(company.pk) if company is not None else None
        if role:
            return role.capitalize()
        return "Superuser" if request.user.is_superuser else ""

    # ----------------------------------------------------------------- dashboard

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        from sofinance.admin import admin_can

        company = current_company(request)
        panels = (
            dashboard.panels_for(request, company, may=lambda action: admin_can(request, company.pk, action))
            if company is not None
            else []
        )
        context = {
            "dashboard_panels": panels,
            **(extra_context or {}),
        }
        return super().index(request, context)

    # ----------------------------------------------------------------- scoping for apps without domain imports

    def scope_company_rows(self, request: HttpRequest, queryset, *, field: str, action: Action):
        """Rows of the current company only, when the user's role there allows `action`: for
        admins of apps that may not import the domain (the audit trail)."""
        from sofinance.admin import admin_companies

        return queryset.filter(**{f"{field}__in": admin_companies(request, action)})

    # ----------------------------------------------------------------- menu

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        if app_label is not None:
            return super().get_app_list(request, app_label)
        sections: dict[Section, list[tuple[int, dict[str, Any]]]] = {section: [] for section in SECTION_ORDER}
        for app in self._build_app_dict(request).values():
            for model in app["models"]:
                place = admin_menu.model_place(f"{app['app_label']}.{model['object_name']}")
                if place.title:
                    model = {**model, "name": place.title}
                sections[place.section].append((place.order, model))
        for link in admin_menu.links():
            if not link.visible(request):
                continue
            try:
                url = reverse(link.url_name, current_app=self.name)
            except NoReverseMatch:
                continue
            sections[link.section].append(
                (
                    link.order,
                    {
                        "name": link.title,
                        "object_name": link.key.replace("-", "_"),
                        "perms": {"view": True},
                        "admin_url": url,
                        "add_url": None,
                        "view_only": True,
                        "is_link": True,
                    },
                )
            )
        index_url = reverse("admin:index", current_app=self.name)
        app_list = []
        for section in SECTION_ORDER:
            if section == Section.SYSTEM and not request.user.is_superuser:
                continue
            entries = sorted(sections[section], key=lambda item: (item[0], item[1]["name"]))
            if not entries:
                continue
            app_list.append(
                {
                    "name": SECTION_TITLES[section],
                    "app_label": f"section-{section.value}",
                    "app_url": f"{index_url}#section-{section.value}",
                    "has_module_perms": True,
                    "models": [model for _, model in entries],
                }
            )
        return app_list


def may_in_current_company(action: Action):
    """A menu link's `visible`: the user's role in the current company allows `action`."""

    def visible(request: HttpRequest) -> bool:
        from sofinance.admin import admin_can

        company = current_company(request)
        return company is not None and admin_can(request, company.pk, action)

    return visible


admin_menu.place_model("audit.auditevent", section=Section.REPORTS, order=90, title="Audit trail")
