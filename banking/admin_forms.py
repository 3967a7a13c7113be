"""The bank account's admin form: its CSV column mapping as fields an accountant fills in.

The stored `csv_mapping` stays the JSON object the API reads and writes. The form shows it as
fields (initial values from the saved mapping, else the parser's defaults), builds the object
back from them and checks it with `csv_mapping_clean`, the rule the service and the API apply:
a refusal lands on the field it is about, and nothing is saved. What the service then stores is
what it stores for the API: the full cleaned mapping, or `{}` while nothing differs from the
defaults.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import format_html, format_html_join

from banking.models import BankAccount
from banking.parsers.csv_statement import (
    DEFAULT_MAPPING,
    DELIMITERS,
    ENCODINGS,
    csv_mapping_clean,
)
from banking.services.bank_accounts import BANK_ACCOUNT_FIELDS
from sofinance.admin import ServiceModelForm
from sofinance.errors import ValidationFailed

# Characters travel as words: a tab, a space or "no separator" make poor <option> values.
DELIMITER_CHOICES = {",": "Comma ( , )", ";": "Semicolon ( ; )", "\t": "Tab", "|": "Pipe ( | )"}
ENCODING_LABELS = {
    "utf-8": "UTF-8 (most banks)",
    "utf-8-sig": "UTF-8 with BOM (saved by Excel)",
    "latin-1": "Latin-1 (ISO 8859-1)",
    "cp1252": "Windows-1252 (Windows, Western Europe)",
    "iso-8859-15": "ISO 8859-15 (Latin-9, with €)",
}
DECIMAL_CHOICES = {".": "Point: 1234.56", ",": "Comma: 1234,56"}
THOUSANDS_CHOICES = {
    "": "None: 1234.56",
    ",": "Comma: 1,234.56",
    ".": "Point: 1.234,56",
    " ": "Space: 1 234,56",
    "'": "Apostrophe: 1'234.56",
}
_TOKENS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe", ".": "point", " ": "space", "'": "apostrophe", "": "none"}  # fmt: skip
_CHARACTERS = {token: character for character, token in _TOKENS.items()}

COMMON_DATE_FORMATS = {
    "%Y-%m-%d": "2026-03-31 (YYYY-MM-DD)",
    "%d/%m/%Y": "31/03/2026 (DD/MM/YYYY)",
    "%m/%d/%Y": "03/31/2026 (MM/DD/YYYY)",
    "%d.%m.%Y": "31.03.2026 (DD.MM.YYYY)",
    "%d-%m-%Y": "31-03-2026 (DD-MM-YYYY)",
}
OTHER_DATE_FORMAT = "other"

SIGNED, SPLIT = "signed", "split"
AMOUNT_LAYOUTS = [
    (SIGNED, "In one column, money out negative"),
    (SPLIT, "In two columns, money out and money in"),
]

# The form's fields, in the mapping's keys (each refusal of csv_mapping_clean names its field).
MAPPING_FIELDS = (
    "delimiter", "encoding", "skip_rows", "date_column", "date_format", "value_date_column", "amount_column",
    "debit_column", "credit_column", "invert_sign", "decimal_separator", "thousands_separator",
    "counterparty_column", "reference_column", "description_column", "unique_id_column", "balance_column",
)  # fmt: skip
CSV_FIELDSET_LINES = (
    ("delimiter", "encoding"),
    "skip_rows",
    ("date_column", "value_date_column"),
    "date_format",
    "amounts",
    ("amount_column", "invert_sign"),
    ("debit_column", "credit_column"),
    ("decimal_separator", "thousands_separator"),
    ("counterparty_column", "reference_column"),
    ("description_column", "unique_id_column"),
    "balance_column",
)


def _tokens(characters: dict[str, str]) -> list[tuple[str, str]]:
    return [(_TOKENS[character], label) for character, label in characters.items()]


def _character(value: str) -> str:
    return _CHARACTERS.get(value, value)  # the initial value is a character already


class TokenChoiceField(forms.TypedChoiceField):
    """A choice of characters offered under their names ("tab", "space"), cleaned to the character."""

    def __init__(self, *, characters: dict[str, str], **kwargs: Any) -> None:
        super().__init__(choices=_tokens(characters), coerce=_character, **kwargs)

    def prepare_value(self, value: Any) -> Any:
        return _TOKENS.get(value, value) if isinstance(value, str) else value


class DateFormatWidget(forms.MultiWidget):
    template_name = "banking/widgets/date_format.html"

    def __init__(self) -> None:
        choices = [*COMMON_DATE_FORMATS.items(), (OTHER_DATE_FORMAT, "Other format…")]
        other = forms.TextInput(
            attrs={"placeholder": "e.g. %d %b %Y", "size": 14, "aria-label": "Other date format"}
        )
        super().__init__({"": forms.Select(choices=choices), "other": other})

    def id_for_label(self, id_: str) -> str:
        return f"{id_}_0" if id_ else ""  # the label names the select (Django's default: nothing)

    def decompress(self, value: Any) -> list[str]:
        if not value:
            return ["%Y-%m-%d", ""]
        return [value, ""] if value in COMMON_DATE_FORMATS else [OTHER_DATE_FORMAT, value]


class DateFormatField(forms.MultiValueField):
    """One of the common formats, or "Other" with a strftime format typed in."""

    widget = DateFormatWidget

    def __init__(self, **kwargs: Any) -> None:
        fields = (
            forms.ChoiceField(choices=[*COMMON_DATE_FORMATS.items(), (OTHER_DATE_FORMAT, "Other")]),
            forms.CharField(required=False, max_length=30),
        )
        super().__init__(fields, require_all_fields=False, **kwargs)

    def compress(self, data_list: list[str]) -> str:
        if not data_list:
            return ""
        choice, other = data_list
        return (other or "").strip() if choice == OTHER_DATE_FORMAT else choice


def _column(label: str, help_text: str, placeholder: str = "") -> forms.CharField:
    attrs = {"placeholder": placeholder} if placeholder else {}
    return forms.CharField(
        label=label,
        required=False,
        max_length=100,
        help_text=help_text,
        widget=forms.TextInput(attrs={"size": 18, **attrs}),
    )


class BankAccountForm(ServiceModelForm):
    """A bank account, and how its bank's CSV statements read."""

    currency = forms.CharField(
        required=False, max_length=3, help_text="Blank: the ledger account's currency."
    )

    delimiter = TokenChoiceField(
        label="Columns separated by",
        characters={character: DELIMITER_CHOICES[character] for character in DELIMITERS},
    )
    encoding = forms.ChoiceField(
        label="File encoding",
        choices=[(encoding, ENCODING_LABELS.get(encoding, encoding)) for encoding in ENCODINGS],
        help_text="If accents or € read wrong, try Windows-1252.",
    )
    skip_rows = forms.IntegerField(
        label="Lines to skip",
        min_value=0,
        max_value=50,
        help_text="Lines above the column headers (a title, the account number); 0 when the "
        "headers are the first line.",
        widget=forms.NumberInput(attrs={"class": "vIntegerField"}),
    )
    date_column = _column("Date column", "The booking date's header, as in the file.", "e.g. Booking date")
    date_format = DateFormatField(
        label="Dates written as",
        help_text="Not in the list? Choose “Other format…” and type it with %d (day), %m or %b "
        "(month) and %Y (year): <code>%d %b %Y</code> reads 31 Mar 2026, <code>%Y%m%d</code> 20260331.",
    )
    amounts = forms.ChoiceField(
        label="Amounts are",
        choices=AMOUNT_LAYOUTS,
        widget=forms.RadioSelect,
        initial=SIGNED,
    )
    amount_column = _column(
        "Amount column",
        "One column: money in positive, money out negative.",
        "e.g. Amount",
    )
    invert_sign = forms.BooleanField(
        label="Invert the sign",
        required=False,
        help_text="Tick when the bank shows money out as positive and money in as negative.",
    )
    debit_column = _column("Debit (out) column", "Two columns: money out (payments, fees).", "e.g. Debit")
    credit_column = _column("Credit (in) column", "Two columns: money in (receipts).", "e.g. Credit")
    decimal_separator = TokenChoiceField(label="Decimal separator", characters=DECIMAL_CHOICES)
    thousands_separator = TokenChoiceField(label="Thousands separator", characters=THOUSANDS_CHOICES)
    counterparty_column = _column("Counterparty column", "Optional: the payer or payee.")
    reference_column = _column("Reference column", "Optional: matched against invoice numbers.")
    description_column = _column("Description column", "Optional: the bank's details.")
    unique_id_column = _column(
        "Transaction ID column", "Optional: the bank's id of each row; skips rows already imported."
    )
    balance_column = _column(
        "Balance column", "Optional: the running balance; gives the opening and closing balances."
    )
    value_date_column = _column("Value date column", "Optional: written like the booking date.")

    class Meta:
        model = BankAccount
        fields = ["company", *(name for name in BANK_ACCOUNT_FIELDS if name != "csv_mapping")]
        labels = {"iban": "IBAN"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.saved_mapping = self._effective(self.instance.csv_mapping)
        for name, value in self._fields_of(self.saved_mapping).items():
            self.initial.setdefault(name, value)
        self.csv_mapping: dict[str, Any] | None = None

    # ----- mapping <-> fields

    @staticmethod
    def _effective(stored: dict[str, Any] | None) -> dict[str, Any]:
        """The mapping the statement import reads: the saved one, else the defaults."""
        try:
            return csv_mapping_clean(stored or {})
        except ValidationFailed:  # saved before a rule tightened: shown as is, refused on save
            return {**csv_mapping_clean({}), **(stored if isinstance(stored, dict) else {})}

    @staticmethod
    def _fields_of(mapping: dict[str, Any]) -> dict[str, Any]:
        initial = {name: mapping.get(name, "") for name in MAPPING_FIELDS}
        initial["amounts"] = SPLIT if mapping.get("debit_column") or mapping.get("credit_column") else SIGNED
        return initial

    def _mapping_of_fields(self) -> dict[str, Any]:
        """The mapping the fields say. "Amounts are" decides the layout: its columns go in, the
        other layout's (greyed on the page) are left out, whatever they hold; a column the chosen
        layout needs and lacks is refused on its field."""
        data = self.cleaned_data
        raw = {name: data[name] for name in DEFAULT_MAPPING if name in data and name not in self.errors}
        if data.get("amounts") == SPLIT:
            raw["amount_column"] = ""
            for name in ("debit_column", "credit_column"):
                raw[name] = data.get(name, "")
                if name in data and not raw[name]:
                    self.add_error(name, "Name this column: amounts are in two columns.")
        return raw

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        raw = self._mapping_of_fields()
        try:
            mapping = csv_mapping_clean(raw)
        except ValidationFailed as exc:
            self._refusal_on_fields(exc)
        else:
            if not any(name in self.errors for name in (*MAPPING_FIELDS, "amounts")):
                self.csv_mapping = mapping
        return cleaned

    def _refusal_on_fields(self, exc: ValidationFailed) -> None:
        problems = exc.details.get("csv_mapping")
        if not isinstance(problems, dict):
            self.add_error(None, exc.message)
            return
        columns_refused = "debit_column" in self.errors or "credit_column" in self.errors
        for key, messages in problems.items():
            field = key if key in self.fields else None
            if field is not None and field in self.errors:
                continue  # the field's own check already said it
            if field == "amount_column" and columns_refused:
                continue  # "an amount column, or debit and credit columns": the latter are named
            for message in messages:
                self.add_error(field, message if field else f"{key}: {message}")

    def csv_mapping_to_save(self) -> dict[str, Any] | None:
        """The mapping to hand the service; None when the fields say what is saved already
        (an account whose mapping is unset keeps `{}`, the defaults)."""
        if self.csv_mapping is None or self.csv_mapping == self.saved_mapping:
            return None
        return self.csv_mapping


def csv_mapping_in_words(stored: dict[str, Any] | None) -> str:
    """The mapping under the form's labels, for a role that reads it: what is saved, or the
    defaults when nothing is."""
    values = BankAccountForm._fields_of(BankAccountForm._effective(stored))
    rows = []
    for name in (
        name for line in CSV_FIELDSET_LINES for name in ((line,) if isinstance(line, str) else line)
    ):
        field, value = BankAccountForm.base_fields[name], values[name]
        if isinstance(field, DateFormatField):
            value = COMMON_DATE_FORMATS.get(value, value)
        elif isinstance(field, forms.ChoiceField):
            value = dict(field.choices).get(field.prepare_value(value), value)
        elif isinstance(field, forms.BooleanField):
            value = "Yes" if value else "No"
        if value not in ("", None):
            rows.append((field.label, value))
    table = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows)
    note = format_html('<p class="help">{}</p>', "The defaults: nothing is set.") if not stored else ""
    return format_html('<table class="csv-mapping-in-words">{}</table>{}', table, note)
