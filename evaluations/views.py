"""Pages of the rating loop: the public form, QR and poster, tracking, and the workspace and dashboard pages."""

import io
import json

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from brands.selectors import brand_public_get
from config.errors import ApplicationError, form_refusal
from config.links import absolute_url
from evaluations import integrity, policy, selectors, services
from evaluations.forms import (
    AppealForm,
    CloseForm,
    ModerationNoteForm,
    RateForm,
    RatingCodeIssueForm,
    RespondForm,
    RulingForm,
    SurgeDecisionForm,
    VerdictForm,
)
from evaluations.models import Evaluation
from organizations.rules import Action

PAGE_SIZE = 50


def _page(request, queryset):
    """One page of a list (``?page=``); out-of-range or malformed numbers give the nearest page."""
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


# --- public ------------------------------------------------------------------


def rate_url(request, code: str) -> str:
    return absolute_url(reverse("evaluations:rate", args=[code]), request)


def _device_key(request) -> str:
    return request.get_signed_cookie(integrity.DEVICE_COOKIE, default="", salt=integrity.DEVICE_COOKIE_SALT) or ""


def _with_device_cookie(request, response, key: str):
    if not _device_key(request):
        response.set_signed_cookie(
            integrity.DEVICE_COOKIE,
            key,
            salt=integrity.DEVICE_COOKIE_SALT,
            max_age=integrity.DEVICE_COOKIE_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    return response


def _render_rate(request, brand, form, status=200, key=""):
    ip = integrity.client_ip(request)
    pow_required = policy.proof_of_work_required(earlier_from_ip=integrity.submissions_from(ip))
    context = {
        "brand": brand,
        "form": form,
        "pow_challenge": json.dumps(integrity.pow_challenge()) if pow_required else "",
    }
    response = render(request, "evaluations/rate_form.html", context, status=status)
    return _with_device_cookie(request, response, key or integrity.new_device_key())


def rate(request, code: str):
    if request.method != "POST":
        brand = brand_public_get(code=code)
        # The QR code on a rating slip carries its code (?c=), so the rater need not type it.
        initial = {"started": integrity.form_token(), "code": request.GET.get("c", "")[:40]}
        return _render_rate(request, brand, RateForm(initial=initial))
    form = RateForm(request.POST)
    # A device without our cookie (first visit with cookies blocked) falls back to IP + user agent.
    key = _device_key(request)
    if form.is_valid():
        data = form.cleaned_data
        elapsed = integrity.form_elapsed(data["started"])
        signals = integrity.ClientSignals(
            ip=integrity.client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            device_key=key,
            honeypot=data["website"],
            fill_seconds=elapsed,
            form_token_valid=elapsed is not None,
            pow_payload=data["altcha"],
        )
        # As the API does: count this attempt and read the brand (cached) and the rest in one round trip.
        brand_key = selectors.brand_cache_key(code)
        signals.counts = integrity.count_submission(
            ip=signals.ip, brand_code=code, prefetch=(brand_key, *services.submit_prefetch(code))
        )
        brand = selectors.brand_for_rating(code=code, prefetched=signals.counts.prefetched[brand_key])
        try:
            result = services.evaluation_submit(
                brand=brand,
                signals=signals,
                channel=Evaluation.Channel.WEB,
                **{name: data[name] for name in ("overall", "management", "service", "quality")},
                rater_group=data["rater_group"],
                comment=data["comment"],
                contact=data["contact"],
                rating_code=data["code"],
            )
        except ApplicationError as error:
            brand = brand_public_get(code=code)  # the page shows more of it than the rating needs
            return _render_rate(request, brand, form, status=form_refusal(form, error), key=key)
        response = redirect("evaluations:thanks", code=code, receipt=result.evaluation.receipt)
        return _with_device_cookie(request, response, key or integrity.new_device_key())
    return _render_rate(request, brand_public_get(code=code), form, status=400, key=key)


@require_GET
def thanks(request, code: str, receipt: str):
    evaluation = selectors.evaluation_get_by_receipt(receipt=receipt)
    brand = brand_public_get(code=code)
    if evaluation.brand_id != brand.pk:
        return redirect("evaluations:track", receipt=evaluation.receipt)
    context = {
        "brand": brand,
        "evaluation": evaluation,
        "standing": selectors.receipt_standing(evaluation),
        "rectification": selectors.evaluation_rectification(evaluation),
    }
    return render(request, "evaluations/rate_thanks.html", context)


def _qr(request, code: str):
    brand = brand_public_get(code=code)
    return brand, segno.make(rate_url(request, brand.code), error="m")


@require_GET
def qr_png(request, code: str):
    brand, qr = _qr(request, code)
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=12, border=2)
    response = HttpResponse(buffer.getvalue(), content_type="image/png")
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="qr-{brand.code}.png"'
    return response


