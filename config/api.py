"""API plumbing shared by every app: the exception handler, the JSON parser, content negotiation for
JSON-only views."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, parsers, serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.errors import ApplicationError


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        data = {exc.field: [exc.message]} if exc.field else {"detail": exc.message}
        return Response(data, status=exc.status)
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


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, but a body nested too deeply for Python's decoder is a 400 like any bad JSON."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply") from None


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
