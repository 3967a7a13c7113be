"""Admin pages of banking that are not a model's own form: upload a statement, reconcile / reopen /
delete a statement, match a bank line (suggestions, candidates, an entry to post, the payment of
an open invoice), import a journal file. The reconciliation report is a report page
(banking.admin_reports).

Each page checks the user's role in the company (sofinance.permissions), calls one banking
service, and reports its answer as a message; a refusal keeps the user on the page with the
service's words, nothing written. State changes are POSTs only.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from accounts.models import Account, Company
from banking import errors as banking_errors
from banking import selectors, services
from banking.models import (
    BankAccount,
    BankStatement,
    BankStatementLine,
    ImportJob,
    LineStatus,
    StatementFormat,
)
from banking.parsers.journal import problem_shown
from banking.reports import reconciliation_report, same_amount_partners
from banking.services import jobs as import_jobs
from banking.services.matching import candidates_for
from ledger.models import JournalLine
from ledger.selectors import closed_period_after, period_covering
from sales.selectors import receivables_account_ids
from sofinance.admin import (
    AdminPages,
    admin_can,
    admin_companies,
    confirm_page,
    confirmed,
    date_widget,
    post_or_back,
)
from sofinance.company_context import current_company_id
from sofinance.display import display_amount
from sofinance.errors import APIError
from sofinance.ids import id_from_text
from sofinance.money import currency_exponent
from sofinance.permissions import Action


def chain_break_shown(exc: APIError, bank: BankAccount) -> str:
    """The balance-chain refusal as the upload page's user reads it: amounts as the admin writes
    them, and the box to tick rather than the API's parameter."""
    details = exc.details if isinstance(exc.details, dict) else {}
    try:
        opening = display_amount(Decimal(details["opening_balance"]), bank.currency)
        expected = display_amount(Decimal(details["expected_opening_balance"]), bank.currency)
    except (KeyError, TypeError, ArithmeticError):
        return exc.message
    return (
        f"The statement opens at {opening}, but the previous statement closed at {expected}. If the gap "
        "is real (a statement is missing), tick “Accept a break in the balance chain” and upload again: "
        "the difference is kept on the statement."
    )


class UploadForm(forms.Form):
    file = forms.FileField()
    format = forms.ChoiceField(choices=[("", "Detect"), *StatementFormat.choices], required=False)
    opening_balance = forms.CharField(required=False, help_text="CSV without balances: the opening balance.")
    closing_balance = forms.CharField(required=False)
    accept_chain_break = forms.BooleanField(
        required=False,
        label="Accept a break in the balance chain",
        help_text="The opening balance may differ from the previous statement's closing balance.",
    )


class JournalForm(forms.Form):
    company = forms.ModelChoiceField(queryset=Company.objects.none())
    file = forms.FileField(
        help_text="CSV or XLSX: entry, date, account, debit, credit, description, reference."
    )
    dry_run = forms.BooleanField(required=False, help_text="Check everything and report; post nothing.")


def reasons_shown(reasons: list[str]) -> str:
    """A suggestion's reasons (the API's stable codes: `amount`, `amount_sum`, `date_3d`,
    `reference`) as an accountant reads them."""
    words = []
    for reason in reasons:
        if reason == "amount":
            words.append("same amount")
        elif reason == "amount_sum":
            words.append("the amounts add up")
        elif reason == "reference":
            words.append("reference found")
        elif reason.startswith("date_") and reason.endswith("d") and reason[5:-1].isdigit():
            days = int(reason[5:-1])
            words.append("same day" if days == 0 else f"{days} day{'s' if days != 1 else ''} apart")
        else:
            words.append(reason)
    return ", ".join(words)


def _upload_options(data: dict) -> dict:
    """The upload form's fields as the import services take them (their money fields raise
    ValueError when malformed)."""
    return {
        "file": data["file"],
        "format": data["format"] or None,
        "opening_balance": _money(data["opening_balance"]),
        "closing_balance": _money(data["closing_balance"]),
        "accept_chain_break": data["accept_chain_break"],
    }


def _money(raw: str) -> Decimal | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"{raw!r} is not an amount.") from None


