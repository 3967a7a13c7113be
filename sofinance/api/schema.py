"""OpenAPI: the JWT security scheme, the schema class of every view, and the envelope hook.

What a client developer reads about an operation is written at its view: `extend_schema` with a
summary, a description (what it does, what it refuses and with which codes), examples, and the
responses particular to it. What holds for every operation of a kind is added here, derived
from the code so it cannot drift from it:

- who may call it: the roles `sofinance.permissions` gives the view's action (or any signed-in
  user, or anyone);
- idempotency: the `Idempotency-Key` header, its sentence and its 409 on methods wrapped by
  `@idempotent`;
- the errors that follow from how the view is built: 400 always, 401 when a login is needed,
  403 when some role is refused, 404 under a company (one that is not yours, or an id not in
  it), 413 when there is a body, 429 always;
- path ids as integers, saying what they name; a tag per resource.

An operation without an authored summary and description is a generation warning, so
`spectacular --validate --fail-on-warn` fails: a view's docstring is written for the code's
readers and never reaches the documentation. The hook puts every response inside the envelope.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from drf_spectacular import openapi
from drf_spectacular.drainage import warn
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import get_override
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework.permissions import AllowAny
from rest_framework.settings import api_settings

from sofinance.api.tenancy import CompanyScopedMixin
from sofinance.permissions import Role, role_can


class JWTAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents sofinance.api.authentication.JWTAuthentication (registered on import: apps.py)."""

    target_class = "sofinance.api.authentication.JWTAuthentication"
    name = "jwtAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


# --------------------------------------------------------------------------- helpers for views

REQUEST_ID_EXAMPLE = "5f0c2b7e9d1a4c3e"


def envelope_example(
    name: str, data: Any, *, status: int = 200, meta: dict | None = None, summary: str | None = None
) -> OpenApiExample:
    """A response example as the client receives it: `data` inside a success envelope."""
    return OpenApiExample(
        name,
        summary=summary,
        value={
            "success": True,
            "data": data,
            "error": None,
            "meta": {"request_id": REQUEST_ID_EXAMPLE, **(meta or {})},
        },
        response_only=True,
        status_codes=[str(status)],
    )


def error_example(
    name: str, *, status: int, code: str, message: str, details: dict | None = None
) -> OpenApiExample:
    """A refusal as the client receives it: an error envelope."""
    return OpenApiExample(
        name,
        value={
            "success": False,
            "data": None,
            "error": {"code": code, "message": message, "details": details or {}},
            "meta": {"request_id": REQUEST_ID_EXAMPLE},
        },
        response_only=True,
        status_codes=[str(status)],
    )


def request_example(
    name: str, value: Any, *, summary: str | None = None, media_type: str = "application/json"
) -> OpenApiExample:
    return OpenApiExample(name, value=value, summary=summary, request_only=True, media_type=media_type)


def refusals(text: str) -> OpenApiResponse:
    """A 4xx an operation answers for its own reasons. The hook replaces the placeholder body
    with the error envelope; giving one makes drf-spectacular keep the operation's error
    examples filed under this status (a response without a body drops them)."""
    return OpenApiResponse(OpenApiTypes.OBJECT, description=text)


# --------------------------------------------------------------------------- envelope components

NULL_ONLY = {"type": "object", "nullable": True, "enum": [None], "description": "Always null."}

# The body (null `data`) keeps the operation's "Deleted" example, as in `refusals`.
DELETED = OpenApiResponse(
    dict(NULL_ONLY),
    description="Deleted: a success envelope whose `data` is null (DELETE answers 200, not 204).",
)

ERROR_SCHEMA = {
    "type": "object",
    "description": "What went wrong: a stable `code` to branch on, a human `message`, and `details`.",
    "properties": {
        "code": {
            "type": "string",
            "example": "validation_error",
            "description": "Stable snake_case code (never renamed): `validation_error`, "
            "`not_authenticated`, `permission_denied`, `not_found`, `conflict`, `idempotency_conflict`, "
            "a domain code such as `unbalanced_entry`, ...",
        },
        "message": {"type": "string", "description": "For people; may change wording."},
        "details": {
            "type": "object",
            "additionalProperties": True,
            "description": "Field errors (`{field: [messages]}`) and, for a 409 `conflict`, its "
            "`reason`; `{}` when there is nothing more to say.",
        },
    },
    "required": ["code", "message", "details"],
}

