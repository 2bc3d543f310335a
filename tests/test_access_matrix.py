"""Who reaches what: every URL pattern × method × role, against a row of "ours" and a row of "theirs".

The routes are enumerated from the resolver, so a new route fails ``test_every_route_is_in_the_table``
until it has a row in ``EXPECTED``. Each role's test sends every request of the table as that role and
collects every cell that differs, so one run shows all of them.

Roles (tests/conftest.py): anonymous; ``secretary`` of 华阳路社区党委 (community, "ours"); ``secretary2``,
secretary of 海润自来水集团党委 (enterprise, "theirs"); ``district_reviewer`` over 市北区委 (whose subtree
holds the community, not the enterprise); ``reviewer`` over the whole city.

A row's value lists the roles in that order, separated by spaces; each role has one letter per object
("ours" then "theirs") for routes with an object in the URL, one letter for the others:

* ``Y``: reached: 2xx, a redirect that is not to the login page, or 400/409 (the view judged the input).
* ``N``: refused: a redirect to the login page, 401, 403 or 404.
* ``-``: the route does not serve the method (405).

POSTs carry an empty form (or the few fields a route needs to find its rows, ``POST_DATA``); each request
runs in a savepoint rolled back afterwards, so one role's POST changes nothing the next request sees.

Not enumerated: ``admin/`` (Django's admin, staff only), ``i18n/`` (Django's language switch), the media
files (``media``: a file path, not a row; covered by the media tests) and ``api-schema``/``api-docs``
(public by design, and exercised by tests/test_api_schema.py).
"""

import datetime
import json
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from brands.models import Brand, Case, Commitment, Milestone, Plan
from dashboards.models import EarlyWarning, SupportAction, SupportCase
from evaluations.models import CommentStatus, Evaluation, RatingCodeBatch, Rectification, Surge
from tests.factories import make_brand, make_evaluation

ROLES = ("anonymous", "secretary", "secretary2", "district_reviewer", "reviewer")
SKIPPED = {"api-schema", "api-docs", "set_language", "media"}
OBJECT_PARAMETERS = {"code", "pk", "receipt", "milestone_id", "action_pk"}
API_WRITE_METHODS = ("PUT", "PATCH", "DELETE")

