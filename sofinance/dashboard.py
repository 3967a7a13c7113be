"""The dashboard (the admin index) is made of panels that apps register.

    dashboard.register(Panel(
        key="cash", title="Cash and bank", template="admin/ledger/dashboard/cash.html",
        order=10, action=Action.JOURNAL_VIEW, context=cash_panel_context, width="third",
    ))

`context(request, company)` returns the panel's template context, or None to leave the panel
out (nothing to show). A panel shows only when the user's role in the current company allows
`action`. Every app adds its own panels the same way (the jobs app: the latest integrity run and
open discrepancies; banking: the bank position).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from accounts.models import Company
from sofinance.permissions import Action


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    template: str
    order: int
    action: Action
    context: Callable[[HttpRequest, Company], dict[str, Any] | None]
    width: Literal["third", "half", "full"] = "half"


@dataclass(frozen=True)
class RenderedPanel:
    key: str
    title: str
    width: str
    html: SafeString


_panels: dict[str, Panel] = {}


def register(panel: Panel) -> None:
    _panels[panel.key] = panel


def registered() -> list[Panel]:
    return sorted(_panels.values(), key=lambda panel: (panel.order, panel.key))


def panels_for(
    request: HttpRequest, company: Company, *, may: Callable[[Action], bool]
) -> list[RenderedPanel]:
    """The panels the user may see in `company`, rendered in order."""
    shown = []
    for panel in registered():
        if not may(panel.action):
            continue
        context = panel.context(request, company)
        if context is None:
            continue
        html = render_to_string(
            panel.template, {"panel": panel, "company": company, **context}, request=request
        )
        shown.append(RenderedPanel(key=panel.key, title=panel.title, width=panel.width, html=html))
    return shown
