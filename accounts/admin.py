"""Admin for users, companies and memberships.

The chart of accounts is administered by `ledger.admin` (the chart with its balances and report
pages); the admin building blocks every app uses are in `sofinance.admin`.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.urls import reverse
from django.utils.html import format_html

from accounts import selectors
from accounts.admin_members import MemberPages, person, role_label, when
from accounts.errors import InvalidCompany
from accounts.models import MONTHS, Company, Membership, User
from accounts.services import company_change_check, membership_add
from sofinance import admin_menu
from sofinance.admin import CompanyScopedAdmin, ReadOnlyInline, ServiceAdmin, admin_can, admin_roles
from sofinance.admin_menu import Section
from sofinance.company_context import current_company
from sofinance.permissions import Action, role_can

# --------------------------------------------------------------------------- users, companies


class UserAddForm(AdminUserCreationForm):
    """Adding a user asks for the email too: the model requires one, unique (the change form
    refused to save a user added without it, and a second such user collided on the blank)."""

    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "email", "first_name", "last_name")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "is_staff", "is_active"]
    add_form = UserAddForm
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "email",
                    "first_name",
                    "last_name",
                    "usable_password",
                    "password1",
                    "password2",
                ),
                "description": "Give the user a role in a company on the company's page (Members) or on the "
                "Members list; staff status lets them use this admin.",
            },
        ),
    )


class MembershipInline(ReadOnlyInline):
    """The company's members, read only: roles change and members go on the Members pages
    (accounts.admin_members), through the services that keep at least one admin."""

    model = Membership
    fields = ["user", "role", "created_at"]
    readonly_fields = fields


class CompanyForm(forms.ModelForm):
    currency = forms.CharField(label="Functional currency", max_length=3)
    fiscal_year_start = forms.TypedChoiceField(
        label="Fiscal year starts in", choices=MONTHS, coerce=int, initial=1
    )

    class Meta:
        model = Company
        fields = ["name", "currency", "fiscal_year_start"]

    def clean(self):
        """A company's functional currency and fiscal year start change only as the service
        allows (`company_change_check`): the form saves the model itself."""
        cleaned = super().clean()
        if self.instance.pk is None:
            return cleaned
        saved = Company.objects.get(pk=self.instance.pk)
        for field in ("currency", "fiscal_year_start"):
            if field not in cleaned:
                continue
            value = cleaned[field].upper() if field == "currency" else cleaned[field]
            try:
                company_change_check(saved, field, value)
            except InvalidCompany as exc:
                self.add_error(field, exc.message)
        return cleaned


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    """Superusers manage every company and its members; a member sees their own companies and
    changes one only when their role there allows it (company.change)."""

    audit_company_field = "pk"  # admin changes to a company land in its own audit chain
    form = CompanyForm
    list_display = ["name", "currency_shown", "fiscal_year_starts", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(pk__in=admin_roles(request).keys())

    def get_inlines(self, request, obj):
        return self.inlines if request.user.is_superuser else []

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        if request.user.is_superuser:
            return True
        if obj is None:
            return any(role_can(role, Action.COMPANY_CHANGE) for role in admin_roles(request).values())
        return admin_can(request, obj.pk, Action.COMPANY_CHANGE)

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser or (
            bool(admin_roles(request)) if obj is None else obj.pk in admin_roles(request)
        )

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    @admin.display(description="functional currency", ordering="currency")
    def currency_shown(self, obj: Company) -> str:
        return obj.currency

    @admin.display(description="fiscal year starts in", ordering="fiscal_year_start")
    def fiscal_year_starts(self, obj: Company) -> str:
        return dict(MONTHS)[obj.fiscal_year_start]


@admin.register(Membership)
class MembershipAdmin(ServiceAdmin, CompanyScopedAdmin):
    """The members of the current company, for roles that may see them (members.view), with the
    company's pending invitations. A role allowing members.manage (company admins) changes roles,
    removes members, invites and revokes on the pages of accounts.admin_members, each calling a
    service. Nobody changes or deletes a membership through Django's generic forms (they skipped
    the rule that a company keeps an admin); a superuser adds one with the generic form, saved
    through `membership_add`."""

    view_action = Action.MEMBERS_VIEW
    list_display = ["user", "member_name", "member_email", "company", "role", "member_since"]
    list_filter = ["role"]
    list_select_related = ["user", "company"]
    search_fields = ["user__username", "user__email", "user__first_name", "user__last_name", "company__name"]
    autocomplete_fields = ["user", "company"]

    def get_urls(self):
        return [*MemberPages(self.admin_site, self).urls(), *super().get_urls()]

    def may_manage(self, request) -> bool:
        company = current_company(request)
        return company is not None and admin_can(request, company.pk, Action.MEMBERS_MANAGE)

    def get_list_display(self, request):
        shown = super().get_list_display(request)
        return [*shown, "member_actions"] if self.may_manage(request) else shown

    def changelist_view(self, request, extra_context=None):
        company = current_company(request)
        context = {"title": f"Members of {company.name}" if company is not None else "Members"}
        if company is not None and admin_can(request, company.pk, Action.MEMBERS_VIEW):
            may_manage = self.may_manage(request)
            context["may_manage_members"] = may_manage
            context["pending_invitations"] = [
                {
                    "invitation": invitation,
                    "role": role_label(invitation.role),
                    "invited_by": person(invitation.invited_by) if invitation.invited_by else "—",
                    "sent": when(invitation.created_at),
                    "expires": when(invitation.expires_at),
                    "revoke_url": reverse("admin:accounts_membership_revoke_invitation", args=[invitation.pk])
                    if may_manage
                    else None,
                }
                for invitation in selectors.company_invitations(company=company)
            ]
        return super().changelist_view(request, {**context, **(extra_context or {})})

    @admin.display(description="name", ordering="user__last_name")
    def member_name(self, obj: Membership) -> str:
        return obj.user.get_full_name() or "—"

    @admin.display(description="email", ordering="user__email")
    def member_email(self, obj: Membership) -> str:
        return obj.user.email

    @admin.display(description="member since", ordering="created_at")
    def member_since(self, obj: Membership) -> str:
        return when(obj.created_at)

    @admin.display(description="")
    def member_actions(self, obj: Membership) -> str:
        return format_html(
            '<a href="{}" class="member-change-role">Change role…</a> '
            '<a href="{}" class="member-remove">Remove…</a>',
            reverse("admin:accounts_membership_change_role", args=[obj.pk]),
            reverse("admin:accounts_membership_remove", args=[obj.pk]),
        )

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        with self.refusal_as_form_error():
            saved = membership_add(company=obj.company, user=obj.user, role=obj.role, by=request.user)
        obj.pk, obj.created_at = saved.pk, saved.created_at


admin_menu.place_model("accounts.company", section=Section.SETTINGS, order=10, title="Company")
admin_menu.place_model("accounts.membership", section=Section.SETTINGS, order=20, title="Members")
admin_menu.place_model("accounts.user", section=Section.SETTINGS, order=50, title="Users")