PAGINATION_SCHEMA = {
    "type": "object",
    "description": "Links to the neighbouring pages (follow them as they are). Page-numbered lists "
    "also give `count` and `page`.",
    "properties": {
        "next": {"type": "string", "format": "uri", "nullable": True},
        "previous": {"type": "string", "format": "uri", "nullable": True},
        "page_size": {"type": "integer"},
        "count": {"type": "integer", "description": "Page-numbered lists: how many in all."},
        "page": {"type": "integer", "description": "Page-numbered lists: this page's number."},
    },
    "required": ["next", "previous", "page_size"],
}

META_SCHEMA = {
    "type": "object",
    "properties": {
        "request_id": {
            "type": "string",
            "description": "This request's id (also the `X-Request-ID` header); quote it to support.",
        },
        "pagination": {"$ref": "#/components/schemas/Pagination"},
        "idempotent_replay": {
            "type": "boolean",
            "description": "Present on a replayed response (same `Idempotency-Key`): nothing was written.",
        },
    },
    "required": ["request_id"],
    "additionalProperties": True,
}

ERROR_ENVELOPE_SCHEMA = {
    "type": "object",
    "description": "Every refusal: `success` false, `data` null, `error` set.",
    "properties": {
        "success": {"type": "boolean", "enum": [False]},
        "data": NULL_ONLY,
        "error": {"$ref": "#/components/schemas/Error"},
        "meta": {"$ref": "#/components/schemas/Meta"},
    },
    "required": ["success", "data", "error", "meta"],
}
ERROR_ENVELOPE = {"$ref": "#/components/schemas/ErrorEnvelope"}


def _success_envelope(data_schema: dict | None) -> dict:
    return {
        "type": "object",
        "properties": {
            "success": {"type": "boolean", "enum": [True]},
            "data": data_schema or NULL_ONLY,
            "error": NULL_ONLY,
            "meta": {"$ref": "#/components/schemas/Meta"},
        },
        "required": ["success", "data", "error", "meta"],
    }


def _error_response(description: str, **extra: Any) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ERROR_ENVELOPE}}, **extra}


# The error responses operations share, by the status they answer (components/responses).
COMMON_RESPONSES = {
    "ValidationError": (
        "400",
        _error_response(
            "`validation_error`: the body, a query parameter or a header is malformed; "
            "`error.details` names each field with its messages. Nothing was written."
        ),
    ),
    "NotAuthenticated": (
        "401",
        _error_response(
            "`not_authenticated`: no access token, or an expired or invalid one "
            "(`POST /api/v1/auth/refresh` gives a new one)."
        ),
    ),
    "PermissionDenied": (
        "403",
        _error_response(
            "`permission_denied`: your role in this company does not allow it "
            "(`error.details.role`, `error.details.action`)."
        ),
    ),
    "NotFound": (
        "404",
        _error_response(
            "`not_found`: the company is not one of yours, or an id names nothing in it (an id of "
            "another company's object answers exactly the same), or a page is past the list, or a "
            "`cursor` is not one the API gave (`Invalid cursor.`, `error.details.cursor`)."
        ),
    ),
    "IdempotencyConflict": (
        "409",
        _error_response(
            "`idempotency_conflict`: this `Idempotency-Key` was already used with a different "
            "request. Nothing was written."
        ),
    ),
    "NotAcceptable": (
        "406",
        _error_response(
            "`not_acceptable`: the `Accept` header names no type this operation answers with "
            "(send `application/json`, or leave it out)."
        ),
    ),
    "PayloadTooLarge": (
        "413",
        _error_response(
            "`payload_too_large`: the body is over the size limit (2.5 MiB by default), whatever the "
            "method; refused before it is read."
        ),
    ),
    "UnsupportedMediaType": (
        "415",
        _error_response(
            "`unsupported_media_type`: the body's `Content-Type` is not one the API reads; send "
            "`application/json`."
        ),
    ),
    "RateLimited": (
        "429",
        _error_response(
            "`rate_limited`: too many requests; try again after `Retry-After` seconds.",
            headers={
                "Retry-After": {
                    "schema": {"type": "integer"},
                    "description": "Seconds to wait before the next request.",
                }
            },
        ),
    ),
    "InternalError": (
        "500",
        _error_response(
            "`internal_error`: the server failed on something it did not foresee; nothing internal is "
            "disclosed, the request id is logged with the cause. A write was rolled back: send it again "
            "with the same `Idempotency-Key`."
        ),
    ),
    "ServiceUnavailable": (
        "503",
        _error_response(
            "`service_unavailable`: the database, the cache or the task queue is briefly out of "
            "reach or too busy (`error.details.reason`: `database_unavailable`, `database_busy`, "
            "`cache_unavailable`, `queue_unavailable`). Send the same request again after "
            "`Retry-After` seconds; for a write, with the same `Idempotency-Key`, which answers a "
            "write that did commit instead of doing it twice.",
            headers={
                "Retry-After": {
                    "schema": {"type": "integer"},
                    "description": "Seconds to wait before sending the request again.",
                }
            },
        ),
    ),
}
_RESPONSE_NAME = {status: name for name, (status, _) in COMMON_RESPONSES.items()}

