"""The admin app, with the audited admin site as its default site.

Listed in INSTALLED_APPS in place of "django.contrib.admin", so `admin.site`, `@admin.register`
and every app's admin.py use `audit.admin_site.AuditedAdminSite` without knowing it.
"""

from django.contrib.admin.apps import AdminConfig


class AuditedAdminConfig(AdminConfig):
    default_site = "audit.admin_site.AuditedAdminSite"
