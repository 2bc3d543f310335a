"""The audit trail: every state change writes exactly one row (who, where, what, from what to what) in its
own transaction, and the audit page shows each user the rows of the organizations their role reaches."""

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.db.models import Max
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from brands import services as brand_services
from brands.models import Brand, Case, Commitment, Milestone, Plan
from dashboards import services as dashboard_services
from dashboards.models import EarlyWarning, SupportAction, SupportCase
from evaluations import integrity
from evaluations import services as evaluation_services
from evaluations.models import CommentStatus, Evaluation, Rectification, Surge
from organizations.audit import ACTION_LABELS, audit_record
from organizations.authentication import api_token_issue, api_token_revoke
from organizations.models import AuditEntry, Membership
from tests.factories import make_brand, make_evaluation

pytestmark = pytest.mark.django_db

ANY = object()  # an expected value that is only required to be there
TODAY = timezone.localdate


@dataclass
class Step:
    """One state change: ``do`` makes it; the rest is the audit row it must write."""

    do: Callable[[], object]
    action: str
    actor: object  # a user, or None for the system
    organization: object  # an Organization, or None
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)
    rows: int = 1  # audit rows written in all (a surge decision also changes its ratings)


@pytest.fixture
def ctx(tree, secretary, other_secretary, district_reviewer):
    public = make_brand(tree["community"], "HYL01", name="红色家园")
    return {
        "tree": tree,
        "community": tree["community"],
        "secretary": secretary,
        "other_secretary": other_secretary,
        "reviewer": district_reviewer,
        "public": public,
    }


def _draft(c, **fields) -> Brand:
    return make_brand(c["community"], status=Brand.Status.DRAFT, concept="把服务送到家门口", **fields)


def _plan(c) -> Plan:
    return Plan.objects.create(
        brand=c["public"], organization=c["community"], start_year=2026, end_year=2028, goals="目标"
    )


def _milestone(c, **fields) -> Milestone:
    return Milestone.objects.create(
        plan=_plan(c), organization=c["community"], title="节点", due_date=datetime.date(2027, 6, 30), **fields
    )


def _case(c, status=Case.Status.DRAFT) -> Case:
    return Case.objects.create(
        brand=c["public"], organization=c["community"], title="经验", summary="摘要", body="正文",
        author=c["secretary"], status=status,
    )  # fmt: skip


def _rectification(c, status=Rectification.Status.OPEN, **fields) -> Rectification:
    rating = make_evaluation(c["public"], 1, contact="13800000000")
    fields.setdefault("due_on", datetime.date(2027, 1, 8))
    return Rectification.objects.create(
        evaluation=rating, brand=c["public"], organization=c["community"], status=status, **fields
    )


def _surge(c) -> Surge:
    surge = Surge.objects.create(
        brand=c["public"], organization=c["community"], day=TODAY(), expected=1.0, own_rate=1.0, peer_rate=1.0,
        threshold=3,
    )  # fmt: skip
    for _index in range(2):
        make_evaluation(c["public"], 5, state=Evaluation.State.FLAGGED, surge=surge, rated_on=TODAY())
    return surge


def _warning(c, brand=None, state=EarlyWarning.State.NEW) -> EarlyWarning:
    brand = brand or c["public"]
    return EarlyWarning.objects.create(
        brand=brand, organization_id=brand.organization_id, rule=EarlyWarning.Rule.SILENT, state=state
    )


def _support_case(c) -> SupportCase:
    return SupportCase.objects.create(
        organization=c["community"], brand=c["public"], mentor=c["tree"]["grid"], goal="提升", opened_by=c["reviewer"]
    )


def brand_create(c):
    def do():
        brand_services.brand_create(user=c["secretary"], organization=c["community"], data={"name": "新品牌"})

    return Step(do, "brand.create", c["secretary"], c["community"], after={"status": "draft"})


def brand_update(c):
    draft = _draft(c)
    return Step(
        lambda: brand_services.brand_update(user=c["secretary"], brand=draft, data={"slogan": "新口号"}),
        "brand.update", c["secretary"], c["community"], before={"slogan": "为民服务"}, after={"slogan": "新口号"},
    )  # fmt: skip


def brand_submit(c):
    draft = _draft(c)
    return Step(
        lambda: brand_services.brand_submit(user=c["secretary"], brand=draft),
        "brand.submit", c["secretary"], c["community"], before={"status": "draft"}, after={"status": "submitted"},
    )  # fmt: skip


