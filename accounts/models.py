"""Users, companies (the owners of books), memberships with roles, and the chart of accounts."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower

from sofinance.money import validate_currency_code
from sofinance.permissions import Role


class User(AbstractUser):
    """A person (or integration) who logs in by username or email."""

    email = models.EmailField("email address", unique=True)

    objects = UserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.username


MONTHS = [
    (1, "January"), (2, "February"), (3, "March"), (4, "April"), (5, "May"), (6, "June"),
    (7, "July"), (8, "August"), (9, "September"), (10, "October"), (11, "November"), (12, "December"),
]  # fmt: skip


class Company(models.Model):
    """The owner of a set of books, kept in one functional currency."""

    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3, validators=[validate_currency_code])
    fiscal_year_start = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name_plural = "companies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(fiscal_year_start__gte=1, fiscal_year_start__lte=12),
                name="company_fiscal_year_start_month",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in one company."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "user"], name="membership_company_user_unique"),
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.company} ({self.role})"


class UserPreference(models.Model):
    """What a user chose in the admin and wants kept between sessions: the company they work in."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, primary_key=True, related_name="preference")
    company = models.ForeignKey(
        Company,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="current company",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "user preference"

    def __str__(self) -> str:
        return f"preferences of {self.user}"


class AccountType(models.TextChoices):
    ASSET = "asset", "Asset"
    LIABILITY = "liability", "Liability"
    EQUITY = "equity", "Equity"
    INCOME = "income", "Income"
    EXPENSE = "expense", "Expense"


class NormalBalance(models.TextChoices):
    DEBIT = "debit", "Debit"
    CREDIT = "credit", "Credit"


NORMAL_BALANCE = {
    AccountType.ASSET: NormalBalance.DEBIT,
    AccountType.EXPENSE: NormalBalance.DEBIT,
    AccountType.LIABILITY: NormalBalance.CREDIT,
    AccountType.EQUITY: NormalBalance.CREDIT,
    AccountType.INCOME: NormalBalance.CREDIT,
}

ACCOUNT_CODE_VALIDATOR = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$",
    "Codes are 1-32 letters, digits, dots, dashes or underscores.",
)
PATH_SEPARATOR = "/"


class AccountRole(models.TextChoices):
    """What an account is used for by the system (year-end close, sales postings)."""

    NONE = "", "—"
    RETAINED_EARNINGS = "retained_earnings", "Retained earnings"
    RECEIVABLES = "receivables", "Accounts receivable"
    PAYABLES = "payables", "Accounts payable"
    TAX_PAYABLE = "tax_payable", "Tax payable"
    BANK = "bank", "Bank"
    REVENUE = "revenue", "Revenue"
    COST_OF_SALES = "cost_of_sales", "Cost of sales"
    FX_GAIN_LOSS = "fx_gain_loss", "Exchange gains and losses"


class Account(models.Model):
    """An account of the chart: a tree per company, postable at its leaves only.

    `path` holds the codes from the root down ("1000/1100/1110") so the whole chart reads in
    tree order with one indexed query; inserting an account writes one row, and moving or
    renaming one rewrites only its own subtree.
    """

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="accounts")
    code = models.CharField(max_length=32, validators=[ACCOUNT_CODE_VALIDATOR])
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=10, choices=AccountType.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    currency = models.CharField(max_length=3, blank=True, default="", validators=[validate_currency_code])
    is_active = models.BooleanField(default=True)
    system_role = models.CharField(max_length=32, blank=True, default="", choices=AccountRole.choices)
    description = models.TextField(blank=True, default="")
    path = models.CharField(max_length=1024, editable=False, default="")
    depth = models.PositiveSmallIntegerField(editable=False, default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["company_id", "path"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="account_company_code_unique"),
            models.UniqueConstraint(
                fields=["company", "system_role"],
                condition=~models.Q(system_role=""),
                name="account_company_system_role_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(type__in=AccountType.values), name="account_type_valid"
            ),
        ]
        indexes = [models.Index(fields=["company", "path"], name="account_company_path_idx")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def normal_balance(self) -> str:
        return NORMAL_BALANCE[AccountType(self.type)]


class RefreshToken(models.Model):
    """One refresh token issued to a user, so that refresh tokens rotate and can be revoked.

    A login starts a *family*; each refresh marks the token used and issues its successor in the
    same family. A token used twice means it was copied: the whole family is revoked. Rows are
    purged once expired (`refresh_tokens_purge`), when the token could not be used anyway.
    """

    jti = models.CharField(max_length=64, unique=True)
    family = models.UUIDField(db_index=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="refresh_tokens")
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=32, blank=True, default="")

    def __str__(self) -> str:
        return f"refresh token {self.jti} of {self.user_id}"


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    REVOKED = "revoked", "Revoked"


class Invitation(models.Model):
    """An offer of a role in a company, sent to an email address, that the invitee accepts.

    Nobody becomes a member without accepting. The invitation says nothing about whether the
    address has an account. Only a hash of the token is stored: the token itself is in the email.
    A pending invitation past `expires_at` can no longer be accepted (its status stays pending:
    the API shows it as expired).
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()  # stored lower-cased
    role = models.CharField(max_length=20, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(
        max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    invited_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "email"],
                condition=models.Q(status="pending"),
                name="invitation_one_pending_per_company_email",
            ),
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="invitation_role_valid"),
            models.CheckConstraint(
                condition=models.Q(status__in=InvitationStatus.values), name="invitation_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"invitation of {self.email} to {self.company_id} as {self.role} ({self.status})"
