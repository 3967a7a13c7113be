"""The API documentation, read as a client developer reads it: every operation explained (never
with an internal docstring), who may call it, every status it answers, described parameters,
integer ids, one pair of date filters, nullable fields declared nullable, and examples on the
main writes that match the documented shapes."""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from functools import cache

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import EndpointEnumerator, SchemaGenerator
from rest_framework.generics import GenericAPIView
from rest_framework.views import APIView

from sofinance.api.tenancy import CompanyScopedMixin
from sofinance.api.views import ok
from sofinance.permissions import Action, Role, role_can
from sofinance.tests.openapi_contract import Contract, ContractError, published_schema, resolve

WHO = "\n\n**Who may call it:**"


@dataclass(frozen=True)
class Documented:
    method: str
    path: str
    view_class: type
    operation: dict

    @property
    def authored(self) -> str:
        """The description as the view wrote it (the schema class appends who may call it)."""
        return self.operation.get("description", "").split(WHO)[0].strip()

    @property
    def handler(self):
        return getattr(self.view_class, self.method)


@cache
def documented() -> tuple[Documented, ...]:
    schema = published_schema()
    found = []
    for route, _regex, method, callback in EndpointEnumerator().get_api_endpoints():
        if not route.startswith("/api/v1/"):
            continue  # the schema and docs pages
        template = route.rstrip("/").replace("{pk}", "{id}")  # as the generator names it
        operation = schema["paths"][template][method.lower()]
        found.append(Documented(method.lower(), template, callback.cls, operation))
    return tuple(found)


def _normal(text: str) -> str:
    return " ".join(text.split())


def _docstrings(item: Documented) -> set[str]:
    """Every docstring drf-spectacular could fall back on for this operation."""
    docs = {inspect.getdoc(item.handler) or ""}
    for cls in item.view_class.__mro__:
        if cls in (GenericAPIView, APIView) or cls.__module__.startswith(("rest_framework", "django")):
            break
        docs.add(inspect.cleandoc(cls.__doc__ or ""))
    return {_normal(doc) for doc in docs if doc.strip()}


def test_the_documented_operations_are_the_routed_ones():
    operations = documented()

    assert len(operations) >= 91
    assert len({(o.method, o.path) for o in operations}) == len(operations)


def test_every_operation_has_a_summary_and_a_description_that_is_not_a_docstring():
    missing, docstrings = [], []
    for item in documented():
        if not item.operation.get("summary") or len(item.authored) < 20:
            missing.append(f"{item.method.upper()} {item.path}")
        authored = _normal(item.authored)
        if any(authored == doc or authored.startswith(doc) for doc in _docstrings(item)):
            docstrings.append(f"{item.method.upper()} {item.path}")

    assert missing == []
    assert docstrings == []


def test_every_operation_says_who_may_call_it_from_the_role_table():
    for item in documented():
        who = item.operation["description"].split(WHO, 1)[1].split("\n\n")[0].strip()
        if issubclass(item.view_class, CompanyScopedMixin):
            action = item.view_class.actions[item.method]
            allowed = [role.value for role in Role if role_can(role, action)]
            if len(allowed) == len(Role):
                assert who == "any member of the company.", item.path
            else:
                listed = ", ".join(f"`{role}`" for role in allowed)
                assert who == f"members whose role is {listed}; other members get 403.", item.path
        else:
            assert who in ("any signed-in user.", "anyone; no access token is needed."), item.path
    posting = next(i for i in documented() if i.path.endswith("/journal-entries/{id}/post"))
    assert "`accountant`, `controller`, `admin`" in posting.operation["description"]


def test_an_operation_without_a_description_is_a_generation_warning():
    # given: a view whose only documentation is its docstring
    class UndocumentedView(CompanyScopedMixin, GenericAPIView):
        """Internal notes for whoever maintains this view."""

        actions = {"get": Action.COMPANY_VIEW}

        def get(self, request, company_id):
            return ok(None)

    GENERATOR_STATS.reset()
    patterns = [path("api/v1/companies/<int:company_id>/undocumented", UndocumentedView.as_view())]

    # when
    schema = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)

    # then: `spectacular --fail-on-warn` fails, and the docstring is not shown
    warnings = " ".join(GENERATOR_STATS._warn_cache)
    GENERATOR_STATS.reset()
    assert "has no user-facing description" in warnings
    assert "has no summary" in warnings
    operation = schema["paths"]["/api/v1/companies/{company_id}/undocumented"]["get"]
    assert "Internal notes" not in operation["description"]


