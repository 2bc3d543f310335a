"""Demo ratings for ``manage.py seed_demo``: ten months of rating history across the public demo brands.

Each brand follows a profile: how many ratings it gets a month and how they spread over the grades. A few
brands are strong (many ratings, mostly very satisfied), a few weak; 热线先锋 declines over the last two
months, 红色驿站 has gone silent for the last three weeks, and the two brands that adopted a case
(``brands.demo.ADOPTIONS``) do better from a few weeks after the day they adopted it. Volumes grow while
a brand's posters spread, dip at the Spring Festival and the National Day week, and differ between
weekdays and weekends.

Every bad review has its rectification, and each step of it is dated (response, the rater's verdict,
reopening, escalation, appeal and ruling): a step that would fall after now has not happened yet, so
recent ones are still open and late answers are marked overdue. A few ratings were held by the
submission checks: the recent ones wait for a reviewer, older ones were restored or rejected, each with
its audit row.

Rows are inserted in bulk rather than through ``evaluations.services`` (which folds scores after each
rating); ``manage.py aggregate_scores --full`` builds the score cells afterwards, as ``make run`` does.
Device and IP hashes are salted hashes as the submission path makes them (of made-up devices and
addresses) and receipts come from its generator. Idempotent: a brand that already has ratings is left
alone. The random choices are seeded by the brand's name, so a brand's history keeps its shape each time the
demo is rebuilt (its dates move with today).
"""

import math
import random
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from brands.models import Brand, CaseAdoption
from evaluations import integrity, services
from evaluations.models import (
    CommentStatus,
    Evaluation,
    EvaluationStateChange,
    HoldReason,
    Rectification,
    RectificationEvent,
)
from evaluations.workdays import add_working_days
from organizations.models import Membership, User

HISTORY_DAYS = 305  # ten months
LATE_DAYS = 60  # a declining brand's "last two months"
RAMP_MONTHS = 4  # a brand's volume grows to its full level over its first months, as its posters spread
ADOPTION_TAKES_DAYS = 30  # the adopted practice shows in the ratings gradually over the first month
HOLD_QUEUE_DAYS = 45  # held ratings younger than this still wait for a reviewer; older ones were decided

# Share of each grade, 5 down to 1.
EXCELLENT = (0.70, 0.22, 0.05, 0.02, 0.01)
GOOD = (0.56, 0.29, 0.09, 0.04, 0.02)
FAIR = (0.36, 0.32, 0.18, 0.09, 0.05)
POOR = (0.20, 0.24, 0.24, 0.18, 0.14)

# Volume by month of the year: the Spring Festival (February in 2026) and the National Day week.
SEASON = {1: 0.9, 2: 0.6, 10: 0.8}
HOURS = list(range(7, 22))
HOUR_WEIGHTS = [1, 5, 9, 10, 9, 6, 6, 8, 9, 8, 6, 5, 4, 3, 2]


@dataclass(frozen=True)
class Profile:
    per_month: float  # ratings a month at full volume
    shares: tuple[float, ...]  # grades 5..1
    months: int = 10  # how far back its ratings go
    groups: tuple[int, int, int] = (8, 2, 1)  # weights of masses, members, subordinate organizations
    weekend: float = 0.8  # weekend volume relative to a weekday
    late_shares: tuple[float, ...] | None = None  # in the last LATE_DAYS: a declining brand
    late_volume: float = 1.0  # and its volume then (complaints bring more ratings)
    silent_days: int = 0  # no ratings in the last this many days
    adopted_shares: tuple[float, ...] | None = None  # after adopting a case (brands.demo.ADOPTIONS)


