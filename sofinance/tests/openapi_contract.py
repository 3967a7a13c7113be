"""Real API responses checked against the OpenAPI document the API publishes.

`Contract.check(response)` finds the operation the request went to (method and path matched
against the documented paths), refuses a status code the operation does not document, and
validates the body against the schema documented for that status and content type with
openapi-schema-validator's OpenAPI 3.0 validator (types, `nullable`, enums, formats, required
fields). The document is made strict for the check: an object schema that does not say otherwise
allows no undocumented property, so a field the API sends but the documentation does not name
fails too. A type or nullability that lies, a missing documented field, an undocumented field
and an undocumented status code all fail the test that made the request.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from openapi_schema_validator import OAS30Validator, oas30_format_checker

API_PREFIX = "/api/v1/"
_PARAMETER = re.compile(r"\{(\w+)\}")


@cache
def published_schema() -> dict[str, Any]:
    """The schema as /api/schema/?format=json serves it (generated once per test process)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(schema, renderer_context={}))


@cache
def strict_schema() -> dict[str, Any]:
    """The published schema made strict (see `strict`); shared, never modified."""
    return strict(published_schema())


NULL_VALUE = {"nullable": True, "enum": [None]}


def strict(schema: Any) -> Any:
    """A copy in which object schemas that declare properties allow no other property.

    A nested serializer that may be null is documented as drf-spectacular writes it,
    `{"allOf": [{"$ref": ...}], "nullable": true}`: null or that object. OpenAPI 3.0.3 reads
    `nullable` as adding null only to a `type` in the same schema, so a strict 3.0 validator
    refuses the null through the `allOf`; the copy spells the intent out (`anyOf` the object or
    null), as drf-spectacular and schemathesis read it. Only the null is let through: an object
    there is still held to the referenced schema."""
    schema = copy.deepcopy(schema)
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            if node.get("nullable") is True and "allOf" in node and "type" not in node:
                node["anyOf"] = [{"allOf": node.pop("allOf")}, dict(NULL_VALUE)]
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return schema


def resolve(document: dict, node: dict) -> dict:
    """Follow a local `$ref` (a response or a schema) to what it names."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # the documented template, e.g. /api/v1/companies/{company_id}/invoices/{id}
    spec: dict

    @property
    def id(self) -> str:
        return self.spec["operationId"]


class ContractError(AssertionError):
    pass


@dataclass
class Contract:
    document: dict[str, Any] = field(default_factory=strict_schema)
    checked: set[tuple[str, str]] = field(default_factory=set)  # (operationId, status)

    def __post_init__(self) -> None:
        self._routes = []
        for template, methods in self.document["paths"].items():
            pattern = template
            for name in _PARAMETER.findall(template):
                parameter_types = {
                    p["name"]: p["schema"].get("type")
                    for operation in methods.values()
                    if isinstance(operation, dict)
                    for p in operation.get("parameters", [])
                    if p.get("in") == "path"
                }
                group = "[0-9]+" if parameter_types.get(name) == "integer" else "[^/]+"
                pattern = pattern.replace("{" + name + "}", f"(?P<{name}>{group})")
            self._routes.append((template.count("{"), re.compile(f"^{pattern}$"), template))
        self._routes.sort(key=lambda route: route[0])  # literal segments win over parameters

    def operation(self, method: str, path: str) -> Operation:
        path = path.rstrip("/") or path
        for _, regex, template in self._routes:
            if regex.match(path):
                spec = self.document["paths"][template].get(method.lower())
                if spec is None:
                    raise ContractError(f"{method} {template} is not a documented operation")
                return Operation(method.lower(), template, spec)
        raise ContractError(f"No documented path matches {path}")

    def operations(self) -> list[Operation]:
        return [
            Operation(method, template, spec)
            for template, methods in self.document["paths"].items()
            for method, spec in methods.items()
            if isinstance(spec, dict) and "operationId" in spec
        ]

    def response_schema(self, operation: Operation, status: int, content_type: str) -> dict | None:
        """The documented schema of this answer (None for a documented non-JSON body)."""
        responses = operation.spec["responses"]
        if str(status) not in responses:
            raise ContractError(
                f"{operation.method.upper()} {operation.path} answered {status}, which it does not "
                f"document (documented: {', '.join(sorted(responses))})"
            )
        response = resolve(self.document, responses[str(status)])
        content = response.get("content", {})
        if content_type not in content:
            raise ContractError(
                f"{operation.method.upper()} {operation.path} answered {status} as {content_type}; "
                f"documented: {', '.join(sorted(content)) or 'no body'}"
            )
        return content[content_type].get("schema") if content_type == "application/json" else None

    def validate(self, instance: Any, schema: dict, *, where: str) -> None:
        rooted = {**schema, "components": self.document["components"]}
        validator = OAS30Validator(rooted, format_checker=oas30_format_checker)
        problems = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        if problems:
            lines = [
                f"  at {'/'.join(str(p) for p in problem.absolute_path) or '(body)'}: {problem.message}"
                for problem in problems[:10]
            ]
            raise ContractError(f"{where} does not match its documented schema:\n" + "\n".join(lines))

    def operations_of(self, app: str) -> set[str]:
        """The ids of the operations whose views live in `app` (e.g. "ledger")."""
        from django.urls import resolve as url_resolve

        found = set()
        for operation in self.operations():
            match = url_resolve(_PARAMETER.sub("1", operation.path))
            view = getattr(match.func, "cls", None) or getattr(match.func, "view_class", None)
            if view is not None and view.__module__.split(".")[0] == app:
                found.add(operation.id)
        return found

    def checked_operations(self) -> set[str]:
        return {operation for operation, _status in self.checked}

    def checked_statuses(self) -> set[str]:
        return {status for _operation, status in self.checked}

    def check(self, response, status: int | None = None) -> Any:
        """Validate one response of the test client (and, given, its status); returns its parsed
        JSON body (None for another content type)."""
        if status is not None:
            assert response.status_code == status, (response.status_code, response.content[:2000])
        request = response.wsgi_request
        operation = self.operation(request.method, request.path)
        content_type = response.get("Content-Type", "").split(";")[0].strip()
        schema = self.response_schema(operation, response.status_code, content_type)
        self.checked.add((operation.id, str(response.status_code)))
        if content_type != "application/json":
            return None
        body = json.loads(response.content)
        where = f"{request.method} {request.path} -> {response.status_code}"
        self.validate(body, schema, where=where)
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and error.get("code") == "validation_error":
            check_field_messages(error.get("details"), where=where)
        return body


def check_field_messages(details: Any, *, where: str, path: str = "details") -> None:
    """A refused field says why, in words: `{"customer": ["Customer 99999 does not exist ..."]}`,
    not the refused value (`{"customer": ["99999"]}`), which a client's form would show as its
    error. Lists of messages are checked wherever they nest (lines, items)."""
    if isinstance(details, dict):
        for key, value in details.items():
            check_field_messages(value, where=where, path=f"{path}.{key}")
    elif isinstance(details, list):
        for index, item in enumerate(details):
            if isinstance(item, str):
                text = item.strip()
                if " " not in text and not (text[:1].isupper() and text.endswith(".")):  # "Required."
                    raise ContractError(
                        f"{where}: {path}[{index}] is {item!r}, a value where a message belongs"
                    )
            else:
                check_field_messages(item, where=where, path=f"{path}[{index}]")
