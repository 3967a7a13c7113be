"""Standard charts of accounts, loadable into a company in one call.

Header accounts carry two-digit codes; postable (leaf) accounts four digits. `system_role`
marks the accounts the system posts to itself (year-end close, sales, tax).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TemplateAccount:
    code: str
    name: str
    type: str
    parent: str | None = None
    system_role: str = ""


def _group(parent: str, type_: str, rows: list[tuple[str, str] | tuple[str, str, str]]):
    return [
        TemplateAccount(
            code=r[0], name=r[1], type=type_, parent=parent, system_role=(r[2] if len(r) > 2 else "")
        )
        for r in rows
    ]


SMALL_BUSINESS: list[TemplateAccount] = [
    TemplateAccount("10", "Current assets", "asset"),
    *_group(
        "10",
        "asset",
        [
            ("1000", "Cash"),
            ("1010", "Bank - operating account", "bank"),
            ("1020", "Bank - savings account"),
            ("1100", "Accounts receivable", "receivables"),
            ("1200", "Inventory"),
            ("1300", "Prepaid expenses"),
            ("1400", "Input tax recoverable"),
        ],
    ),
    TemplateAccount("15", "Non-current assets", "asset"),
    *_group(
        "15",
        "asset",
        [
            ("1500", "Equipment"),
            ("1510", "Accumulated depreciation - equipment"),
            ("1600", "Vehicles"),
            ("1700", "Furniture and fixtures"),
        ],
    ),
    TemplateAccount("20", "Current liabilities", "liability"),
    *_group(
        "20",
        "liability",
        [
            ("2000", "Accounts payable", "payables"),
            ("2100", "Accrued liabilities"),
            ("2200", "Sales tax payable", "tax_payable"),
            ("2300", "Payroll liabilities"),
            ("2400", "Credit card"),
            ("2500", "Deferred revenue"),
        ],
    ),
    TemplateAccount("27", "Long-term liabilities", "liability"),
    *_group("27", "liability", [("2700", "Bank loan")]),
    TemplateAccount("30", "Equity", "equity"),
    *_group(
        "30",
        "equity",
        [
            ("3000", "Owner's capital"),
            ("3100", "Owner's drawings"),
            ("3200", "Retained earnings", "retained_earnings"),
        ],
    ),
    TemplateAccount("40", "Revenue", "income"),
    *_group(
        "40",
        "income",
        [
            ("4000", "Sales revenue", "revenue"),
            ("4100", "Service revenue"),
            ("4900", "Other income"),
            ("4910", "Interest income"),
            ("4950", "Exchange gains and losses", "fx_gain_loss"),
        ],
    ),
    TemplateAccount("50", "Cost of sales", "expense"),
    *_group(
        "50",
        "expense",
        [
            ("5000", "Cost of goods sold", "cost_of_sales"),
            ("5100", "Freight and delivery"),
        ],
    ),
    TemplateAccount("60", "Operating expenses", "expense"),
    *_group(
        "60",
        "expense",
        [
            ("6000", "Salaries and wages"),
            ("6050", "Payroll taxes"),
            ("6100", "Rent"),
            ("6200", "Utilities"),
            ("6300", "Office supplies"),
            ("6400", "Insurance"),
            ("6500", "Advertising and marketing"),
            ("6600", "Professional fees"),
            ("6700", "Bank fees"),
            ("6800", "Depreciation"),
            ("6900", "Travel"),
            ("6910", "Telephone and internet"),
            ("6920", "Software subscriptions"),
            ("6990", "Miscellaneous expense"),
        ],
    ),
    TemplateAccount("70", "Other expenses", "expense"),
    *_group(
        "70",
        "expense",
        [
            ("7000", "Interest expense"),
            ("7100", "Income tax expense"),
        ],
    ),
]

TEMPLATES: dict[str, list[TemplateAccount]] = {"small_business": SMALL_BUSINESS}
DEFAULT_TEMPLATE = "small_business"