PROFILES = {
    # strong: many ratings, mostly very satisfied
    "第一时间交给群众": Profile(150, EXCELLENT, weekend=0.25),  # the service hall is mostly closed at weekends
    "红色家园": Profile(90, EXCELLENT, weekend=1.2),
    "红色物业": Profile(80, GOOD, weekend=1.2),
    "海润先锋": Profile(65, GOOD),
    "暖心议事厅": Profile(45, EXCELLENT, weekend=1.2),
    "邻里红帮办": Profile(35, EXCELLENT, weekend=1.1),
    "志愿红": Profile(30, EXCELLENT, weekend=1.5),
    # ordinary
    "海尔蓝中党旗红": Profile(25, GOOD, groups=(6, 3, 1)),
    "红烛引航": Profile(30, GOOD, weekend=0.3),
    "茶香党建": Profile(22, GOOD),
    "水质卫士": Profile(20, EXCELLENT),
    "网格连心": Profile(20, GOOD, months=7, weekend=1.2),
    "依法把关 质量守门": Profile(18, GOOD, groups=(5, 1, 1), weekend=0.2),
    "智慧先锋": Profile(10, GOOD, months=6),
    "高效便利 服务外贸": Profile(10, GOOD, months=5, weekend=0.2),
    "代码报国": Profile(6, EXCELLENT, months=5, weekend=1.5),
    "比学赶超 文化立局": Profile(6, GOOD, months=6, groups=(0, 3, 1), weekend=0.1),  # rated by its own people
    # weak
    "海岸红哨": Profile(18, POOR),
    "美丽乡村先锋": Profile(14, POOR, months=8),
    "渔村振兴": Profile(12, FAIR, months=7),
    # declining over the last two months: the hotline could not keep up with an autumn of pipe works
    "热线先锋": Profile(60, GOOD, late_shares=POOR, late_volume=1.4),
    # silent for the last three weeks: the station is closed for renovation
    "红色驿站": Profile(28, GOOD, weekend=1.2, silent_days=21),
    # the adopters: weak or fair before adopting a case, better after
    "村改居连心桥": Profile(32, POOR, adopted_shares=GOOD),
    "服务零距离": Profile(40, FAIR, adopted_shares=EXCELLENT),
}
# Brands not named above (a brand added later, the tests' brands) take these in turn.
OTHER_PROFILES = [
    Profile(30, GOOD),
    Profile(60, EXCELLENT),
    Profile(12, FAIR, months=7),
    Profile(20, POOR),
    Profile(6, GOOD, months=4),
    Profile(45, GOOD, late_shares=POOR, late_volume=1.4),
    Profile(25, GOOD, silent_days=21),
    Profile(90, GOOD, weekend=1.2),
]

GOOD_COMMENTS = [
    "网格员上门很及时，问题当天就解决了。",
    "社区党员志愿服务做得很好，老人们都很满意。",
    "办事不用跑腿，手机上就能办，点赞！",
    "党员先锋岗服务热情，讲解清楚。",
    "停水前提前通知，抢修也快。",
    "工作人员很耐心，一次就说清楚了要带的材料。",
    "周末也有人值班，给上班族方便了。",
    "反映的问题有回音，办完还打电话回访。",
    "楼道灯和扶手都修好了，老人上下楼放心多了。",
    "公示栏每月更新，办了什么一目了然。",
]
FAIR_COMMENTS = [
    "总体还行，就是等的时间有点长。",
    "态度不错，效率还可以再提高。",
    "问题解决了一半，剩下的还在等。",
    "希望通知能再早一点。",
]
BAD_COMMENTS = [
    "反映的楼道照明问题一个月了还没修。",
    "窗口排队时间太长，工作人员态度一般。",
    "承诺的事情没有落实。",
    "电话打了好几次没人接。",
    "上门时间一改再改，白等了一上午。",
    "同一个问题反映了三次，每次都说在处理。",
    "停水没有提前通知，家里老人做不了饭。",
]
RESPONSES = [
    "已安排人员现场处理，并电话回访了反映人。",
    "已整改完毕，增加了周末服务时段。",
    "已约谈责任人，建立了限时办结制度。",
    "已与反映人当面沟通，维修已于次日完成。",
    "已调整排班，高峰时段增开一个窗口。",
]
SECOND_RESPONSES = ["已再次整改，并由支部书记上门说明情况。", "已更换施工单位返工，完工后请反映人验收。"]
APPEAL_REASONS = [
    "同一时段内多条内容相同的差评，疑似恶意。",
    "评价所述事项不属于本单位职责，已向反映人说明。",
]
# The course a rectification takes after opening, and how many in every 100 take it; a step that falls
# after now has not happened yet. Dealt from a shuffled deck rather than drawn independently, so that every
# course appears in its proportion even among a few brands' bad reviews.
PLANS = {
    "confirmed": 52,  # answered; the rater finds it solved or partly solved
    "unanswered": 14,  # answered; the rater never gives a verdict
    "reopen-confirmed": 8,  # not solved the first time, solved the second
    "reopen-closed": 6,  # not solved twice: escalated, and the reviewer settles it
    "reopen-escalated": 3,  # escalated, still with the reviewer
    "reopen-ignored": 3,  # reopened, and the organization has not answered again
    "ignored": 3,  # never answered
    "upheld": 6,  # appealed as malicious; the reviewer agrees and the rating is excluded
    "dismissed": 5,  # appealed; the reviewer disagrees and the work resumes
}
APPEALS = ("upheld", "dismissed")