def test_path_ids_are_integers_that_say_what_they_name():
    for item in documented():
        for parameter in item.operation.get("parameters", []):
            if parameter["in"] != "path":
                continue
            assert parameter["schema"] == {"type": "integer"}, (item.path, parameter)
            assert parameter["description"], (item.path, parameter)
    invoice = next(i for i in documented() if i.path.endswith("/invoices/{id}/void"))
    described = {p["name"]: p["description"] for p in invoice.operation["parameters"] if p["in"] == "path"}
    assert described == {"company_id": "The company's id.", "id": "The invoice's id."}


def test_every_query_parameter_is_described_and_dates_are_dates():
    undescribed, untyped_dates = [], []
    for item in documented():
        for parameter in item.operation.get("parameters", []):
            if parameter["in"] != "query":
                continue
            where = f"{item.method.upper()} {item.path} ?{parameter['name']}"
            if len(parameter.get("description", "")) < 10:
                undescribed.append(where)
            dated = parameter["name"] in ("from", "to", "as_of") and "/audit-events" not in item.path
            if dated and parameter["schema"] != {"type": "string", "format": "date"}:
                untyped_dates.append(where)

    assert undescribed == []
    assert untyped_dates == []


def test_date_ranges_are_from_and_to_everywhere():
    for item in documented():
        names = {p["name"] for p in item.operation.get("parameters", [])}
        assert not names & {"date_from", "date_to"}, item.path
    entries = next(i for i in documented() if i.path.endswith("/journal-entries") and i.method == "get")
    dates = [p["name"] for p in entries.operation["parameters"] if p["schema"].get("format") == "date"]
    assert dates == ["from", "to"]


def test_fields_that_can_be_null_are_declared_nullable():
    schemas = published_schema()["components"]["schemas"]
    nullable = {
        "JournalEntryOutput": [
            "number",
            "posted_at",
            "posted_by",
            "created_by",
            "reversal_of",
            "reversed_by",
        ],
        "PeriodOutput": ["closed_at", "closed_by"],
        "FiscalYearCloseOutput": ["closing_entry", "closing_entry_number", "closed_by", "reopened_at"],
        "FiscalYearClosedOutput": ["closing_entry", "closing_entry_number", "closed_by", "reopened_at"],
        "InvoiceOutput": ["number", "fx_rate", "total_base", "journal_entry", "issued_at", "voided_on"],
        "InvitationOutput": ["invited_by", "accepted_at", "revoked_at"],
        "AccountOutput": ["parent", "currency"],
        "SalesSettingsOutput": ["fx_gain_loss_account", "updated_at"],
        "AuditEventOutput": ["company", "actor_id", "ip", "seq", "prev_hash", "hash", "sealed_at"],
    }
    not_nullable = {"JournalEntryOutput": ["id", "date", "status", "lines", "total_debit", "created_at"]}
    for component, fields in nullable.items():
        for name in fields:
            assert schemas[component]["properties"][name].get("nullable") is True, (component, name)
    for component, fields in not_nullable.items():
        for name in fields:
            assert "nullable" not in schemas[component]["properties"][name], (component, name)
    # a nested object that may be null: the object or null, as OpenAPI 3.0 readers take it (a
    # bare `allOf` with `nullable` and no `type` refused the null in strict 3.0 validators)
    closed = schemas["FiscalYearClosedOutput"]["properties"]["closing_entry"]
    assert closed["anyOf"] == [
        {"$ref": "#/components/schemas/JournalEntryOutput"},
        {"nullable": True, "enum": [None]},
    ]
    assert "allOf" not in closed