@require_GET
def qr_svg(request, code: str):
    brand, qr = _qr(request, code)
    buffer = io.BytesIO()
    qr.save(buffer, kind="svg", scale=10, border=2, xmldecl=True, title=brand.name)
    response = HttpResponse(buffer.getvalue(), content_type="image/svg+xml")
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="qr-{brand.code}.svg"'
    return response


@require_GET
def poster(request, code: str):
    brand, qr = _qr(request, code)
    context = {
        "brand": brand,
        "qr_svg": qr.svg_inline(scale=8, border=2, omitsize=True),
        "rate_url": rate_url(request, brand.code),
        "due_days": settings.RECTIFICATION_DUE_WORKING_DAYS,
    }
    return render(request, "evaluations/poster.html", context)


def track_lookup(request):
    typed = request.GET.get("receipt", "")
    # People copy codes with spaces or dashes; keep letters and digits only.
    receipt = "".join(ch for ch in typed.upper() if ch.isascii() and ch.isalnum())[:32]
    if receipt:
        return redirect("evaluations:track", receipt=receipt)
    error = _("Enter the receipt code from your thank-you page.") if typed else ""
    return render(request, "evaluations/track_lookup.html", {"error": error}, status=400 if error else 200)


def track(request, receipt: str):
    evaluation = selectors.evaluation_get_by_receipt(receipt=receipt)
    rectification = selectors.evaluation_rectification(evaluation)
    form = VerdictForm()
    status = 200
    if request.method == "POST":
        form = VerdictForm(request.POST)
        if rectification is None:
            form.add_error(None, _("This rating has no rectification to judge."))
            status = 400
        elif form.is_valid():
            try:
                services.rectification_verdict(rectification=rectification, verdict=form.cleaned_data["verdict"])
            except ApplicationError as error:
                status = form_refusal(form, error)
            else:
                messages.success(request, _("Thank you. Your answer was recorded."))
                return redirect("evaluations:track", receipt=evaluation.receipt)
        else:
            status = 400
    context = {
        "evaluation": evaluation,
        "rectification": rectification,
        "contact_masked": services.mask_contact(evaluation.contact),
        "standing": selectors.receipt_standing(evaluation),
        "form": form,
    }
    return render(request, "evaluations/track.html", context, status=status)


# --- workspace (secretaries) -------------------------------------------------------


def _form_action(request, form, action, success_message: str) -> int:
    """Run ``action(cleaned_data)`` for a valid form and flash ``success_message``; a refusal goes on the form.

    Returns 0 when the action was taken, else the status of the page that shows the form again.
    """
    if not form.is_valid():
        return 400
    try:
        action(form.cleaned_data)
    except ApplicationError as error:
        return form_refusal(form, error)
    messages.success(request, success_message)
    return 0


def _filtered_rectifications(request, *, queue: bool) -> tuple[dict, int]:
    """One page of a filtered rectification list, the filter form and the query without the page; 400 when a
    filter value cannot be read (the form says which)."""
    filters = selectors.rectification_list_filtered(user=request.user, data=request.GET, queue=queue)
    valid = filters.is_valid()
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "rectifications": _page(request, filters.qs) if valid else None,
        "filter_form": filters.form,
        "query": query.urlencode(),
    }
    return context, 200 if valid else 400


@login_required
def workspace_rectifications(request):
    from evaluations.workdays import calendar_gap

    context, status = _filtered_rectifications(request, queue=False)
    context |= {
        "brands": selectors.brands_managed_public(user=request.user),
        "calendar_gap": calendar_gap(),
    }
    return render(request, "evaluations/workspace_rectification_list.html", context, status=status)


@login_required
def workspace_rectification(request, pk: int):
    rectification = selectors.rectification_get(user=request.user, pk=pk, action=Action.VIEW)
    return _render_workspace_detail(request, rectification)


