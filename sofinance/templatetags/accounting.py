"""Template filters for amounts as people read them (sofinance.display):

{% load accounting %}
{{ invoice.total|money:invoice.currency }}     1,250.00 / (1,250.00)
{{ balance|money_side:company.currency }}      1,250.00 Dr / 300.00 Cr
"""

from __future__ import annotations

from django import template

from sofinance.display import display_amount, display_side

register = template.Library()


@register.filter
def money(amount, currency: str) -> str:
    return display_amount(amount, currency or "USD")


@register.filter
def money_side(amount, currency: str) -> str:
    return display_side(amount, currency or "USD")