# fmt: off
EXPECTED: dict[tuple[str, str], str] = {
    ("api-evaluation-submit", "GET"): "YY YY YY YY YY",
    ("api-evaluation-submit", "POST"): "YY YY YY YY YY",
    ("api-rating-codes", "GET"): "NN -- -- -- --",
    ("api-rating-codes", "POST"): "NN YN NY NN NN",
    ("api-evaluation-track", "GET"): "YY YY YY YY YY",
    ("api-evaluation-track", "POST"): "-- -- -- -- --",
    ("api-rectification-list", "GET"): "N Y Y Y Y",
    ("api-rectification-list", "POST"): "N - - - -",
    ("api-rectification-respond", "GET"): "NN -- -- -- --",
    ("api-rectification-respond", "POST"): "NN YN NY NN NN",
    ("api-token", "GET"): "N - - - -",
    ("api-token", "POST"): "Y Y Y Y Y",
    ("api-token", "DELETE"): "N Y Y Y Y",  # a session, not a token: 400
    ("api-organization-list", "GET"): "N Y Y Y Y",
    ("api-organization-list", "POST"): "N - - - -",
    ("api-ranking-list", "GET"): "Y Y Y Y Y",
    ("api-ranking-list", "POST"): "- - - - -",
    ("api-brand-scores", "GET"): "YY YY YY YY YY",
    ("api-brand-scores", "POST"): "-- -- -- -- --",
    ("api-brand-list", "GET"): "Y Y Y Y Y",
    ("api-brand-list", "POST"): "N Y Y Y Y",  # reviewers: 400, they manage no organization to file for
    ("api-brand-detail", "GET"): "YY YY YY YY YY",
    ("api-brand-detail", "POST"): "NN -- -- -- --",
    ("api-brand-detail", "PATCH"): "NN YN NY NN NN",
    ("api-brand-commitments", "GET"): "YY YY YY YY YY",
    ("api-brand-commitments", "POST"): "NN YN NY NN NN",
    ("api-brand-milestone-detail", "GET"): "YY YY YY YY YY",
    ("api-brand-milestone-detail", "POST"): "NN -- -- -- --",
    ("api-brand-milestone-detail", "PATCH"): "NN YN NY NN NN",
    ("api-brand-milestones", "GET"): "YY YY YY YY YY",
    ("api-brand-milestones", "POST"): "NN YN NY NN NN",
    ("api-brand-plan", "GET"): "YY YY YY YY YY",
    ("api-brand-plan", "POST"): "NN -- -- -- --",
    ("api-brand-plan", "PUT"): "NN YN NY NN NN",
    ("api-brand-review", "GET"): "-- -- -- -- --",
    ("api-brand-review", "POST"): "NN NN NN YN YY",
    ("api-brand-submit", "GET"): "-- -- -- -- --",
    ("api-brand-submit", "POST"): "NN YN NY NN NN",
    ("home", "GET"): "Y Y Y Y Y",
    ("home", "POST"): "Y Y Y Y Y",
    ("healthz", "GET"): "Y Y Y Y Y",
    ("healthz", "POST"): "Y Y Y Y Y",
    ("favicon", "GET"): "Y Y Y Y Y",
    ("favicon", "POST"): "Y Y Y Y Y",
    ("login", "GET"): "Y Y Y Y Y",
    ("login", "POST"): "Y Y Y Y Y",
    ("logout", "GET"): "- - - - -",
    ("logout", "POST"): "Y Y Y Y Y",
    ("password_change", "GET"): "N Y Y Y Y",
    ("password_change", "POST"): "N Y Y Y Y",
    ("password_change_done", "GET"): "N Y Y Y Y",
    ("password_change_done", "POST"): "N - - - -",
    ("password_reset", "GET"): "Y Y Y Y Y",
    ("password_reset", "POST"): "Y Y Y Y Y",
    ("password_reset_done", "GET"): "Y Y Y Y Y",
    ("password_reset_done", "POST"): "- - - - -",
    ("password_reset_confirm", "GET"): "Y Y Y Y Y",
    ("password_reset_confirm", "POST"): "Y Y Y Y Y",
    ("password_reset_complete", "GET"): "Y Y Y Y Y",
    ("password_reset_complete", "POST"): "- - - - -",
    ("workspace", "GET"): "N Y Y Y Y",  # any member; it lists what the user manages (nothing for a reviewer)
    ("workspace", "POST"): "N Y Y Y Y",
    ("audit-list", "GET"): "N Y Y Y Y",  # any member: the rows of the organizations the role reaches
    ("audit-list", "POST"): "N - - - -",
    ("dashboard", "GET"): "N N N Y Y",  # reviewers only; POST renders the same page
    ("dashboard", "POST"): "N N N Y Y",
    ("dashboard-excel", "GET"): "N N N Y Y",
    ("dashboard-excel", "POST"): "N N N Y Y",
    ("dashboard-csv", "GET"): "N N N Y Y",
    ("dashboard-csv", "POST"): "N N N Y Y",
    ("dashboard-warning", "GET"): "NN NN NN YN YY",
    ("dashboard-warning", "POST"): "NN NN NN YN YY",
    ("dashboard-warning-acknowledge", "GET"): "NN -- -- -- --",
    ("dashboard-warning-acknowledge", "POST"): "NN NN NN YN YY",
    ("dashboard-case-open", "GET"): "NN -- -- -- --",
    ("dashboard-case-open", "POST"): "NN NN NN YN YY",
    ("support-case", "GET"): "NN YN NY YN YY",  # the helped organization, its reviewers (and the mentor's members)
    ("support-case", "POST"): "NN YN NY YN YY",
    ("support-case-action", "GET"): "NN -- -- -- --",
    ("support-case-action", "POST"): "NN YN NY YN YY",
    ("support-case-action-done", "GET"): "NN -- -- -- --",
    ("support-case-action-done", "POST"): "NN YN NY YN YY",
    ("support-case-note", "GET"): "NN -- -- -- --",
    ("support-case-note", "POST"): "NN YN NY YN YY",
    ("support-case-close", "GET"): "NN -- -- -- --",
    ("support-case-close", "POST"): "NN NN NN YN YY",  # reviewers only (a valid form: the service decides)
    ("brand-directory", "GET"): "Y Y Y Y Y",
    ("brand-directory", "POST"): "Y Y Y Y Y",
    ("brand-detail", "GET"): "YY YY YY YY YY",
    ("brand-detail", "POST"): "YY YY YY YY YY",  # the page ignores the method
    ("case-list", "GET"): "Y Y Y Y Y",
    ("case-list", "POST"): "Y Y Y Y Y",
    ("case-detail", "GET"): "YY YY YY YY YY",
    ("case-detail", "POST"): "YY YY YY YY YY",
    ("case-adopt", "GET"): "NN -- -- -- --",
    ("case-adopt", "POST"): "NN YN NY NN NN",  # into a brand the user manages
    ("workspace-brand-create", "GET"): "N Y Y N N",
    ("workspace-brand-create", "POST"): "N Y Y N N",
    ("workspace-brand", "GET"): "NN YN NY NN NN",
    ("workspace-brand", "POST"): "NN YN NY NN NN",
    ("workspace-brand-edit", "GET"): "NN YN NY NN NN",
    ("workspace-brand-edit", "POST"): "NN YN NY NN NN",
    ("workspace-brand-submit", "GET"): "NN -- -- -- --",
    ("workspace-brand-submit", "POST"): "NN YN NY NN NN",
    ("workspace-commitment-add", "GET"): "NN -- -- -- --",
    ("workspace-commitment-add", "POST"): "NN YN NY NN NN",
    ("workspace-commitment-edit", "GET"): "NN YN NY NN NN",
    ("workspace-commitment-edit", "POST"): "NN YN NY NN NN",
    ("workspace-plan", "GET"): "NN YN NY NN NN",
    ("workspace-plan", "POST"): "NN YN NY NN NN",
    ("workspace-milestone-add", "GET"): "NN YN NY NN NN",
    ("workspace-milestone-add", "POST"): "NN YN NY NN NN",
    ("workspace-milestone-edit", "GET"): "NN YN NY NN NN",
    ("workspace-milestone-edit", "POST"): "NN YN NY NN NN",
    ("workspace-milestone-done", "GET"): "NN -- -- -- --",
    ("workspace-milestone-done", "POST"): "NN YN NY NN NN",
    ("workspace-report-add", "GET"): "NN YN NY NN NN",
    ("workspace-report-add", "POST"): "NN YN NY NN NN",
    ("workspace-case-add", "GET"): "NN YN NY NN NN",
    ("workspace-case-add", "POST"): "NN YN NY NN NN",
    ("workspace-case-edit", "GET"): "NN YN NY NN NN",
    ("workspace-case-edit", "POST"): "NN YN NY NN NN",
    ("dashboard-brand", "GET"): "NN NN NN YN YY",
    ("dashboard-brand", "POST"): "NN NN NN YN YY",
    ("dashboard-case-publish", "GET"): "NN -- -- -- --",
    ("dashboard-case-publish", "POST"): "NN NN NN YN YY",
    ("evaluations:rate", "GET"): "YY YY YY YY YY",
    ("evaluations:rate", "POST"): "YY YY YY YY YY",
    ("evaluations:thanks", "GET"): "YY YY YY YY YY",
    ("evaluations:thanks", "POST"): "-- -- -- -- --",
    ("evaluations:qr-png", "GET"): "YY YY YY YY YY",
    ("evaluations:qr-png", "POST"): "-- -- -- -- --",
    ("evaluations:qr-svg", "GET"): "YY YY YY YY YY",
    ("evaluations:qr-svg", "POST"): "-- -- -- -- --",
    ("evaluations:poster", "GET"): "YY YY YY YY YY",
    ("evaluations:poster", "POST"): "-- -- -- -- --",
    ("evaluations:track-lookup", "GET"): "Y Y Y Y Y",
    ("evaluations:track-lookup", "POST"): "Y Y Y Y Y",
    ("evaluations:track", "GET"): "YY YY YY YY YY",
    ("evaluations:track", "POST"): "YY YY YY YY YY",
    ("evaluations:workspace-rectifications", "GET"): "N Y Y Y Y",
    ("evaluations:workspace-rectifications", "POST"): "N Y Y Y Y",
    ("evaluations:workspace-rectification", "GET"): "NN YN NY YN YY",
    ("evaluations:workspace-rectification", "POST"): "NN YN NY YN YY",
    ("evaluations:workspace-respond", "GET"): "NN -- -- -- --",
    ("evaluations:workspace-respond", "POST"): "NN YN NY NN NN",
    ("evaluations:workspace-appeal", "GET"): "NN -- -- -- --",
    ("evaluations:workspace-appeal", "POST"): "NN YN NY NN NN",
    ("evaluations:dashboard-rectifications", "GET"): "N Y Y Y Y",
    ("evaluations:dashboard-rectifications", "POST"): "N Y Y Y Y",
    ("evaluations:dashboard-rectification", "GET"): "NN NN NN YN YY",
    ("evaluations:dashboard-rectification", "POST"): "NN NN NN YN YY",
    ("evaluations:dashboard-rule", "GET"): "NN -- -- -- --",
    ("evaluations:dashboard-rule", "POST"): "NN NN NN YN YY",
    ("evaluations:dashboard-close", "GET"): "NN -- -- -- --",
    ("evaluations:dashboard-close", "POST"): "NN NN NN YN YY",
    ("evaluations:workspace-rating-codes", "GET"): "NN YN NY NN NN",
    ("evaluations:workspace-rating-codes", "POST"): "NN YN NY NN NN",
    ("evaluations:dashboard-surges", "GET"): "N Y Y Y Y",
    ("evaluations:dashboard-surges", "POST"): "N Y Y Y Y",
    ("evaluations:dashboard-surge", "GET"): "NN NN NN YN YY",
    ("evaluations:dashboard-surge", "POST"): "NN NN NN YN YY",
    ("evaluations:dashboard-surge-decide", "GET"): "NN -- -- -- --",
    ("evaluations:dashboard-surge-decide", "POST"): "NN NN NN YN YY",
    ("evaluations:moderation-comments", "GET"): "N Y Y Y Y",
    ("evaluations:moderation-comments", "POST"): "N Y Y Y Y",
    ("evaluations:moderation-comment", "GET"): "NN -- -- -- --",
    ("evaluations:moderation-comment", "POST"): "NN NN NN YN YY",
    ("evaluations:moderation-flagged", "GET"): "N Y Y Y Y",
    ("evaluations:moderation-flagged", "POST"): "N Y Y Y Y",
    ("evaluations:moderation-restore", "GET"): "NN -- -- -- --",
    ("evaluations:moderation-restore", "POST"): "NN NN NN YN YY",
    ("rankings", "GET"): "Y Y Y Y Y",
    ("rankings", "POST"): "Y Y Y Y Y",
    ("rankings-csv", "GET"): "Y Y Y Y Y",
    ("rankings-csv", "POST"): "Y Y Y Y Y",
    ("rankings-fields-csv", "GET"): "Y Y Y Y Y",
    ("rankings-fields-csv", "POST"): "Y Y Y Y Y",
}