IDEMPOTENCY_PARAMETER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "maxLength": 255},
    "description": "Any unique string, e.g. a UUID, chosen by you for this write. A retry with the "
    "same key returns the first response and writes nothing new; the same key with a different body "
    "is 409 `idempotency_conflict`.",
}
IDEMPOTENCY_TEXT = (
    "**Idempotency:** send an `Idempotency-Key` header (a UUID) and retry safely: a retry with "
    "the same key returns the first response (with `Idempotent-Replayed: true`) and writes nothing "
    "new; the same key with a different body is 409 `idempotency_conflict`. Only successes are kept, "
    "so a refused request may be retried with its key."
)
REPLAYED_HEADER = {
    "Idempotent-Replayed": {
        "schema": {"type": "string", "enum": ["true"]},
        "description": "Present when this is the stored response of an earlier request with the "
        "same `Idempotency-Key`.",
    }
}

# Tags group operations by resource in the interactive docs.
TAGS = {
    "auth": "Authentication",
    "me": "Authentication",
    "invitations": "Members and invitations",
    "members": "Members and invitations",
    "accounts": "Chart of accounts",
    "journal-entries": "Journal entries",
    "exchange-rates": "Exchange rates",
    "periods": "Periods and year-end close",
    "fiscal-years": "Periods and year-end close",
    "reports": "Reports",
    "customers": "Customers",
    "items": "Items",
    "tax-rates": "Tax rates",
    "sales-settings": "Sales settings",
    "invoices": "Invoices",
    "credit-notes": "Credit notes",
    "payments": "Payments",
    "sales-deletions": "Syncing",
    "audit-events": "Audit trail",
    "bank-accounts": "Banking",
    "bank-statements": "Banking",
    "bank-lines": "Banking",
    "banking-settings": "Banking",
    "import-jobs": "Imports",
    "journal-imports": "Imports",
    "integrity-runs": "Integrity checks",
    "discrepancies": "Integrity checks",
    "exports": "Exports",
}

# What an id in a path names, by the collection before it.
ID_NOUNS = {
    "companies": "company",
    "members": "membership",
    "invitations": "invitation",
    "accounts": "account",
    "journal-entries": "journal entry",
    "exchange-rates": "stored exchange rate",
    "periods": "accounting period",
    "customers": "customer",
    "items": "item",
    "tax-rates": "tax rate",
    "invoices": "invoice",
    "credit-notes": "credit note",
    "payments": "payment",
    "allocations": "allocation",
    "audit-events": "audit event",
}
_NUMBER_GROUP = re.compile(r"\(\?P<(\w+)>(?:\\d\+|\[0-9\]\+)\)")  # an id's group: ASCII digits (routing.py)


