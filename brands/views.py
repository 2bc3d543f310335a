"""Pages: the public directory and brand page, the secretary's workspace, the reviewer's dashboard, cases."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from brands import selectors, services
from brands.forms import (
    BrandForm,
    CaseAdoptionForm,
    CaseForm,
    CommitmentForm,
    MilestoneForm,
    PlanForm,
    ProgressReportForm,
    ReviewForm,
)
from brands.models import Brand, Case, Plan
from config import pagecache
from config.errors import ApplicationError, form_refusal
from organizations import rules
from organizations.models import Organization

PAGE_SIZE = 12


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- Public -----------------------------------------------------------------


def _query_text(request, name: str, limit: int) -> str:
    """A free-text query parameter: trimmed, at most `limit` characters, no NUL (PostgreSQL refuses it)."""
    return request.GET.get(name, "").replace("\x00", "").strip()[:limit]


def brand_directory(request):
    filters = selectors.DirectoryFilters(
        q=_query_text(request, "q", 100),
        domain=request.GET.get("domain", "") if request.GET.get("domain") in Organization.Domain.values else "",
        region=_query_text(request, "region", 60),
        status=request.GET.get("status", "") if request.GET.get("status") in Brand.PUBLIC_STATUSES else "",
        level=request.GET.get("level", "") if request.GET.get("level") in Brand.Level.values else "",
    )

    def render_page():
        page = _page(request, selectors.brand_directory(filters=filters))
        return render(
            request,
            "brands/brand_directory.html",
            {
                "page": page,
                "filters": filters,
                "domains": Organization.Domain.choices,
                "regions": selectors.region_choices(),
                "statuses": [(s, Brand.Status(s).label) for s in Brand.PUBLIC_STATUSES],
                "levels": Brand.Level.choices,
                "query": _query_without_page(request),
            },
        )

    return pagecache.cached_page(request, topics=("brands", "organizations"), render=render_page)


def brand_detail(request, code: str):
    if code != code.upper():  # codes are typed from posters; be forgiving about case
        return redirect("brand-detail", code=code.upper(), permanent=True)
    # The page shows the brand, its published comments and its score (the apps above fill it in).
    return pagecache.cached_page(
        request,
        topics=("brands", "comments", "organizations", "scores"),
        render=lambda: render(request, "brands/brand_detail.html", {"brand": selectors.brand_page_get(code=code)}),
    )


def case_list(request):
    domain = request.GET.get("domain", "")
    domain = domain if domain in Organization.Domain.values else ""
    page = _page(request, selectors.case_public_list(domain=domain))
    return render(
        request,
        "brands/case_list.html",
        {"page": page, "domain": domain, "domains": Organization.Domain.choices, "query": _query_without_page(request)},
    )


def _case_page(request, case: Case, form: CaseAdoptionForm | None = None, status: int = 200):
    """The public case page: the case, the brands that adopted it, and for a secretary or staff member the
    brands of theirs that may still adopt it."""
    adoptions = selectors.case_adoptions(case=case, user=request.user)
    may_adopt = rules.can_any(request.user, rules.Action.MANAGE)
    if may_adopt and form is None:
        adopted = {adoption.brand_id for adoption in adoptions}
        candidates = [
            brand
            for brand in selectors.brand_list_for(user=request.user, action=rules.Action.MANAGE)
            if brand.pk not in adopted and not services.case_adoption_refusal(case=case, brand=brand)
        ]
        form = CaseAdoptionForm(brands=candidates) if candidates else None
    context = {"case": case, "adoptions": adoptions, "may_adopt": may_adopt, "adopt_form": form}
    return render(request, "brands/case_detail.html", context, status=status)


def case_detail(request, pk: int):
    return _case_page(request, selectors.case_public_get(pk=pk))


@login_required
@require_POST
def case_adopt(request, pk: int):
    case = selectors.case_public_get(pk=pk)
    # A brand outside the user's reach is a 404, the same answer as a brand that does not exist.
    brand = selectors.brand_get_for(user=request.user, action=rules.Action.MANAGE, code=request.POST.get("brand", ""))
    form = CaseAdoptionForm(request.POST, brands=[brand])
    status = 200
    if form.is_valid():
        try:
            services.case_adopt(user=request.user, case=case, brand=brand, note=form.cleaned_data["note"])
        except ApplicationError as error:
            status = form_refusal(form, error)
        else:
            messages.success(request, _("“%(brand)s” has adopted this case.") % {"brand": brand.name})
            return redirect("case-detail", pk=case.pk)
    return _case_page(request, case, form=form, status=status)


# --- Workspace (secretaries and staff: Action.MANAGE) -----------------------


def _managed(request, code: str) -> Brand:
    return selectors.brand_workspace_get(user=request.user, code=code)


@login_required
def brand_create(request):
    organizations = rules.organizations_for(request.user, rules.Action.MANAGE).order_by("path")
    if not organizations.exists():
        raise Http404
    form = BrandForm(request.POST or None, request.FILES or None, organizations=organizations)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            brand = services.brand_create(
                user=request.user,
                organization=data["organization"],
                data=data,
                logo=data.get("logo"),
                cover=data.get("cover"),
            )
        except ApplicationError as error:
            status = form_refusal(form, error)
        else:
            messages.success(request, _("The brand was saved as a draft. Its public code is %s.") % brand.code)
            return redirect("workspace-brand", code=brand.code)
    return render(request, "workspace/brand_form.html", {"form": form, "brand": None}, status=status)


@login_required
def brand_edit(request, code: str):
    brand = _managed(request, code)
    initial = {"service_targets": brand.service_targets}
    form = BrandForm(request.POST or None, request.FILES or None, instance=brand, initial=initial)
    if brand.status not in services.EDITABLE_STATUSES:
        messages.error(request, _("A brand can only be edited while it is a draft or returned."))
        return redirect("workspace-brand", code=brand.code)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.brand_update(
                user=request.user, brand=brand, data=data, logo=data.get("logo"), cover=data.get("cover")
            )
        except ApplicationError as error:
            status = form_refusal(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("workspace-brand", code=brand.code)
    return render(request, "workspace/brand_form.html", {"form": form, "brand": brand}, status=status)


@login_required
def workspace_brand(request, code: str):
    brand = _managed(request, code)
    return render(
        request,
        "workspace/brand_detail.html",
        {
            "brand": brand,
            "editable": brand.status in services.EDITABLE_STATUSES,
            "commitment_form": CommitmentForm(),
            "statuses": Brand.Status,
        },
    )


@login_required
@require_POST
def brand_submit(request, code: str):
    brand = _managed(request, code)
    try:
        services.brand_submit(user=request.user, brand=brand, comment=request.POST.get("comment", "")[:2000])
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Submitted for review."))
    return redirect("workspace-brand", code=brand.code)


@login_required
@require_POST
def commitment_add(request, code: str):
    brand = _managed(request, code)
    form = CommitmentForm(request.POST)
    if form.is_valid():
        services.commitment_add(user=request.user, brand=brand, text=form.cleaned_data["text"])
        messages.success(request, _("Commitment added."))
        return redirect("workspace-brand", code=brand.code)
    return render(request, "workspace/commitment_form.html", {"brand": brand, "form": form})


@login_required
def commitment_edit(request, code: str, pk: int):
    brand = _managed(request, code)
    commitment = selectors.commitment_get_for(user=request.user, brand=brand, pk=pk)
    form = CommitmentForm(request.POST or None, instance=commitment)
    if request.method == "POST":
        if request.POST.get("action") == "delete":
            services.commitment_delete(user=request.user, commitment=commitment)
            messages.success(request, _("Commitment removed."))
            return redirect("workspace-brand", code=brand.code)
        if request.POST.get("action") in ("up", "down"):
            step = -1 if request.POST["action"] == "up" else 1
            services.commitment_move(user=request.user, commitment=commitment, step=step)
            return redirect("workspace-brand", code=brand.code)
        if form.is_valid():
            services.commitment_update(user=request.user, commitment=commitment, text=form.cleaned_data["text"])
            messages.success(request, _("Saved."))
            return redirect("workspace-brand", code=brand.code)
    return render(request, "workspace/commitment_form.html", {"brand": brand, "form": form, "commitment": commitment})


@login_required
def plan_edit(request, code: str):
    brand = _managed(request, code)
    form = PlanForm(request.POST or None, instance=brand.plan_obj or Plan(brand=brand))
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.plan_save(
                user=request.user,
                brand=brand,
                start_year=data["start_year"],
                end_year=data["end_year"],
                goals=data["goals"],
            )
        except ApplicationError as error:
            status = form_refusal(form, error)
        else:
            messages.success(request, _("Plan saved."))
            return redirect("workspace-brand", code=brand.code)
    return render(request, "workspace/plan_form.html", {"brand": brand, "form": form}, status=status)


@login_required
def milestone_edit(request, code: str, pk: int | None = None):
    brand = _managed(request, code)
    milestone = selectors.milestone_get_for(user=request.user, brand=brand, pk=pk) if pk else None
    form = MilestoneForm(request.POST or None, instance=milestone)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if milestone is None:
                services.milestone_add(user=request.user, brand=brand, **data)
            else:
                services.milestone_update(user=request.user, milestone=milestone, data=data)
        except ApplicationError as error:
            status = form_refusal(form, error)
        else:
            messages.success(request, _("Milestone saved."))
            return redirect("workspace-brand", code=brand.code)
    return render(
        request, "workspace/milestone_form.html", {"brand": brand, "form": form, "milestone": milestone}, status=status
    )


@login_required
@require_POST
def milestone_done(request, code: str, pk: int):
    brand = _managed(request, code)
    milestone = selectors.milestone_get_for(user=request.user, brand=brand, pk=pk)
    services.milestone_set_done(user=request.user, milestone=milestone, done=request.POST.get("done") == "1")
    return redirect("workspace-brand", code=brand.code)


@login_required
def report_add(request, code: str, pk: int):
    brand = _managed(request, code)
    milestone = selectors.milestone_get_for(user=request.user, brand=brand, pk=pk)
    form = ProgressReportForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.progress_report_add(
                user=request.user, milestone=milestone, text=data["text"], photos=data["photos"]
            )
            if data["mark_done"]:
                services.milestone_set_done(user=request.user, milestone=milestone, done=True)
        except ApplicationError as error:
            status = form_refusal(form, error)
        else:
            messages.success(request, _("Progress report saved."))
            return redirect("workspace-brand", code=brand.code)
    return render(
        request, "workspace/report_form.html", {"brand": brand, "form": form, "milestone": milestone}, status=status
    )


@login_required
def case_edit(request, code: str, pk: int | None = None):
    brand = _managed(request, code)
    case = selectors.case_get_for(user=request.user, brand=brand, pk=pk) if pk else None
    if case is not None and case.status == Case.Status.PUBLISHED:
        messages.error(request, _("A published case can no longer be edited."))
        return redirect("workspace-brand", code=brand.code)
    form = CaseForm(request.POST or None, instance=case)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.case_save(
                user=request.user, brand=brand, case=case, data=form.cleaned_data, submit="submit" in request.POST
            )
        except ApplicationError as error:
            status = form_refusal(form, error)
        else:
            messages.success(request, _("Case saved."))
            return redirect("workspace-brand", code=brand.code)
    return render(request, "workspace/case_form.html", {"brand": brand, "form": form, "case": case}, status=status)


# --- Dashboard (reviewers: Action.REVIEW) -----------------------------------


@login_required
def dashboard_brand(request, code: str):
    brand = selectors.brand_workspace_get(user=request.user, code=code, action=rules.Action.REVIEW)
    decisions = services.decisions_available(brand=brand)
    form = ReviewForm(request.POST or None, decisions=decisions)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.brand_review(
                user=request.user,
                brand=brand,
                decision=form.cleaned_data["decision"],
                comment=form.cleaned_data["comment"],
            )
        except ApplicationError as error:
            status = form_refusal(form, error)
        else:
            messages.success(request, _("Decision recorded."))
            return redirect("dashboard-brand", code=brand.code)
    return render(
        request, "dashboard/brand_review.html", {"brand": brand, "form": form, "decisions": decisions}, status=status
    )


@login_required
@require_POST
def dashboard_case_publish(request, pk: int):
    case = selectors.case_reviewable_get(user=request.user, pk=pk)
    try:
        services.case_publish(user=request.user, case=case)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The case is published."))
    return redirect("dashboard")
