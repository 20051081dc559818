"""The admin-only demo page: see, add and clear the sandbox's fault rules."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from orderdesk.sandbox import faults
from orderdesk.sandbox.forms import FaultForm
from orderdesk.sandbox.models import FaultRule, RequestLog

# The permission's name only: the sandbox imports nothing from the rest of orderdesk.
ADMINISTER = "accounts.administer"


@require_http_methods(["GET", "POST"])
def faults_page(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(ADMINISTER):
        raise PermissionDenied("This page needs the admin role.")
    form = FaultForm()
    if request.method == "POST":
        if request.POST.get("action") == "clear":
            faults.clear()
            messages.success(request, "All fault rules were cleared.")
            return redirect("sandbox:faults")
        form = FaultForm(request.POST)
        if form.is_valid():
            rule = faults.inject(**form.cleaned_data)
            messages.success(request, f"Fault rule {rule.pk} ({rule.kind}) was added.")
            return redirect("sandbox:faults")
    context = {
        "form": form,
        "rules": FaultRule.objects.all(),
        "recent_requests": RequestLog.objects.order_by("-id")[:20],
    }
    return render(request, "sandbox/faults.html", context)