def brand_approve(c):
    submitted = _draft(c, code="SUB01")
    Brand.objects.filter(pk=submitted.pk).update(status=Brand.Status.SUBMITTED)
    return Step(
        lambda: brand_services.brand_review(user=c["reviewer"], brand=submitted, decision="approve"),
        "brand.approve", c["reviewer"], c["community"], before={"status": "submitted"},
        after={"status": "cultivating"},
    )  # fmt: skip


def brand_revoke(c):
    return Step(
        lambda: brand_services.brand_review(user=c["reviewer"], brand=c["public"], decision="revoke", comment="停办"),
        "brand.revoke", c["reviewer"], c["community"], before={"status": "cultivating"}, after={"status": "revoked"},
    )  # fmt: skip


def commitment_add(c):
    return Step(
        lambda: brand_services.commitment_add(user=c["secretary"], brand=c["public"], text="当天答复"),
        "commitment.add", c["secretary"], c["community"], after={"text": "当天答复"},
    )  # fmt: skip


def commitment_update(c):
    item = Commitment.objects.create(brand=c["public"], organization=c["community"], text="旧", position=1)
    return Step(
        lambda: brand_services.commitment_update(user=c["secretary"], commitment=item, text="新"),
        "commitment.update", c["secretary"], c["community"], before={"text": "旧"}, after={"text": "新"},
    )  # fmt: skip


def commitment_delete(c):
    item = Commitment.objects.create(brand=c["public"], organization=c["community"], text="旧", position=1)
    return Step(
        lambda: brand_services.commitment_delete(user=c["secretary"], commitment=item),
        "commitment.delete", c["secretary"], c["community"], before={"text": "旧"},
    )  # fmt: skip


def commitment_move(c):
    Commitment.objects.create(brand=c["public"], organization=c["community"], text="一", position=1)
    second = Commitment.objects.create(brand=c["public"], organization=c["community"], text="二", position=2)
    return Step(
        lambda: brand_services.commitment_move(user=c["secretary"], commitment=second, step=-1),
        "commitment.move", c["secretary"], c["community"], before={"position": 2}, after={"position": 1},
    )  # fmt: skip


def plan_save(c):
    def do():
        brand_services.plan_save(user=c["secretary"], brand=c["public"], start_year=2026, end_year=2028, goals="目标")

    after = {"start_year": 2026, "end_year": 2028, "goals": "目标"}
    return Step(do, "plan.save", c["secretary"], c["community"], after=after)


def milestone_add(c):
    _plan(c)

    def do():
        brand_services.milestone_add(
            user=c["secretary"], brand=c["public"], title="节点", due_date=datetime.date(2027, 6, 30), weight=2
        )

    after = {"title": "节点", "due_date": "2027-06-30", "weight": 2}
    return Step(do, "milestone.add", c["secretary"], c["community"], after=after)


def milestone_update(c):
    milestone = _milestone(c)
    return Step(
        lambda: brand_services.milestone_update(user=c["secretary"], milestone=milestone, data={"weight": 3}),
        "milestone.update", c["secretary"], c["community"], before={"weight": 1}, after={"weight": 3},
    )  # fmt: skip


def milestone_complete(c):
    milestone = _milestone(c)
    return Step(
        lambda: brand_services.milestone_set_done(user=c["secretary"], milestone=milestone, done=True),
        "milestone.complete", c["secretary"], c["community"], before={"completed_on": None},
        after={"completed_on": TODAY().isoformat()},
    )  # fmt: skip


def milestone_reopen(c):
    milestone = _milestone(c, completed_on=datetime.date(2026, 11, 2))
    return Step(
        lambda: brand_services.milestone_set_done(user=c["secretary"], milestone=milestone, done=False),
        "milestone.reopen", c["secretary"], c["community"], before={"completed_on": "2026-11-02"},
        after={"completed_on": None},
    )  # fmt: skip


def progress_report_add(c):
    milestone = _milestone(c)
    return Step(
        lambda: brand_services.progress_report_add(user=c["secretary"], milestone=milestone, text="已完成走访"),
        "progress_report.add", c["secretary"], c["community"], after={"milestone": milestone.pk, "photos": 0},
    )  # fmt: skip