# Routes whose <code> names a public brand, asked again about a draft: a public page or read must not show
# one; the API shows it to those who may view its organization.
DRAFTS: dict[tuple[str, str, str], str] = {
    ("api-evaluation-submit", "GET", "draft"): "NN NN NN NN NN",
    ("api-evaluation-submit", "POST", "draft"): "NN NN NN NN NN",
    ("api-brand-scores", "GET", "draft"): "NN NN NN NN NN",
    ("api-brand-detail", "GET", "draft"): "NN YN NY YN YY",
    ("api-brand-commitments", "GET", "draft"): "NN YN NY YN YY",
    ("api-brand-milestone-detail", "GET", "draft"): "NN YN NY YN YY",
    ("api-brand-milestones", "GET", "draft"): "NN YN NY YN YY",
    ("api-brand-plan", "GET", "draft"): "NN YN NY YN YY",
    ("brand-detail", "GET", "draft"): "NN NN NN NN NN",
    ("evaluations:rate", "GET", "draft"): "NN NN NN NN NN",
    ("evaluations:rate", "POST", "draft"): "NN NN NN NN NN",
    ("evaluations:qr-png", "GET", "draft"): "NN NN NN NN NN",
    ("evaluations:qr-svg", "GET", "draft"): "NN NN NN NN NN",
    ("evaluations:poster", "GET", "draft"): "NN NN NN NN NN",
}
# fmt: on