def test_every_status_an_operation_can_answer_is_documented():
    for item in documented():
        responses = set(item.operation["responses"])
        where = f"{item.method.upper()} {item.path}"
        assert {"400", "429", "503"} <= responses, where
        public = item.operation.get("security") == [{}]
        if not public:
            assert "401" in responses, where
        if issubclass(item.view_class, CompanyScopedMixin):
            assert "404" in responses, where
            action = item.view_class.actions[item.method]
            if not all(role_can(r, action) for r in Role):
                assert "403" in responses, where
            elif "403" in responses:
                # every role may call it: a 403 is documented only by a view that refuses some
                # requests itself (e.g. an export of what the role may not read), saying why
                assert "$ref" not in item.operation["responses"]["403"], where
        if getattr(item.handler, "idempotent", False):
            assert "409" in responses, where
            header = [p for p in item.operation["parameters"] if p["name"] == "Idempotency-Key"]
            assert header and header[0]["in"] == "header", where
        if item.method in ("post", "patch"):
            assert {"413", "415"} <= responses, where
        assert "204" not in responses, where
    conflicts = {(i.method, i.path) for i in documented() if "409" in i.operation["responses"]}
    assert len(conflicts) >= 43


def _routed_deletes() -> set[str]:
    """The API paths whose view answers DELETE, read from the URL configuration itself (not
    from the schema generator), as documented paths: `{name}` for each group, `pk` as `id`."""
    found = set()
    for regex, callback in _walk_urls(get_resolver().url_patterns):
        view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        route = regex.replace("^", "").replace("$", "").removesuffix("/?").replace("\\", "")
        if not route.startswith("api/v1/") or view is None or not hasattr(view, "delete"):
            continue
        found.add(
            "/" + _URL_GROUP.sub(lambda m: "{" + ("id" if m.group(1) == "pk" else m.group(1)) + "}", route)
        )
    return found


def _walk_urls(patterns, prefix: str = ""):
    for entry in patterns:
        regex = prefix + str(entry.pattern.regex.pattern).lstrip("^")
        if isinstance(entry, URLResolver):
            yield from _walk_urls(entry.url_patterns, regex)
        elif isinstance(entry, URLPattern):
            yield regex, entry.callback


_URL_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def test_delete_answers_200_with_a_null_data_envelope():
    deletes = [i for i in documented() if i.method == "delete"]
    # every routed DELETE is documented, and nothing else (no count to keep up to date by hand)
    assert {i.path for i in deletes} == _routed_deletes()
    assert len(deletes) >= 10
    for item in deletes:
        ok = item.operation["responses"]["200"]["content"]["application/json"]["schema"]
        if item.path.endswith("/invitations/{id}"):  # revoking answers the revoked invitation
            assert ok["properties"]["data"] == {"$ref": "#/components/schemas/InvitationOutput"}
        else:
            assert ok["properties"]["data"]["enum"] == [None], item.path