def case_save(c):
    def do():
        data = {"title": "经验", "summary": "摘要", "body": "正文"}
        brand_services.case_save(user=c["secretary"], brand=c["public"], data=data)

    after = {"title": "经验", "summary": "摘要", "status": "draft"}
    return Step(do, "case.save", c["secretary"], c["community"], after=after)


def case_submit(c):
    case = _case(c)
    return Step(
        lambda: brand_services.case_save(user=c["secretary"], brand=c["public"], data={}, case=case, submit=True),
        "case.submit", c["secretary"], c["community"], before={"status": "draft"}, after={"status": "submitted"},
    )  # fmt: skip


def case_publish(c):
    case = _case(c, Case.Status.SUBMITTED)
    return Step(
        lambda: brand_services.case_publish(user=c["reviewer"], case=case),
        "case.publish", c["reviewer"], c["community"], before={"status": "submitted"}, after={"status": "published"},
    )  # fmt: skip


def case_adopt(c):
    case = _case(c, Case.Status.PUBLISHED)
    adopter = make_brand(c["tree"]["enterprise"], "HR001", name="海润先锋")
    return Step(
        lambda: brand_services.case_adopt(user=c["other_secretary"], case=case, brand=adopter),
        "case.adopt", c["other_secretary"], c["tree"]["enterprise"], after={"case": case.pk, "brand": "HR001"},
    )  # fmt: skip


def evaluation_exclude(c):
    rating = make_evaluation(c["public"], 5)

    def do():
        evaluation_services.evaluation_change_state(
            evaluation=rating, to_state=Evaluation.State.EXCLUDED, reason="重复", actor=c["reviewer"]
        )

    before, after = {"state": "counted"}, {"state": "excluded"}
    return Step(do, "evaluation.excluded", c["reviewer"], c["community"], before=before, after=after)


def evaluation_restore(c):
    rating = make_evaluation(c["public"], 5, state=Evaluation.State.FLAGGED)
    return Step(
        lambda: evaluation_services.evaluation_restore(evaluation=rating, actor=c["reviewer"]),
        "evaluation.counted", c["reviewer"], c["community"], before={"state": "flagged"}, after={"state": "counted"},
    )  # fmt: skip


def _comment(c, publish: bool):
    rating = make_evaluation(c["public"], 4, comment="服务很好", comment_status=CommentStatus.PENDING)
    moderate = evaluation_services.evaluation_moderate_comment
    return Step(
        lambda: moderate(evaluation=rating, publish=publish, actor=c["reviewer"]),
        "comment.publish" if publish else "comment.hide", c["reviewer"], c["community"],
        before={"comment_status": "pending"}, after={"comment_status": "published" if publish else "hidden"},
    )  # fmt: skip


def comment_publish(c):
    return _comment(c, True)


def comment_hide(c):
    return _comment(c, False)


def rating_codes_issue(c):
    return Step(
        lambda: evaluation_services.rating_codes_issue(brand=c["public"], actor=c["secretary"], count=3, valid_days=7),
        "rating_codes.issue", c["secretary"], c["community"], after={"count": 3, "valid_days": 7, "channel": "web"},
    )  # fmt: skip


def surge_release(c):
    surge = _surge(c)
    return Step(
        lambda: evaluation_services.surge_decide(surge=surge, release=True, actor=c["reviewer"]),
        "surge.release", c["reviewer"], c["community"], before={"status": "open"},
        after={"status": "released", "ratings": 2}, rows=3,
    )  # fmt: skip


def surge_reject(c):
    surge = _surge(c)
    return Step(
        lambda: evaluation_services.surge_decide(surge=surge, release=False, actor=c["reviewer"]),
        "surge.reject", c["reviewer"], c["community"], before={"status": "open"},
        after={"status": "rejected", "ratings": 2}, rows=3,
    )  # fmt: skip


def rectification_opened(c):
    rating = make_evaluation(c["public"], 1, contact="13800000000")
    return Step(
        lambda: evaluation_services.rectification_open(evaluation=rating),
        "rectification.opened", None, c["community"], after={"status": "open"},
    )  # fmt: skip


def rectification_responded(c):
    rectification = _rectification(c)

    def do():
        evaluation_services.rectification_respond(rectification=rectification, response="已修好", actor=c["secretary"])

    before, after = {"status": "open"}, {"status": "responded"}
    return Step(do, "rectification.responded", c["secretary"], c["community"], before=before, after=after)