# Cells known to be wrong in the application: (route, method, role, object index) → why. They are expected
# to differ from the table (xfail); the day one is fixed, its test fails until the entry goes.
KNOWN_BUGS: dict[tuple[str, str, str, int], str] = {}


# --- routes -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str
    parameters: frozenset[str]
    methods: tuple[str, ...]

    @property
    def has_object(self) -> bool:
        return bool(self.parameters & OBJECT_PARAMETERS)


def _walk(patterns, namespace: str = "", prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if str(pattern.pattern).startswith("admin/"):
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, inner, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}", pattern


def _methods(callback) -> tuple[str, ...]:
    """GET and POST for every route; PUT, PATCH and DELETE too for an API route that declares them."""
    methods = ["GET", "POST"]
    actions = getattr(callback, "actions", None)  # a DRF viewset route: its method → action map
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    for method in API_WRITE_METHODS:
        if actions is not None:
            declared = method.lower() in actions
        else:
            declared = view_class is not None and hasattr(view_class, "permission_classes")
            declared = declared and hasattr(view_class, method.lower())
        if declared:
            methods.append(method)
    return tuple(methods)


def enumerate_routes() -> list[Route]:
    routes = []
    for name, pattern in _walk(get_resolver().url_patterns):
        if name in SKIPPED:
            continue
        parameters = frozenset(pattern.pattern.regex.groupindex)
        routes.append(Route(name, parameters, _methods(pattern.callback)))
    return routes


