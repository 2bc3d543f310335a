"""Rules of the rating loop that more than one caller needs, each written once.

The form, the API, the views and the services call these rather than restating
them: "a contact only with a bad grade", "when a proof of work is asked for",
"which bad reviews open a rectification" and "open / overdue".
"""

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext as _

from evaluations.models import BAD_GRADES, Evaluation, Rectification


def contact_problem(*, overall: int | None, contact: str) -> str:
    """A contact is asked for only with a bad grade (不满意 or 非常不满意): the message if it breaks that, else ""."""
    if contact and overall is not None and overall not in BAD_GRADES:
        return _("A contact is asked for only with a rating of Dissatisfied or Very dissatisfied.")
    return ""


def proof_of_work_required(*, earlier_from_ip: int) -> bool:
    """Past the soft limit of ratings from one address, the browser is asked to solve a proof of work.

    A rating without one is still stored: it is held for review, never refused (a browser without
    JavaScript cannot solve it, and must not be silenced for that).
    """
    return earlier_from_ip >= settings.EVALUATION_POW_SOFT_LIMIT


def opens_rectification(evaluation: Evaluation) -> bool:
    """Every counted bad review opens a rectification, and so does every bad review with a contact, whatever its
    state: a held one is then verified by calling back (回访核实)."""
    return evaluation.is_bad and (evaluation.state == Evaluation.State.COUNTED or bool(evaluation.contact))


# A rectification is open while the organization owes a response or the rater's verdict is awaited;
# it is overdue when a response is owed past its due date.
OPEN_STATUSES = (*Rectification.AWAITING_RESPONSE, Rectification.Status.RESPONDED)


def rectification_open_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}status__in": OPEN_STATUSES})


def rectification_overdue_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}is_overdue": True, f"{prefix}status__in": Rectification.AWAITING_RESPONSE})
