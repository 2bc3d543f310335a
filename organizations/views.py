"""Pages of the organizations app: the audit trail (who changed what, when) of the organizations in reach."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from organizations import rules, selectors
from organizations.forms import AuditFilterForm

PAGE_SIZE = 50


@login_required
@require_GET
def audit_list(request):
    """Every recorded state change of the organizations the user may view, newest first, filtered.

    A reviewer reads the subtree their role covers, a secretary their own organization; anyone without a
    role anywhere gets a 404, like any page outside their reach. Filters that cannot be read are a 400.
    """
    if not rules.can_any(request.user, rules.Action.VIEW):
        raise Http404
    form = AuditFilterForm(request.GET, actions=selectors.audit_actions(user=request.user))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "query": query.urlencode(), "page": None}
    if not form.is_valid():
        return render(request, "organizations/audit_list.html", context, status=400)
    entries = selectors.audit_entry_list(user=request.user, **form.cleaned_data)
    context["page"] = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "organizations/audit_list.html", context)