# --- rows of two organizations ------------------------------------------------------------------------------


def _organization_rows(organization, *, prefix: str, author, mentor) -> dict:
    """One of everything a URL can name, owned by ``organization``; brand codes start with ``prefix``."""
    rows = {"brands": {}}
    for number, status in enumerate(Brand.Status.values):
        # Upper case, as the service issues them: the public page redirects any other spelling.
        code = f"{prefix}{number}"
        brand = make_brand(organization, code=code, status=status, name=f"{organization.name}·{status}")
        rows["brands"][status] = brand
        plan = Plan.objects.create(brand=brand, organization=organization, start_year=2026, end_year=2027, goals="目标")
        rows.setdefault("milestones", {})[status] = Milestone.objects.create(
            plan=plan, organization=organization, title="节点", due_date=datetime.date(2027, 6, 30), weight=1
        )
        rows.setdefault("commitments", {})[status] = Commitment.objects.create(
            brand=brand, organization=organization, text="当天答复", position=1
        )
    public = rows["brands"][Brand.Status.CULTIVATING]
    draft = rows["brands"][Brand.Status.DRAFT]
    now = timezone.now()
    rows["published_case"] = Case.objects.create(
        brand=public,
        organization=organization,
        title="经验",
        summary="摘要",
        body="正文",
        author=author,
        status=Case.Status.PUBLISHED,
        published_by=author,
        published_at=now,
    )
    rows["submitted_case"] = Case.objects.create(
        brand=public,
        organization=organization,
        title="待发布",
        summary="摘要",
        body="正文",
        author=author,
        status=Case.Status.SUBMITTED,
    )
    rows["draft_case"] = Case.objects.create(
        brand=draft, organization=organization, title="草稿", summary="摘要", body="正文", author=author
    )
    rating = make_evaluation(
        public, 1, contact="13800000000", comment="没有人回电话", comment_status=CommentStatus.PENDING
    )
    rows["rating"] = rating
    rows["rectification"] = Rectification.objects.create(
        evaluation=rating, brand=public, organization=organization, due_on=datetime.date(2026, 11, 20)
    )
    rows["flagged"] = make_evaluation(public, 5, state=Evaluation.State.FLAGGED, state_reason="too-fast")
    rows["surge"] = Surge.objects.create(
        brand=public,
        organization=organization,
        day=datetime.date(2026, 11, 10),
        expected=2.0,
        own_rate=1.5,
        peer_rate=2.0,
        threshold=10,
    )
    rows["batch"] = RatingCodeBatch.objects.create(
        brand=public, issued_by=author, count=1, expires_at=now + datetime.timedelta(days=7)
    )
    warning = EarlyWarning.objects.create(brand=public, organization=organization, rule=EarlyWarning.Rule.SILENT)
    rows["warning"] = warning
    rows["support_case"] = SupportCase.objects.create(
        organization=organization, brand=public, mentor=mentor, warning=warning, goal="提升", opened_by=author
    )
    rows["support_action"] = SupportAction.objects.create(
        case=rows["support_case"], text="走访", owner="书记", due_on=datetime.date(2027, 1, 31)
    )
    return rows