def rectification_verdict(c):
    rectification = _rectification(c, Rectification.Status.RESPONDED)
    return Step(
        lambda: evaluation_services.rectification_verdict(rectification=rectification, verdict="satisfied"),
        "rectification.verdict", None, c["community"], before={"status": "responded"}, after={"status": "confirmed"},
    )  # fmt: skip


def rectification_appealed(c):
    rectification = _rectification(c)

    def do():
        evaluation_services.rectification_appeal(rectification=rectification, reason="恶意差评", actor=c["secretary"])

    before, after = {"status": "open"}, {"status": "appealed"}
    return Step(do, "rectification.appealed", c["secretary"], c["community"], before=before, after=after)


def rectification_upheld(c):
    rectification = _rectification(
        c, Rectification.Status.APPEALED, status_before_appeal=Rectification.Status.OPEN, appeal_reason="恶意"
    )

    def do():
        evaluation_services.rectification_rule_appeal(
            rectification=rectification, uphold=True, ruling="属实", actor=c["reviewer"]
        )

    before, after = {"status": "appealed"}, {"status": "upheld"}
    return Step(do, "rectification.upheld", c["reviewer"], c["community"], before=before, after=after, rows=2)


def rectification_overdue(c):
    _rectification(c, due_on=datetime.date(2026, 1, 5))
    return Step(
        evaluation_services.rectifications_mark_overdue,
        "rectification.overdue", None, c["community"], before={"status": "open"}, after={"status": "open"},
    )  # fmt: skip


def warning_open(c):
    quiet = make_brand(c["community"], "QUIET", name="沉默")
    Brand.objects.filter(pk=quiet.pk).update(created_at=timezone.now() - datetime.timedelta(days=200))
    return Step(dashboard_services.warnings_evaluate, "warning.open", None, c["community"], after={"state": "new"})


def warning_resolve(c):
    _warning(c)  # the public brand is new: nothing fires for it any more
    return Step(
        dashboard_services.warnings_evaluate,
        "warning.resolve", None, c["community"], before={"state": "new"}, after={"state": "resolved"},
    )  # fmt: skip


def warning_acknowledge(c):
    warning = _warning(c)
    return Step(
        lambda: dashboard_services.warning_acknowledge(user=c["reviewer"], warning=warning),
        "warning.acknowledge", c["reviewer"], c["community"], before={"state": "new"},
        after={"state": "acknowledged"},
    )  # fmt: skip


def support_case_open(c):
    warning = _warning(c)
    grid = c["tree"]["grid"]

    def do():
        dashboard_services.support_case_open(
            user=c["reviewer"], brand=c["public"], mentor=grid, goal="三个月内补齐", warning=warning
        )

    after = {"status": "open", "mentor": grid.pk}
    # The warning is taken up by the case: a second change, its own row.
    return Step(do, "support_case.open", c["reviewer"], c["community"], after=after, rows=2)


def warning_take_up(c):
    step = support_case_open(c)
    step.action, step.before, step.after = "warning.take_up", {"state": "new"}, {"state": "in_case"}
    return step


def support_action_add(c):
    case = _support_case(c)

    def do():
        dashboard_services.support_action_add(
            user=c["secretary"], case=case, text="走访", owner="书记", due_on=datetime.date(2027, 1, 31)
        )

    after = {"text": "走访", "owner": "书记", "due_on": "2027-01-31"}
    return Step(do, "support_action.add", c["secretary"], c["community"], after=after)


def support_action_done(c):
    case = _support_case(c)
    action = SupportAction.objects.create(case=case, text="走访", owner="书记", due_on=datetime.date(2027, 1, 31))
    return Step(
        lambda: dashboard_services.support_action_done(user=c["secretary"], action=action),
        "support_action.done", c["secretary"], c["community"], before={"done_at": None}, after={"done_at": ANY},
    )  # fmt: skip


def support_case_note(c):
    case = _support_case(c)
    return Step(
        lambda: dashboard_services.support_note_add(user=c["secretary"], case=case, text="已对接"),
        "support_case.note", c["secretary"], c["community"],
    )  # fmt: skip


