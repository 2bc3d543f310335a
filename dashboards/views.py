"""The organization department's dashboard, its exports, warnings and 帮扶 cases."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from brands import selectors as brand_selectors
from config.errors import ApplicationError, NotFound, form_refusal, http_status
from dashboards import charts, exports, selectors, services
from dashboards.forms import ActionForm, CaseCloseForm, CaseOpenForm, NoteForm
from dashboards.models import SupportAction
from organizations import rules
from scores import periods


def _require_reviewer(user) -> None:
    if not rules.can_any(user, rules.Action.REVIEW):
        raise Http404


def _scope(request):
    """The node and period of a dashboard request; a malformed period is a 400 with the message."""
    node = selectors.dashboard_node(user=request.user, node_id=request.GET.get("node"))
    key, code, previous = selectors.dashboard_period(request.GET.get("period") or None)
    previous_code = periods.period_code(previous) if previous else None
    return node, key, code, previous_code


@login_required
def dashboard_home(request):
    _require_reviewer(request.user)
    try:
        node, period, code, previous_code = _scope(request)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("dashboard")
    figures = selectors.node_figures(node=node, code=code, previous=previous_code)
    series = selectors.node_series(node=node)
    current = figures["current"]
    context = {
        "node": node,
        "crumbs": selectors.breadcrumb(user=request.user, node=node),
        "period": period,
        "periods": selectors.period_choices(),
        "figures": figures,
        "series": series,
        "groups": current.groups_compared(),
        "gap": current.public_versus_members(),
        "charts": {
            "volume": charts.volume(series),
            "score": charts.score_with_interval(series),
            "bad_rate": charts.bad_rate(series),
            "grades": charts.grades(current),
            "groups": charts.groups(current.groups_compared()),
        },
        "ranking": selectors.scope_ranking(node=node, period=period),
        "warnings": selectors.warnings_in_scope(user=request.user, node=node),
        "cases": selectors.cases_in_scope(user=request.user, node=node),
        "queue": brand_selectors.review_queue(user=request.user),
        "awaiting": brand_selectors.cases_awaiting(user=request.user),
        "recent": brand_selectors.recent_decisions(user=request.user),
    }
    return render(request, "dashboards/home.html", context)


def _export_sheets(request):
    _require_reviewer(request.user)
    try:
        node, period, code, previous_code = _scope(request)
    except ApplicationError as error:
        return None, HttpResponse(error.message, status=http_status(error), content_type="text/plain; charset=utf-8")
    sheets = exports.sheets(user=request.user, node=node, period=period, code=code, previous_code=previous_code)
    return (node, period, sheets), None


@login_required
def dashboard_excel(request):
    found, refused = _export_sheets(request)
    if refused:
        return refused
    node, period, sheets = found
    response = HttpResponse(
        exports.workbook(sheets), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="dashboard-{node.pk}-{period}.xlsx"'
    return response


@login_required
def dashboard_csv(request, sheet: str):
    if sheet not in exports.SHEETS:
        raise Http404
    found, refused = _export_sheets(request)
    if refused:
        return refused
    node, period, sheets = found
    chosen = next(s for s in sheets if s.name == sheet)
    response = HttpResponse(exports.csv_text(chosen), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="dashboard-{sheet}-{node.pk}-{period}.csv"'
    return response


# --- warnings -------------------------------------------------------------------------------------------


def _render_warning(request, warning, form=None, status=200):
    context = {
        "warning": warning,
        "form": form or CaseOpenForm(user=request.user, brand=warning.brand),
    }
    return render(request, "dashboards/warning_detail.html", context, status=status)


@login_required
def warning_detail(request, pk: int):
    return _render_warning(request, selectors.warning_get(user=request.user, pk=pk))


@login_required
@require_POST
def warning_acknowledge(request, pk: int):
    warning = selectors.warning_get(user=request.user, pk=pk)
    try:
        services.warning_acknowledge(user=request.user, warning=warning)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The warning is acknowledged."))
    return redirect("dashboard-warning", pk=pk)


@login_required
@require_POST
def case_open(request, pk: int):
    warning = selectors.warning_get(user=request.user, pk=pk)
    form = CaseOpenForm(request.POST, user=request.user, brand=warning.brand)
    if form.is_valid():
        try:
            case = services.support_case_open(
                user=request.user,
                brand=warning.brand,
                mentor=form.cleaned_data["mentor"],
                goal=form.cleaned_data["goal"],
                warning=warning,
            )
        except ApplicationError as error:
            return _render_warning(request, warning, form=form, status=form_refusal(form, error))
        else:
            messages.success(request, _("The 帮扶 case is open."))
            return redirect("support-case", pk=case.pk)
    return _render_warning(request, warning, form=form, status=400)


# --- 帮扶 cases -----------------------------------------------------------------------------------------


def _render_case(request, case, status=200, **forms):
    context = {
        "case": case,
        "actions": case.actions.all(),
        "events": case.events.select_related("actor"),
        "can_review": rules.can(request.user, rules.Action.REVIEW, case.organization),
        "action_form": forms.get("action_form") or ActionForm(),
        "note_form": forms.get("note_form") or NoteForm(),
        "close_form": forms.get("close_form") or CaseCloseForm(),
    }
    return render(request, "dashboards/case_detail.html", context, status=status)


@login_required
def case_detail(request, pk: int):
    return _render_case(request, selectors.case_get(user=request.user, pk=pk))


def _case_step(request, pk: int, form_class, form_name: str, step, success: str):
    case = selectors.case_get(user=request.user, pk=pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            step(case, form.cleaned_data)
        except ApplicationError as error:
            return _render_case(request, case, status=form_refusal(form, error), **{form_name: form})
        else:
            messages.success(request, success)
            return redirect("support-case", pk=pk)
    return _render_case(request, case, status=400, **{form_name: form})


@login_required
@require_POST
def case_action_add(request, pk: int):
    return _case_step(
        request,
        pk,
        ActionForm,
        "action_form",
        lambda case, data: services.support_action_add(
            user=request.user, case=case, text=data["text"], owner=data["owner"], due_on=data["due_on"]
        ),
        _("The action is added."),
    )


@login_required
@require_POST
def case_note_add(request, pk: int):
    return _case_step(
        request,
        pk,
        NoteForm,
        "note_form",
        lambda case, data: services.support_note_add(user=request.user, case=case, text=data["text"]),
        _("The note is added."),
    )


@login_required
@require_POST
def case_close(request, pk: int):
    return _case_step(
        request,
        pk,
        CaseCloseForm,
        "close_form",
        lambda case, data: services.support_case_close(user=request.user, case=case, review=data["review"]),
        _("The case is closed."),
    )


@login_required
@require_POST
def case_action_done(request, pk: int, action_pk: int):
    case = selectors.case_get(user=request.user, pk=pk)
    try:
        action = case.actions.get(pk=action_pk)
    except SupportAction.DoesNotExist:
        raise Http404 from None
    try:
        services.support_action_done(user=request.user, action=action)
    except NotFound:
        raise
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The action is done."))
    return redirect("support-case", pk=pk)