@pytest.fixture
def users(secretary, other_secretary, district_reviewer, city_reviewer) -> dict:
    return {
        "secretary": secretary,
        "secretary2": other_secretary,
        "district_reviewer": district_reviewer,
        "reviewer": city_reviewer,
    }


@pytest.fixture
def rows(tree, users) -> tuple[dict, dict]:
    """(ours, theirs): the community's rows and the enterprise's. A case's mentor is an organization of the
    same side (the grid under the community; the city above the enterprise, where no secretary sits)."""
    ours = _organization_rows(tree["community"], prefix="OURS", author=users["secretary"], mentor=tree["grid"])
    theirs = _organization_rows(tree["enterprise"], prefix="THEIRS", author=users["secretary2"], mentor=tree["city"])
    return ours, theirs


# --- which row each URL names -------------------------------------------------------------------------------

SUBMITTED, DRAFT, PUBLIC = Brand.Status.SUBMITTED, Brand.Status.DRAFT, Brand.Status.CULTIVATING

# The brand a route's <code> names: the public one unless the route is about drafts or decisions.
BRAND_STATUS = {
    "workspace-brand": DRAFT,
    "workspace-brand-edit": DRAFT,
    "workspace-brand-submit": DRAFT,
    "workspace-commitment-add": DRAFT,
    "workspace-commitment-edit": DRAFT,
    "workspace-plan": DRAFT,
    "workspace-milestone-add": DRAFT,
    "workspace-milestone-edit": DRAFT,
    "workspace-milestone-done": DRAFT,
    "workspace-report-add": DRAFT,
    "workspace-case-add": DRAFT,
    "workspace-case-edit": DRAFT,
    "dashboard-brand": SUBMITTED,
    "api-brand-submit": DRAFT,
    "api-brand-review": SUBMITTED,
}