def _render_workspace_detail(request, rectification, respond_form=None, appeal_form=None, status=200):
    from organizations import rules

    context = {
        "rectification": rectification,
        "events": rectification.events.select_related("actor"),
        "can_manage": rules.can(request.user, Action.MANAGE, rectification.organization),
        "respond_form": respond_form or RespondForm(),
        "appeal_form": appeal_form or AppealForm(),
        "contact": rectification.evaluation.contact,
    }
    return render(request, "evaluations/workspace_rectification_detail.html", context, status=status)


@login_required
@require_POST
def workspace_respond(request, pk: int):
    rectification = selectors.rectification_get(user=request.user, pk=pk, action=Action.MANAGE)
    form = RespondForm(request.POST)
    status = _form_action(
        request,
        form,
        lambda data: services.rectification_respond(
            rectification=rectification, response=data["response"], actor=request.user
        ),
        _("Your response was saved. The rater can now see it."),
    )
    if not status:
        return redirect("evaluations:workspace-rectification", pk=pk)
    return _render_workspace_detail(request, rectification, respond_form=form, status=status)


@login_required
@require_POST
def workspace_appeal(request, pk: int):
    rectification = selectors.rectification_get(user=request.user, pk=pk, action=Action.MANAGE)
    form = AppealForm(request.POST)
    status = _form_action(
        request,
        form,
        lambda data: services.rectification_appeal(
            rectification=rectification, reason=data["reason"], actor=request.user
        ),
        _("Your appeal was sent to the reviewer."),
    )
    if not status:
        return redirect("evaluations:workspace-rectification", pk=pk)
    return _render_workspace_detail(request, rectification, appeal_form=form, status=status)


# --- dashboard (reviewers) ---------------------------------------------------------


@login_required
def dashboard_rectifications(request):
    from evaluations.workdays import calendar_gap

    context, status = _filtered_rectifications(request, queue=True)
    context["calendar_gap"] = calendar_gap()
    return render(request, "evaluations/dashboard_rectification_list.html", context, status=status)


def _render_dashboard_detail(request, rectification, ruling_form=None, close_form=None, status=200):
    context = {
        "rectification": rectification,
        "events": rectification.events.select_related("actor"),
        "ruling_form": ruling_form or RulingForm(),
        "close_form": close_form or CloseForm(),
    }
    return render(request, "evaluations/dashboard_rectification_detail.html", context, status=status)


@login_required
def dashboard_rectification(request, pk: int):
    rectification = selectors.rectification_get(user=request.user, pk=pk, action=Action.REVIEW)
    return _render_dashboard_detail(request, rectification)


@login_required
@require_POST
def dashboard_rule(request, pk: int):
    rectification = selectors.rectification_get(user=request.user, pk=pk, action=Action.REVIEW)
    form = RulingForm(request.POST)
    status = _form_action(
        request,
        form,
        lambda data: services.rectification_rule_appeal(
            rectification=rectification, uphold=data["decision"] == "uphold", ruling=data["ruling"], actor=request.user
        ),
        _("The ruling was recorded."),
    )
    if not status:
        return redirect("evaluations:dashboard-rectification", pk=pk)
    return _render_dashboard_detail(request, rectification, ruling_form=form, status=status)


@login_required
@require_POST
def dashboard_close(request, pk: int):
    rectification = selectors.rectification_get(user=request.user, pk=pk, action=Action.REVIEW)
    form = CloseForm(request.POST)
    status = _form_action(
        request,
        form,
        lambda data: services.rectification_close(
            rectification=rectification, ruling=data["ruling"], actor=request.user
        ),
        _("The rectification was closed."),
    )
    if not status:
        return redirect("evaluations:dashboard-rectification", pk=pk)
    return _render_dashboard_detail(request, rectification, close_form=form, status=status)


@login_required
def moderation_comments(request):
    evaluations = _page(request, selectors.comments_awaiting_moderation(user=request.user))
    return render(request, "evaluations/moderation_comment_list.html", {"evaluations": evaluations})


