"""Admin for users, companies and memberships.

The chart of accounts is administered by `ledger.admin` (the chart with its balances and report
pages); the admin building blocks every app uses are in `sofinance.admin`.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import Company, Membership, User

# --------------------------------------------------------------------------- users, companies


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "is_staff", "is_active"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    audit_company_field = "pk"  # admin changes to a company land in its own audit chain
    list_display = ["id", "name", "currency", "fiscal_year_start", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "company", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email", "company__name"]
    autocomplete_fields = ["user", "company"]