# The row a route's <pk> names.
PK_ROW = {
    "case-detail": lambda r, brand: r["published_case"],
    "case-adopt": lambda r, brand: r["published_case"],
    "dashboard-case-publish": lambda r, brand: r["submitted_case"],
    "workspace-commitment-edit": lambda r, brand: r["commitments"][brand.status],
    "workspace-milestone-edit": lambda r, brand: r["milestones"][brand.status],
    "workspace-milestone-done": lambda r, brand: r["milestones"][brand.status],
    "workspace-report-add": lambda r, brand: r["milestones"][brand.status],
    "workspace-case-edit": lambda r, brand: r["draft_case"],
    "evaluations:workspace-rectification": lambda r, brand: r["rectification"],
    "evaluations:workspace-respond": lambda r, brand: r["rectification"],
    "evaluations:workspace-appeal": lambda r, brand: r["rectification"],
    "evaluations:dashboard-rectification": lambda r, brand: r["rectification"],
    "evaluations:dashboard-rule": lambda r, brand: r["rectification"],
    "evaluations:dashboard-close": lambda r, brand: r["rectification"],
    "api-rectification-respond": lambda r, brand: r["rectification"],
    "evaluations:dashboard-surge": lambda r, brand: r["surge"],
    "evaluations:dashboard-surge-decide": lambda r, brand: r["surge"],
    "evaluations:moderation-comment": lambda r, brand: r["rating"],
    "evaluations:moderation-restore": lambda r, brand: r["flagged"],
    "dashboard-warning": lambda r, brand: r["warning"],
    "dashboard-warning-acknowledge": lambda r, brand: r["warning"],
    "dashboard-case-open": lambda r, brand: r["warning"],
    "support-case": lambda r, brand: r["support_case"],
    "support-case-action": lambda r, brand: r["support_case"],
    "support-case-action-done": lambda r, brand: r["support_case"],
    "support-case-note": lambda r, brand: r["support_case"],
    "support-case-close": lambda r, brand: r["support_case"],
}

# Values of parameters that name no row.
FIXED = {"sheet": "ranking", "uidb64": "MQ", "token": "set-password"}


def url_kwargs(route: Route, side: dict | None, brand_status: str | None = None) -> dict:
    if side is None:  # a route that names no row
        return {name: FIXED[name] for name in route.parameters}
    brand = side["brands"][brand_status or BRAND_STATUS.get(route.name, PUBLIC)]
    kwargs = {}
    for name in route.parameters:
        if name == "code":
            kwargs[name] = brand.code
        elif name == "pk":
            kwargs[name] = PK_ROW[route.name](side, brand).pk
        elif name == "receipt":
            kwargs[name] = side["rating"].receipt
        elif name == "milestone_id":
            kwargs[name] = side["milestones"][brand.status].pk
        elif name == "action_pk":
            kwargs[name] = side["support_action"].pk
        else:
            kwargs[name] = FIXED[name]
    return kwargs


# Valid forms for views that check the user in the service, after the form: an empty form would be refused
# (400) before the question of access is asked.
POST_DATA = {
    "support-case-action": {"text": "走访", "owner": "书记", "due_on": "2027-01-31"},
    "support-case-note": {"text": "回访"},
    "support-case-close": {"review": "已改进"},
}


def post_data(route: Route, side: dict | None) -> dict:
    """The fields a route needs to find its rows or to pass its form; everything else stays empty."""
    if route.name == "case-adopt":
        return {"brand": side["brands"][PUBLIC].code}
    return POST_DATA.get(route.name, {})


# --- requests and outcomes ------------------------------------------------------------------------------------


