"""Shapes of the accounts API: input serializers parse, output serializers render."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import (
    Account,
    AccountRole,
    AccountType,
    Company,
    Invitation,
    InvitationStatus,
    Membership,
    User,
)
from sofinance.api.fields import StrictBooleanField, StrictIntegerField
from sofinance.permissions import Role


class TokenObtainInput(serializers.Serializer):
    username = serializers.CharField(help_text="Username or email.")
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenRefreshInput(serializers.Serializer):
    refresh = serializers.CharField(help_text="The refresh token of the last login or refresh.")


class LogoutOutput(serializers.Serializer):
    revoked = serializers.IntegerField(
        help_text="How many refresh tokens this call revoked (0 when already revoked)."
    )


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
    currency = serializers.CharField(
        max_length=3, help_text="The functional currency (ISO 4217), e.g. `EUR`."
    )
    fiscal_year_start = StrictIntegerField(
        min_value=1, max_value=12, default=1, help_text="The month (1-12) the fiscal year starts in."
    )
    chart_template = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="A standard chart to load at once (`small_business`); none by default.",
    )


class CompanyUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    currency = serializers.CharField(max_length=3, required=False)
    fiscal_year_start = StrictIntegerField(min_value=1, max_value=12, required=False)


class MemberOutput(serializers.ModelSerializer):
    user = UserOutput()

    class Meta:
        model = Membership
        fields = ["id", "user", "role", "created_at"]


class InvitationCreateInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254, help_text="The address the invitation is sent to.")
    role = serializers.ChoiceField(choices=Role.choices, help_text="The role the invitee gets on accepting.")


class InvitationOutput(serializers.ModelSerializer):
    status = serializers.SerializerMethodField(
        help_text="`pending` (can be accepted), `expired`, `accepted` or `revoked`."
    )
    invited_by = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    accepted_at = serializers.DateTimeField(allow_null=True, read_only=True)
    revoked_at = serializers.DateTimeField(allow_null=True, read_only=True)

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "role",
            "status",
            "invited_by",
            "created_at",
            "expires_at",
            "accepted_at",
            "revoked_at",
        ]

    def get_status(self, obj) -> str:
        if obj.status == InvitationStatus.PENDING and obj.expires_at <= timezone.now():
            return "expired"
        return obj.status


class InvitationAcceptInput(serializers.Serializer):
    token = serializers.CharField(max_length=200, help_text="The token from the invitation email.")
    username = serializers.CharField(
        max_length=150,
        required=False,
        help_text="Only without a login: the username of the account to create for the invited address.",
    )
    password = serializers.CharField(
        required=False,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text="Only without a login: the new account's password.",
    )
    first_name = serializers.CharField(
        max_length=150,
        required=False,
        allow_blank=True,
        help_text="Only without a login: the new account's first name (members are listed by name).",
    )
    last_name = serializers.CharField(
        max_length=150, required=False, allow_blank=True, help_text="Only without a login: the last name."
    )


class InvitationAcceptOutput(serializers.Serializer):
    user = UserOutput()
    membership = MembershipOfUserOutput()


class MemberChangeInput(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices, help_text="The member's new role.")


class AccountOutput(serializers.ModelSerializer):
    currency = serializers.SerializerMethodField()
    normal_balance = serializers.ChoiceField(choices=["debit", "credit"], read_only=True)
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


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string"}],
        "nullable": True,
        "description": "An account id (a JSON number) or code (a JSON string); null for none.",
    }
)
class AccountRefField(serializers.JSONField):
    """An account given by id (JSON number) or code (JSON string)."""


class AccountCreateInput(serializers.Serializer):
    code = serializers.CharField(max_length=32, help_text="Unique in the company, e.g. `6110`.")
    name = serializers.CharField(max_length=200)
    type = serializers.ChoiceField(
        choices=AccountType.choices, help_text="A sub-account has its parent's type."
    )
    parent = AccountRefField(required=False, allow_null=True)
    currency = serializers.CharField(
        max_length=3,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="For an account kept in a foreign currency (ISO 4217); omit for the functional currency.",
    )
    is_active = StrictBooleanField(default=True, help_text="`false`: no new postings (history kept).")
    system_role = serializers.ChoiceField(
        choices=AccountRole.choices,
        required=False,
        allow_blank=True,
        help_text="The purpose this account serves for the system (one account per role and company).",
    )
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
    template = serializers.CharField(default="small_business", help_text="`small_business` (the default).")
