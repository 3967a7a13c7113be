"""Request and response examples of the accounts API's OpenAPI documentation.

Response examples are whole envelopes, as a client receives them; a test validates each against
the schema its operation documents, so they cannot drift from the shapes.
"""

from __future__ import annotations

from sofinance.api.schema import envelope_example, error_example, request_example

ACCESS = (
    "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJzdWIiOiI3IiwidHlwZSI6ImFjY2VzcyJ9.c2lnbmF0dXJl"
)
REFRESH = "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJzdWIiOiI3In0.c2lnbmF0dXJl"
TOKEN_PAIR = {"access": ACCESS, "refresh": REFRESH, "token_type": "Bearer", "expires_in": 900}

COMPANY = {
    "id": 7,
    "name": "Books Ltd",
    "currency": "USD",
    "fiscal_year_start": 1,
    "role": "admin",
    "created_at": "2026-01-05T10:00:00Z",
}
USER = {"id": 3, "username": "dana", "email": "dana@example.com", "first_name": "Dana", "last_name": "Reyes"}

LOGIN = [
    request_example("Log in", {"username": "dana@example.com", "password": "a long passphrase"}),
    envelope_example("Tokens", TOKEN_PAIR),
    error_example(
        "Wrong password",
        status=401,
        code="not_authenticated",
        message="Invalid username/email or password.",
    ),
    error_example(
        "Locked after repeated failures",
        status=429,
        code="rate_limited",
        message="Too many failed logins. Try again in 15 minutes.",
        details={"reason": "login_locked", "retry_after": 900},
    ),
]

REFRESH_EXAMPLES = [
    request_example("Refresh", {"refresh": REFRESH}),
    envelope_example("New tokens", TOKEN_PAIR),
    error_example(
        "An already used refresh token",
        status=401,
        code="not_authenticated",
        message="The refresh token was already used: every token of this login has been revoked; log in again.",
        details={"reason": "refresh_token_reused"},
    ),
]

LOGOUT = [
    request_example("Log out", {"refresh": REFRESH}),
    envelope_example("Logged out", {"revoked": 3}),
]

ME = [
    envelope_example(
        "Me",
        {"user": USER, "memberships": [{"id": 31, "company": COMPANY, "role": "admin"}]},
    )
]

COMPANY_CREATE = [
    request_example(
        "A company with the standard chart",
        {"name": "Books Ltd", "currency": "USD", "fiscal_year_start": 1, "chart_template": "small_business"},
    ),
    envelope_example("Created", COMPANY, status=201),
]

COMPANY_UPDATE = [
    request_example("Rename", {"name": "Books & Co Ltd"}),
    envelope_example("Renamed", {**COMPANY, "name": "Books & Co Ltd"}),
]

INVITATION = {
    "id": 12,
    "email": "sam@example.com",
    "role": "accountant",
    "status": "pending",
    "invited_by": 3,
    "created_at": "2026-03-02T09:15:00Z",
    "expires_at": "2026-03-09T09:15:00Z",
    "accepted_at": None,
    "revoked_at": None,
}

INVITE = [
    request_example("Invite", {"email": "sam@example.com", "role": "accountant"}),
    envelope_example("Invitation sent", INVITATION, status=201),
    error_example(
        "Already a member",
        status=409,
        code="conflict",
        message="This address belongs to a member of the company already.",
        details={"reason": "already_member"},
    ),
]

INVITATION_REVOKE = [
    envelope_example("Revoked", {**INVITATION, "status": "revoked", "revoked_at": "2026-03-03T08:00:00Z"}),
    error_example(
        "Already accepted",
        status=409,
        code="conflict",
        message="This invitation is accepted and cannot be revoked.",
        details={"reason": "invitation_not_pending"},
    ),
]