@login_required
@require_POST
def moderation_comment(request, pk: int):
    evaluation = selectors.evaluation_moderation_get(user=request.user, pk=pk)
    form = ModerationNoteForm(request.POST)
    decision = request.POST.get("decision")
    if not form.is_valid() or decision not in ("publish", "hide"):
        # Nothing changes on a request the page's buttons could not have sent; say why, on the list.
        for error in form.errors.get("note", []):
            messages.error(request, error)
        if decision not in ("publish", "hide"):
            messages.error(request, _("Choose whether to publish or to hide the comment."))
        evaluations = _page(request, selectors.comments_awaiting_moderation(user=request.user))
        return render(request, "evaluations/moderation_comment_list.html", {"evaluations": evaluations}, status=400)
    publish = decision == "publish"
    try:
        services.evaluation_moderate_comment(
            evaluation=evaluation, publish=publish, actor=request.user, note=form.cleaned_data.get("note", "")
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Comment published.") if publish else _("Comment hidden."))
    return redirect("evaluations:moderation-comments")


@login_required
def moderation_flagged(request):
    evaluations = _page(request, selectors.evaluations_flagged(user=request.user))
    return render(request, "evaluations/moderation_flagged_list.html", {"evaluations": evaluations})


@login_required
@require_POST
def moderation_restore(request, pk: int):
    evaluation = selectors.evaluation_flagged_get(user=request.user, pk=pk)
    form = ModerationNoteForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("note", []):
            messages.error(request, error)
        evaluations = _page(request, selectors.evaluations_flagged(user=request.user))
        return render(request, "evaluations/moderation_flagged_list.html", {"evaluations": evaluations}, status=400)
    try:
        services.evaluation_restore(evaluation=evaluation, actor=request.user, note=form.cleaned_data.get("note", ""))
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The rating is counted again."))
    return redirect("evaluations:moderation-flagged")


# --- rating codes (secretaries and staff) ---------------------------------------------------------


def _slips(request, brand, codes: list[str]) -> list[dict]:
    """One printable slip per code: the code as typed, and a QR code of the rating link that carries it."""
    slips = []
    for code in codes:
        url = f"{rate_url(request, brand.code)}?c={code}"
        qr_svg = segno.make(url, error="m").svg_inline(scale=3, border=1)
        slips.append({"code": services.rating_code_display(code), "url": url, "qr_svg": qr_svg})
    return slips


@login_required
@never_cache
def workspace_rating_codes(request, code: str):
    """Issue one-time rating codes; they are shown once, on a printable A4 sheet (only hashes are kept)."""
    brand = selectors.rating_code_brand_get(user=request.user, code=code)
    form = RatingCodeIssueForm(request.POST or None)
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        try:
            batch, codes = services.rating_codes_issue(
                brand=brand,
                actor=request.user,
                count=form.cleaned_data["count"],
                valid_days=form.cleaned_data["valid_days"],
            )
        except ApplicationError as error:
            status = form_refusal(form, error)
        else:
            context = {"brand": brand, "batch": batch, "slips": _slips(request, brand, codes)}
            return render(request, "evaluations/rating_code_sheet.html", context)
    context = {"brand": brand, "form": form, "batches": selectors.rating_code_batches(brand=brand)}
    return render(request, "evaluations/workspace_rating_codes.html", context, status=status)


# --- surges (reviewers) ---------------------------------------------------------------------------


@login_required
def dashboard_surges(request):
    surges = _page(request, selectors.surge_list(user=request.user))
    return render(request, "evaluations/dashboard_surge_list.html", {"surges": surges})


def _render_surge(request, surge, form=None, status=200):
    context = {
        "surge": surge,
        "evidence": selectors.surge_evidence(surge=surge),
        "form": form or SurgeDecisionForm(),
    }
    return render(request, "evaluations/dashboard_surge_detail.html", context, status=status)


@login_required
def dashboard_surge(request, pk: int):
    return _render_surge(request, selectors.surge_get(user=request.user, pk=pk))


@login_required
@require_POST
def dashboard_surge_decide(request, pk: int):
    surge = selectors.surge_get(user=request.user, pk=pk)
    form = SurgeDecisionForm(request.POST)
    status = _form_action(
        request,
        form,
        lambda data: services.surge_decide(
            surge=surge, release=data["decision"] == "release", actor=request.user, note=data["note"]
        ),
        _("The decision was recorded."),
    )
    if not status:
        return redirect("evaluations:dashboard-surge", pk=pk)
    return _render_surge(request, surge, form=form, status=status)
