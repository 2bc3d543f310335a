"""The one write path for an evaluation's state, and its audit rows."""

import datetime

import pytest

from brands.models import Brand
from config.errors import ApplicationError
from evaluations.models import Evaluation, EvaluationStateChange
from evaluations.services import evaluation_change_state


@pytest.fixture
def evaluation(tree):
    brand = Brand.objects.create(organization=tree["community"], code="HYL2", name="红色家园", status="named")
    return Evaluation.objects.create(
        brand=brand,
        organization=brand.organization,
        overall=2,
        receipt="R1",
        device_hash="d",
        ip_hash="i",
        rated_on=datetime.date(2026, 11, 1),
    )


def test_flag_then_restore_writes_one_audit_row_each(evaluation, city_reviewer):
    flagged = evaluation_change_state(evaluation=evaluation, to_state="flagged", reason="burst from one network")
    assert (flagged.state, flagged.state_reason) == ("flagged", "burst from one network")
    restored = evaluation_change_state(evaluation=evaluation, to_state="counted", reason="checked", actor=city_reviewer)
    assert restored.state == "counted"
    assert list(EvaluationStateChange.objects.values_list("from_state", "to_state", "reason", "actor__username")) == [
        ("counted", "flagged", "burst from one network", None),
        ("flagged", "counted", "checked", "reviewer"),
    ]


def test_same_state_is_a_no_op(evaluation):
    evaluation_change_state(evaluation=evaluation, to_state="counted", reason="again")
    assert EvaluationStateChange.objects.count() == 0


def test_unknown_state_is_refused(evaluation):
    with pytest.raises(ApplicationError) as error:
        evaluation_change_state(evaluation=evaluation, to_state="deleted", reason="")
    assert (error.value.field, error.value.message) == ("state", "Unknown state: deleted")
    assert Evaluation.objects.get(pk=evaluation.pk).state == "counted"