def support_case_close(c):
    case = _support_case(c)
    return Step(
        lambda: dashboard_services.support_case_close(user=c["reviewer"], case=case, review="已改进"),
        "support_case.close", c["reviewer"], c["community"], before={"status": "open"},
        after={"status": "closed", "score_after": None, "n_after": 0},
    )  # fmt: skip


def api_token_create(c):
    return Step(
        lambda: api_token_issue(user=c["secretary"]), "api_token.create", c["secretary"], None,
        after={"expires_at": ANY},
    )  # fmt: skip


def api_token_revoke_(c):
    token, _key = api_token_issue(user=c["secretary"])
    return Step(
        lambda: api_token_revoke(token=token), "api_token.revoke", c["secretary"], None, before={"expires_at": ANY}
    )


STEPS = [
    brand_create, brand_update, brand_submit, brand_approve, brand_revoke,
    commitment_add, commitment_update, commitment_delete, commitment_move,
    plan_save, milestone_add, milestone_update, milestone_complete, milestone_reopen, progress_report_add,
    case_save, case_submit, case_publish, case_adopt,
    evaluation_exclude, evaluation_restore, comment_publish, comment_hide, rating_codes_issue,
    surge_release, surge_reject,
    rectification_opened, rectification_responded, rectification_verdict, rectification_appealed,
    rectification_upheld, rectification_overdue,
    warning_open, warning_resolve, warning_acknowledge, warning_take_up,
    support_case_open, support_action_add, support_action_done, support_case_note, support_case_close,
    api_token_create, api_token_revoke_,
]  # fmt: skip


def _as_stored(values: dict) -> dict:
    return json.loads(json.dumps(values, cls=DjangoJSONEncoder))


def _matches(expected: dict, actual: dict) -> bool:
    if set(expected) != set(actual):
        return False
    return all(value is ANY or _as_stored({"v": value})["v"] == actual[key] for key, value in expected.items())


@pytest.mark.parametrize("make_step", STEPS, ids=lambda f: f.__name__.rstrip("_"))
def test_each_state_change_writes_exactly_one_audit_row(ctx, make_step):
    step = make_step(ctx)
    last = AuditEntry.objects.aggregate(last=Max("id"))["last"] or 0
    step.do()
    written = list(AuditEntry.objects.filter(id__gt=last).order_by("id"))
    assert len(written) == step.rows, [entry.action for entry in written]
    [entry] = [entry for entry in written if entry.action == step.action]
    assert entry.actor_id == (step.actor.pk if step.actor else None)
    assert entry.organization_id == (step.organization.pk if step.organization else None)
    assert _matches(step.before, entry.before), entry.before
    assert _matches(step.after, entry.after), entry.after
    assert entry.target_id and entry.target_type
    assert {entry.action for entry in written} <= set(ACTION_LABELS)  # the audit page names every action


def test_a_refused_change_writes_nothing(ctx):
    draft = _draft(ctx, code="NOPE1")
    Brand.objects.filter(pk=draft.pk).update(concept="")
    draft.refresh_from_db()
    from config.errors import ApplicationError

    with pytest.raises(ApplicationError):
        brand_services.brand_submit(user=ctx["secretary"], brand=draft)
    assert not AuditEntry.objects.filter(action="brand.submit").exists()


@override_settings(
    EVALUATION_POW_SOFT_LIMIT=10_000, EVALUATION_BURST_LIMIT=10_000, SURGE_MIN_COUNT=3, SURGE_MIN_DAILY=0.01
)
def test_the_submit_path_records_the_surges_it_opens_and_opens_again(ctx):
    def rate(number: int) -> None:
        signals = integrity.ClientSignals(ip=f"10.{number}.0.1", device_key=f"phone-{number}")
        evaluation_services.evaluation_submit(brand=ctx["public"], overall=5, signals=signals, channel="api")

    for number in range(5):
        rate(number)
    surge = Surge.objects.get()
    evaluation_services.surge_decide(surge=surge, release=False, actor=ctx["reviewer"])
    rate(9)  # a rejected surge holds the next rating again
    rows = AuditEntry.objects.filter(action__startswith="surge.").order_by("id")
    assert [(e.action, e.actor_id, e.organization_id, e.before, e.after) for e in rows] == [
        ("surge.open", None, ctx["community"].pk, {}, {"status": "open"}),
        (
            "surge.reject",
            ctx["reviewer"].pk,
            ctx["community"].pk,
            {"status": "open"},
            {"status": "rejected", "ratings": 2},
        ),
        ("surge.reopen", None, ctx["community"].pk, {"status": "rejected"}, {"status": "open"}),
    ]
    assert {e.target_id for e in rows} == {str(surge.pk)}