def _singular(collection: str) -> str:
    if collection in ID_NOUNS:
        return ID_NOUNS[collection]
    noun = collection.replace("-", " ")
    return noun[:-3] + "y" if noun.endswith("ies") else noun.removesuffix("s")


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema, with what every operation of a kind shares (module docstring)."""

    def get_auth(self) -> list[dict]:
        # An operation anyone may call without credentials (logging in, refreshing) has no security
        # requirement: drf-spectacular writes `[{}]` ("none, optionally"), which client generators
        # read as needing a token client to log in with.
        auths = super().get_auth()
        return [] if auths == [{}] else auths

    def get_description(self) -> str:
        # Reached only when the view gave no `extend_schema(description=...)`.
        warn(
            f"{self.method} {self.path} has no user-facing description: give "
            "extend_schema(description=...) (the view's docstring is not shown to clients)."
        )
        return ""

    def get_summary(self) -> str | None:
        warn(f"{self.method} {self.path} has no summary: give extend_schema(summary=...).")
        return None

    def map_parsers(self) -> list[str]:
        # The platform's default parsers also take forms (for the browsable API); the contract is
        # JSON. A view that names its own parsers (an upload) is documented with them.
        media_types = super().map_parsers()
        if list(self.view.parser_classes) == list(api_settings.DEFAULT_PARSER_CLASSES):
            return [m for m in media_types if m == "application/json"]
        return media_types

    def _map_basic_serializer(self, serializer, direction):
        # A serializer's docstring is written for the code's readers, like a view's: it is not
        # the description of its component (one given with set_override(..., "description") is).
        schema = super()._map_basic_serializer(serializer, direction)
        if get_override(serializer, "description") is None:
            schema.pop("description", None)
        return schema

    def get_tags(self) -> list[str]:
        parts = [p for p in self.path.removeprefix("/api/v1/").strip("/").split("/") if "{" not in p]
        if parts[:1] == ["companies"]:
            return ["Companies"] if len(parts) == 1 else [TAGS.get(parts[1], parts[1].capitalize())]
        return [TAGS.get(parts[0], parts[0].capitalize())] if parts else []

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        idempotent = self._is_idempotent()
        notes = [self._who_may_call()]
        if idempotent:
            notes.append(IDEMPOTENCY_TEXT)
            parameters = operation.setdefault("parameters", [])
            if not any(p.get("name") == "Idempotency-Key" for p in parameters):
                parameters.append(copy.deepcopy(IDEMPOTENCY_PARAMETER))
        operation["description"] = "\n\n".join(
            part for part in [operation.get("description", "").strip(), *notes] if part
        )
        self._type_path_parameters(operation, path_regex)
        self._add_error_responses(operation["responses"], idempotent=idempotent)
        if idempotent:
            for status, response in operation["responses"].items():
                if status.startswith("2"):
                    response.setdefault("headers", {}).update(copy.deepcopy(REPLAYED_HEADER))
        return operation

    # -- what the code says

    def _is_company_scoped(self) -> bool:
        return isinstance(self.view, CompanyScopedMixin)

    def _is_public(self) -> bool:
        return any(isinstance(p, AllowAny) for p in self.view.get_permissions())

    def _is_idempotent(self) -> bool:
        handler = getattr(self.view, self.method.lower(), None)
        return bool(getattr(handler, "idempotent", False))

    def _is_paginated_list(self) -> bool:
        return self._is_list_view() and self._get_paginator() is not None

    def _allowed_roles(self) -> list[str] | None:
        """The roles allowed the view's action for this method (None: not a company view)."""
        if not self._is_company_scoped():
            return None
        action = self.view.actions.get(self.method.lower())
        return [role.value for role in Role if action is not None and role_can(role, action)]

    def _who_may_call(self) -> str:
        roles = self._allowed_roles()
        if roles is None:
            if self._is_public():
                return "**Who may call it:** anyone; no access token is needed."
            return "**Who may call it:** any signed-in user."
        if len(roles) == len(Role):
            return "**Who may call it:** any member of the company."
        listed = ", ".join(f"`{role}`" for role in roles)
        return f"**Who may call it:** members whose role is {listed}; other members get 403."

    def _type_path_parameters(self, operation: dict, path_regex: str) -> None:
        numeric = set(_NUMBER_GROUP.findall(path_regex))
        segments = self.path.strip("/").split("/")
        for parameter in operation.get("parameters", []):
            if parameter.get("in") != "path":
                continue
            name = parameter["name"]
            regex_name = "pk" if name == "id" and "pk" in numeric else name
            if regex_name in numeric:
                parameter["schema"] = {"type": "integer"}
            position = segments.index("{" + name + "}") if "{" + name + "}" in segments else 0
            collection = segments[position - 1] if position else ""
            if name == "year":
                parameter["description"] = "The fiscal year, named by the calendar year it starts in."
            elif collection:
                parameter["description"] = f"The {_singular(collection)}'s id."

    def _add_error_responses(self, responses: dict, *, idempotent: bool) -> None:
        # What any operation may answer: a malformed request, an Accept it cannot serve, a body over
        # the limit (refused before routing, whatever the method), the rate limit, a failure, an outage.
        applicable = ["400", "406", "413", "429", "500", "503"]
        if not self._is_public():
            applicable.append("401")
        roles = self._allowed_roles()
        if roles is not None or (self.method == "GET" and self._is_paginated_list()):
            applicable.append("404")
        if roles is not None and len(roles) < len(Role):
            applicable.append("403")
        if self.method in ("POST", "PUT", "PATCH"):
            applicable.append("415")
        if idempotent:
            if "409" in responses:
                responses["409"]["description"] = (
                    responses["409"].get("description", "").rstrip()
                    + " Or `idempotency_conflict`: the `Idempotency-Key` was used with a different body."
                ).strip()
            else:
                applicable.append("409")
        for status in applicable:
            responses.setdefault(status, {"$ref": f"#/components/responses/{_RESPONSE_NAME[status]}"})
        ordered = dict(sorted(responses.items()))
        responses.clear()
        responses.update(ordered)


