"""Importing statements: each format from its fixture, de-duplication, balance chaining, and
malformed files refused with errors by line and nothing written."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from banking import errors
from banking.models import BankStatement, BankStatementLine, ImportJob, JobStatus
from banking.services import bank_account_update
from banking.tests.factories import EUROPEAN_MAPPING, bank_books, banking_rows, fixture, statement_of, upload

pytestmark = pytest.mark.django_db
D = datetime.date


def _camt(*changes: tuple[str, str]) -> bytes:
    """The March CAMT.053 fixture with each (old, new) text replaced once."""
    data = fixture("camt053_march.xml")
    for old, new in changes:
        assert data.count(old.encode()) == 1
        data = data.replace(old.encode(), new.encode())
    return data


RECEIPT = '<Amt Ccy="USD">1500.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
FEE = '<Amt Ccy="USD">45.50</Amt><CdtDbtInd>DBIT</CdtDbtInd>'
OPENING = '<Amt Ccy="USD">1000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
CLOSING = '<Amt Ccy="USD">2654.50</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
SIGNED = "has a sign; a CAMT.053 amount is never negative (CdtDbtInd gives the direction)."


def _lines(bank):
    return [
        (row.date, row.amount, row.counterparty, row.reference, row.unique_id)
        for row in BankStatementLine.objects.filter(bank_account=bank).order_by("date", "id")
    ]


def test_camt053_with_several_entries_imports_booked_entries_with_its_balances():
    # given
    bank = bank_books()

    # when
    job = upload(bank, "camt053_march.xml")

    # then
    statement = statement_of(job)
    assert (statement.format, statement.start_date, statement.end_date) == (
        "camt053",
        D(2026, 3, 1),
        D(2026, 3, 31),
    )
    assert (statement.opening_balance, statement.closing_balance) == (Decimal("1000.00"), Decimal("2654.50"))
    assert (statement.line_count, statement.duplicates_skipped, statement.chain_break) == (4, 0, None)
    assert _lines(bank) == [
        (D(2026, 3, 5), Decimal("1500.00"), "Acme Ltd", "Payment INV-2026-000001", "CAMT-0001"),
        (D(2026, 3, 10), Decimal("-45.50"), "", "", "CAMT-0002"),
        (D(2026, 3, 12), Decimal("-300.00"), "Harbour Properties", "RENT-MAR", "CAMT-0003"),
        (D(2026, 3, 20), Decimal("500.00"), "Globex", "Two orders", "CAMT-0004"),
    ]
    assert (job.status, job.progress, job.line_count, job.format) == (JobStatus.DONE, 100, 4, "camt053")


def test_ofx_duplicates_across_two_files_are_imported_once_and_the_balances_chain():
    # given: the first half of March
    bank = bank_books()
    first = statement_of(upload(bank, "ofx_march_1.ofx"))

    # when: a statement overlapping it (10-31 March, two of its lines again)
    second = statement_of(upload(bank, "ofx_march_2.ofx"))

    # then
    assert (first.opening_balance, first.closing_balance, first.line_count) == (
        Decimal("1000.00"),
        Decimal("2154.50"),
        3,
    )
    assert (second.opening_balance, second.closing_balance) == (Decimal("2500.00"), Decimal("2656.65"))
    assert (second.line_count, second.duplicates_skipped, second.chain_break) == (2, 2, None)
    assert [row[4] for row in _lines(bank)] == ["F-001", "F-002", "F-003", "F-004", "F-005"]
    assert sum(row[1] for row in _lines(bank)) == Decimal("1656.65")


def test_reimporting_the_same_file_adds_nothing():
    # given
    bank = bank_books()
    upload(bank, "camt053_march.xml")

    # when
    again = statement_of(upload(bank, "camt053_march.xml"))

    # then
    assert (again.line_count, again.duplicates_skipped) == (0, 4)
    assert BankStatementLine.objects.filter(bank_account=bank).count() == 4


def test_csv_with_the_saved_mapping_keeps_identical_card_payments_and_dedupes_by_hash():
    # given
    bank = bank_books()
    bank_account_update(bank_account=bank, by=None, csv_mapping=EUROPEAN_MAPPING)

    # when
    statement = statement_of(upload(bank, "csv_european.csv"))
    again = statement_of(upload(bank, "csv_european.csv"))

    # then: European amounts, the balance column gives the balances, two identical card payments stay two
    assert (statement.opening_balance, statement.closing_balance, statement.line_count) == (
        Decimal("1000.00"),
        Decimal("2146.10"),
        5,
    )
    assert [(row[0], row[1], row[2]) for row in _lines(bank)][-2:] == [
        (D(2026, 3, 12), Decimal("-4.20"), "Coffee Bar"),
        (D(2026, 3, 12), Decimal("-4.20"), "Coffee Bar"),
    ]
    assert (again.line_count, again.duplicates_skipped) == (0, 5)


def test_a_debit_credit_csv_needs_an_opening_balance_on_the_first_statement_then_chains():
    # given
    bank = bank_books()
    bank_account_update(
        bank_account=bank,
        by=None,
        csv_mapping={
            "date_column": "Date",
            "debit_column": "Out",
            "credit_column": "In",
            "reference_column": "Ref",
        },
    )
    march = b"Date,Ref,Out,In\n2026-03-02,A,,100.00\n2026-03-09,B,25.00,\n"
    april = b"Date,Ref,Out,In\n2026-04-01,C,10.00,\n"

    # when / then
    with pytest.raises(errors.InvalidStatementFile):
        upload(bank, march)
    first = statement_of(upload(bank, march, opening_balance=Decimal("50.00")))
    second = statement_of(upload(bank, april))
    assert (first.opening_balance, first.closing_balance) == (Decimal("50.00"), Decimal("125.00"))
    assert (second.opening_balance, second.closing_balance) == (Decimal("125.00"), Decimal("115.00"))
    # a mistyped opening balance is refused saying what the chain expected
    may = b"Date,Ref,Out,In\n2026-05-04,D,5.00,\n"
    with pytest.raises(errors.StatementUnbalanced) as refused:
        upload(bank, may, opening_balance=Decimal("151.00"), closing_balance=Decimal("110.00"))
    assert refused.value.message.endswith(
        "The bank account's balance on 2026-05-03 is 115.00, from the previous statement: is the opening "
        "balance right?"
    )


def test_an_opening_balance_that_does_not_chain_is_refused_unless_the_import_says_so():
    # given
    bank = bank_books()
    upload(bank, "ofx_march_1.ofx")
    gap = fixture("ofx_march_2.ofx").replace(b"<BALAMT>2656.65", b"<BALAMT>2756.65")
    before = banking_rows(bank.company)

    # when
    with pytest.raises(errors.BalanceChainBroken) as refused:
        upload(bank, gap)

    # then
    assert refused.value.details == {
        "opening_balance": "2600.00",
        "expected_opening_balance": "2500.00",
        "difference": "100.00",
    }
    assert banking_rows(bank.company) == before
    accepted = statement_of(upload(bank, gap, accept_chain_break=True))
    assert (accepted.opening_balance, accepted.chain_break) == (Decimal("2600.00"), Decimal("100.00"))


def test_a_statement_whose_lines_do_not_add_up_is_refused():
    bank = bank_books()
    broken = fixture("camt053_march.xml").replace(b">2654.50<", b">2654.51<")

    with pytest.raises(errors.StatementUnbalanced) as refused:
        upload(bank, broken)

    assert refused.value.details["difference"] == "0.01"
    assert BankStatement.objects.count() == 0


def test_a_second_statement_of_the_same_days_with_other_lines_is_refused_unless_the_import_says_so():
    # given a statement of 10-11 March (opening 50.00, closing 125.00)
    bank = bank_books()
    bank_account_update(
        bank_account=bank,
        by=None,
        csv_mapping={"date_column": "Date", "amount_column": "Amount", "reference_column": "Ref"},
    )
    upload(
        bank, b"Date,Ref,Amount\n2026-03-10,A,100.00\n2026-03-11,B,-25.00\n", opening_balance=Decimal("50.00")
    )
    before = banking_rows(bank.company)

    # when another file of 10 March, opening at the same 50.00, brings a line the first did not
    # have and not the one it had (stored beside it, 10 March would end at 151.00, not at 51.00)
    other = b"Date,Ref,Amount\n2026-03-10,Z,1.00\n"
    with pytest.raises(errors.StatementUnbalanced) as refused:
        upload(bank, other, opening_balance=Decimal("50.00"), closing_balance=Decimal("51.00"))

    # then it is refused, saying why, and nothing is written
    assert refused.value.details == {
        "opening_balance": "50.00",
        "lines_already_imported": "100.00",
        "new_lines_total": "1.00",
        "closing_balance": "51.00",
        "difference": "-100.00",
    }
    assert "dates of a statement already imported" in refused.value.message
    assert banking_rows(bank.company) == before
    # a full re-export of the same days (its lines skipped as duplicates) and a later statement
    # that repeats the last day both still agree with the books
    again = b"Date,Ref,Amount\n2026-03-10,A,100.00\n2026-03-11,B,-25.00\n"
    assert statement_of(upload(bank, again, opening_balance=Decimal("50.00"))).duplicates_skipped == 2
    later = b"Date,Ref,Amount\n2026-03-11,B,-25.00\n2026-03-12,C,5.00\n"
    assert statement_of(upload(bank, later)).closing_balance == Decimal("130.00")
    # and an import that accepts a break in the chain takes it as given
    taken = statement_of(
        upload(
            bank,
            other,
            opening_balance=Decimal("50.00"),
            closing_balance=Decimal("51.00"),
            accept_chain_break=True,
        )
    )
    assert taken.line_count == 1


def test_a_statement_of_another_account_is_refused():
    bank = bank_books()
    other = fixture("camt053_march.xml").replace(b"GB82WEST12345698765432", b"DE89370400440532013000")

    with pytest.raises(errors.StatementAccountMismatch):
        upload(bank, other)

    assert BankStatement.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "setup", "expected"),
    [
        (
            "csv_wrong_columns.csv",
            {"csv_mapping": {"date_column": "Booking date", "amount_column": "Betrag"}},
            [
                {
                    "line": 1,
                    "column": "Booking date",
                    "message": "The header has no column 'Booking date' (it has: date, amount, counterparty).",
                },
                {
                    "line": 1,
                    "column": "Betrag",
                    "message": "The header has no column 'Betrag' (it has: date, amount, counterparty).",
                },
            ],
        ),
        (
            b"Booking date;Payee;Reference;Details;Amount;Balance\n31.02.2026;A;;x;1,00;1,00\n05.03.2026;B;;y;1,0,0;2,00\n"
            b"31.12.9999;C;;z;1,00;3,00\n",
            {"csv_mapping": EUROPEAN_MAPPING},
            [
                {
                    "line": 2,
                    "column": "Booking date",
                    "message": "'31.02.2026' is not a date written DD.MM.YYYY.",
                },
                {
                    "line": 3,
                    "column": "Amount",
                    "message": "'1.0.0' is not a plain decimal number: write amounts like \"1250.00\" (ASCII digits and one optional point; no exponent or spaces).",
                },
                {
                    "line": 4,
                    "column": "Booking date",
                    "message": "'31.12.9999' is outside the days the books keep (years 1900 to 9998).",
                },
            ],
        ),
        (  # a short row (its balance and the rest missing) and a long one (a ";" in an unquoted
            # text): each read its cells from the wrong columns or as blank; a trailing ";" is fine
            b"Booking date;Payee;Reference;Details;Amount;Balance;\n"
            b"05.03.2026;A;;x;1,00;1,00;\n05.03.2026;B;;y;2,00\n06.03.2026;C;;Fee; monthly;-1,00;0,00\n",
            {"csv_mapping": EUROPEAN_MAPPING},
            [
                {"line": 3, "message": "The row has 5 columns; the header has 6."},
                {
                    "line": 4,
                    "message": "The row has 7 columns; the header has 6 (a separator inside a text that is not quoted?).",
                },
            ],
        ),
        (  # the header read by name: the last "amount" would win, the first be dropped unseen
            b"Booking date;Payee;Reference;Details;Amount; AMOUNT;Balance\n05.03.2026;A;;x;1,00;9,00;1,00\n",
            {"csv_mapping": EUROPEAN_MAPPING},
            [
                {
                    "line": 1,
                    "column": "Amount",
                    "message": "The header names the column 'Amount' 2 times (columns 5 and 6): the mapping "
                    "cannot tell which to read.",
                }
            ],
        ),
        (  # money in written "-1500.00 CRDT" (closing made to agree): was booked as money out
            _camt(
                (RECEIPT, '<Amt Ccy="USD">-1500.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>'),
                (CLOSING, '<Amt Ccy="USD">345.50</Amt><CdtDbtInd>DBIT</CdtDbtInd>'),
            ),
            {},
            [{"line": 1, "column": "Amt", "message": f"entry 1: the amount -1500.00 {SIGNED}"}],
        ),
        (  # a fee of zero (closing made to agree): a bank line that moves nothing
            _camt(
                (FEE, '<Amt Ccy="USD">0.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>'),
                (CLOSING, '<Amt Ccy="USD">2700.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>'),
            ),
            {},
            [{"line": 2, "column": "Amt", "message": "entry 2: the amount is zero."}],
        ),
        (  # an opening of "-1000.00 DBIT": was negated twice and taken for +1000.00
            _camt((OPENING, '<Amt Ccy="USD">-1000.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>')),
            {},
            [{"line": None, "column": "Amt", "message": f"Bal OPBD: the amount -1000.00 {SIGNED}"}],
        ),
        (
            "xml_billion_laughs.xml",
            {},
            [
                {
                    "line": None,
                    "message": "The XML declares a DTD, entities or external references, which are refused (DTDForbidden).",
                }
            ],
        ),
        (
            "xml_external_entity.xml",
            {},
            [
                {
                    "line": None,
                    "message": "The XML declares a DTD, entities or external references, which are refused (DTDForbidden).",
                }
            ],
        ),
        (  # said in words, not by quoting the file's first lines back
            b"OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\n<OFX><BANKMSGSRSV1></BANKMSGSRSV1></OFX>",
            {},
            [
                {
                    "line": None,
                    "message": "The OFX header is malformed: an OFX 1 file starts with OFXHEADER:100 and its "
                    "fields, one per line (DATA, VERSION, ENCODING, CHARSET...); an OFX 2 file with an <?xml?> "
                    "and an <?OFX?> line.",
                }
            ],
        ),
        (
            "ofx_truncated.ofx",
            {},
            [{"line": None, "message": "The OFX file is truncated: it does not end with </OFX>."}],
        ),
        (
            b'<?xml version="1.0" encoding="x-bogus"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"/>',
            {},
            [{"line": 1, "message": "The XML cannot be read: unknown encoding: x-bogus."}],
        ),
    ],
    ids=[
        "wrong-columns",
        "bad-dates-and-amounts",
        "csv-rows-short-and-long",
        "csv-repeated-column",
        "camt-negative-amount",
        "camt-zero-entry",
        "camt-negative-balance",
        "billion-laughs",
        "external-entity",
        "ofx-bad-header",
        "truncated-ofx",
        "unknown-xml-encoding",
    ],
)
def test_malformed_files_are_refused_with_errors_by_line_and_nothing_written(name, setup, expected):
    # given
    bank = bank_books()
    if setup:
        bank_account_update(bank_account=bank, by=None, **setup)
    before = banking_rows(bank.company)

    # when
    with pytest.raises(errors.InvalidStatementFile) as refused:
        upload(bank, name)

    # then
    assert refused.value.details["errors"] == expected
    assert banking_rows(bank.company) == before
    assert ImportJob.objects.count() == 0
    assert list((Path(settings.MEDIA_ROOT) / "banking").rglob("*.*")) == []  # the stored file is removed too


def test_bank_ids_are_compared_whole_not_cut():
    # given: two OFX transactions whose FITIDs (OFX allows 255 characters) share their first 100
    # characters; ids used to be cut there, so the second was skipped as a "duplicate" and lost
    bank = bank_books()
    stem = "X" * 100
    data = fixture("ofx_march_1.ofx").replace(b"<FITID>F-002", b"<FITID>" + stem.encode() + b"-A")
    data = data.replace(b"<FITID>F-003", b"<FITID>" + stem.encode() + b"-B")

    # when
    statement = statement_of(upload(bank, data))
    again = statement_of(upload(bank, data, accept_chain_break=True))

    # then: three lines, each id whole; the same file again adds nothing
    assert (statement.line_count, statement.duplicates_skipped) == (3, 0)
    assert sorted(line.unique_id for line in statement.lines.all()) == ["F-001", f"{stem}-A", f"{stem}-B"]
    assert (again.line_count, again.duplicates_skipped) == (0, 3)


def test_a_csv_uploaded_as_ofx_is_said_not_to_be_ofx():
    bank = bank_books()
    before = banking_rows(bank.company)

    with pytest.raises(errors.InvalidStatementFile) as refused:
        upload(bank, b"date,amount,reference\n2026-03-01,10.00,A\n", format="ofx")

    assert refused.value.details["errors"][0]["message"].startswith("The file is not OFX")
    assert banking_rows(bank.company) == before


def test_a_dbit_balance_is_a_balance_below_zero():
    # given: a CAMT.053 whose receipt is money out (DBIT) and whose closing is 345.50 DBIT
    bank = bank_books()
    camt = _camt(
        (RECEIPT, '<Amt Ccy="USD">1500.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>'),
        (CLOSING, '<Amt Ccy="USD">345.50</Amt><CdtDbtInd>DBIT</CdtDbtInd>'),
    )

    # when
    statement = statement_of(upload(bank, camt))

    # then
    assert (statement.opening_balance, statement.closing_balance) == (Decimal("1000.00"), Decimal("-345.50"))
    assert _lines(bank)[0][:2] == (D(2026, 3, 5), Decimal("-1500.00"))


def test_a_repeated_header_the_mapping_does_not_read_is_accepted():
    # given: two "Notes" columns, neither read by the mapping
    bank = bank_books()
    bank_account_update(bank_account=bank, by=None, csv_mapping=EUROPEAN_MAPPING)
    csv = b"Booking date;Payee;Notes;Reference;Details;Amount;Notes;Balance\n05.03.2026;A;n;;x;-1,00;m;9,00\n"

    # when
    statement = statement_of(upload(bank, csv))

    # then
    assert (statement.closing_balance, _lines(bank)[0][1]) == (Decimal("9.00"), Decimal("-1.00"))


@pytest.mark.parametrize("zero", [b"-0", b"0.00"])
def test_an_ofx_line_of_zero_is_refused_as_csv_and_camt053_refuse_one(zero):
    bank = bank_books()
    before = banking_rows(bank.company)
    data = fixture("ofx_march_1.ofx").replace(b"<TRNAMT>-45.50", b"<TRNAMT>" + zero)

    with pytest.raises(errors.InvalidStatementFile) as refused:
        upload(bank, data)

    assert {"line": 2, "column": "TRNAMT"}.items() <= refused.value.details["errors"][0].items()
    assert refused.value.details["errors"][0]["message"].endswith("the amount is zero.")
    assert banking_rows(bank.company) == before
