"""The admin app with the accountant's site (sofinance.admin_site) as its default site.

Listed in INSTALLED_APPS in place of "django.contrib.admin", so `admin.site`, `@admin.register`
and every app's admin.py use `AccountantAdminSite` (itself the audited site) without knowing it.
"""

from audit.admin_apps import AuditedAdminConfig


class AdminConfig(AuditedAdminConfig):
    default_site = "sofinance.admin_site.AccountantAdminSite"
