"""API plumbing shared by every app: the exception handler, the JSON parser, content negotiation for
JSON-only views."""

import codecs
import json
import math

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, parsers, serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.errors import ApplicationError, error_body, http_status


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc), status=http_status(exc))
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "message_dict"):
            exc = exceptions.ValidationError(exc.message_dict)
        else:
            exc = exceptions.ValidationError({"detail": exc.messages})
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    return drf_exception_handler(exc, context)


def _finite_float(text: str) -> float:
    """JSON has no infinity; Python's decoder reads a number too large for a float (``1e400``) as one."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("numbers must be finite")
    return value


def _no_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, stricter: a body nested too deeply for Python's decoder and a number that is
    not finite (``1e400``, ``NaN``, ``Infinity``) are a 400 without a field, like any bad JSON."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        try:
            return json.load(codecs.getreader(encoding)(stream), parse_float=_finite_float, parse_constant=_no_constant)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply") from None
        except ValueError as error:
            raise exceptions.ParseError(f"JSON parse error - {error}") from None


def field_value(field: serializers.Field, data, name: str):
    """`data[name]` checked by a DRF field, for a value no serializer carries; its refusal is a 400 on `name`."""
    try:
        return field.run_validation(data[name])
    except exceptions.ValidationError as error:
        raise exceptions.ValidationError({name: error.detail}) from None


class JSONOnlyNegotiation(DefaultContentNegotiation):
    """For views with one renderer: answer with it whatever the Accept header says (RFC 9110 allows it).

    Parsing still follows the request's Content-Type (415 for anything unparseable). DRF's
    documented way to skip renderer negotiation, which costs more than the rest of a small view.
    """

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
