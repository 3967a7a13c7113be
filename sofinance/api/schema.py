"""OpenAPI: the JWT security scheme, and every JSON response documented inside the envelope."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class JWTAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents sofinance.api.authentication.JWTAuthentication (registered on import: apps.py)."""

    target_class = "sofinance.api.authentication.JWTAuthentication"
    name = "jwtAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "example": "validation_error"},
        "message": {"type": "string"},
        "details": {"type": "object", "additionalProperties": True},
    },
    "required": ["code", "message"],
}

META_SCHEMA = {
    "type": "object",
    "properties": {
        "request_id": {"type": "string"},
        "pagination": {
            "type": "object",
            "properties": {
                "next": {"type": "string", "format": "uri", "nullable": True},
                "previous": {"type": "string", "format": "uri", "nullable": True},
            },
        },
    },
    "additionalProperties": True,
}

ERROR_RESPONSES = {
    "400": "Validation error (`validation_error`).",
    "401": "Not authenticated (`not_authenticated`).",
    "403": "Role does not allow the action (`permission_denied`).",
    "404": "Not found, or another company's object (`not_found`).",
    "422": "A business rule refused the request (`unbalanced_entry`, `period_closed`, ...).",
    "429": "Rate limited (`rate_limited`), with Retry-After.",
    "503": (
        "The database, cache or task queue is briefly unavailable or busy (`service_unavailable`, "
        "`details.reason`: `database_unavailable`, `database_busy`, `cache_unavailable`, "
        "`queue_unavailable`), with Retry-After. Send the same request again after that many "
        "seconds, with the same Idempotency-Key for a write."
    ),
}


def _envelope(data_schema: dict | None) -> dict:
    return {
        "type": "object",
        "properties": {
            "success": {"type": "boolean"},
            "data": data_schema or {"nullable": True},
            "error": {"allOf": [{"$ref": "#/components/schemas/Error"}], "nullable": True},
            "meta": {"$ref": "#/components/schemas/Meta"},
        },
        "required": ["success", "data", "error", "meta"],
    }


def wrap_responses_in_envelope(result, generator, request, public):
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    components["Meta"] = META_SCHEMA
    # API routes are regexes that accept an optional trailing slash (routing.api_path); the
    # generator renders them with one. Document the canonical form, without.
    result["paths"] = {
        (path.rstrip("/") if path.startswith("/api/v1/") else path): item
        for path, item in result.get("paths", {}).items()
    }
    for path, methods in result.get("paths", {}).items():
        if not path.startswith("/api/v1"):
            continue
        for operation in methods.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for _status, response in list(responses.items()):
                content = response.get("content", {})
                json_content = content.get("application/json")
                if json_content is not None:
                    json_content["schema"] = _envelope(json_content.get("schema"))
                elif not content:
                    # A success without a body, or an error documented by its description only:
                    # both are envelopes (an error's `data` is null, its `error` set).
                    response["content"] = {"application/json": {"schema": _envelope(None)}}
            for status, description in ERROR_RESPONSES.items():
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": _envelope(None)}},
                    },
                )
    return result