def outcome(response) -> str:
    status = response.status_code
    if status in (301, 302, 303, 307, 308):
        login = reverse("login")
        return "N" if response.headers.get("Location", "").split("?")[0].endswith(login) else "Y"
    if 200 <= status < 300 or status in (400, 409):
        return "Y"
    if status in (401, 403, 404):
        return "N"
    if status == 405:
        return "-"
    return f"<{status}>"


def request(client: Client, route: Route, method: str, side: dict | None, brand_status: str | None = None) -> str:
    url = reverse(route.name, kwargs=url_kwargs(route, side, brand_status))
    data = post_data(route, side)
    # Each request in a savepoint rolled back afterwards: a submit, a publication or a restore by one role
    # must not change what the next request finds.
    with transaction.atomic():
        if method == "GET":
            response = client.get(url)
        elif route.name.startswith("api-"):
            response = client.generic(method, url, json.dumps(data), content_type="application/json")
        else:
            response = client.post(url, data)
        transaction.set_rollback(True)
    return outcome(response)


def observed_for(client: Client, sides: tuple[dict, dict], login) -> dict:
    """The row of each (route, method), and of each (route, method, "draft") in ``DRAFTS``, for one role."""
    observed = {}
    for route in enumerate_routes():
        for method in route.methods:
            if route.has_object:
                cells = "".join(request(client, route, method, side) for side in sides)
            else:
                cells = request(client, route, method, None)
            login()  # a logout must not change who sends the next request
            observed[(route.name, method)] = cells
            if (route.name, method, "draft") in DRAFTS:
                cells = "".join(request(client, route, method, side, brand_status=DRAFT) for side in sides)
                observed[(route.name, method, "draft")] = cells
    return observed


def _cells(value: str, role: str) -> str:
    return value.split()[ROLES.index(role)]


def _client_as(user) -> tuple[Client, object]:
    client = Client()

    def login():
        if user is not None and "_auth_user_id" not in client.session:
            client.force_login(user)

    login()
    return client, login


def mismatches(role: str, observed: dict) -> list[str]:
    """Cells that differ from the tables, except the known bugs' (their own tests below)."""
    tables = {**EXPECTED, **DRAFTS}
    found = []
    for key, cells in observed.items():
        expected = _cells(tables[key], role) if key in tables else "?"
        wrong = [
            index
            for index, (want, got) in enumerate(zip(expected, cells, strict=False))
            if want != got and (*key, role, index) not in KNOWN_BUGS
        ]
        if wrong or len(expected) != len(cells):
            found.append(f"{' '.join(key)} as {role}: expected {expected}, got {cells}")
    return found


def test_every_route_is_in_the_table():
    routes = enumerate_routes()
    assert {route.name for route in routes} == {key[0] for key in EXPECTED}
    assert {(route.name, method) for route in routes for method in route.methods} == set(EXPECTED)
    for key, value in {**EXPECTED, **DRAFTS}.items():
        assert len(value.split()) == len(ROLES), key


@pytest.mark.parametrize("role", ROLES)
def test_access(role, users, rows):
    client, login = _client_as(users.get(role))
    found = mismatches(role, observed_for(client, rows, login))
    assert not found, f"{len(found)} rows differ from the table:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "cell",
    [pytest.param(cell, marks=pytest.mark.xfail(reason=why, strict=True)) for cell, why in KNOWN_BUGS.items()],
    ids=[f"{name}-{method}-{role}-{'ours' if index == 0 else 'theirs'}" for name, method, role, index in KNOWN_BUGS],
)
def test_known_bug(cell, users, rows):
    """The table's answer for a cell the application gets wrong: fails (xfail) until the bug is fixed."""
    name, method, role, index = cell
    route = next(route for route in enumerate_routes() if route.name == name)
    client, _login = _client_as(users.get(role))
    got = request(client, route, method, rows[index] if route.has_object else None)
    assert got == _cells(EXPECTED[(name, method)], role)[index]