@pytest.mark.django_db(transaction=True)
def test_the_row_rolls_back_with_its_change(ctx):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        brand_services.commitment_add(user=ctx["secretary"], brand=ctx["public"], text="当天答复")
        assert AuditEntry.objects.filter(action="commitment.add").count() == 1
        raise RuntimeError
    assert AuditEntry.objects.count() == 0
    assert Commitment.objects.count() == 0


# --- the audit page ----------------------------------------------------------------------------------------

URL = "/workspace/audit/"


@pytest.fixture
def trail(ctx):
    """One row in each organization of the tree that has a secretary, and one of no organization."""
    community = make_brand(ctx["community"], "OURS1", name="我们的")
    grid = make_brand(ctx["tree"]["grid"], "GRID1", name="网格的")
    theirs = make_brand(ctx["tree"]["enterprise"], "THEIR", name="他们的")
    for brand, actor in ((community, ctx["secretary"]), (grid, ctx["secretary"]), (theirs, ctx["other_secretary"])):
        audit_record(actor=actor, action="brand.update", target=brand, before={"slogan": "旧"}, after={"slogan": "新"})
    api_token_issue(user=ctx["secretary"])
    return {"community": community, "grid": grid, "theirs": theirs}


def _labels(response) -> list[str]:
    return sorted(entry.target_label for entry in response.context["page"])


def test_each_role_reads_the_rows_of_its_reach(client, ctx, trail, city_reviewer):
    client.force_login(ctx["secretary"])
    assert _labels(client.get(URL)) == ["secretary", "我们的", "网格的"]  # its organization (and subtree), its token
    client.force_login(ctx["other_secretary"])
    assert _labels(client.get(URL)) == ["他们的"]
    client.force_login(ctx["reviewer"])
    assert _labels(client.get(URL)) == ["我们的", "网格的"]  # the district's subtree
    client.force_login(city_reviewer)
    assert _labels(client.get(URL)) == ["他们的", "我们的", "网格的"]


def test_another_organizations_secretary_sees_none_of_the_rows(client, ctx, trail):
    client.force_login(ctx["other_secretary"])
    page = client.get(URL).content.decode()
    assert "他们的" in page
    assert "我们的" not in page and "网格的" not in page and "brand.update" in page


def test_no_role_anywhere_is_a_404_and_anonymous_logs_in(client, outsider, trail):
    assert client.get(URL)["Location"].startswith("/accounts/login/")
    client.force_login(outsider)
    assert client.get(URL).status_code == 404


def test_filters_by_action_and_day(client, ctx, trail):
    client.force_login(ctx["secretary"])
    assert _labels(client.get(URL, {"action": "api_token.create"})) == ["secretary"]
    today = TODAY().isoformat()
    assert _labels(client.get(URL, {"since": today, "until": today})) == ["secretary", "我们的", "网格的"]
    AuditEntry.objects.filter(target_label="网格的").update(created_at=timezone.now() - datetime.timedelta(days=3))
    assert _labels(client.get(URL, {"since": today})) == ["secretary", "我们的"]
    yesterday = (TODAY() - datetime.timedelta(days=1)).isoformat()
    assert _labels(client.get(URL, {"until": yesterday})) == ["网格的"]


@pytest.mark.parametrize(
    "query",
    [{"since": "2026-13-01"}, {"action": "brand.nothing"}, {"since": "2026-12-02", "until": "2026-12-01"}],
)
def test_filters_that_cannot_be_read_are_a_400_with_the_reason(client, ctx, trail, query):
    client.force_login(ctx["secretary"])
    response = client.get(URL, query)
    assert response.status_code == 400
    assert response.context["page"] is None
    assert response.context["form"].errors


