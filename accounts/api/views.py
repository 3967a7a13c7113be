"""Auth, the current user, companies, members and the chart of accounts (thin views)."""

from __future__ import annotations

import django_filters
from django.contrib.auth import authenticate, user_logged_in
from django.db.models import Exists, OuterRef
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny

from accounts import selectors, services
from accounts.api import examples
from accounts.api import serializers as s
from accounts.errors import InvalidAccount, RefreshTokenRefused
from accounts.login_throttle import login_locked_error
from accounts.models import Account, AccountType, Company, Invitation, Membership, RefreshToken
from sofinance.api.filters import IdFilter
from sofinance.api.idempotency import idempotent
from sofinance.api.jwt import REFRESH, InvalidToken, decode_token, issue_token_pair
from sofinance.api.schema import DELETED, refusals
from sofinance.api.tenancy import CompanyScopedMixin
from sofinance.api.views import no_body, ok, parse_object_ref, validated
from sofinance.errors import NotAuthenticated, NotFound, ValidationFailed
from sofinance.permissions import Action

# --------------------------------------------------------------------------- auth


def _token_pair(refresh: RefreshToken) -> dict:
    return issue_token_pair(
        user_id=refresh.user_id,
        refresh_jti=refresh.jti,
        refresh_issued_at=refresh.issued_at,
        refresh_expires_at=refresh.expires_at,
    )


def _refresh_claims(token: str, *, allow_expired: bool = False) -> tuple[str, str]:
    """(jti, subject) of a signed refresh token; 401 for anything else."""
    try:
        payload = decode_token(token, expected_type=REFRESH, allow_expired=allow_expired)
    except InvalidToken as exc:
        raise NotAuthenticated(str(exc)) from exc
    jti = payload.get("jti")
    if not isinstance(jti, str) or not jti:
        raise RefreshTokenRefused()
    return jti, str(payload["sub"])