MAIN_WRITES = [
    ("post", "/api/v1/auth/token", "200"),
    ("post", "/api/v1/auth/refresh", "200"),
    ("post", "/api/v1/auth/logout", "200"),
    ("post", "/api/v1/companies", "201"),
    ("post", "/api/v1/companies/{company_id}/members", "201"),
    ("patch", "/api/v1/companies/{company_id}/members/{id}", "200"),
    ("delete", "/api/v1/companies/{company_id}/invitations/{id}", "200"),
    ("post", "/api/v1/invitations/accept", "200"),
    ("post", "/api/v1/companies/{company_id}/accounts", "201"),
    ("post", "/api/v1/companies/{company_id}/journal-entries", "201"),
    ("patch", "/api/v1/companies/{company_id}/journal-entries/{id}", "200"),
    ("post", "/api/v1/companies/{company_id}/journal-entries/bulk", "201"),
    ("post", "/api/v1/companies/{company_id}/journal-entries/{id}/post", "200"),
    ("post", "/api/v1/companies/{company_id}/journal-entries/{id}/reverse", "201"),
    ("post", "/api/v1/companies/{company_id}/exchange-rates", "201"),
    ("post", "/api/v1/companies/{company_id}/periods", "201"),
    ("post", "/api/v1/companies/{company_id}/periods/generate", "201"),
    ("post", "/api/v1/companies/{company_id}/periods/{id}/close", "200"),
    ("post", "/api/v1/companies/{company_id}/periods/{id}/reopen", "200"),
    ("post", "/api/v1/companies/{company_id}/periods/{id}/lock", "200"),
    ("post", "/api/v1/companies/{company_id}/fiscal-years/{year}/close", "201"),
    ("post", "/api/v1/companies/{company_id}/fiscal-years/{year}/reopen", "200"),
    ("post", "/api/v1/companies/{company_id}/customers", "201"),
    ("post", "/api/v1/companies/{company_id}/items", "201"),
    ("post", "/api/v1/companies/{company_id}/tax-rates", "201"),
    ("post", "/api/v1/companies/{company_id}/invoices", "201"),
    ("post", "/api/v1/companies/{company_id}/invoices/{id}/issue", "200"),
    ("post", "/api/v1/companies/{company_id}/invoices/{id}/void", "200"),
    ("post", "/api/v1/companies/{company_id}/credit-notes", "201"),
    ("post", "/api/v1/companies/{company_id}/payments", "201"),
    ("post", "/api/v1/companies/{company_id}/payments/{id}/allocations", "201"),
    ("post", "/api/v1/companies/{company_id}/payments/{id}/allocations/{allocation_id}/unallocate", "200"),
    ("post", "/api/v1/companies/{company_id}/payments/{id}/void", "200"),
    ("post", "/api/v1/companies/{company_id}/bank-accounts", "201"),
    ("patch", "/api/v1/companies/{company_id}/banking-settings", "200"),
    ("post", "/api/v1/companies/{company_id}/bank-accounts/{id}/statements", "201"),
    ("post", "/api/v1/companies/{company_id}/bank-accounts/{id}/statements", "202"),
    ("delete", "/api/v1/companies/{company_id}/bank-statements/{id}", "200"),
    ("post", "/api/v1/companies/{company_id}/bank-lines/{id}/match", "200"),
    ("post", "/api/v1/companies/{company_id}/bank-lines/{id}/unmatch", "200"),
    ("post", "/api/v1/companies/{company_id}/bank-lines/{id}/create-entry", "201"),
    ("post", "/api/v1/companies/{company_id}/bank-lines/{id}/record-payment", "201"),
    ("post", "/api/v1/companies/{company_id}/bank-statements/{id}/reconcile", "200"),
    ("post", "/api/v1/companies/{company_id}/bank-statements/{id}/reopen", "200"),
    ("post", "/api/v1/companies/{company_id}/journal-imports", "202"),
    ("post", "/api/v1/companies/{company_id}/exports", "202"),
    ("post", "/api/v1/companies/{company_id}/integrity-runs", "202"),
    ("post", "/api/v1/companies/{company_id}/discrepancies/{id}/resolve", "200"),
]


@pytest.mark.parametrize(("method", "template", "status"), MAIN_WRITES)
def test_main_writes_have_request_and_response_examples(method, template, status):
    operation = published_schema()["paths"][template][method]
    for content_type, body in operation.get("requestBody", {}).get("content", {}).items():
        assert body.get("examples"), f"no {content_type} request example"
    response = operation["responses"][status]["content"]["application/json"]
    assert response.get("examples"), f"no {status} response example"


def _examples(operation: dict):
    for body in operation.get("requestBody", {}).get("content", {}).values():
        for name, example in body.get("examples", {}).items():
            yield f"request {name}", example["value"], body["schema"]
    for status, response in operation["responses"].items():
        content = response.get("content", {}).get("application/json", {})
        for name, example in content.get("examples", {}).items():
            yield f"{status} {name}", example["value"], content["schema"]


def test_every_example_matches_the_shape_it_illustrates():
    contract = Contract()
    checked, wrong = 0, []
    for operation in contract.operations():
        spec = contract.document["paths"][operation.path][operation.method]
        for name, value, schema in _examples(spec):
            checked += 1
            try:
                contract.validate(value, resolve(contract.document, schema), where=f"{operation.id}: {name}")
            except ContractError as exc:
                wrong.append(str(exc))

    assert wrong == []
    assert checked >= 85


