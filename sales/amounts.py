"""The arithmetic of invoice and credit-note lines, in one place.

Rounding rule (documented in docs/sales.md): each line's net is
    quantity × unit price × (1 − discount / 100)
rounded half-up to the currency's decimal places; its tax is net × rate / 100, rounded half-up
the same way; its total is net + tax. A document's subtotal, tax and total are the exact sums of
its lines, so the posted entry equals the document to the cent. Nothing else is rounded: a unit
price with more decimals than the currency allows is refused (`currency_precision`), never rounded.

Credit notes use the same rule on the credited quantity, capped at what is left of the line;
crediting a line's last units takes exactly what is left of its net and tax, so the credits of a
line never add up to a cent more (or less) than the line itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

from sofinance.money import MAX_ABS_AMOUNT, MoneyError, currency_quantum, decimal_places, parse_amount

ZERO = Decimal(0)
HUNDRED = Decimal(100)
MAX_QUANTITY = Decimal("1e12")
QUANTITY_PLACES = 4
PERCENT_PLACES = 4


@dataclass(frozen=True)
class LineAmounts:
    net: Decimal
    tax: Decimal

    @property
    def total(self) -> Decimal:
        return self.net + self.tax


def round_money(value: Decimal, currency: str) -> Decimal:
    """Half-up to the currency's places (the one rounding documents do)."""
    with localcontext() as ctx:
        ctx.prec = 60
        return value.quantize(currency_quantum(currency), ROUND_HALF_UP)


def line_net(*, quantity: Decimal, unit_price: Decimal, discount: Decimal, currency: str) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 60
        exact = quantity * unit_price * (HUNDRED - discount) / HUNDRED
    return round_money(exact, currency)


def tax_of(*, net: Decimal, percent: Decimal, currency: str) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 60
        exact = net * percent / HUNDRED
    return round_money(exact, currency)


def line_amounts(
    *, quantity: Decimal, unit_price: Decimal, discount: Decimal, tax_percent: Decimal, currency: str
) -> LineAmounts:
    net = line_net(quantity=quantity, unit_price=unit_price, discount=discount, currency=currency)
    return LineAmounts(net=net, tax=tax_of(net=net, percent=tax_percent, currency=currency))


def credited_amounts(
    *,
    quantity: Decimal,
    line_quantity: Decimal,
    line_unit_price: Decimal,
    line_discount: Decimal,
    line_tax_percent: Decimal,
    remaining_quantity: Decimal,
    remaining_net: Decimal,
    remaining_tax: Decimal,
    currency: str,
) -> LineAmounts:
    """What crediting `quantity` of a line takes, never more than what is left of it."""
    if quantity == remaining_quantity:
        return LineAmounts(net=remaining_net, tax=remaining_tax)
    amounts = line_amounts(
        quantity=quantity,
        unit_price=line_unit_price,
        discount=line_discount,
        tax_percent=line_tax_percent,
        currency=currency,
    )
    return LineAmounts(net=min(amounts.net, remaining_net), tax=min(amounts.tax, remaining_tax))


# --------------------------------------------------------------------------- parsing


def parse_quantity(value: object) -> Decimal:
    """A positive quantity with at most 4 decimals."""
    amount = parse_amount(value)
    if amount <= 0:
        raise MoneyError("The quantity must be positive.", code="invalid_quantity")
    if decimal_places(amount) > QUANTITY_PLACES:
        raise MoneyError(f"Quantities have at most {QUANTITY_PLACES} decimals.", code="invalid_quantity")
    if amount >= MAX_QUANTITY:
        raise MoneyError(f"{amount} is too large a quantity.", code="invalid_quantity")
    return amount


def parse_percent(value: object, *, label: str = "percentage") -> Decimal:
    """A percentage from 0 to 100 with at most 4 decimals."""
    amount = parse_amount(value)
    if not ZERO <= amount <= HUNDRED:
        raise MoneyError(f"The {label} must be between 0 and 100.", code="invalid_percent")
    if decimal_places(amount) > PERCENT_PLACES:
        raise MoneyError(f"A {label} has at most {PERCENT_PLACES} decimals.", code="invalid_percent")
    return amount


def parse_price(value: object) -> Decimal:
    """A non-negative amount (its currency's precision is checked where the currency is known)."""
    amount = parse_amount(value)
    if amount < 0:
        raise MoneyError("The amount must not be negative.", code="invalid_amount")
    if abs(amount) >= MAX_ABS_AMOUNT:
        raise MoneyError(f"{amount} is too large.", code="invalid_amount")
    return amount


def format_percent(value: Decimal) -> str:
    """ "20.00", "12.50", "7.125": at least two decimals, no trailing zeros beyond them."""
    normalized = value.normalize()
    places = max(2, decimal_places(normalized))
    return str(value.quantize(Decimal(1).scaleb(-places)))