# --------------------------------------------------------------------------- the envelope hook

API_DESCRIPTION = """\
Double-entry accounting over HTTP: companies and their chart of accounts, journal entries,
periods and the year-end close, exchange rates, reports, the sales ledger (customers, items,
tax rates, invoices, credit notes, payments), banking (bank accounts, statement uploads, matching,
bank reconciliation, journal imports), integrity runs with their discrepancies, exports, and the
audit trail.

**Authentication.** `POST /api/v1/auth/token` with a username (or email) and password gives an
access token (15 minutes by default) and a refresh token; send `Authorization: Bearer <access>`.
Refresh tokens rotate: each is used once.

**Envelope.** Every JSON response is `{"success", "data", "error", "meta"}`: on success `data`
holds the result and `error` is null; on a refusal `data` is null and `error` is
`{"code", "message", "details"}` with a stable `code`. `meta.request_id` (also the
`X-Request-ID` header) identifies the request. A DELETE answers 200 with `data` null. (A server
run with the legacy flag `ENABLE_KEY_MIRRORING` also repeats `data`'s keys at the top level, with a
`Deprecation` header: do not rely on them.)

**Errors.** `validation_error` 400, `not_authenticated` 401, `permission_denied` 403,
`not_found` 404 (also another company's object), `method_not_allowed` 405 (a method the path does
not have), `not_acceptable` 406 (an `Accept` header no renderer serves), `conflict` /
`idempotency_conflict` / `entry_immutable` / `invoice_immutable` … 409, `payload_too_large` 413,
`unsupported_media_type` 415 (a body that is not JSON), business rules 422 (`unbalanced_entry`,
`period_closed`, `currency_precision`, …), `rate_limited` 429 with `Retry-After`,
`internal_error` 500 (nothing internal is disclosed), `service_unavailable` 503 with
`Retry-After` (the database, cache or queue briefly out of reach: send it again, a write with the
same `Idempotency-Key`). Each operation lists the ones it answers.

**Roles.** Company resources live under `/api/v1/companies/{company_id}/`. Each operation says
which roles (viewer, clerk, accountant, controller, auditor, admin) may call it; a member with
another role gets 403, and a company you are not a member of is 404.

**Money and dates.** Amounts are decimal strings with exactly the currency's places
(`"1250.00"`, JPY `"1250"`); in request bodies a plain ASCII decimal string or a JSON number,
never rounded: more places than the currency allows is 422 `currency_precision`. Dates are
`YYYY-MM-DD`, also in query parameters; date ranges are `from` and `to`, both inclusive.

**Jobs.** Work that takes a while answers **202** with a job to follow by its id: an export
(`…/exports/{id}`, then its `download_url`), an integrity run (`…/integrity-runs/{id}`), a journal
import or an `?async=true` statement upload (`…/import-jobs/{id}`). Each has a `status`
(`queued`, `running`, `done`, `failed`).

**Lists** are paginated: follow `meta.pagination.next`. Reports can be downloaded as CSV with
`?format=csv` (refusals stay JSON envelopes).

**Idempotency.** Creating POSTs accept an `Idempotency-Key` header: a retry with the same key
returns the first response and writes nothing again.
"""


def _is_envelope(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"success", "data", "error", "meta"}


def _wrap(operation: dict) -> None:
    for status, response in operation.get("responses", {}).items():
        if "$ref" in response:
            continue
        if not response.get("description"):
            response["description"] = "Created." if status == "201" else "Success."
        content = response.get("content", {})
        json_content = content.get("application/json")
        if status.startswith(("4", "5")):
            examples = (json_content or {}).get("examples")
            response["content"] = {
                "application/json": {"schema": ERROR_ENVELOPE, **({"examples": examples} if examples else {})}
            }
        elif json_content is not None:
            json_content["schema"] = _success_envelope(json_content.get("schema"))
            for example in json_content.get("examples", {}).values():
                # drf-spectacular puts a list operation's example in a list; ours are whole envelopes.
                value = example.get("value")
                if isinstance(value, list) and len(value) == 1 and _is_envelope(value[0]):
                    example["value"] = value[0]
        elif not content:
            response["content"] = {"application/json": {"schema": _success_envelope(None)}}


