"""The API against its own OpenAPI document (/api/schema/), with schemathesis.

Every documented operation is called with generated input, as an anonymous client and with the token of a
secretary (obtained through POST /api/v1/auth/token/, as a client would). Two checks: no answer is a server
error, and every answer matches what the document says (status code's body shape, content type).

Path parameters are generated for half of the examples (mostly "not found") and pinned to rows that exist
for the other half, so that the documented 2xx bodies are checked too; query strings and bodies are always
generated. Schemathesis's pytest plugin loads a schema from a fixture through a pytest internal that pytest 9
no longer has, so each operation's strategy runs under Hypothesis here, inside one test with the database.

A deeper run (about a minute): SCHEMATHESIS_EXAMPLES=150 SCHEMATHESIS_NEGATIVE=1 (invalid input as well).
"""

import os
from contextlib import contextmanager

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from config.wsgi import application
from evaluations.models import Rectification
from tests.factories import make_brand, make_evaluation

CHECKS = [not_a_server_error, response_schema_conformance]
EXAMPLES_PER_OPERATION = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "16"))
SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,  # the same examples on every run: a failure here is reproducible
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def pinned(tree, secretary) -> dict:
    """Rows the pinned path parameters name: a public brand of the secretary's organization, a rating of it
    with an open rectification. Around them: a draft of the same organization and the enterprise's brand."""
    public = make_brand(tree["community"], code="HYL01", name="红色家园")
    make_brand(tree["community"], code="HYL02", status="draft")
    make_brand(tree["enterprise"], code="HR01", name="海润先锋")
    rating = make_evaluation(public, 1, contact="13800000000", comment="没有人回电话")
    rectification = Rectification.objects.create(
        evaluation=rating, brand=public, organization=public.organization, due_on="2026-11-20"
    )
    return {"code": public.code, "receipt": rating.receipt, "pk": rectification.pk}


@contextmanager
def _connection_kept():
    """Schemathesis calls the bare WSGI handler, whose request signals close "old" database connections;
    the test's connection, inside its transaction, must survive them. (Django's test client does the same
    around each of its requests, and connects the handler again afterwards: hence around the calls only.)"""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def secretary_token(secretary) -> str:
    response = Client().post("/api/v1/auth/token/", {"username": "secretary", "password": "pass12345"})
    assert response.status_code == 200, response.content
    return response.json()["token"]


def _pin(case, values: dict):
    for name in case.path_parameters or {}:
        if name in values:
            case.path_parameters[name] = values[name]
    return case


def test_api_matches_its_schema(pinned, secretary_token):
    with _connection_kept():
        schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        strategy = operation.as_strategy()
        if os.environ.get("SCHEMATHESIS_NEGATIVE"):
            strategy = strategy | operation.as_strategy(GenerationMode.NEGATIVE)

        @SETTINGS
        @given(case=strategy, pin=st.booleans())
        def exercise(case, pin):
            if pin:
                _pin(case, pinned)
            case.call_and_validate(checks=CHECKS)
            case.call_and_validate(headers={"Authorization": f"Token {secretary_token}"}, checks=CHECKS)

        try:
            with _connection_kept():
                exercise()
        # One operation's failures must not hide the others'. Schemathesis raises a BaseExceptionGroup.
        except (Exception, BaseExceptionGroup) as error:
            failures.append(f"{operation.method.upper()} {operation.path}: {str(error)[:3000]}")
    assert operations >= 10
    assert not failures, "\n\n".join(failures)


def test_allowed_methods_are_the_documented_ones(pinned, secretary_token):
    """OPTIONS (and a 405's Allow header) offer exactly the methods the document describes for the path."""
    with _connection_kept():
        schema = schemathesis.openapi.from_wsgi("/api/schema/", application).raw_schema
    values = {**pinned, "id": pinned["pk"], "milestone_id": 1}
    client = Client(headers={"Authorization": f"Token {secretary_token}"})
    wrong = {}
    for template, item in schema["paths"].items():
        documented = {method.upper() for method in item if method in ("get", "post", "put", "patch", "delete")}
        path = template.format(**values)
        response = client.options(path)
        allowed = {method.strip() for method in response.headers.get("Allow", "").split(",") if method.strip()}
        if allowed - {"HEAD", "OPTIONS"} != documented:
            wrong[template] = {"documented": sorted(documented), "allowed": sorted(allowed)}
    assert wrong == {}