class Deck:
    """PLANS as cards, dealt in shuffled rounds of 100."""

    def __init__(self, rng: random.Random):
        self.rng, self.cards = rng, []

    def deal(self) -> str:
        if not self.cards:
            self.cards = [plan for plan, count in PLANS.items() for _card in range(count)]
            self.rng.shuffle(self.cards)
        return self.cards.pop()


@dataclass
class Planned:
    """One rating to insert, and what follows from it."""

    evaluation: Evaluation
    opened_at: datetime | None = None  # its rectification opens then (None: it has none)
    state_changes: list[tuple[str, str, str, datetime]] = field(default_factory=list)  # from, to, reason, at


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:  # normal approximation; Knuth's product loop gets slow and underflows
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _grade(rng: random.Random, shares: tuple[float, ...]) -> int:
    return rng.choices((5, 4, 3, 2, 1), weights=shares)[0]


def _dimension(rng: random.Random, overall: int) -> int | None:
    """A dimension grade, given 60% of the time, close to the overall grade."""
    if rng.random() >= 0.6:
        return None
    return min(5, max(1, round(overall + rng.gauss(0, 0.7))))


def _shares(profile: Profile, day: date, today: date, adopted_on: date | None, rng: random.Random):
    if profile.late_shares and day > today - timedelta(days=LATE_DAYS):
        return profile.late_shares
    if profile.adopted_shares and adopted_on and day >= adopted_on:
        taken_up = (day - adopted_on).days / ADOPTION_TAKES_DAYS
        return profile.adopted_shares if rng.random() < taken_up else profile.shares
    return profile.shares


def _daily_mean(profile: Profile, day: date, start: date, month_noise: dict, today: date) -> float:
    if profile.silent_days and day > today - timedelta(days=profile.silent_days):
        return 0.0
    weekly = (5 + 2 * profile.weekend) / 7
    weekday = (profile.weekend if day.weekday() >= 5 else 1.0) / weekly
    ramp = min(1.0, 0.3 + 0.7 * ((day - start).days / 30.5) / RAMP_MONTHS)
    late = profile.late_volume if profile.late_shares and day > today - timedelta(days=LATE_DAYS) else 1.0
    season = SEASON.get(day.month, 1.0)
    return profile.per_month * 12 / 365 * weekday * ramp * season * late * month_noise[(day.year, day.month)]


def _comment(rng: random.Random, overall: int, at: datetime, now: datetime) -> tuple[str, str, str]:
    """(comment, status, moderation note): recent comments still wait for the moderator."""
    chance, pool = (
        (0.55, BAD_COMMENTS) if overall <= 2 else (0.2, FAIR_COMMENTS) if overall == 3 else (0.15, GOOD_COMMENTS)
    )
    if rng.random() >= chance:
        return "", CommentStatus.NONE, ""
    comment = rng.choice(pool)
    if now - at < timedelta(days=3) and rng.random() < 0.6:
        return comment, CommentStatus.PENDING, ""
    if rng.random() < 0.04:
        return comment, CommentStatus.HIDDEN, "hidden by reviewer"
    return comment, CommentStatus.PUBLISHED, "published by reviewer"


