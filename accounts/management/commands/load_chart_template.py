"""manage.py load_chart_template --company ID [--template small_business]

Loads a standard chart of accounts into a company through `chart_template_load` (codes the
company already has are left alone), recorded in the audit trail as this command.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.chart_templates import DEFAULT_TEMPLATE, TEMPLATES
from accounts.models import Company
from accounts.services import chart_template_load
from audit.context import system_actor
from sofinance.errors import APIError


class Command(BaseCommand):
    help = "Load a standard chart of accounts into a company."

    def add_arguments(self, parser):
        parser.add_argument("--company", type=int, required=True, help="Company id.")
        parser.add_argument(
            "--template",
            default=DEFAULT_TEMPLATE,
            help=f"Chart template (one of: {', '.join(sorted(TEMPLATES))}; default {DEFAULT_TEMPLATE}).",
        )

    def handle(self, *args, company: int, template: str, **options):
        found = Company.objects.filter(pk=company).first()
        if found is None:
            raise CommandError(f"Company {company} does not exist.")
        try:
            with system_actor("command:load_chart_template"):
                created = chart_template_load(company=found, template=template, by=None)
        except APIError as exc:
            choices = exc.details.get("template")
            hint = f" {' '.join(choices)}" if isinstance(choices, list) else ""
            raise CommandError(f"{exc.message}{hint}") from exc
        for account in created:
            self.stdout.write(f"  {'  ' * account.depth}{account.code}  {account.name}")
        if created:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Loaded template {template!r} into {found.name} (id {found.pk}): "
                    f"{len(created)} accounts created."
                )
            )
        else:
            self.stdout.write(
                f"Nothing to do: {found.name} (id {found.pk}) already has every account of {template!r}."
            )
