"""Demo ratings for ``manage.py seed_demo``: several months across the public demo brands.

Runs after the brands seeder. Most brands are rated well, a few poorly, with
very different sample sizes; bad reviews have rectifications in every state,
and a few ratings are flagged. Idempotent: a brand that already has demo
ratings (device hashes starting with ``demo-``) is skipped.
"""

import random
import zlib
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from brands.models import Brand
from evaluations import services
from evaluations.models import CommentStatus, Evaluation, Rectification, RectificationEvent
from evaluations.workdays import add_working_days
from organizations.models import Membership

DAYS = 180
GOOD_COMMENTS = [
    "网格员上门很及时，问题当天就解决了。",
    "社区党员志愿服务做得很好，老人们都很满意。",
    "办事不用跑腿，手机上就能办，点赞！",
    "党员先锋岗服务热情，讲解清楚。",
    "停水前提前通知，抢修也快。",
]
BAD_COMMENTS = [
    "反映的楼道照明问题一个月了还没修。",
    "窗口排队时间太长，工作人员态度一般。",
    "承诺的事情没有落实。",
    "电话打了好几次没人接。",
]
RESPONSES = [
    "已安排人员现场处理，并电话回访了反映人。",
    "已整改完毕，增加了周末服务时段。",
    "已约谈责任人，建立了限时办结制度。",
]
# Share of each grade 5..1 for a well-rated and a poorly rated brand.
GOOD = [0.62, 0.27, 0.07, 0.03, 0.01]
POOR = [0.25, 0.25, 0.22, 0.17, 0.11]
RECTIFICATION_CYCLE = [
    "confirmed",
    "open",
    "responded",
    "overdue",
    "reopened",
    "escalated",
    "appealed",
    "upheld",
    "closed",
    "confirmed",
]


def _grade(rng: random.Random, shares: list[float]) -> int:
    return rng.choices([5, 4, 3, 2, 1], weights=shares)[0]


def _secretary(brand: Brand):
    membership = (
        Membership.objects.filter(organization_id=brand.organization_id, role=Membership.Role.SECRETARY)
        .select_related("user")
        .first()
    )
    return membership.user if membership else None


def _rectification(evaluation: Evaluation, state: str, rng: random.Random, actor) -> None:
    opened = evaluation.created_at
    due = add_working_days(evaluation.rated_on, 5)
    today = timezone.localdate()
    rectification = Rectification.objects.create(
        evaluation=evaluation,
        brand_id=evaluation.brand_id,
        organization_id=evaluation.organization_id,
        due_on=due if state not in ("open", "reopened", "appealed") else max(due, today + timedelta(days=2)),
        contact_due_on=add_working_days(evaluation.rated_on, 1) if evaluation.contact else None,
        created_at=opened,
    )
    events = [("opened", "", "open", None, "")]
    if state == "overdue":
        rectification.due_on = today - timedelta(days=rng.randint(1, 10))
        rectification.is_overdue = True
        events.append(("overdue", "open", "open", None, str(rectification.due_on)))
        state = "open"
    if state in ("responded", "confirmed", "reopened", "escalated", "closed"):
        rectification.response = rng.choice(RESPONSES)
        rectification.responded_at = opened + timedelta(days=2)
        events.append(("responded", "open", "responded", actor, rectification.response))
    if state == "confirmed":
        rectification.verdict = rng.choice(["satisfied", "basic"])
        events.append(("verdict", "responded", "confirmed", None, rectification.verdict))
    if state in ("reopened", "escalated", "closed"):
        rectification.verdict = "dissatisfied"
        rectification.reopen_count = 1
        events.append(("reopened", "responded", "reopened", None, "dissatisfied"))
    if state in ("escalated", "closed"):
        events.append(("responded", "reopened", "responded", actor, "已再次整改。"))
        events.append(("escalated", "responded", "escalated", None, "dissatisfied"))
    if state == "closed":
        rectification.ruling = "经督办，问题已解决。"
        events.append(("closed", "escalated", "closed", None, rectification.ruling))
    if state in ("appealed", "upheld"):
        rectification.appeal_reason = "同一时段内多条内容相同的差评，疑似恶意。"
        rectification.status_before_appeal = "open"
        events.append(("appealed", "open", "appealed", actor, rectification.appeal_reason))
    if state == "upheld":
        rectification.ruling = "经核实，评价与事实不符。"
        events.append(("upheld", "appealed", "upheld", None, rectification.ruling))
    rectification.status = state
    rectification.save()
    for index, (action, before, after, who, note) in enumerate(events):
        RectificationEvent.objects.create(
            rectification=rectification,
            action=action,
            from_status=before,
            to_status=after,
            actor=who,
            note=note,
            created_at=opened + timedelta(hours=index * 20),
        )
    if state == "upheld":
        services.evaluation_change_state(
            evaluation=evaluation, to_state=Evaluation.State.EXCLUDED, reason="appeal upheld: " + rectification.ruling
        )