def _plan_brand(brand: Brand, profile: Profile, adopted_on: date | None) -> list[Planned]:
    rng = random.Random(zlib.crc32(brand.name.encode()))
    tz = timezone.get_current_timezone()
    now = timezone.now()
    today = timezone.localdate()
    start = today - timedelta(days=min(HISTORY_DAYS, round(profile.months * 30.5)))
    month_noise: dict[tuple[int, int], float] = {}
    day = start
    while day <= today:
        month_noise.setdefault((day.year, day.month), rng.uniform(0.75, 1.25))
        day += timedelta(days=1)
    # Raters: a pool of devices (some people rate again on another day) behind a pool of addresses.
    expected = profile.per_month * profile.months
    devices = max(20, round(expected * 0.8))
    networks = max(10, round(expected * 0.3))
    used: set[tuple[int, date]] = set()
    planned: list[Planned] = []
    day = start
    while day <= today:
        for _n in range(_poisson(rng, _daily_mean(profile, day, start, month_noise, today))):
            at = timezone.make_aware(
                datetime.combine(day, time(rng.choices(HOURS, weights=HOUR_WEIGHTS)[0], rng.randrange(60))), tz
            )
            if at > now:
                continue
            device = rng.randrange(devices)
            while (device, day) in used:  # one counted rating per device and day
                device = rng.randrange(devices * 2)
            used.add((device, day))
            overall = _grade(rng, _shares(profile, day, today, adopted_on, rng))
            comment, comment_status, comment_reason = _comment(rng, overall, at, now)
            contact = f"13{rng.randrange(10**9):09d}" if overall <= 2 and rng.random() < 0.45 else ""
            evaluation = Evaluation(
                brand=brand,
                organization_id=brand.organization_id,
                overall=overall,
                management=_dimension(rng, overall),
                service=_dimension(rng, overall),
                quality=_dimension(rng, overall),
                rater_group=rng.choices(["masses", "member", "sub_org"], weights=profile.groups)[0],
                comment=comment,
                comment_status=comment_status,
                comment_reason=comment_reason,
                contact=contact,
                channel="api" if rng.random() < 0.12 else "web",
                receipt=services.new_receipt(),
                device_hash=integrity.salted_hash("device", f"demo:{brand.pk}:{device}"),
                ip_hash=integrity.salted_hash("ip", f"demo:{rng.randrange(networks)}"),
                state=Evaluation.State.COUNTED,
                rated_on=day,
                created_at=at,
            )
            item = Planned(evaluation)
            if rng.random() < 0.03:  # held by the submission checks
                _hold(item, rng, now)
            counted = evaluation.state == Evaluation.State.COUNTED
            if overall <= 2 and (counted or contact):
                # Opened when it counted (a restored rating: when it was restored), or at once with a contact.
                restored = [when for _f, to, _r, when in item.state_changes if to == Evaluation.State.COUNTED]
                item.opened_at = restored[0] if restored and not contact else at
            planned.append(item)
        day += timedelta(days=1)
    return planned


def _hold(item: Planned, rng: random.Random, now: datetime) -> None:
    evaluation = item.evaluation
    reasons = rng.choice(
        [[HoldReason.TOO_FAST], [HoldReason.NETWORK], [HoldReason.NO_PROOF, HoldReason.NETWORK], [HoldReason.BOT_FIELD]]
    )
    evaluation.state = Evaluation.State.FLAGGED
    evaluation.state_reason = ";".join(reasons)
    decided = evaluation.created_at + timedelta(hours=rng.uniform(6, 72))
    if now - evaluation.created_at < timedelta(days=HOLD_QUEUE_DAYS) or decided > now:
        return  # still in the reviewers' queue
    to_state, reason = (
        (Evaluation.State.COUNTED, "restored by a reviewer")
        if rng.random() < 0.7
        else (Evaluation.State.EXCLUDED, "rejected by a reviewer")
    )
    item.state_changes.append((Evaluation.State.FLAGGED, to_state, reason, decided))
    evaluation.state, evaluation.state_reason = to_state, reason