class TokenObtainView(GenericAPIView):
    """Exchange a username (or email) and password for an access and a refresh token."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    serializer_class = s.TokenObtainInput

    @extend_schema(
        summary="Log in: get an access and a refresh token",
        description=(
            "Exchange a username (or the account's email, any case) and its password for an access "
            "token, sent as `Authorization: Bearer <access>` on every other call, and a refresh token "
            "for `POST /api/v1/auth/refresh`. `expires_in` is the access token's lifetime in seconds "
            "(900 by default).\n\n"
            "Wrong credentials are 401 `not_authenticated`, the same whether or not the account "
            "exists. After `LOGIN_FAILURE_LIMIT` failures (5 by default) for one account, or from one "
            "address, that account or address is locked for `LOGIN_LOCKOUT_SECONDS` (15 minutes by "
            "default): its logins are then 429 `rate_limited` with `details.reason` `login_locked` "
            "and `Retry-After`, even with the right password."
        ),
        request=s.TokenObtainInput,
        responses={
            200: s.TokenPairOutput,
            401: refusals("`not_authenticated`: wrong username/email or password, or an inactive account."),
            429: refusals(
                "`rate_limited`: too many requests, or the account or address is locked after "
                "repeated failures (`details.reason` `login_locked`); `Retry-After` says for how long."
            ),
        },
        examples=examples.LOGIN,
    )
    def post(self, request):
        data = validated(s.TokenObtainInput, request.data)
        user = authenticate(request, username=data["username"], password=data["password"])
        if getattr(request, "axes_locked_out", False):
            # Too many failures for this account or address: refused whatever the password.
            raise login_locked_error(request, {"username": data["username"]})
        if user is None:
            raise NotAuthenticated("Invalid username/email or password.")
        # Same signal as a session login: updates last_login and records the audit event.
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        return ok(_token_pair(services.refresh_token_issue(user=user)))


class TokenRefreshView(GenericAPIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    serializer_class = s.TokenRefreshInput

    @extend_schema(
        summary="Refresh the tokens",
        description=(
            "Exchange a refresh token for a new access token **and a new refresh token**. "
            "Refresh tokens rotate: the one you send is used up, so store the new one and use "
            "it next time.\n\n"
            "Sending a refresh token that was already used is treated as theft: every refresh "
            "token descending from the same login is revoked and the answer is 401 "
            "`not_authenticated` with `details.reason` `refresh_token_reused`; log in again. "
            "A revoked token (after `POST /auth/logout`) gives `refresh_token_revoked`. "
            "If a refresh response is lost, do not retry with the old token: log in again."
        ),
        request=s.TokenRefreshInput,
        responses={
            200: s.TokenPairOutput,
            400: refusals("`validation_error`: no `refresh` given."),
            401: refusals(
                "`not_authenticated`: an expired, invalid, used or revoked refresh token "
                "(`details.reason` `refresh_token_reused`, `refresh_token_revoked` or "
                "`refresh_token_invalid` when it says which)."
            ),
        },
        examples=examples.REFRESH_EXAMPLES,
    )
    def post(self, request):
        data = validated(s.TokenRefreshInput, request.data)
        jti, subject = _refresh_claims(data["refresh"])
        return ok(_token_pair(services.refresh_token_rotate(jti=jti, subject=subject)))


class LogoutView(GenericAPIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    serializer_class = s.TokenRefreshInput

    @extend_schema(
        summary="Log out (revoke a refresh token)",
        description=(
            "Revoke the given refresh token and every refresh token of the same login (the "
            "tokens it was rotated into), so none of them can be refreshed again. No access token "
            "is needed: the refresh token proves the session. Logging out twice is harmless "
            "(`revoked` is then 0); an expired refresh token is accepted.\n\n"
            "**Access tokens already issued keep working until they expire** "
            "(`expires_in` seconds after they were issued, 15 minutes by default): discard "
            "yours when you log out."
        ),
        request=s.TokenRefreshInput,
        responses={
            200: s.LogoutOutput,
            400: refusals("`validation_error`: no `refresh` given."),
            401: refusals("`not_authenticated`: not a refresh token signed by this server."),
        },
        examples=examples.LOGOUT,
    )
    def post(self, request):
        data = validated(s.TokenRefreshInput, request.data)
        jti, subject = _refresh_claims(data["refresh"], allow_expired=True)
        return ok({"revoked": services.refresh_token_revoke(jti=jti, subject=subject)})


class MeView(GenericAPIView):
    """The authenticated user and their memberships."""

    serializer_class = s.MeOutput

    @extend_schema(
        summary="Who am I",
        description=(
            "The user the access token belongs to, and every company they are a member of with "
            "their role there (`memberships[].company.id` is the `company_id` of the company's URLs)."
        ),
        examples=examples.ME,
    )
    def get(self, request):
        memberships = list(selectors.user_memberships(user=request.user))
        roles = {m.company_id: m.role for m in memberships}
        return ok(
            s.MeOutput({"user": request.user, "memberships": memberships}, context={"roles": roles}).data
        )


# --------------------------------------------------------------------------- companies


class CompanyListView(GenericAPIView):
    """Companies where the user holds a membership; creating one makes the creator its admin."""

    serializer_class = s.CompanyOutput
    # Names the model for the schema generator; requests always go through get_queryset().
    queryset = Company.objects.none()

    def get_queryset(self):
        return selectors.companies_for_user(user=self.request.user)

    @extend_schema(
        summary="List my companies",
        description=(
            "The companies where you hold a membership, oldest first, a page at a time "
            "(`page`, `page_size`), each with your `role` in it."
        ),
        responses={200: s.CompanyOutput(many=True)},
    )
    def get(self, request):
        roles = dict(Membership.objects.filter(user=request.user).values_list("company_id", "role"))
        page = self.paginate_queryset(self.get_queryset())
        data = s.CompanyOutput(page, many=True, context={"roles": roles}).data
        return self.get_paginated_response(data)

    @extend_schema(
        summary="Create a company",
        description=(
            "Create a company (the owner of one set of books) and become its admin. `currency` is its "
            "functional currency (ISO 4217, e.g. `EUR`): every amount of its books is converted to "
            "it, and it cannot change once the company has accounts. `fiscal_year_start` is the month "
            "(1-12) its fiscal year starts in, default 1. `chart_template` (`small_business`) loads a "
            "standard chart of accounts in the same transaction.\n\n"
            "Refused with 400 `validation_error`: a currency that is not ISO 4217, a month outside "
            "1-12, an unknown template."
        ),
        request=s.CompanyCreateInput,
        responses={201: s.CompanyOutput},
        examples=examples.COMPANY_CREATE,
    )
    @idempotent
    def post(self, request):
        data = validated(s.CompanyCreateInput, request.data)
        company = services.company_create(
            name=data["name"],
            currency=data["currency"],
            fiscal_year_start=data["fiscal_year_start"],
            created_by=request.user,
            chart_template=data.get("chart_template") or None,
        )
        return ok(s.CompanyOutput(company, context={"roles": {company.pk: "admin"}}).data, status=201)


class CompanyDetailView(CompanyScopedMixin, GenericAPIView):
    serializer_class = s.CompanyOutput
    actions = {"get": Action.COMPANY_VIEW, "patch": Action.COMPANY_CHANGE}

    @extend_schema(
        summary="Get a company",
        description="One of your companies, with your `role` in it.",
        responses={200: s.CompanyOutput},
    )
    def get(self, request, company_id):
        return ok(
            s.CompanyOutput(self.company, context={"roles": {self.company.pk: self.membership.role}}).data
        )

    @extend_schema(
        summary="Change a company",
        description=(
            "Change the `name`, the `fiscal_year_start` month or, while the company has no accounts "
            "yet, its functional `currency` (afterwards 400 `validation_error`: every stored base "
            "amount is in it). The `fiscal_year_start` does not change while a fiscal year is closed "
            "(400 `validation_error` naming the closed years: reopen them first; their closing entries "
            "were made for the current start). Fields left out keep their values."
        ),
        request=s.CompanyUpdateInput,
        responses={200: s.CompanyOutput},
        examples=examples.COMPANY_UPDATE,
    )
    @idempotent
    def patch(self, request, company_id):
        data = validated(s.CompanyUpdateInput, request.data, partial=True)
        company = services.company_update(company=self.company, by=request.user, **data)
        return ok(s.CompanyOutput(company, context={"roles": {company.pk: self.membership.role}}).data)


# --------------------------------------------------------------------------- members


class MemberListView(CompanyScopedMixin, GenericAPIView):
    serializer_class = s.MemberOutput
    queryset = Membership.objects.none()  # for the schema generator, as above
    actions = {"get": Action.MEMBERS_VIEW, "post": Action.MEMBERS_MANAGE}

    def get_queryset(self):
        return selectors.company_members(company=self.company)

    @extend_schema(
        summary="List members",
        description=(
            "The company's members (users with a role in it), a page at a time. Pending invitations "
            "are listed apart, at `…/invitations`."
        ),
        responses={200: s.MemberOutput(many=True)},
        examples=examples.MEMBERS,
    )
    def get(self, request, company_id):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.MemberOutput(page, many=True).data)

    @extend_schema(
        summary="Invite a member",
        description=(
            "Send an invitation to join the company with a role. **Nobody becomes a member until "
            "they accept**: the invitee receives an email with a token and accepts it with "
            "`POST /api/v1/invitations/accept` (logged in with the account of that address, or "
            "creating one).\n\n"
            "The response is the same whether or not the address has an account: it never says. "
            "Inviting an address again replaces its pending invitation (a new email, token and "
            "expiry). An address that is already a member of this company is a 409 "
            "(`details.reason` `already_member`). Invitations expire after "
            "`INVITATION_TTL_HOURS` (7 days by default)."
        ),
        request=s.InvitationCreateInput,
        responses={
            201: s.InvitationOutput,
            400: refusals("`validation_error`: not an email address, or not a role."),
            409: refusals("`conflict` (`details.reason` `already_member`): already a member of the company."),
        },
        examples=examples.INVITE,
    )
    @idempotent
    def post(self, request, company_id):
        data = validated(s.InvitationCreateInput, request.data)
        invitation = services.invitation_create(
            company=self.company, email=data["email"], role=data["role"], by=request.user
        )
        return ok(s.InvitationOutput(invitation).data, status=201)


class InvitationListView(CompanyScopedMixin, GenericAPIView):
    serializer_class = s.InvitationOutput
    queryset = Invitation.objects.none()  # for the schema generator, as above
    actions = {"get": Action.MEMBERS_VIEW}
    query_parameters = ("status",)  # read by get_queryset (sofinance.api.pagination.refuse_unread_parameters)

    def get_queryset(self):
        state = self.request.query_params.get("status", "pending")
        if state not in selectors.INVITATION_STATES:
            raise ValidationFailed(
                details={"status": [f"Choose one of: {', '.join(selectors.INVITATION_STATES)}."]}
            )
        return selectors.company_invitations(company=self.company, state=state)

    @extend_schema(
        summary="List invitations",
        description=(
            "The company's invitations, newest first. By default the pending ones (not accepted, "
            "not revoked, not expired); `?status=` picks `expired`, `accepted`, `revoked` or `all`. "
            "The invitation token is never shown: it is only in the invitee's email."
        ),
        parameters=[
            OpenApiParameter(
                "status",
                str,
                enum=list(selectors.INVITATION_STATES),
                default="pending",
                description="Which invitations to list.",
            )
        ],
        responses={
            200: s.InvitationOutput(many=True),
            400: refusals("`validation_error`: an unknown `status`."),
        },
    )
    def get(self, request, company_id):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.InvitationOutput(page, many=True).data)


class InvitationDetailView(CompanyScopedMixin, GenericAPIView):
    serializer_class = s.InvitationOutput
    actions = {"get": Action.MEMBERS_VIEW, "delete": Action.MEMBERS_MANAGE}

    def _invitation(self, pk) -> Invitation:
        invitation = selectors.invitation_get(company=self.company, pk=pk)
        if invitation is None:
            raise NotFound()
        return invitation

    @extend_schema(
        summary="Get an invitation",
        description="One invitation of the company (never its token).",
        responses={200: s.InvitationOutput},
    )
    def get(self, request, company_id, pk):
        return ok(s.InvitationOutput(self._invitation(pk)).data)

    @extend_schema(
        summary="Revoke an invitation",
        description=(
            "Withdraw a pending invitation: its token stops working at once. Returns the "
            "invitation with `status` `revoked`. An invitation already accepted or revoked is a "
            "409 (`details.reason` `invitation_not_pending`); to remove a member who accepted, "
            "delete the membership."
        ),
        responses={
            200: s.InvitationOutput,
            409: refusals(
                "`conflict` (`details.reason` `invitation_not_pending`): already accepted or revoked."
            ),
        },
        examples=examples.INVITATION_REVOKE,
    )
    @idempotent
    @no_body
    def delete(self, request, company_id, pk):
        invitation = services.invitation_revoke(invitation=self._invitation(pk), by=request.user)
        return ok(s.InvitationOutput(invitation).data)


class InvitationAcceptView(GenericAPIView):
    permission_classes = [AllowAny]
    serializer_class = s.InvitationAcceptInput

    @extend_schema(
        summary="Accept an invitation",
        description=(
            "Join the company an invitation names, with its role, using the token from the "
            "invitation email.\n\n"
            '- **Logged in** (a bearer token or the admin session): send `{"token"}`. Your '
            "account's email must be the invited address (403 otherwise). Answers 200.\n"
            '- **No account yet**: send `{"token", "username", "password"}` without '
            "logging in: an account with the invited address is created (the password must pass "
            "the password rules) and joins. Answers 201. If the address already has an account, "
            "409: log in and accept.\n\n"
            "An unknown token is 404; an invitation that was accepted, revoked or has expired is "
            "409 (`details.reason` `invitation_not_pending`). Then log in with "
            "`POST /api/v1/auth/token` as usual."
        ),
        request=s.InvitationAcceptInput,
        responses={
            200: s.InvitationAcceptOutput,
            201: s.InvitationAcceptOutput,
            400: refusals(
                "`validation_error`: no token; or, without a login, a username or password refused."
            ),
            401: refusals(
                "`not_authenticated`: not logged in and no username and password given, or an invalid "
                "access token."
            ),
            403: refusals("`permission_denied`: the invitation was sent to another address."),
            404: refusals("`not_found`: no invitation has this token."),
            409: refusals(
                "`conflict`: accepted, revoked or expired (`details.reason` `invitation_not_pending`); "
                "already a member, or the address already has an account (`membership_conflict`)."
            ),
        },
        examples=examples.ACCEPT,
    )
    def post(self, request):
        data = validated(s.InvitationAcceptInput, request.data)
        if request.user.is_authenticated:
            membership = services.invitation_accept(token=data["token"], user=request.user)
            status = 200
        elif data.get("username") and data.get("password"):
            membership = services.invitation_accept_with_signup(
                token=data["token"],
                username=data["username"],
                password=data["password"],
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
            )
            status = 201
        else:
            raise NotAuthenticated(
                "Log in to accept, or give a username and password to create your account."
            )
        context = {"roles": {membership.company_id: membership.role}}
        body = {"user": membership.user, "membership": membership}
        return ok(s.InvitationAcceptOutput(body, context=context).data, status=status)


class MemberDetailView(CompanyScopedMixin, GenericAPIView):
    serializer_class = s.MemberOutput
    actions = {"get": Action.MEMBERS_VIEW, "patch": Action.MEMBERS_MANAGE, "delete": Action.MEMBERS_MANAGE}

    def _membership(self, pk) -> Membership:
        membership = selectors.company_members(company=self.company).filter(pk=pk).first()
        if membership is None:
            raise NotFound()
        return membership

    @extend_schema(
        summary="Get a member",
        description="One membership of the company: the user and their role.",
        responses={200: s.MemberOutput},
    )
    def get(self, request, company_id, pk):
        return ok(s.MemberOutput(self._membership(pk)).data)

    @extend_schema(
        summary="Change a member's role",
        description=(
            "Give the member another `role`. A company always keeps at least one admin: demoting the "
            "last one is 409 `conflict` (`details.reason` `membership_conflict`)."
        ),
        request=s.MemberChangeInput,
        responses={
            200: s.MemberOutput,
            409: refusals("`conflict` (`details.reason` `membership_conflict`): the company's last admin."),
        },
        examples=examples.MEMBER_CHANGE,
    )
    @idempotent
    def patch(self, request, company_id, pk):
        data = validated(s.MemberChangeInput, request.data)
        membership = services.membership_change_role(
            membership=self._membership(pk), role=data["role"], by=request.user
        )
        return ok(s.MemberOutput(membership).data)

    @extend_schema(
        summary="Remove a member",
        description=(
            "Take the user's membership away: they lose access to the company at once (the user "
            "account itself stays). The last admin cannot be removed: 409 `conflict` "
            "(`details.reason` `membership_conflict`)."
        ),
        responses={
            200: DELETED,
            409: refusals("`conflict` (`details.reason` `membership_conflict`): the company's last admin."),
        },
        examples=examples.MEMBER_REMOVE,
    )
    @idempotent
    @no_body
    def delete(self, request, company_id, pk):
        services.membership_remove(membership=self._membership(pk), by=request.user)
        return ok(None)


# --------------------------------------------------------------------------- chart of accounts


class AccountFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=AccountType.choices, help_text="Only accounts of this type.")
    is_active = django_filters.BooleanFilter(
        help_text="`true`: accounts open to postings; `false`: deactivated ones."
    )
    code = django_filters.CharFilter(help_text="The account with exactly this code.")
    parent = IdFilter(field_name="parent", help_text="The direct sub-accounts of this account id.")
    search = django_filters.CharFilter(
        method="filter_search", help_text="Codes starting with, or names containing, this text (any case)."
    )

    class Meta:
        model = Account
        fields = ["type", "is_active", "code", "parent"]

    def filter_search(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(Q(code__istartswith=value) | Q(name__icontains=value))


def _resolve_parent(company: Company, value) -> Account | None:
    ref = parse_object_ref(value)
    if ref is None:
        return None
    parent = selectors.account_get(company=company, ref=ref)
    if parent is None:
        raise InvalidAccount("The parent account does not exist.", details={"parent": value})
    return parent


class AccountListView(CompanyScopedMixin, GenericAPIView):
    serializer_class = s.AccountOutput
    filterset_class = AccountFilter
    queryset = Account.objects.none()  # for the schema generator, as above
    actions = {"get": Action.ACCOUNTS_VIEW, "post": Action.ACCOUNTS_MANAGE}

    def get_queryset(self):
        return selectors.accounts_for_company(company=self.company).annotate(
            has_children=Exists(Account.objects.filter(parent=OuterRef("pk")))
        )

    @extend_schema(
        summary="List the chart of accounts",
        description=(
            "The company's accounts in tree order (each parent before its sub-accounts), a page at a "
            "time. `depth` is the level in the tree (0 for a root); `is_leaf` accounts take postings. "
            "`currency` is null for accounts kept in the company's functional currency."
        ),
        responses={200: s.AccountOutput(many=True)},
    )
    def get(self, request, company_id):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(s.AccountOutput(page, many=True).data)

    @extend_schema(
        summary="Add an account",
        description=(
            "Add an account to the chart. `code` is unique in the company; `parent` (an id as a "
            "JSON number, or a code as a string) makes it a sub-account, which must have its parent's "
            "`type`; an account that was posted to cannot get sub-accounts. `currency` (ISO 4217) is "
            "for an account kept in a foreign currency (a foreign bank account); leave it out for the "
            "functional currency. `system_role` marks the one account of the company used for a "
            "purpose (`receivables`, `bank`, `retained_earnings`, ...).\n\n"
            "Refused: 400 `validation_error` (bad fields), 409 `conflict` (`details.reason` "
            "`duplicate_code`: the code or system role is taken), 422 `invalid_account` (a parent "
            "that does not exist, has another type or has postings)."
        ),
        request=s.AccountCreateInput,
        responses={
            201: s.AccountOutput,
            409: refusals(
                "`conflict` (`details.reason` `duplicate_code`): the code or system role is taken."
            ),
            422: refusals("`invalid_account`: the parent does not exist, has another type, or has postings."),
        },
        examples=examples.ACCOUNT_CREATE,
    )
    @idempotent
    def post(self, request, company_id):
        data = validated(s.AccountCreateInput, request.data)
        account = services.account_create(
            company=self.company,
            code=data["code"],
            name=data["name"],
            type=data["type"],
            parent=_resolve_parent(self.company, data.get("parent")),
            currency=data.get("currency") or "",
            is_active=data["is_active"],
            system_role=data.get("system_role") or "",
            description=data.get("description") or "",
            by=request.user,
        )
        return ok(s.AccountOutput(account).data, status=201)


class AccountDetailView(CompanyScopedMixin, GenericAPIView):
    serializer_class = s.AccountOutput
    actions = {"get": Action.ACCOUNTS_VIEW, "patch": Action.ACCOUNTS_MANAGE, "delete": Action.ACCOUNTS_MANAGE}

    def _account(self, ref) -> Account:
        account = selectors.account_get(company=self.company, ref=int(ref))
        if account is None:
            raise NotFound()
        return account

    @extend_schema(
        summary="Get an account",
        description="One account of the chart.",
        responses={200: s.AccountOutput},
    )
    def get(self, request, company_id, pk):
        return ok(s.AccountOutput(self._account(pk)).data)

    @extend_schema(
        summary="Change an account",
        description=(
            "Change any field; fields left out keep their values. Re-coding or moving an account "
            "(`parent`, or null for a root) carries its sub-accounts along. An account with postings "
            "keeps its `type` and `currency`, and one with sub-accounts its `type` (422 "
            "`invalid_account`). Deactivate an account (`is_active: false`) to stop new postings to "
            "it while keeping its history.\n\n"
            "Refused: 400 `validation_error`, 409 `conflict` (`details.reason` `duplicate_code`), "
            "422 `invalid_account`."
        ),
        request=s.AccountUpdateInput,
        responses={
            200: s.AccountOutput,
            409: refusals(
                "`conflict` (`details.reason` `duplicate_code`): the code or system role is taken."
            ),
            422: refusals(
                "`invalid_account`: a parent that does not exist, has another type, has postings or is "
                "the account's own descendant; or a type or currency change the account's postings or "
                "sub-accounts forbid."
            ),
        },
        examples=examples.ACCOUNT_UPDATE,
    )
    @idempotent
    def patch(self, request, company_id, pk):
        data = dict(validated(s.AccountUpdateInput, request.data, partial=True))
        if "parent" in data:
            data["parent"] = _resolve_parent(self.company, data["parent"])
        if "currency" in data:
            data["currency"] = data["currency"] or ""
        account = services.account_update(account=self._account(pk), by=request.user, **data)
        return ok(s.AccountOutput(account).data)

    @extend_schema(
        summary="Delete an account",
        description=(
            "Only an account that was never posted to and has no sub-accounts; otherwise 409 "
            "`conflict` (`details.reason` `account_in_use`): deactivate it instead "
            "(`is_active: false`)."
        ),
        responses={
            200: DELETED,
            409: refusals("`conflict` (`details.reason` `account_in_use`): it has postings or sub-accounts."),
        },
        examples=examples.ACCOUNT_DELETE,
    )
    @idempotent
    @no_body
    def delete(self, request, company_id, pk):
        services.account_delete(account=self._account(pk), by=request.user)
        return ok(None)


class AccountLoadTemplateView(CompanyScopedMixin, GenericAPIView):
    """Load a standard chart of accounts; codes the company already has are kept."""

    serializer_class = s.LoadTemplateInput
    filter_backends: list = []
    pagination_class = None
    actions = {"post": Action.ACCOUNTS_MANAGE}

    @extend_schema(
        summary="Load a standard chart of accounts",
        description=(
            "Add the accounts of a standard chart (`template`: `small_business`, the default) in one "
            "transaction. Codes the company already has are kept as they are, so loading twice adds "
            "nothing the second time. Answers 201 with the accounts it created (`meta.created` "
            "counts them; an empty list when there was nothing to add). An unknown template is 400 "
            "`validation_error`."
        ),
        request=s.LoadTemplateInput,
        responses={201: s.AccountOutput(many=True)},
        examples=examples.LOAD_TEMPLATE,
    )
    @idempotent
    def post(self, request, company_id):
        data = validated(s.LoadTemplateInput, request.data)
        created = services.chart_template_load(
            company=self.company, template=data["template"], by=request.user
        )
        return ok(
            s.AccountOutput(created, many=True).data,
            status=201,
            meta={"created": len(created)},
        )
