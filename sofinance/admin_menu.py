"""The admin's menu, grouped as an accountant thinks: Ledger, Sales, Banking, Reports, Close,
Settings. Technical models (Celery beat schedules, audit chain heads, login attempts, groups...)
go to System, which only superusers see.

Each app places its own models and pages from its admin.py (the platform knows no domain app):

    admin_menu.place_model("ledger.journalentry", section=Section.LEDGER, order=20)
    admin_menu.place_link(
        section=Section.CLOSE, key="generate-periods", title="Generate a fiscal year's periods",
        url_name="admin:ledger_accountingperiod_generate", order=15,
        visible=lambda request: ...,
    )

A model nobody placed is technical: it lands in System. `AccountantAdminSite.get_app_list`
builds the menu from Django's own list (so each model still obeys its admin's permissions).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from django.http import HttpRequest


class Section(StrEnum):
    LEDGER = "ledger"
    SALES = "sales"
    BANKING = "banking"
    REPORTS = "reports"
    CLOSE = "close"
    SETTINGS = "settings"
    SYSTEM = "system"


SECTION_TITLES = {
    Section.LEDGER: "Ledger",
    Section.SALES: "Sales",
    Section.BANKING: "Banking",
    Section.REPORTS: "Reports",
    Section.CLOSE: "Close",
    Section.SETTINGS: "Settings",
    Section.SYSTEM: "System (superusers)",
}
SECTION_ORDER = list(Section)


@dataclass(frozen=True)
class ModelPlace:
    section: Section
    order: int
    title: str | None = None  # the menu's name for the model (else its verbose_name_plural)


@dataclass(frozen=True)
class MenuLink:
    """A page that is not a model's list (a report, a close step)."""

    section: Section
    key: str
    title: str
    url_name: str
    order: int
    visible: Callable[[HttpRequest], bool]


_models: dict[str, ModelPlace] = {}
_links: dict[str, MenuLink] = {}


def place_model(label: str, *, section: Section, order: int, title: str | None = None) -> None:
    """Show the model `app_label.model_name` in `section` (lower `order` first)."""
    _models[label.lower()] = ModelPlace(section=section, order=order, title=title)


def place_link(
    *,
    section: Section,
    key: str,
    title: str,
    url_name: str,
    order: int,
    visible: Callable[[HttpRequest], bool],
) -> None:
    _links[key] = MenuLink(
        section=section, key=key, title=title, url_name=url_name, order=order, visible=visible
    )


def model_place(label: str) -> ModelPlace:
    return _models.get(label.lower(), ModelPlace(section=Section.SYSTEM, order=1000))


def links() -> list[MenuLink]:
    return sorted(_links.values(), key=lambda link: (link.order, link.title))