def _rectification(item: Planned, plan: str, rng: random.Random, now: datetime, actor, reviewer):
    """The rectification of a bad review as it stands now, with its audit rows as (action, from, to, actor,
    note, at); an upheld appeal also excludes the rating (a state change on ``item``)."""
    evaluation = item.evaluation
    opened = item.opened_at
    local = timezone.localtime(opened).date()
    due_days = settings.RECTIFICATION_DUE_WORKING_DAYS
    rectification = Rectification(
        brand_id=evaluation.brand_id,
        organization_id=evaluation.organization_id,
        due_on=add_working_days(local, due_days),
        contact_due_on=(
            add_working_days(local, settings.RECTIFICATION_CONTACT_WORKING_DAYS) if evaluation.contact else None
        ),
        created_at=opened,
    )
    events = [("opened", "", "open", None, "", opened)]
    state = {"at": opened}

    def after(low: float, high: float) -> datetime:
        return state["at"] + timedelta(hours=rng.uniform(low * 24, high * 24))

    def mark_overdue(*, until: datetime) -> None:
        """The nightly sweep marks a rectification that still owes a response after its due date."""
        if rectification.status not in Rectification.AWAITING_RESPONSE or rectification.is_overdue:
            return
        swept = _sweep_after(max(state["at"], _start_of(rectification.due_on + timedelta(days=1))))
        if swept <= until:
            rectification.is_overdue = True
            note = str(rectification.due_on)
            events.append(("overdue", rectification.status, rectification.status, None, note, swept))

    def step(at: datetime, action: str, to_status: str, who=None, note: str = "", **fields) -> bool:
        """Take the step if its time has come; True if it was taken."""
        if at > now:
            return False
        mark_overdue(until=at)
        events.append((action, rectification.status, to_status, who, note, at))
        rectification.status = to_status
        for name, value in fields.items():
            setattr(rectification, name, value)
        state["at"] = at
        return True

    def respond(text: str) -> bool:
        at = after(*((0.3, 3) if rng.random() < 0.8 else (4, 10)))  # most answer within days; some late
        return step(at, "responded", "responded", actor, text, response=text, responded_at=at, verdict="")

    def verdict(value: str) -> bool:
        if value != "dissatisfied":
            return step(after(1, 7), "verdict", "confirmed", None, value, verdict=value)
        if rectification.reopen_count == 0:
            at = after(1, 7)
            reopened = step(at, "reopened", "reopened", None, value, verdict=value, reopen_count=1, is_overdue=False)
            if reopened:
                rectification.due_on = add_working_days(timezone.localtime(at).date(), due_days)
            return reopened
        return step(after(1, 6), "escalated", "escalated", None, value, verdict=value)

    if item.state_changes and plan in APPEALS:  # a reviewer already ruled on this rating (a decided hold)
        plan = "confirmed"
    rectification.status = "open"
    if plan in APPEALS:
        reason = rng.choice(APPEAL_REASONS)
        if step(
            after(0.5, 3), "appealed", "appealed", actor, reason, appeal_reason=reason, status_before_appeal="open"
        ):
            if plan == "upheld":
                ruling = "经核实，评价与事实不符，不计入评价结果。"
                if step(after(2, 8), "upheld", "upheld", reviewer, ruling, ruling=ruling):
                    item.state_changes.append(
                        (evaluation.state, Evaluation.State.EXCLUDED, f"appeal upheld: {ruling}", state["at"])
                    )
                    evaluation.state, evaluation.state_reason = Evaluation.State.EXCLUDED, f"appeal upheld: {ruling}"
            else:
                ruling = "未发现恶意评价的证据，请继续整改。"
                if step(after(2, 8), "dismissed", "open", reviewer, ruling, ruling=ruling) and respond(
                    rng.choice(RESPONSES)
                ):
                    verdict(rng.choice(["satisfied", "basic"]))
    elif plan != "ignored" and respond(rng.choice(RESPONSES)):
        if plan == "confirmed":
            verdict(rng.choice(["satisfied", "satisfied", "basic"]))
        elif (
            plan.startswith("reopen")
            and verdict("dissatisfied")
            and plan != "reopen-ignored"
            and respond(rng.choice(SECOND_RESPONSES))
        ):
            if plan == "reopen-confirmed":
                verdict(rng.choice(["satisfied", "basic"]))
            elif verdict("dissatisfied") and plan == "reopen-closed":
                ruling = "经督办，问题已解决。"
                step(after(2, 10), "closed", "closed", reviewer, ruling, ruling=ruling)
    mark_overdue(until=now)
    return rectification, events


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(0, 0)))