def _seed_brand(brand: Brand, index: int) -> dict[str, int]:
    rng = random.Random(zlib.crc32(brand.code.encode()))
    poor = index % 5 == 3  # a few brands are rated poorly
    size = rng.choice([4, 12, 30, 60, 120, 200])
    shares = POOR if poor else GOOD
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    created = {"ratings": 0, "rectifications": 0, "flagged": 0}
    actor = _secretary(brand)
    cycle = 0
    for i in range(size):
        day = today - timedelta(days=rng.randint(0, DAYS))
        at = timezone.make_aware(datetime.combine(day, time(rng.randint(8, 20), rng.randint(0, 59))), tz)
        overall = _grade(rng, shares)
        flagged = rng.random() < 0.04
        comment = ""
        if rng.random() < 0.25:
            comment = rng.choice(BAD_COMMENTS if overall <= 2 else GOOD_COMMENTS)
        evaluation = Evaluation.objects.create(
            brand=brand,
            organization_id=brand.organization_id,
            overall=overall,
            management=_grade(rng, shares) if rng.random() < 0.6 else None,
            service=_grade(rng, shares) if rng.random() < 0.6 else None,
            quality=_grade(rng, shares) if rng.random() < 0.6 else None,
            rater_group=rng.choices(["masses", "member", "sub_org"], weights=[7, 2, 1])[0],
            comment=comment,
            contact=f"1380000{rng.randint(1000, 9999)}" if overall <= 2 and rng.random() < 0.5 else "",
            channel=rng.choice(["web", "web", "web", "api"]),
            receipt=services.new_receipt(),
            device_hash=f"demo-{brand.code}-{i}",
            ip_hash=f"demo-ip-{rng.randint(1, 10_000)}",
            state=Evaluation.State.FLAGGED if flagged else Evaluation.State.COUNTED,
            state_reason=rng.choice(["honeypot field filled", "burst from one network"]) if flagged else "",
            rated_on=day,
            created_at=at,
            comment_status=(
                CommentStatus.NONE
                if not comment
                else (CommentStatus.PENDING if rng.random() < 0.3 else CommentStatus.PUBLISHED)
            ),
        )
        created["ratings"] += 1
        if flagged:
            created["flagged"] += 1
        elif overall <= 2:
            _rectification(evaluation, RECTIFICATION_CYCLE[cycle % len(RECTIFICATION_CYCLE)], rng, actor)
            cycle += 1
            created["rectifications"] += 1
    return created


def seed(stdout=None) -> dict[str, int]:
    totals = {"ratings": 0, "rectifications": 0, "flagged": 0}
    brands = Brand.objects.filter(status__in=Brand.PUBLIC_STATUSES).order_by("code")
    for index, brand in enumerate(brands):
        if brand.evaluations.filter(device_hash__startswith="demo-").exists():
            continue
        with transaction.atomic():
            for key, value in _seed_brand(brand, index).items():
                totals[key] += value
    return totals
