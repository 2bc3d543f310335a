"""Demo brands: the article brands with their owners, ≥30 brands across statuses and domains, idempotent."""

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from brands.models import Brand, BrandTransition, Case, Commitment, Milestone, ProgressReport, ReportPhoto
from organizations import rules
from organizations.models import User
from tests.brands.conftest import child_organization_counts

pytestmark = pytest.mark.django_db


def rows():
    return tuple(m.objects.count() for m in (Brand, BrandTransition, Case, Commitment, Milestone, ProgressReport))


def test_seed_demo_brands():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    first = rows()
    call_command("seed_demo", stdout=out)
    assert rows() == first
    assert "brands.demo: created 0 brands, 0 commitments, 0 milestones, 0 reports, 0 cases, 0 status changes" in (
        out.getvalue()
    )
    assert Brand.objects.count() >= 30
    owners = dict(Brand.objects.values_list("name", "organization__name"))
    assert owners["红色家园"] == "中共市北区辽宁路街道华阳路社区委员会"
    assert owners["海润先锋"] == "中共青岛海润自来水集团有限公司委员会"
    assert owners["海尔蓝中党旗红"] == "中共海尔集团委员会"
    assert "第一时间交给群众" in owners
    inspection = [name for name, org in owners.items() if org.startswith("中共青岛出入境检验检疫局")]
    assert sorted(inspection) == sorted(["依法把关 质量守门", "高效便利 服务外贸", "比学赶超 文化立局", "国门卫士"])
    statuses = set(Brand.objects.values_list("status", flat=True))
    assert statuses == set(Brand.Status.values)
    assert Brand.objects.filter(status__in=Brand.PUBLIC_STATUSES).count() >= 20
    assert Brand.objects.values("organization__domain").distinct().count() >= 5
    assert Case.objects.filter(status=Case.Status.PUBLISHED).count() >= 5
    assert Case.objects.filter(status=Case.Status.SUBMITTED).count() >= 1
    overdue = Milestone.objects.filter(completed_on__isnull=True, due_date__lt=timezone.localdate())
    drafts = Brand.objects.filter(status=Brand.Status.DRAFT).count()
    # each demo plan has one late step; drafts have not yet done their two past steps either
    assert overdue.count() == Brand.objects.count() + 2 * drafts
    # every status other than draft was reached through the transition table
    for brand in Brand.objects.exclude(status=Brand.Status.DRAFT):
        assert brand.transitions.first().to_status == brand.status
    red, hairun = Brand.objects.get(name="红色家园"), Brand.objects.get(name="海润先锋")
    district_reviewer = User.objects.get(username="district_reviewer")
    assert rules.can(district_reviewer, rules.Action.REVIEW, red.organization)
    assert not rules.can(district_reviewer, rules.Action.REVIEW, hairun.organization)
    assert red.logo_small and red.logo
    assert ReportPhoto.objects.filter(report__milestone__plan__brand=red).count() == 2
    # every child row the seeder made carries its brand's organization (tenancy)
    counts = child_organization_counts()
    assert [name for name, (rows, _wrong) in counts.items() if rows == 0] == []
    assert {name: wrong for name, (_rows, wrong) in counts.items()} == dict.fromkeys(counts, 0)
