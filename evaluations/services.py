"""Writes over evaluations."""

from django.db import transaction

from config.errors import ApplicationError
from evaluations import scoring
from evaluations.models import Evaluation, EvaluationStateChange


@transaction.atomic
def evaluation_change_state(*, evaluation: Evaluation, to_state: str, reason: str, actor=None) -> Evaluation:
    """The only way an evaluation's state changes (flag, restore, exclude), always with an audit row.

    Scores read the audit rows to fold state changes in incrementally, so a state
    must never be changed any other way.
    """
    if to_state not in Evaluation.State.values:
        raise ApplicationError(f"Unknown state: {to_state}", field="state")
    locked = Evaluation.objects.select_for_update().get(pk=evaluation.pk)
    if locked.state == to_state:
        return locked
    EvaluationStateChange.objects.create(
        evaluation=locked,
        brand_id=locked.brand_id,
        from_state=locked.state,
        to_state=to_state,
        reason=reason,
        actor=actor,
    )
    locked.state = to_state
    locked.state_reason = reason
    locked.save(update_fields=["state", "state_reason"])
    transaction.on_commit(scoring.request_refresh)
    return locked
