"""The JSON API under /api/v1.

Each endpoint is declared with ``operation(...)``: its permission, the
pydantic models of its body, query and response. The same declaration
validates the request and writes the OpenAPI document, so the document cannot
drift from the code.
"""

import functools
import json
from dataclasses import dataclass
from typing import Optional

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from pydantic import BaseModel, TypeAdapter, ValidationError

from ..auth import requires
from ..errors import ConsoleError, Invalid, pydantic_details, summary

api = Blueprint("api", __name__, url_prefix="/api/v1")


@dataclass
class Operation:
    rule: str
    method: str
    endpoint: str
    summary: str
    permission: Optional[str]
    body: object = None  # a pydantic model, or a TypeAdapter-able type
    query: Optional[type] = None
    response: Optional[type] = None
    status: int = 200
    tag: str = ""
    description: str = ""
    headers: Optional[dict] = None  # request header name -> (JSON schema, description), for the document


OPERATIONS: list[Operation] = []


@dataclass(frozen=True)
class OneOrMany:
    """A body that is one ``model`` as an object, or many as an array."""

    model: type

    def kind(self, raw):
        return list[self.model] if raw.lstrip()[:1] == b"[" else self.model


_ADAPTERS: dict = {}


def _adapter(kind):
    if kind not in _ADAPTERS:
        _ADAPTERS[kind] = TypeAdapter(kind)
    return _ADAPTERS[kind]


def parse_body(kind):
    """The request body validated against ``kind``; Invalid with readable details if not."""
    raw = request.get_data()  # cached: an Idempotency-Key check hashes the same bytes
    if not raw.strip():
        raise ConsoleError(_("The request has no body: send JSON."))
    if isinstance(kind, OneOrMany):
        kind = kind.kind(raw)
    try:
        # strict: JSON's own types, as the document says (no "5" or true for 5, no 0 for a date)
        return _adapter(kind).validate_json(raw, strict=True)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            raise ConsoleError(_("The body is not valid JSON."), details=str(exc.errors()[0]["ctx"].get("error", ""))) from None
        problems = pydantic_details(exc)
        raise Invalid(summary(problems), details=problems) from None


def parse_query(model):
    args = {k: v for k, v in request.args.items() if v != ""}
    try:
        return model.model_validate(args)
    except ValidationError as exc:
        problems = pydantic_details(exc)
        raise Invalid(summary(problems), details=problems) from None


def to_json(value):
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return value


def operation(rule, method, permission, summary, *, body=None, query=None, response=None, status=200, tag="", description="", visible=None, headers=None):
    """Declare an API endpoint; the view gets ``body=`` and ``query=`` already validated.

    ``headers`` names the optional request headers the view reads (the view
    checks them), so that the document lists them.

    ``visible(**path_args)`` raises NotFound for a record that does not exist
    or is outside the caller's scope; it runs before the body is read, so an
    out-of-scope id gets 404 whatever the body holds.
    """

    def decorate(fn):
        @functools.wraps(fn)
        def view(**kwargs):
            if visible is not None:
                visible(**kwargs)
            if body is not None:
                kwargs["body"] = parse_body(body)
            if query is not None:
                kwargs["query"] = parse_query(query)
            result = fn(**kwargs)
            if response is not None and not isinstance(result, BaseModel):
                result = _adapter(response).validate_python(result)
            return current_app.response_class(json.dumps(to_json(result), ensure_ascii=False, default=str), status=status, mimetype="application/json")

        guarded = requires(permission)(view)
        api.add_url_rule(rule, endpoint=fn.__name__, view_func=guarded, methods=[method])
        OPERATIONS.append(
            Operation(rule, method, fn.__name__, summary, permission, body, query, response, status, tag, description or (fn.__doc__ or "").strip(), headers)
        )
        return guarded

    return decorate


@api.errorhandler(ConsoleError)
def console_error(exc):
    return jsonify(error=exc.message, details=exc.details), exc.status


from . import (  # noqa: E402,F401  (routes register on import)
    board,
    channels,
    complainants,
    forecast,
    identity,
    incidents,
    intake,
    openapi,
    org,
    rollups,
    settlements,
    tasks,
)
