"""Request body parsers: exact numbers, bounded nesting, no NUL characters.

JSON numbers with a fraction or an exponent become Decimal, never float; `NaN` and `Infinity`
literals are refused, and so is an object naming a key twice. Every parser refuses what no field of this application can hold, before any
view sees it: JSON nested deeper than MAX_JSON_DEPTH (a deep body would otherwise exhaust the
interpreter's recursion limit in the decoder, the serializers or the audit diff) and NUL
characters in any key or value (PostgreSQL text cannot store them), and unpaired surrogates
(`"\ud800"`: an escape JSON allows that names no character, which no encoding can write, so an
answer that repeats it could not be sent). All are 400 `validation_error`.
"""

from __future__ import annotations

import codecs
import json
import re
from decimal import Decimal
from typing import Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Deepest nesting of objects and arrays a JSON body may have. The deepest real body is a bulk
# posting: {"entries": [{"lines": [{"account": ...}]}]}, four levels.
MAX_JSON_DEPTH = 32
NUL = "\x00"
# A UTF-16 surrogate code point: in a decoded str only an unpaired one remains (a pair in JSON,
# "\ud83d\ude00", decodes to one character).
_SURROGATE = re.compile("[\ud800-\udfff]")
# A JSON escape that may decode to a surrogate: without one, the decoded text holds none.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
NUL_PROBLEM = "Text must not contain NUL (\\u0000) characters."
SURROGATE_PROBLEM = "Text must be Unicode characters: an unpaired surrogate (\\ud800-\\udfff) is not one."


def text_problem(text: str) -> str | None:
    """Why a text of a request is refused (a NUL, an unpaired surrogate), or None."""
    if NUL in text:
        return NUL_PROBLEM
    if _SURROGATE.search(text):
        return SURROGATE_PROBLEM
    return None


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


class DuplicateKey(ValueError):
    """A JSON object names a key twice: which value was meant is the client's to say."""


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object's members; a key given twice is refused rather than the last one kept silently
    (`{"date": "2026-03-01", "date": "2026-03-31"}` would post on the 31st). About a microsecond
    an object: the bulk path's 1,000 entries cost ~2 ms."""
    members = dict(pairs)
    if len(members) != len(pairs):
        seen: set[str] = set()
        twice = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise DuplicateKey(f"The JSON object gives the key {twice[:60]!r} twice: each key is given once.")
    return members


def json_value_problem(value: Any, *, max_depth: int = MAX_JSON_DEPTH, texts: bool = True) -> str | None:
    """Why a parsed JSON value is refused (too deep, a NUL character, an unpaired surrogate), or
    None when it is fine.

    Iterative, so it cannot itself run out of stack on a hostile value. `texts=False` checks the
    nesting only (the caller knows no text holds either: see DecimalJSONParser).
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if problem := text_problem(item):
                return problem
        elif isinstance(item, dict | list):
            if depth >= max_depth:
                return f"JSON is nested too deeply (at most {max_depth} levels)."
            children = item.values() if isinstance(item, dict) else item
            if isinstance(item, dict) and texts:
                for key in item:
                    if problem := text_problem(key):
                        return problem
            stack.extend((child, depth + 1) for child in children if texts or isinstance(child, dict | list))
    return None


class DecimalJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.decode(stream.read(), encoding)
            data = json.loads(
                text,
                parse_float=Decimal,
                parse_constant=_refuse_constant,
                object_pairs_hook=_object_without_duplicates,
            )
        except RecursionError:
            raise ParseError(f"JSON is nested too deeply (at most {MAX_JSON_DEPTH} levels).") from None
        except DuplicateKey as exc:
            raise ParseError(str(exc)) from None
        except (ValueError, LookupError) as exc:  # also UnicodeDecodeError, an unknown encoding
            raise ParseError(f"JSON parse error - {exc}") from exc
        # The decoder refuses a raw control character in a string, so a NUL can only come from
        # the escape \u0000, and a surrogate from an escape \uD800-\uDFFF (or from a charset
        # whose decoder lets one through, such as UTF-7): without either, only the nesting needs
        # looking at.
        texts = "\\u0000" in text or bool(_SURROGATE_ESCAPE.search(text) or _SURROGATE.search(text))
        problem = json_value_problem(data, texts=texts)
        if problem:
            raise ParseError(problem)
        return data


def _check_fields(data) -> None:
    for key, values in data.lists():
        if NUL in key or any(isinstance(v, str) and NUL in v for v in values):
            raise ParseError("Form fields must not contain NUL characters.")


class FormParser(parsers.FormParser):
    """Form-encoded bodies (the browsable API's forms), refusing NUL characters."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        _check_fields(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    """Multipart bodies: NUL characters refused in fields and file names (a file's content may be
    binary)."""

    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        _check_fields(result.data)
        for upload in result.files.values():
            if NUL in (upload.name or ""):
                raise ParseError("File names must not contain NUL characters.")
        return result