ACCEPT = [
    request_example("Accept (logged in)", {"token": "kq3Vb9-Lr2Xw4Zt8"}),
    request_example(
        "Accept and create my account",
        {"token": "kq3Vb9-Lr2Xw4Zt8", "username": "sam", "password": "a long passphrase"},
    ),
    envelope_example(
        "Joined",
        {
            "user": {
                "id": 9,
                "username": "sam",
                "email": "sam@example.com",
                "first_name": "",
                "last_name": "",
            },
            "membership": {"id": 32, "company": {**COMPANY, "role": "accountant"}, "role": "accountant"},
        },
    ),
    envelope_example(
        "Account created and joined",
        {
            "user": {
                "id": 9,
                "username": "sam",
                "email": "sam@example.com",
                "first_name": "",
                "last_name": "",
            },
            "membership": {"id": 32, "company": {**COMPANY, "role": "accountant"}, "role": "accountant"},
        },
        status=201,
    ),
    error_example(
        "Expired",
        status=409,
        code="conflict",
        message="This invitation has expired; ask for a new one.",
        details={"reason": "invitation_not_pending"},
    ),
]

MEMBER = {
    "id": 32,
    "user": {**USER, "id": 9, "username": "sam", "email": "sam@example.com"},
    "role": "controller",
    "created_at": "2026-03-04T11:20:00Z",
}
MEMBERS = [
    envelope_example(
        "Members",
        [{**MEMBER, "id": 31, "user": USER, "role": "admin"}, MEMBER],
        meta={"pagination": {"next": None, "previous": None, "count": 2, "page": 1, "page_size": 50}},
    )
]
MEMBER_CHANGE = [
    request_example("Make controller", {"role": "controller"}),
    envelope_example("Changed", MEMBER),
    error_example(
        "The last admin",
        status=409,
        code="conflict",
        message="A company must keep at least one admin.",
        details={"reason": "membership_conflict"},
    ),
]
MEMBER_REMOVE = [
    envelope_example("Removed", None),
    error_example(
        "The last admin",
        status=409,
        code="conflict",
        message="A company must keep at least one admin.",
        details={"reason": "membership_conflict"},
    ),
]

ACCOUNT = {
    "id": 118,
    "code": "6310",
    "name": "Printer supplies",
    "type": "expense",
    "parent": 112,
    "currency": None,
    "is_active": True,
    "normal_balance": "debit",
    "system_role": "",
    "description": "Toner and paper.",
    "depth": 1,
    "is_leaf": True,
    "created_at": "2026-02-10T14:03:11Z",
    "updated_at": "2026-02-10T14:03:11Z",
}

ACCOUNT_CREATE = [
    request_example(
        "A sub-account",
        {
            "code": "6310",
            "name": "Printer supplies",
            "type": "expense",
            "parent": "6300",
            "description": "Toner and paper.",
        },
    ),
    request_example(
        "A euro bank account",
        {"code": "1030", "name": "Bank (EUR)", "type": "asset", "currency": "EUR"},
    ),
    envelope_example("Created", ACCOUNT, status=201),
    error_example(
        "Code taken",
        status=409,
        code="conflict",
        message="An account with this code already exists.",
        details={"reason": "duplicate_code", "code": "6310"},
    ),
    error_example(
        "Parent of another type",
        status=422,
        code="invalid_account",
        message="A sub-account must have its parent's type (asset).",
        details={"parent": 101, "type": "expense"},
    ),
]

ACCOUNT_UPDATE = [
    request_example("Deactivate", {"is_active": False}),
    request_example("Rename and re-code", {"code": "6320", "name": "Printer and copier supplies"}),
    envelope_example("Changed", {**ACCOUNT, "is_active": False, "updated_at": "2026-03-01T08:30:00Z"}),
]

ACCOUNT_DELETE = [
    envelope_example("Deleted", None),
    error_example(
        "Posted to",
        status=409,
        code="conflict",
        message="The account has postings or sub-accounts; deactivate it instead.",
        details={"reason": "account_in_use"},
    ),
]

LOAD_TEMPLATE = [
    request_example("The small-business chart", {"template": "small_business"}),
    envelope_example(
        "Loaded",
        [
            {
                **ACCOUNT,
                "id": 101,
                "code": "1000",
                "name": "Cash",
                "type": "asset",
                "parent": None,
                "description": "",
                "depth": 0,
                "system_role": "bank",
                "created_at": "2026-01-05T10:00:01Z",
                "updated_at": "2026-01-05T10:00:01Z",
            }
        ],
        status=201,
        meta={"created": 1},
    ),
]