_REF = "#/components/schemas/"
# Response components with properties that are sometimes left out of the answer (a real response
# missing a property declared required fails the contract tests, which validate every answer).
SOMETIMES_ABSENT: dict[str, set[str]] = {
    # only for an account kept in a foreign currency
    "TrialBalanceRowOutput": {"account_currency", "balance_in_account_currency"},
    "GeneralLedgerOutput": {"opening_balance_in_account_currency", "closing_balance_in_account_currency"},
    "LedgerLineOutput": {"running_balance_in_account_currency"},
    # only the parameters the export's kind takes
    "ExportOutput": {"as_of", "account", "from", "to"},
}


def _referenced(value: Any, schemas: dict, found: set[str]) -> set[str]:
    """The component names `value` refers to, directly or through other components."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref.startswith(_REF):
                name = ref.removeprefix(_REF)
                if name not in found:
                    found.add(name)
                    stack.append(schemas.get(name))
            stack.extend(v for k, v in item.items() if k != "$ref")
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _require_answered_properties(result: dict) -> None:
    """In a component only answers use, every property is required: the serializers send each
    one every time (null where the schema says nullable), and a generated client should not
    make `status` or `number` optional. DRF marks a field with a model default `required=False`,
    which speaks of requests; drf-spectacular carries that into the answers."""
    schemas = result.get("components", {}).get("schemas", {})
    asked: set[str] = set()
    answered: set[str] = set()
    for methods in result.get("paths", {}).values():
        for operation in methods.values():
            if not isinstance(operation, dict):
                continue
            _referenced(operation.get("requestBody"), schemas, asked)
            _referenced(operation.get("parameters"), schemas, asked)
            _referenced(operation.get("responses"), schemas, answered)
    written_here = {"Error", "Meta", "Pagination", "ErrorEnvelope"}  # their `required` is as written
    for name in answered - asked - written_here:
        component = schemas.get(name)
        if not isinstance(component, dict) or "properties" not in component:
            continue
        absent = SOMETIMES_ABSENT.get(name, set())
        component["required"] = [key for key in component["properties"] if key not in absent]


NULL_VALUE = {"nullable": True, "enum": [None]}


def _nullable_references_spelled_out(result: dict) -> None:
    """A nested object that may be null is written by drf-spectacular as `{"allOf": [{"$ref"}],
    "nullable": true}`. OpenAPI 3.0.3 reads `nullable` as adding null to a `type` in the same
    schema, and there is none: strict 3.0 validators (and the clients generated from them) refused
    the null the API sends (a statement's `reconciliation` before it is reconciled). Each is
    written as `anyOf` the object or null, which every 3.0 reader takes as meant; a `oneOf` of
    types that may be null (an account given by id or code, or null) gets null as one more choice."""
    stack: list = [result]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("nullable") is True and "type" not in node:
                if "allOf" in node:
                    parts = node.pop("allOf")
                    target = parts[0] if len(parts) == 1 else {"allOf": parts}
                    node["anyOf"] = [target, dict(NULL_VALUE)]
                for choice in ("oneOf", "anyOf"):  # an id or a code, or null: null is one more choice
                    if choice in node and NULL_VALUE not in node[choice]:
                        node[choice].append(dict(NULL_VALUE))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def wrap_responses_in_envelope(result, generator, request, public):
    result.setdefault("info", {})["description"] = API_DESCRIPTION
    components = result.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    schemas["Meta"] = META_SCHEMA
    schemas["Pagination"] = PAGINATION_SCHEMA
    schemas["ErrorEnvelope"] = ERROR_ENVELOPE_SCHEMA
    components["responses"] = {name: response for name, (_, response) in COMMON_RESPONSES.items()}
    # API routes are regexes that accept an optional trailing slash (routing.api_path); the
    # generator renders them with one. Document the canonical form, without.
    result["paths"] = {
        (path.rstrip("/") if path.startswith("/api/v1/") else path): item
        for path, item in result.get("paths", {}).items()
    }
    for path, methods in result["paths"].items():
        if not path.startswith("/api/v1"):
            continue
        for operation in methods.values():
            if isinstance(operation, dict) and "responses" in operation:
                _wrap(operation)
    _require_answered_properties(result)
    _nullable_references_spelled_out(result)
    return result
