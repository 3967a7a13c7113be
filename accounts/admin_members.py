"""The Members page's own pages: a company's admins manage its members in the admin.

- Change a member's role, remove a member, invite someone, revoke a pending invitation: for a
  user whose role in the current company allows members.manage (company admins; superusers).
  Each is a page that says what will happen and acts on its POST ("Yes"), calling one service of
  accounts.services, which enforces the rules (a company keeps at least one admin) and records
  the audit event. A refusal is shown on the page in the service's words, nothing written. A GET
  only shows.
- Accept an invitation: the page the invitation email links to (no admin login needed to open
  it). A logged-in person accepts with one button; a visitor logs in there, or creates their
  account with the invited address. Accepting here also lets the person into the admin
  (is_staff, accounts.services.user_staff_grant): what they see there is their role's, in that company only.

Mounted by MembershipAdmin.get_urls(). Roles are described from the permissions table
(sofinance.permissions), so the words follow the table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.password_validation import password_validators_help_texts
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from accounts import selectors
from accounts.models import Company, Invitation, InvitationStatus, Membership, User
from accounts.services import (
    invitation_accept,
    invitation_accept_with_signup,
    invitation_create,
    invitation_revoke,
    last_admin_refusal,
    membership_change_role,
    membership_remove,
    user_staff_grant,
)
from sofinance.admin import AdminPages, admin_can, apply_service_error, confirmed
from sofinance.company_context import company_switch, current_company
from sofinance.errors import APIError
from sofinance.permissions import PERMISSIONS, Action, Role

TEMPLATES = "admin/accounts/membership"
LOGIN_BACKEND = "accounts.backends.EmailOrUsernameBackend"

# --------------------------------------------------------------------------- roles in words

_BOOKS = "read the books (accounts, journal, periods, rates, reports, sales, banking)"
# What each action lets a member do, in an accountant's words. Actions sharing words read as one.
ACTION_WORDS: dict[Action, str] = {
    Action.COMPANY_VIEW: _BOOKS,
    Action.COMPANY_CHANGE: "change the company's settings",
    Action.MEMBERS_VIEW: "see who the members are",
    Action.MEMBERS_MANAGE: "manage members and invitations",
    Action.ACCOUNTS_VIEW: _BOOKS,
    Action.ACCOUNTS_MANAGE: "keep the chart of accounts",
    Action.JOURNAL_VIEW: _BOOKS,
    Action.JOURNAL_DRAFT: "draft journal entries",
    Action.JOURNAL_POST: "post and reverse journal entries",
    Action.JOURNAL_REVERSE: "post and reverse journal entries",
    Action.PERIODS_VIEW: _BOOKS,
    Action.PERIODS_MANAGE: "close periods and the fiscal year",
    Action.RATES_VIEW: _BOOKS,
    Action.RATES_MANAGE: "keep exchange rates",
    Action.REPORTS_VIEW: _BOOKS,
    Action.AUDIT_VIEW: "read the audit trail",
    Action.SALES_VIEW: _BOOKS,
    Action.CUSTOMERS_MANAGE: "keep customers and items",
    Action.TAX_RATES_MANAGE: "keep tax rates",
    Action.INVOICES_DRAFT: "draft invoices",
    Action.INVOICES_ISSUE: "issue and void invoices and credit notes",
    Action.INVOICES_VOID: "issue and void invoices and credit notes",
    Action.PAYMENTS_RECORD: "record payments",
    Action.JOURNAL_IMPORT: "import journals",
    Action.BANKING_VIEW: _BOOKS,
    Action.BANKING_MANAGE: "keep bank accounts",
    Action.BANKING_IMPORT: "import and match bank statements",
    Action.BANKING_MATCH: "import and match bank statements",
    Action.BANKING_POST: "post entries from bank lines",
    Action.BANKING_RECONCILE: "reconcile bank statements",
    Action.BANKING_REOPEN: "reopen reconciled bank statements",
    Action.INTEGRITY_VIEW: "read integrity checks",
    Action.INTEGRITY_RUN: "run integrity checks",
    Action.DISCREPANCIES_RESOLVE: "resolve discrepancies",
    Action.EXPORTS_CREATE: "export what they read",
}
# Actions said together when a role has both (each alone keeps its own words above).
JOINT_WORDS: tuple[tuple[frozenset[Action], str], ...] = (
    (frozenset({Action.JOURNAL_DRAFT, Action.INVOICES_DRAFT}), "draft journal entries and invoices"),
    (frozenset({Action.RATES_MANAGE, Action.TAX_RATES_MANAGE}), "keep exchange and tax rates"),
    (frozenset({Action.INTEGRITY_VIEW, Action.INTEGRITY_RUN}), "run and read integrity checks"),
)
# Reading and exporting change nothing in the books.
_READING = {action for action in Action if action.value.endswith(".view")} | {Action.EXPORTS_CREATE}


def _joined(phrases: list[str]) -> str:
    """ "a", "a and b", "a, b, and c" (phrases hold "and"s of their own: the last comma parts them)."""
    if len(phrases) <= 2:
        return " and ".join(phrases)
    return f"{', '.join(phrases[:-1])}, and {phrases[-1]}"


def _article(word: str) -> str:
    return f"an {word}" if word[:1].lower() in "aeiou" else f"a {word}"


def actions_in_words(actions: Iterable[Action]) -> list[str]:
    """What `actions` allow, in words, each said once: changes first, then reading."""
    actions = set(actions)
    words = {action: ACTION_WORDS.get(action, action.value) for action in actions}
    for joint, said in JOINT_WORDS:
        if joint <= actions:
            words.update(dict.fromkeys(joint, said))
    ordered = sorted(actions, key=lambda a: (a in _READING, list(Action).index(a)))
    phrases: list[str] = []
    for action in ordered:
        if words[action] not in phrases:
            phrases.append(words[action])
    return phrases


def role_label(role: str) -> str:
    return Role(role).label


def role_summary(role: str) -> str:
    """One line of what `role` may do, read from the permissions table: what it adds to the
    largest role it contains ("besides all a clerk may do"), and whether it changes anything."""
    actions = PERMISSIONS[role]
    contained = [r for r in Role if r != role and PERMISSIONS[r] < actions]
    below = max(contained, key=lambda r: len(PERMISSIONS[r]), default=None)
    phrases = actions_in_words(actions - PERMISSIONS[below] if below else actions)
    text = f"may {_joined(phrases)}"
    if below is not None:
        text += f", besides all {_article(role_label(below).lower())} may do"
    if actions <= _READING:
        text += "; changes nothing in the books"
    return text


def role_loss(before: str, after: str) -> list[str]:
    """What a member moving from role `before` to `after` may no longer do, in words."""
    kept = set(actions_in_words(PERMISSIONS[after]))
    return [
        words for words in actions_in_words(PERMISSIONS[before] - PERMISSIONS[after]) if words not in kept
    ]


def role_options(form: forms.Form) -> list[tuple[Any, str]]:
    """The role radios of `form`, each with what the role may do (the page shows it beneath)."""
    return [(radio, role_summary(radio.data["value"])) for radio in form["role"]]


def person(user: User) -> str:
    """How a member is named on these pages: their full name, else their username."""
    return user.get_full_name() or user.username


def duration_in_words(duration: timedelta) -> str:
    hours = round(duration.total_seconds() / 3600)
    if hours % 24 == 0:
        days = hours // 24
        return f"{days} day{'s' if days != 1 else ''}"
    return f"{hours} hour{'s' if hours != 1 else ''}"


def when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


# --------------------------------------------------------------------------- forms


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="New role", widget=forms.RadioSelect, choices=Role.choices)

    def __init__(self, *args: Any, current: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.current = current
        self.fields["role"].initial = current

    def clean_role(self) -> str:
        role = self.cleaned_data["role"]
        if role == self.current:
            raise forms.ValidationError(f"{role_label(role)} is their role already: choose another.")
        return role


class InviteForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off", "size": 40}),
        help_text="The invitation goes to this address. Inviting an address again sends a new link "
        "and cancels the previous one.",
    )
    role = forms.ChoiceField(label="Role", widget=forms.RadioSelect, choices=Role.choices)


class SignupForm(forms.Form):
    first_name = forms.CharField(
        label="First name", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        label="Last name",
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    username = forms.CharField(
        label="Username", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username"})
    )
    password1 = forms.CharField(
        label="Password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, label_suffix="", **kwargs)
        self.fields["password1"].help_text = " ".join(password_validators_help_texts())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("password1") and cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        return cleaned


# --------------------------------------------------------------------------- pages


class MemberPages(AdminPages):
    """The pages of the Members list (mounted by MembershipAdmin)."""

    def urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("invite/", view(self.invite_view), name="accounts_membership_invite"),
            path("<int:pk>/role/", view(self.change_role_view), name="accounts_membership_change_role"),
            path("<int:pk>/remove/", view(self.remove_view), name="accounts_membership_remove"),
            path(
                "invitations/<int:pk>/revoke/",
                view(self.revoke_view),
                name="accounts_membership_revoke_invitation",
            ),
            # Reached from the email, logged in or not: not behind the admin's login.
            path("accept-invitation/", self.accept_view, name="accounts_membership_accept_invitation"),
        ]

    # ----- helpers

    @staticmethod
    def members_url() -> str:
        return reverse("admin:accounts_membership_changelist")

    def company(self, request: HttpRequest) -> Company:
        """The current company, when the user's role there allows managing its members (else 403)."""
        company = current_company(request)
        if company is None or not admin_can(request, company.pk, Action.MEMBERS_MANAGE):
            raise PermissionDenied("Your role in this company does not allow managing its members.")
        return company

    def membership(self, request: HttpRequest, pk: int) -> Membership:
        """A member of the current company (another company's membership does not exist here)."""
        membership = selectors.company_members(company=self.company(request)).filter(pk=pk).first()
        if membership is None:
            raise Http404("No such member.")
        return membership

    def render(self, request: HttpRequest, template: str, title: str, **extra: Any) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": Membership._meta,
            "members_url": self.members_url(),
            **extra,
        }
        return TemplateResponse(request, f"{TEMPLATES}/{template}", context)

    def done(self, request: HttpRequest, text: str, *, about: User | None = None) -> HttpResponseRedirect:
        """Back to the members, with what was done; to the dashboard when the user changed their own
        membership (their new role may not show the Members page)."""
        messages.success(request, text)
        if about is not None and about.pk == request.user.pk and not request.user.is_superuser:
            return HttpResponseRedirect(reverse("admin:index"))
        return HttpResponseRedirect(self.members_url())

    # ----- change a member's role

    def change_role_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Choose the new role (a GET form), then confirm; "Yes" POSTs and calls the service."""
        membership = self.membership(request, pk)
        user, company = membership.user, membership.company
        source = request.POST if request.method == "POST" else request.GET
        form = RoleForm(source if "role" in source else None, current=membership.role)
        if not (form.is_bound and form.is_valid()):
            return self.render(
                request,
                "choose_role.html",
                f"Change the role of {person(user)}",
                membership=membership,
                member=person(user),
                current_label=role_label(membership.role),
                form=form,
                role_options=role_options(form),
            )
        role = form.cleaned_data["role"]
        # The last admin's demotion is said at once, not after "Yes" (the service asks again).
        refusal = last_admin_refusal(membership, role=role)
        error = refusal.message if refusal is not None else None
        if error is None and request.method == "POST" and confirmed(request):
            try:
                membership_change_role(membership=membership, role=role, by=request.user)
            except APIError as exc:
                error = exc.message
            else:
                return self.done(
                    request, f"{person(user)} is now {role_label(role)} of {company.name}.", about=user
                )
        loss = role_loss(membership.role, role)
        facts = [
            ("Member", f"{person(user)} ({user.email})"),
            ("Role now", f"{role_label(membership.role)}: {role_summary(membership.role)}"),
            ("New role", f"{role_label(role)}: {role_summary(role)}"),
        ]
        if loss:
            facts.append(("No longer", f"may {_joined(loss)}"))
        return self.render(
            request,
            "confirm.html",
            f"Make {person(user)} {role_label(role)}?",
            effect=f"{person(user)} will become {role_label(role)} of {company.name}: {role_summary(role)}.",
            note=self.note_about_self(request, user, company, "your new role applies at once"),
            facts=facts,
            carried=[("role", role)],
            yes=f"Yes, make {person(user)} {role_label(role)}",
            no="No, choose again",
            yes_id="confirm-change-role",
            back_url=reverse("admin:accounts_membership_change_role", args=[pk]),  # choose again
            error=error,
        )

    @staticmethod
    def note_about_self(request: HttpRequest, user: User, company: Company, what: str) -> str:
        if user.pk != request.user.pk:
            return ""
        return f"This is you: {what} in {company.name}."

    # ----- remove a member

    def remove_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        membership = self.membership(request, pk)
        user, company = membership.user, membership.company
        refusal = last_admin_refusal(membership)
        error = refusal.message if refusal is not None else None
        if error is None and request.method == "POST" and confirmed(request):
            try:
                membership_remove(membership=membership, by=request.user)
            except APIError as exc:
                error = exc.message
            else:
                return self.done(
                    request, f"{person(user)} is no longer a member of {company.name}.", about=user
                )
        return self.render(
            request,
            "confirm.html",
            f"Remove {person(user)} from {company.name}?",
            effect=f"{person(user)} will no longer have access to {company.name}: their role "
            f"({role_label(membership.role)}) ends at once. Their user account stays, and what they "
            "recorded stays in the books and the audit trail under their name. To let them in again, "
            "invite them again.",
            note=self.note_about_self(request, user, company, "you lose your access at once"),
            facts=[
                ("Member", f"{person(user)} ({user.email})"),
                ("Role", f"{role_label(membership.role)}: {role_summary(membership.role)}"),
                ("Member since", when(membership.created_at)),
            ],
            carried=[],
            yes=f"Yes, remove {person(user)}",
            yes_id="confirm-remove",
            back_url=self.members_url(),
            error=error,
        )

    # ----- invitations

    def invite_view(self, request: HttpRequest) -> HttpResponse:
        company = self.company(request)
        form = InviteForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            role = form.cleaned_data["role"]
            try:
                invitation = invitation_create(
                    company=company, email=form.cleaned_data["email"], role=role, by=request.user
                )
            except APIError as exc:
                apply_service_error(form, exc)
            else:
                return self.done(
                    request,
                    f"Invitation sent to {invitation.email}: they join {company.name} as "
                    f"{role_label(role)} when they accept it, until {when(invitation.expires_at)}.",
                )
        return self.render(
            request,
            "invite.html",
            f"Invite someone to {company.name}",
            company=company,
            form=form,
            role_options=role_options(form),
            ttl=duration_in_words(settings.INVITATION_TTL),
        )

    def revoke_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        company = self.company(request)
        invitation = selectors.invitation_get(company=company, pk=pk)
        if invitation is None:
            raise Http404("No such invitation.")
        error = None
        if request.method == "POST" and confirmed(request):
            try:
                invitation_revoke(invitation=invitation, by=request.user)
            except APIError as exc:
                error = exc.message
            else:
                return self.done(
                    request, f"The invitation of {invitation.email} is revoked: its link no longer works."
                )
        inviter = person(invitation.invited_by) if invitation.invited_by else "—"
        return self.render(
            request,
            "confirm.html",
            f"Revoke the invitation of {invitation.email}?",
            effect=f"The link sent to {invitation.email} stops working at once: nobody can join "
            f"{company.name} as {role_label(invitation.role)} with it. You can invite the address again.",
            note="",
            facts=[
                ("Email", invitation.email),
                ("Role", role_label(invitation.role)),
                ("Invited by", inviter),
                ("Sent", when(invitation.created_at)),
                ("Expires", when(invitation.expires_at)),
                ("Status", invitation_state(invitation)[1]),
            ],
            carried=[],
            yes="Yes, revoke it",
            yes_id="confirm-revoke",
            back_url=self.members_url(),
            error=error,
        )

    # ----- accept an invitation (from the email)

    @method_decorator(sensitive_post_parameters("password", "password1", "password2"))
    @method_decorator(csrf_protect)
    @method_decorator(never_cache)
    def accept_view(self, request: HttpRequest) -> HttpResponse:
        token = (request.POST.get("token") if request.method == "POST" else request.GET.get("token")) or ""
        invitation = selectors.invitation_for_token(token)
        acceptable, state = invitation_state(invitation)
        signed_in = request.user.is_authenticated
        signup = SignupForm(request.POST if request.POST.get("step") == "signup" else None)
        login_form = AuthenticationForm(
            request, request.POST if request.POST.get("step") == "login" else None
        )
        error = None
        if request.method == "POST" and invitation is not None:
            step = request.POST.get("step")
            try:
                if step == "accept" and signed_in:
                    return self.accept(request, lambda: invitation_accept(token=token, user=request.user))
                if step == "login" and not signed_in and login_form.is_valid():
                    user = login_form.get_user()
                    return self.accept(
                        request, lambda: invitation_accept(token=token, user=user), log_in=True
                    )
                if step == "signup" and not signed_in and signup.is_valid():
                    return self.accept(
                        request,
                        lambda: invitation_accept_with_signup(
                            token=token,
                            username=signup.cleaned_data["username"],
                            password=signup.cleaned_data["password1"],
                            first_name=signup.cleaned_data["first_name"],
                            last_name=signup.cleaned_data["last_name"],
                        ),
                        log_in=True,
                    )
            except APIError as exc:
                error = exc.message
                if step == "signup":
                    for field, problems in exc.details.items():
                        name = "password1" if field == "password" else field
                        if name in signup.fields and isinstance(problems, list):
                            for problem in problems:
                                signup.add_error(name, str(problem))
            acceptable, state = invitation_state(selectors.invitation_for_token(token))
        for_another = (
            signed_in and invitation is not None and request.user.email.strip().lower() != invitation.email
        )
        return TemplateResponse(
            request,
            f"{TEMPLATES}/accept_invitation.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Join {invitation.company.name}" if invitation is not None else "Invitation",
                "invitation": invitation,
                "token": token,
                "acceptable": acceptable,
                "state": state,
                "role": role_label(invitation.role) if invitation is not None else "",
                "role_summary": role_summary(invitation.role) if invitation is not None else "",
                "expires": when(invitation.expires_at) if invitation is not None else "",
                "signed_in": signed_in,
                "for_another": for_another,
                "signup": signup,
                "login_form": login_form,
                "error": error,
            },
        )

    def accept(
        self, request: HttpRequest, service: Callable[[], Membership], *, log_in: bool = False
    ) -> HttpResponse:
        """Accept through `service` and let the person into the admin (staff), in one transaction;
        then log them in (`log_in`), working in the company just joined, on its dashboard."""
        with transaction.atomic():
            membership = service()
            user_staff_grant(
                user=membership.user, by=membership.user, reason="invitation accepted in the admin"
            )
        user, company = membership.user, membership.company
        if log_in:
            login(request, user, backend=getattr(user, "backend", None) or LOGIN_BACKEND)
        company_switch(request, company)
        messages.success(
            request,
            f"Welcome to {company.name}: you are {role_label(membership.role)} "
            f"({role_summary(membership.role)}).",
        )
        return HttpResponseRedirect(reverse("admin:index"))


def invitation_state(invitation: Invitation | None) -> tuple[bool, str]:
    """(whether it can still be accepted, its state in words) for the pages; the service decides."""
    if invitation is None:
        return False, (
            "This invitation link is not valid. Check that the whole link from the email was "
            "opened, or ask the company's admin for a new invitation."
        )
    if invitation.status == InvitationStatus.ACCEPTED:
        return (
            False,
            f"This invitation was accepted on {when(invitation.accepted_at)}: it cannot be used again.",
        )
    if invitation.status == InvitationStatus.REVOKED:
        return False, "This invitation was revoked: ask the company's admin for a new one."
    if invitation.expires_at <= timezone.now():
        return (
            False,
            f"This invitation expired on {when(invitation.expires_at)}: ask the company's admin for a new one.",
        )
    return True, f"Pending until {when(invitation.expires_at)}"