def test_response_examples_are_envelopes_with_the_status_they_are_filed_under():
    for item in documented():
        for status, response in item.operation["responses"].items():
            examples = response.get("content", {}).get("application/json", {}).get("examples", {})
            for name, example in examples.items():
                value = example["value"]
                assert set(value) == {"success", "data", "error", "meta"}, (item.path, name)
                assert value["success"] is status.startswith("2"), (item.path, status, name)


def test_error_codes_named_in_refusals_are_real_codes():
    """A 409 or 422 description names codes in backquotes; each must be a code or a conflict
    reason the API can answer with (a typo in the documentation is a code no client will see)."""
    from accounts import errors as accounts_errors
    from ledger.errors import LedgerErrorCode
    from sales.errors import SalesErrorCode
    from sofinance.errors import APIError, ErrorCode

    known = {str(c) for c in ErrorCode} | {str(c) for c in LedgerErrorCode} | {str(c) for c in SalesErrorCode}
    stack = [APIError]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        known |= {str(cls.code)} | ({str(cls.reason)} if cls.reason else set())
    known |= {"fiscal_year_closed", "duplicate_name", "receivables_account_in_use", "login_locked"}
    known |= {"refresh_token_reused", "refresh_token_revoked", "refresh_token_invalid"}
    assert "duplicate_code" in known and accounts_errors.DuplicateAccountCode.reason == "duplicate_code"
    # Field names quoted beside the codes (`error.details.entries[].index`, ...) are not codes.
    for component in published_schema()["components"]["schemas"].values():
        known |= set(component.get("properties", {}))
    known |= {"index", "entries"}
    for item in documented():
        for status in ("409", "422"):
            response = item.operation["responses"].get(status, {})
            for code in re.findall(r"`([a-z_]+)`", response.get("description", "")):
                assert code in known, (item.path, status, code)


def test_refusal_examples_are_published_under_their_status():
    """An error example is filed under the refusal's status: a response declared with only a
    description (no body) used to lose them silently (`refusals()` gives it one)."""
    paths = published_schema()["paths"]

    def examples(method: str, template: str, status: str) -> set[str]:
        response = paths[template][method]["responses"][status]
        return set(response.get("content", {}).get("application/json", {}).get("examples", {}))

    assert examples("post", "/api/v1/companies/{company_id}/journal-entries", "422") == {
        "Unbalanced",
        "ClosedPeriod",
    }
    assert examples("post", "/api/v1/companies/{company_id}/bank-lines/{id}/match", "409") == {
        "MatchedAlready"
    }
    assert examples("post", "/api/v1/companies/{company_id}/bank-lines/{id}/match", "422") == {
        "TheAmountsDiffer"
    }
    assert examples("delete", "/api/v1/companies/{company_id}/bank-statements/{id}", "200") == {"Deleted"}
    refusals = sum(
        len(response.get("content", {}).get("application/json", {}).get("examples", {}))
        for methods in paths.values()
        for operation in methods.values()
        if isinstance(operation, dict)
        for status, response in operation.get("responses", {}).items()
        if status.startswith("4")
    )
    assert refusals >= 30


def test_every_property_documented_as_nullable_takes_null_in_a_strict_openapi_30_validator():
    """What a generated client checks: the published schema as it is (not the suite's strict copy),
    read by openapi-schema-validator's 3.0 validator. A nested object that may be null was
    `allOf` + `nullable` without a `type`, which refused the null the API sends."""
    from openapi_schema_validator import OAS30Validator

    from sofinance.tests.openapi_contract import published_schema

    schema = published_schema()
    components = {"components": schema["components"]}
    checked = 0
    for name, component in schema["components"]["schemas"].items():
        for field, definition in (component.get("properties") or {}).items():
            if definition.get("nullable") is True:
                assert OAS30Validator({**definition, **components}).is_valid(None), (name, field)
                checked += 1
    assert checked > 20
    reconciliation = schema["components"]["schemas"]["StatementOutput"]["properties"]["reconciliation"]
    assert OAS30Validator({**reconciliation, **components}).is_valid(None)
