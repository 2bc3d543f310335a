"""Shared fixtures of the evaluation tests: brands and client signals."""

import pytest

from evaluations import integrity
from tests.factories import make_brand


@pytest.fixture
def brand(tree):
    return make_brand(tree["community"], code="hyl01", name="红色家园")


@pytest.fixture
def other_brand(tree):
    return make_brand(tree["enterprise"], code="hr01", name="海润先锋")


@pytest.fixture
def signals():
    def make(ip="10.0.0.1", device="dev-1", **kw):
        return integrity.ClientSignals(ip=ip, device_key=device, user_agent="pytest", **kw)

    return make