class BankingPages(AdminPages):
    # ----- urls

    def bank_account_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/upload/", view(self.upload_view), name="banking_bankaccount_upload"),
        ]

    def statement_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/reconcile/",
                view(post_or_back("admin:banking_bankstatement_change")(self.reconcile_view)),
                name="banking_bankstatement_reconcile",
            ),
            path(
                "<int:pk>/reopen/",
                view(post_or_back("admin:banking_bankstatement_change")(self.reopen_view)),
                name="banking_bankstatement_reopen",
            ),
            path(
                "<int:pk>/remove/",
                view(post_or_back("admin:banking_bankstatement_change")(self.delete_view)),
                name="banking_bankstatement_remove",
            ),
        ]

    def line_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [path("<int:pk>/match/", view(self.match_view), name="banking_bankstatementline_match")]

    def journal_import_urls(self) -> list[URLPattern]:
        return [
            path("journal/", self.admin_site.admin_view(self.journal_view), name="banking_importjob_journal")
        ]

    # ----- helpers

    def context(self, request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model_admin.model._meta,
            "has_view_permission": True,
            **extra,
        }

    @staticmethod
    def _allowed(request, company_id: int, action: Action) -> None:
        if not admin_can(request, company_id, action):
            raise PermissionDenied

    def _bank(self, request, pk: int, action: Action) -> BankAccount:
        bank = get_object_or_404(BankAccount.objects.select_related("company", "account"), pk=pk)
        self._allowed(request, bank.company_id, action)
        return bank

    def _statement(self, request, pk: int, action: Action) -> BankStatement:
        statement = get_object_or_404(BankStatement.objects.select_related("bank_account"), pk=pk)
        self._allowed(request, statement.company_id, action)
        return statement

    @staticmethod
    def statement_url(pk: int) -> str:
        return reverse("admin:banking_bankstatement_change", args=[pk])

    # ----- bank accounts

    def upload_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        bank = self._bank(request, pk, Action.BANKING_IMPORT)
        form = UploadForm(request.POST or None, request.FILES or None)
        errors: list[str] = []
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            earlier = self._imported_already(bank, data["file"])
            if earlier is not None:
                # The API answers a re-upload with an empty statement (DESIGN.md: 201, line_count 0);
                # on this page the same file twice is a slip, said before anything is written.
                errors = [
                    f"This file was imported already, as the statement {earlier.start_date:%Y-%m-%d} – "
                    f"{earlier.end_date:%Y-%m-%d} ({earlier.line_count} line{'s' if earlier.line_count != 1 else ''}"
                    f", uploaded {earlier.created_at:%Y-%m-%d}): nothing was imported. An overlapping file "
                    "(another export of the same dates) is imported, its lines already there skipped."
                ]
                return self._upload_page(request, bank, form, errors)
            try:
                job = services.statement_upload(bank_account=bank, by=request.user, **_upload_options(data))
            except ValueError as exc:
                errors = [str(exc)]
            except banking_errors.TooManyLinesToWaitFor:
                return self._queue_upload(request, bank, data)
            except banking_errors.BalanceChainBroken as exc:
                errors = [chain_break_shown(exc, bank)]
            except APIError as exc:
                errors = [exc.message] + [
                    f"Line {e.get('line') or '–'}{' ' + e['column'] if e.get('column') else ''}: {e['message']}"
                    for e in (exc.details.get("errors") or [])[1:]
                ]
            else:
                statement_id = job.result["statements"][-1]
                messages.success(
                    request,
                    f"Imported {job.line_count} line(s), {job.duplicates_skipped} already imported skipped, "
                    f"{job.result.get('auto_matched', 0)} matched automatically.",
                )
                return HttpResponseRedirect(self.statement_url(statement_id))
        return self._upload_page(request, bank, form, errors)

    def _upload_page(self, request: HttpRequest, bank: BankAccount, form, errors: list[str]) -> HttpResponse:
        return TemplateResponse(
            request,
            "admin/banking/upload.html",
            self.context(
                request, f"Upload a statement into {bank.name}", bank=bank, form=form, errors=errors
            ),
        )

    @staticmethod
    def _imported_already(bank: BankAccount, upload) -> BankStatement | None:
        digest = import_jobs.file_hash(upload.read())  # the hash the import stores with the statement
        upload.seek(0)
        return selectors.statement_of_file(bank_account=bank, file_hash=digest)

    def _queue_upload(self, request: HttpRequest, bank: BankAccount, data: dict) -> HttpResponse:
        """A file too large to import while the page waits: a worker imports it; the job's page
        shows its progress and, when it is done, its statements or its errors."""
        from banking.tasks import import_job_run_task

        job = services.statement_import_job_create(
            bank_account=bank, by=request.user, **_upload_options(data)
        )
        transaction.on_commit(lambda: import_job_run_task.delay(job.pk), robust=True)
        messages.info(
            request,
            f"The file is large ({data['file'].size:,} bytes, more than {import_jobs.SYNC_MAX_LINES:,} lines): "
            "it is being imported in the background. This page shows its status: reload it to follow the "
            "import; when it is done, its result names the statements.",
        )
        return HttpResponseRedirect(reverse("admin:banking_importjob_change", args=[job.pk]))

    # ----- statements

    def reconcile_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        statement = self._statement(request, pk, Action.BANKING_RECONCILE)
        unmatched = statement.lines.exclude(status=LineStatus.MATCHED).count()
        # Bank lines not matched to the books (a charge not yet booked, a receipt not yet matched)
        # are carried past the statement: said in so many words, not let through.
        carried = not unmatched or request.POST.get("carry_bank_lines") == "yes"
        if confirmed(request) and not carried:
            messages.error(request, "Tick the box to carry the bank lines not matched, or match them first.")
        if not confirmed(request) or not carried:
            # Reconciling freezes the statement: asked first, with the position it will store.
            bank = statement.bank_account
            currency = bank.currency
            position = reconciliation_report(bank_account=bank, as_of=statement.end_date)
            acknowledge = None
            partners = same_amount_partners(position)
            if unmatched:
                lines = f"{unmatched} bank line{'s' if unmatched != 1 else ''}"
                same = ""
                if partners:
                    numbers = sorted({p.number for p in partners.values()})
                    same = (
                        f" {len(partners)} of them have a book line of the same amount in these dates "
                        f"({', '.join(numbers[:5])}{', …' if len(numbers) > 5 else ''}): most likely the same "
                        "payments, not matched yet. Carried, they are matched only by reopening the statement, "
                        "and posting them again would count them twice: match them first."
                    )
                acknowledge = (
                    "carry_bank_lines",
                    f"I carry the {lines} not matched to the books as reconciling items: each can still be "
                    f"posted, or matched to an entry, dated after {statement.end_date}.{same}",
                )
            return confirm_page(
                request,
                self.admin_site,
                obj=statement,
                verb="Reconcile",
                effect="Marking the statement reconciled stores its reconciled position and freezes it: its "
                "matches can no longer be undone, and the entries matched to its lines no longer reversed "
                "into its dates, until a controller reopens it with a reason; its lines not matched are "
                "carried (each matched later only to what is dated after the statement). It is refused "
                "while the adjusted bank balance and the books differ.",
                facts=[
                    ("Bank account", str(bank)),
                    ("Dates", f"{statement.start_date} – {statement.end_date}"),
                    ("Bank balance", display_amount(position.statement_balance, currency)),
                    ("Book balance", display_amount(position.book_balance, currency)),
                    (
                        "Difference, after the items not matched",
                        display_amount(position.difference, currency)
                        if position.difference is not None
                        else "—",
                    ),
                    ("Lines not matched", str(unmatched)),
                    *(
                        [
                            (
                                "Of them, with a book line of the same amount",
                                f"{len(partners)}: match them first",
                            )
                        ]
                        if partners
                        else []
                    ),
                ],
                back_url=self.statement_url(pk),
                acknowledge=acknowledge,
            )
        try:
            services.statement_reconcile(statement=statement, by=request.user)
        except APIError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{statement}: reconciled.")
        return HttpResponseRedirect(self.statement_url(pk))

    def reopen_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        statement = self._statement(request, pk, Action.BANKING_REOPEN)
        try:
            services.statement_reopen(
                statement=statement, by=request.user, reason=request.POST.get("reason", "")
            )
        except APIError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{statement}: reopened.")
        return HttpResponseRedirect(self.statement_url(pk))

    def delete_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        statement = self._statement(request, pk, Action.BANKING_IMPORT)
        if not confirmed(request):
            currency = statement.bank_account.currency
            return confirm_page(
                request,
                self.admin_site,
                obj=statement,
                verb="Delete",
                effect=f"Deleting removes this statement and its {statement.line_count} line(s) for good, "
                "as if the file had never been uploaded (the audit trail keeps that it was). Upload the "
                "right file afterwards. A reconciled statement, or one with matched lines, is refused.",
                facts=[
                    ("Bank account", str(statement.bank_account)),
                    ("Dates", f"{statement.start_date} – {statement.end_date}"),
                    ("Opening", display_amount(statement.opening_balance, currency)),
                    ("Closing", display_amount(statement.closing_balance, currency)),
                    ("Lines", str(statement.line_count)),
                ],
                back_url=self.statement_url(pk),
            )
        try:
            services.statement_delete(statement=statement, by=request.user)
        except APIError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(self.statement_url(pk))
        messages.success(request, f"{statement}: deleted with its lines.")
        return HttpResponseRedirect(reverse("admin:banking_bankstatement_changelist"))

    # ----- a bank line

    def match_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        line = get_object_or_404(
            BankStatementLine.objects.select_related("bank_account", "bank_account__account", "statement"),
            pk=pk,
        )
        self._allowed(request, line.company_id, Action.BANKING_VIEW)
        here = reverse("admin:banking_bankstatementline_match", args=[pk])
        if request.method == "POST":
            return self._match_post(request, line, here)
        bank = line.bank_account
        currency = bank.currency
        amount_field = bank.ledger_amount_field
        suggestions = selectors.suggestions_of(bank_line=line)
        window = selectors.banking_settings_for(company=bank.company).date_window_days
        span = datetime.timedelta(days=max(window, 31))
        reconciled = line.statement.is_reconciled
        # A line a reconciled statement left unmatched is carried: matched to, or posted as, what
        # is dated after the last reconciled day (banking.services.matching).
        through = selectors.reconciled_through(bank_account_id=bank.pk) if reconciled else None
        carried = reconciled and line.status != LineStatus.MATCHED
        in_books = []
        if carried:
            candidates = [c for c in candidates_for(bank, through, through + span) if c.date > through]
            # Already in the books, inside the reconciled dates: matched only by reopening.
            in_books = selectors.reconciled_book_partners(bank_line=line, through=through)
        else:
            candidates = candidates_for(bank, line.date - span, line.date + span)
        shown = {c.id for c in candidates} | {i for s in suggestions for i in s.journal_line_ids}
        matched = [m.journal_line_id for m in line.matches.all()]
        details = {
            row["id"]: row
            for row in JournalLine.objects.filter(pk__in=shown | set(matched)).values(
                "id",
                "date",
                amount_field,
                "description",
                "entry__description",
                "entry__number",
                "entry__reference",
                "entry_id",
            )
        }
        for row in details.values():
            row["amount_shown"] = display_amount(row[amount_field], currency)
            row["amount_raw"] = format(row[amount_field], "f")  # the running total's (match_total.js)
            # A line without a description of its own is described by its entry (a payment's
            # bank line, an imported entry's): the accountant recognises the entry by it.
            row["description"] = row["description"] or row["entry__description"]
        counter_accounts = (
            Account.objects.filter(company_id=line.company_id, is_active=True, children__isnull=True)
            .exclude(pk=bank.account_id)
            .exclude(pk__in=receivables_account_ids(bank.company))  # a customer's money: Record payment
            .order_by("path")
        )
        invoice = services.open_invoice_for_line(line) if line.amount > 0 else None
        post_date = (through + datetime.timedelta(days=1)) if carried else line.date
        return TemplateResponse(
            request,
            "admin/banking/match.html",
            self.context(
                request,
                f"Bank line {line.date} {display_amount(line.amount, currency)} {currency}",
                line=line,
                amount=display_amount(line.amount, currency),
                places=currency_exponent(currency),
                matched=[details[i] for i in matched if i in details],
                suggestions=[
                    (s, [details[i] for i in s.journal_line_ids if i in details], reasons_shown(s.reasons))
                    for s in suggestions
                ],
                # Closest first: the same amount, then the nearest amounts, then the nearest dates.
                candidates=sorted(
                    (details[c.id] for c in candidates if c.id in details),
                    key=lambda row: (
                        abs(row[amount_field] - line.amount),
                        abs((row["date"] - line.date).days),
                    ),
                ),
                accounts=counter_accounts,
                invoice=invoice,
                invoice_due=display_amount(invoice.amount_due, invoice.currency) if invoice else "",
                reconciled=reconciled,
                statement_url=self.statement_url(line.statement_id),
                carried=carried,
                through=through,
                in_books=in_books,
                # what is posted for the line: its own date, a carried line's the day after
                post_date=post_date,
                # the admin's one date input (YYYY-MM-DD text and its calendar), not the browser's
                # own, which shows the date in the browser's locale (11/15/2026)
                entry_date_input=date_widget().render(
                    "date", post_date, attrs={"id": "id_entry_date", "required": True}
                ),
                payment_date_input=date_widget().render(
                    "date", post_date, attrs={"id": "id_payment_date", "required": True}
                ),
                # a match is undone while it counts in no reconciled position
                unmatchable=not reconciled
                or bool(matched and all(details[i]["date"] > through for i in matched if i in details)),
                can_match=admin_can(request, line.company_id, Action.BANKING_MATCH),
                can_post=admin_can(request, line.company_id, Action.BANKING_POST),
                can_pay=admin_can(request, line.company_id, Action.PAYMENTS_RECORD),
            ),
        )

    def _match_post(self, request: HttpRequest, line: BankStatementLine, here: str) -> HttpResponse:
        action = request.POST.get("action", "")
        needed = {
            "confirm": Action.BANKING_MATCH,
            "match": Action.BANKING_MATCH,
            "unmatch": Action.BANKING_MATCH,
            "entry": Action.BANKING_POST,
            "payment": Action.PAYMENTS_RECORD,
        }.get(action)
        if needed is None:
            messages.error(request, "Unknown action.")
            return HttpResponseRedirect(here)
        self._allowed(request, line.company_id, needed)
        if action in ("entry", "payment") and request.POST.get("not_in_books") != "yes":
            through = (
                selectors.reconciled_through(bank_account_id=line.bank_account_id)
                if line.statement.is_reconciled
                else None
            )
            partners = selectors.reconciled_book_partners(bank_line=line, through=through) if through else []
            if partners:
                numbers = ", ".join(p["entry__number"] for p in partners)
                messages.error(
                    request,
                    f"{numbers} already holds this amount in the reconciled dates: most likely this payment. "
                    "Reopen the statement to match it, or tick the box to post a new entry anyway.",
                )
                return HttpResponseRedirect(here)
        date = None
        if action in ("entry", "payment") and request.POST.get("date"):
            try:
                date = datetime.date.fromisoformat(request.POST["date"])
            except ValueError:
                messages.error(request, "Enter a valid date, as YYYY-MM-DD.")
                return HttpResponseRedirect(here)
        try:
            if action == "confirm":
                services.bank_line_match(
                    bank_line=line, suggestion=int(request.POST["suggestion"]), by=request.user
                )
            elif action == "match":
                ids = [int(v) for v in request.POST.getlist("journal_line")]
                if not ids:
                    messages.error(request, "Tick at least one ledger line to match this bank line with.")
                    return HttpResponseRedirect(here)
                services.bank_line_match(bank_line=line, journal_lines=ids, by=request.user)
            elif action == "unmatch":
                services.bank_line_unmatch(bank_line=line, by=request.user)
            elif action == "entry":
                services.bank_line_entry_create(
                    bank_line=line,
                    account=int(request.POST.get("account") or 0),
                    by=request.user,
                    description=request.POST.get("description", ""),
                    date=date,
                )
            else:
                services.bank_line_payment_record(bank_line=line, by=request.user, date=date)
        except (KeyError, ValueError):
            messages.error(request, "The form was incomplete.")
        except APIError as exc:
            messages.error(request, exc.message)
        else:
            line.refresh_from_db(fields=["status"])
            if action == "unmatch":
                # After an unmatch the line's suggestions are refreshed: it may read "suggested".
                ready = " (a suggestion is ready below)" if line.status == LineStatus.SUGGESTED else ""
                messages.success(request, f"{line}: unmatched{ready}.")
            elif line.status == LineStatus.MATCHED:
                # Named, so the accountant can find what was written (the entry, the payment).
                entries = selectors.entries_matched_to(bank_line=line)
                numbers = ", ".join(number for number, _ in entries)
                if action == "entry":
                    done = f"posted as {numbers} and matched"
                elif action == "payment":
                    payments = ", ".join(reference for _, reference in entries if reference)
                    done = f"recorded as payment {payments} ({numbers}) and matched"
                else:
                    done = f"matched to {numbers}"
                messages.success(request, f"{line}: {done}.")
            else:
                messages.success(request, f"{line}: {line.get_status_display().lower()}.")
            if line.status == LineStatus.MATCHED:
                following = (
                    BankStatementLine.objects.filter(statement_id=line.statement_id)
                    .exclude(status=LineStatus.MATCHED)
                    .filter(date__gte=line.date)
                    .exclude(pk=line.pk)
                    .order_by("date", "id")
                    .first()
                )
                if following is None:  # the open lines dated before this one, then
                    following = (
                        BankStatementLine.objects.filter(statement_id=line.statement_id)
                        .exclude(status=LineStatus.MATCHED)
                        .order_by("date", "id")
                        .first()
                    )
                if following is not None:
                    return HttpResponseRedirect(
                        reverse("admin:banking_bankstatementline_match", args=[following.pk])
                    )
                if not line.statement.is_reconciled:
                    # The statement's last line: what is left is to reconcile it, on its own page.
                    messages.info(
                        request,
                        f"Every line of {line.statement} is matched: check its position and reconcile it here.",
                    )
                    return HttpResponseRedirect(self.statement_url(line.statement_id))
        return HttpResponseRedirect(here)

    # ----- journal import

    def journal_view(self, request: HttpRequest) -> HttpResponse:
        allowed = admin_companies(request, Action.JOURNAL_IMPORT)
        companies = Company.objects.order_by("name")
        if allowed is not None:
            if not allowed:
                raise PermissionDenied
            companies = companies.filter(pk__in=allowed)
        # The company the user works in, chosen already (sofinance.company_context).
        form = JournalForm(
            request.POST or None, request.FILES or None, initial={"company": current_company_id(request)}
        )
        form.fields["company"].queryset = companies
        job = None
        errors: list[str] = []
        closed_after_text = None
        checked = self._dry_run_to_post(request, companies)
        if request.method == "POST" and (checked is not None or form.is_valid()):
            try:
                if checked is not None:  # "Post this file now": the file the dry run checked
                    form = JournalForm(initial={"company": checked.company_id})
                    form.fields["company"].queryset = companies
                    created = services.journal_import_job_from_dry_run(job=checked, by=request.user)
                else:
                    data = form.cleaned_data
                    created = services.journal_import_job_create(
                        company=data["company"], file=data["file"], by=request.user, dry_run=data["dry_run"]
                    )
            except APIError as exc:
                errors = [exc.message]
            else:
                job = services.import_job_run(job_id=created.pk)
                if job.status == "done":
                    result = job.result
                    closed_after_text = self._closed_after_text(job)
                    entries = f"{result['entries']} entr{'y' if result['entries'] == 1 else 'ies'}"
                    lines = f"{result['lines']} line{'' if result['lines'] == 1 else 's'}"
                    messages.success(
                        request,
                        ("Dry run: would post" if job.dry_run else "Posted")
                        + f" {entries}, {lines}"
                        + (
                            f" ({result['first_number']} – {result['last_number']})."
                            if result.get("first_number")
                            else "."
                        ),
                    )
                else:
                    # every problem in one wording (the API's `errors`, as the parser words them)
                    errors = [problem_shown(e) for e in job.errors if e.get("message")] or [job.error_message]
        return TemplateResponse(
            request,
            "admin/banking/journal_import.html",
            self.context(
                request,
                "Import a journal (CSV or XLSX)",
                form=form,
                job=job,
                errors=errors,
                closed_after_text=closed_after_text,
            ),
        )

    @staticmethod
    def _closed_after_text(job: ImportJob) -> str | None:
        """Said when the file's earliest entry comes before closed periods (a dry run says it before
        anything is posted): their opening balances move."""
        first = (job.result or {}).get("first_date")
        if not first:
            return None
        day = datetime.date.fromisoformat(first)
        closed_after = closed_period_after(company=job.company, on=day)
        if closed_after is None:
            return None
        return closed_after.sentence(day, covered=period_covering(company=job.company, on=day) is not None)

    @staticmethod
    def _dry_run_to_post(request: HttpRequest, companies) -> ImportJob | None:
        """The dry run whose file "Post this file now" posts (its company one the user imports into)."""
        if request.method != "POST" or not request.POST.get("from_job"):
            return None
        job_id = id_from_text(request.POST["from_job"])
        job = ImportJob.objects.filter(pk=job_id, company__in=companies).first() if job_id else None
        if job is None:
            raise PermissionDenied
        return job
