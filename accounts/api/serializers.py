"""Shapes of the accounts API: input serializers parse, output serializers render."""

from __future__ import annotations

from rest_framework import serializers

from accounts.models import Account, AccountRole, AccountType, Company, Membership, User
from sofinance.api.fields import StrictBooleanField, StrictIntegerField
from sofinance.permissions import Role


class TokenObtainInput(serializers.Serializer):
    username = serializers.CharField(help_text="Username or email.")
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenRefreshInput(serializers.Serializer):
    refresh = serializers.CharField()


class TokenPairOutput(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    token_type = serializers.CharField()
    expires_in = serializers.IntegerField()


class UserOutput(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name"]


class CompanyOutput(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()

    class Meta:
        model = Company
        fields = ["id", "name", "currency", "fiscal_year_start", "role", "created_at"]

    def get_role(self, obj) -> str | None:
        roles = self.context.get("roles") or {}
        return roles.get(obj.pk)


class MembershipOfUserOutput(serializers.ModelSerializer):
    company = CompanyOutput()

    class Meta:
        model = Membership
        fields = ["id", "company", "role"]


class MeOutput(serializers.Serializer):
    user = UserOutput()
    memberships = MembershipOfUserOutput(many=True)


class CompanyCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    currency = serializers.CharField(max_length=3)
    fiscal_year_start = StrictIntegerField(min_value=1, max_value=12, default=1)
    chart_template = serializers.CharField(required=False, allow_blank=True, allow_null=True)


class CompanyUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    currency = serializers.CharField(max_length=3, required=False)
    fiscal_year_start = StrictIntegerField(min_value=1, max_value=12, required=False)


class MemberOutput(serializers.ModelSerializer):
    user = UserOutput()

    class Meta:
        model = Membership
        fields = ["id", "user", "role", "created_at"]


class MemberAddInput(serializers.Serializer):
    user = serializers.JSONField(help_text="The user's id (number), username or email (string).")
    role = serializers.ChoiceField(choices=Role.choices)


class MemberChangeInput(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class AccountOutput(serializers.ModelSerializer):
    currency = serializers.SerializerMethodField()
    normal_balance = serializers.CharField(read_only=True)
    is_leaf = serializers.SerializerMethodField()

    class Meta:
        model = Account
        fields = [
            "id",
            "code",
            "name",
            "type",
            "parent",
            "currency",
            "is_active",
            "normal_balance",
            "system_role",
            "description",
            "depth",
            "is_leaf",
            "created_at",
            "updated_at",
        ]

    def get_currency(self, obj) -> str | None:
        return obj.currency or None

    def get_is_leaf(self, obj) -> bool:
        has_children = getattr(obj, "has_children", None)
        if has_children is None:
            has_children = obj.children.exists()
        return not has_children


class AccountRefField(serializers.JSONField):
    """An account given by id (JSON number) or code (JSON string)."""


class AccountCreateInput(serializers.Serializer):
    code = serializers.CharField(max_length=32)
    name = serializers.CharField(max_length=200)
    type = serializers.ChoiceField(choices=AccountType.choices)
    parent = AccountRefField(required=False, allow_null=True)
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True, allow_null=True)
    is_active = StrictBooleanField(default=True)
    system_role = serializers.ChoiceField(choices=AccountRole.choices, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)


class AccountUpdateInput(serializers.Serializer):
    code = serializers.CharField(max_length=32, required=False)
    name = serializers.CharField(max_length=200, required=False)
    type = serializers.ChoiceField(choices=AccountType.choices, required=False)
    parent = AccountRefField(required=False, allow_null=True)
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True, allow_null=True)
    is_active = StrictBooleanField(required=False)
    system_role = serializers.ChoiceField(choices=AccountRole.choices, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)


class LoadTemplateInput(serializers.Serializer):
    template = serializers.CharField(default="small_business")