def test_pages_of_fifty_keep_the_filters(client, ctx):
    for number in range(60):
        audit_record(actor=ctx["secretary"], action="commitment.add", target=ctx["public"], label=f"行{number}")
    client.force_login(ctx["secretary"])
    first = client.get(URL, {"action": "commitment.add"})
    assert len(first.context["page"]) == 50
    assert "?action=commitment.add&amp;page=2" in first.content.decode()
    second = client.get(URL, {"action": "commitment.add", "page": 2})
    assert [entry.target_label for entry in second.context["page"]] == [f"行{n}" for n in range(9, -1, -1)]


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_list_costs_the_same_queries_at_1_and_20_rows(client, ctx):
    client.force_login(ctx["reviewer"])
    audit_record(actor=ctx["secretary"], action="commitment.add", target=ctx["public"])
    one = _queries(client, URL)
    for number in range(19):
        brand = make_brand(ctx["tree"]["grid"], f"Q{number:04d}")
        audit_record(actor=ctx["other_secretary"], action="brand.update", target=brand)
    assert AuditEntry.objects.count() == 20
    assert _queries(client, URL) == one == 6


def test_the_admin_reads_but_never_writes(client, ctx, trail):
    from organizations.models import User

    admin = User.objects.create_superuser("root", "root@example.org", "pass12345")
    client.force_login(admin)
    entry = AuditEntry.objects.first()
    assert client.get("/admin/organizations/auditentry/").status_code == 200
    assert client.get(f"/admin/organizations/auditentry/{entry.pk}/change/").status_code == 200  # a read-only view
    assert client.post(f"/admin/organizations/auditentry/{entry.pk}/delete/").status_code == 403
    assert client.get("/admin/organizations/auditentry/add/").status_code == 403


# --- roles, changed in the admin ------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, db):
    from organizations.models import User

    client.force_login(User.objects.create_superuser("root", "root@example.org", "pass12345"))
    return client


def _role_rows():
    rows = AuditEntry.objects.filter(action__startswith="membership.").order_by("id")
    return [(e.action, e.actor.username, e.organization_id, e.target_label, e.before, e.after) for e in rows]


def test_a_role_granted_changed_and_removed_in_the_admin_is_audited(admin_client, tree, outsider):
    community = tree["community"]
    add = {"user": outsider.pk, "organization": community.pk, "role": "staff"}
    assert admin_client.post("/admin/organizations/membership/add/", add).status_code == 302
    membership = Membership.objects.get(user=outsider)
    change = {**add, "role": "secretary"}
    url = f"/admin/organizations/membership/{membership.pk}/"
    assert admin_client.post(f"{url}change/", change).status_code == 302
    assert admin_client.post(f"{url}delete/", {"post": "yes"}).status_code == 302
    granted = {"user": "outsider", "organization": "华阳路社区党委", "role": "staff"}
    assert _role_rows() == [
        ("membership.grant", "root", community.pk, "outsider", {}, granted),
        ("membership.change", "root", community.pk, "outsider", {"role": "staff"}, {"role": "secretary"}),
        ("membership.revoke", "root", community.pk, "outsider", {**granted, "role": "secretary"}, {}),
    ]
    assert {e.target_id for e in AuditEntry.objects.all()} == {str(membership.pk)}


def test_roles_changed_on_the_users_page_are_audited(admin_client, tree, secretary):
    held = Membership.objects.get(user=secretary)
    data = {
        "username": "secretary", "email": "secretary@example.org", "is_active": "on", "display_name": "",
        "first_name": "", "last_name": "", "date_joined_0": "2026-12-01", "date_joined_1": "08:00:00",
        "memberships-TOTAL_FORMS": "2", "memberships-INITIAL_FORMS": "1",
        "memberships-MIN_NUM_FORMS": "0", "memberships-MAX_NUM_FORMS": "1000",
        "memberships-0-id": held.pk, "memberships-0-user": secretary.pk,
        "memberships-0-organization": tree["community"].pk, "memberships-0-role": "secretary",
        "memberships-0-DELETE": "on",
        "memberships-1-user": secretary.pk, "memberships-1-organization": tree["grid"].pk,
        "memberships-1-role": "staff",
    }  # fmt: skip
    response = admin_client.post(f"/admin/organizations/user/{secretary.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert [(action, organization) for action, _actor, organization, *_rest in _role_rows()] == [
        ("membership.revoke", tree["community"].pk),
        ("membership.grant", tree["grid"].pk),
    ]
    assert list(Membership.objects.filter(user=secretary).values_list("role", "organization")) == [
        ("staff", tree["grid"].pk)
    ]
