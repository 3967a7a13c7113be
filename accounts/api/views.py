"""Auth, the current user, companies, members and the chart of accounts (thin views)."""

from __future__ import annotations

import django_filters
from django.contrib.auth import authenticate, user_logged_in
from django.db.models import Exists, OuterRef
from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny

from accounts import selectors, services
from accounts.api import serializers as s
from accounts.errors import InvalidAccount, UserNotFound
from accounts.models import Account, AccountType, Company, Membership, User
from sofinance.api.authentication import token_user
from sofinance.api.idempotency import idempotent
from sofinance.api.jwt import REFRESH, InvalidToken, decode_token, issue_token_pair
from sofinance.api.tenancy import CompanyScopedMixin
from sofinance.api.views import ok, parse_object_ref, validated
from sofinance.errors import NotAuthenticated, NotFound
from sofinance.permissions import Action

# --------------------------------------------------------------------------- auth


class TokenObtainView(GenericAPIView):
    """Exchange a username (or email) and password for an access and a refresh token."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    serializer_class = s.TokenObtainInput

    @extend_schema(request=s.TokenObtainInput, responses={200: s.TokenPairOutput})
    def post(self, request):
        data = validated(s.TokenObtainInput, request.data)
        user = authenticate(request, username=data["username"], password=data["password"])
        if user is None:
            raise NotAuthenticated("Invalid username/email or password.")
        # Same signal as a session login: updates last_login and records the audit event.
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        return ok(issue_token_pair(user_id=user.pk))


class TokenRefreshView(GenericAPIView):
    """Exchange a refresh token for a new access and refresh token."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    serializer_class = s.TokenRefreshInput

    @extend_schema(request=s.TokenRefreshInput, responses={200: s.TokenPairOutput})
    def post(self, request):
        data = validated(s.TokenRefreshInput, request.data)
        try:
            payload = decode_token(data["refresh"], expected_type=REFRESH)
        except InvalidToken as exc:
            raise NotAuthenticated(str(exc)) from exc
        return ok(issue_token_pair(user_id=token_user(payload).pk))


class MeView(GenericAPIView):
    """The authenticated user and their memberships."""

    serializer_class = s.MeOutput

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

    @extend_schema(responses={200: s.CompanyOutput(many=True)})
    def get(self, request):
        roles = dict(Membership.objects.filter(user=request.user).values_list("company_id", "role"))
        page = self.paginate_queryset(self.get_queryset())
        data = s.CompanyOutput(page, many=True, context={"roles": roles}).data
        return self.get_paginated_response(data)

    @extend_schema(request=s.CompanyCreateInput, responses={201: s.CompanyOutput})
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

    def get(self, request, company_id):
        return ok(
            s.CompanyOutput(self.company, context={"roles": {self.company.pk: self.membership.role}}).data
        )

    @extend_schema(request=s.CompanyUpdateInput, responses={200: s.CompanyOutput})
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

    @extend_schema(responses={200: s.MemberOutput(many=True)})
    def get(self, request, company_id):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.MemberOutput(page, many=True).data)

    @extend_schema(request=s.MemberAddInput, responses={201: s.MemberOutput})
    @idempotent
    def post(self, request, company_id):
        data = validated(s.MemberAddInput, request.data)
        ref = parse_object_ref(data["user"])
        if isinstance(ref, int):
            user = User.objects.filter(pk=ref, is_active=True).first()
        else:
            user = selectors.user_find(login=ref) if ref else None
        if user is None:
            raise UserNotFound(details={"user": data["user"]})
        membership = services.membership_add(
            company=self.company, user=user, role=data["role"], by=request.user
        )
        return ok(s.MemberOutput(membership).data, status=201)


class MemberDetailView(CompanyScopedMixin, GenericAPIView):
    serializer_class = s.MemberOutput
    actions = {"get": Action.MEMBERS_VIEW, "patch": Action.MEMBERS_MANAGE, "delete": Action.MEMBERS_MANAGE}

    def _membership(self, pk) -> Membership:
        membership = selectors.company_members(company=self.company).filter(pk=pk).first()
        if membership is None:
            raise NotFound()
        return membership

    def get(self, request, company_id, pk):
        return ok(s.MemberOutput(self._membership(pk)).data)

    @extend_schema(request=s.MemberChangeInput, responses={200: s.MemberOutput})
    def patch(self, request, company_id, pk):
        data = validated(s.MemberChangeInput, request.data)
        membership = services.membership_change_role(
            membership=self._membership(pk), role=data["role"], by=request.user
        )
        return ok(s.MemberOutput(membership).data)

    def delete(self, request, company_id, pk):
        services.membership_remove(membership=self._membership(pk), by=request.user)
        return ok(None)


# --------------------------------------------------------------------------- chart of accounts


class AccountFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=AccountType.choices)
    is_active = django_filters.BooleanFilter()
    code = django_filters.CharFilter()
    parent = django_filters.NumberFilter(field_name="parent_id")
    search = django_filters.CharFilter(method="filter_search")

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

    @extend_schema(responses={200: s.AccountOutput(many=True)})
    def get(self, request, company_id):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(s.AccountOutput(page, many=True).data)

    @extend_schema(request=s.AccountCreateInput, responses={201: s.AccountOutput})
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

    def get(self, request, company_id, pk):
        return ok(s.AccountOutput(self._account(pk)).data)

    @extend_schema(request=s.AccountUpdateInput, responses={200: s.AccountOutput})
    def patch(self, request, company_id, pk):
        data = dict(validated(s.AccountUpdateInput, request.data, partial=True))
        if "parent" in data:
            data["parent"] = _resolve_parent(self.company, data["parent"])
        if "currency" in data:
            data["currency"] = data["currency"] or ""
        account = services.account_update(account=self._account(pk), by=request.user, **data)
        return ok(s.AccountOutput(account).data)

    def delete(self, request, company_id, pk):
        services.account_delete(account=self._account(pk), by=request.user)
        return ok(None)


class AccountLoadTemplateView(CompanyScopedMixin, GenericAPIView):
    """Load a standard chart of accounts; codes the company already has are kept."""

    serializer_class = s.LoadTemplateInput
    filter_backends: list = []
    actions = {"post": Action.ACCOUNTS_MANAGE}

    @extend_schema(request=s.LoadTemplateInput, responses={201: s.AccountOutput(many=True)})
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