def _sweep_after(moment: datetime) -> datetime:
    """The first nightly overdue sweep (01:00 local) at or after ``moment``."""
    local = timezone.localtime(moment)
    swept = _start_of(local.date()) + timedelta(hours=1)
    return swept if swept >= moment else swept + timedelta(days=1)


def _secretary(brand: Brand) -> User | None:
    membership = (
        Membership.objects.filter(organization_id=brand.organization_id, role=Membership.Role.SECRETARY)
        .select_related("user")
        .first()
    )
    return membership.user if membership else None


def _seed_brand(brand: Brand, profile: Profile, reviewer: User | None, deck: Deck) -> dict[str, int]:
    adoption = CaseAdoption.objects.filter(brand=brand).order_by("adopted_on").first()
    planned = _plan_brand(brand, profile, adoption.adopted_on if adoption else None)
    rng = random.Random(zlib.crc32(f"rectifications:{brand.name}".encode()))
    now = timezone.now()
    actor = _secretary(brand)
    rectified = [
        (item, *_rectification(item, deck.deal(), rng, now, actor, reviewer))
        for item in planned
        if item.opened_at is not None
    ]
    Evaluation.objects.bulk_create([item.evaluation for item in planned], batch_size=500)
    for item, rectification, _events in rectified:
        rectification.evaluation = item.evaluation
    Rectification.objects.bulk_create([rectification for _item, rectification, _events in rectified], batch_size=500)
    RectificationEvent.objects.bulk_create(
        [
            RectificationEvent(
                rectification=rectification,
                action=action,
                from_status=before,
                to_status=after,
                actor=who,
                note=note,
                created_at=at,
            )
            for _item, rectification, events in rectified
            for action, before, after, who, note, at in events
        ],
        batch_size=500,
    )
    EvaluationStateChange.objects.bulk_create(
        [
            EvaluationStateChange(
                evaluation=item.evaluation,
                brand_id=brand.pk,
                from_state=before,
                to_state=after,
                reason=reason,
                actor=reviewer,
                created_at=at,
            )
            for item in planned
            for before, after, reason, at in item.state_changes
        ],
        batch_size=500,
    )
    return {
        "ratings": len(planned),
        "rectifications": len(rectified),
        "flagged": sum(item.evaluation.state == Evaluation.State.FLAGGED for item in planned),
    }


def seed(stdout=None) -> dict[str, int]:
    totals = {"ratings": 0, "rectifications": 0, "flagged": 0}
    reviewer = User.objects.filter(username="reviewer").first()
    brands = Brand.objects.filter(status__in=Brand.PUBLIC_STATUSES).order_by("code")
    others = 0
    deck = Deck(random.Random(2026))
    for brand in brands:
        profile = PROFILES.get(brand.name)
        if profile is None:
            profile, others = OTHER_PROFILES[others % len(OTHER_PROFILES)], others + 1
        if brand.evaluations.exists():
            continue
        with transaction.atomic():
            for key, value in _seed_brand(brand, profile, reviewer, deck).items():
                totals[key] += value
    return totals
