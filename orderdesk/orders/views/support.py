"""Support's actions on stuck orders. Each asks for confirmation, saying what will happen,
and records the person and the reason; what an action means lives in services.py."""

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from orderdesk.accounts import roles
from orderdesk.accounts.roles import role_required
from orderdesk.core.rate_limit import take_impilo_call
from orderdesk.http import AuthedHttpRequest
from orderdesk.impilo.client import payload_json
from orderdesk.orders import services, states
from orderdesk.orders.engine.payload import build_request
from orderdesk.orders.forms import LineRow, OrderHeaderForm
from orderdesk.orders.models import Order, State
from orderdesk.orders.views.entry import entry_post, initial_for, render_form

CONFIRM = "orders/order_action_confirm.html"


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept in the order's timeline with your name.",
    )


ACTIONS: dict[str, dict[str, object]] = {
    "resubmit": {
        "title": "Resubmit order",
        "may": states.may_resubmit,
        "button": "Resubmit to Impilo",
        "explain": "orderdesk will send exactly the payload below to Impilo again, with the "
        "same reference. For an order whose outcome is unknown, orderdesk first checks "
        "Impilo and resends only if the order is not there.",
        "run": services.order_resubmit,
    },
    "resolve": {
        "title": "Mark resolved",
        "may": states.may_resolve,
        "button": "Mark resolved",
        "explain": "Use this when the order was settled outside orderdesk (for instance "
        "placed by phone with Impilo). Nothing is sent to Impilo, and nothing is cancelled "
        "there: Impilo offers no way to cancel an order.",
        "run": services.order_mark_resolved,
    },
}


@role_required(roles.WORK_QUEUE)
@require_http_methods(["GET", "POST"])
def order_action(request: AuthedHttpRequest, reference: str, action: str) -> HttpResponse:
    spec = ACTIONS.get(action)
    order = get_object_or_404(Order, reference=reference)
    if spec is None:
        return HttpResponse("Unknown action.", status=404)
    form = ReasonForm(request.POST or None)
    may: Callable[[str], bool] = spec["may"]  # type: ignore[assignment]
    if request.method == "POST" and form.is_valid() and may(order.state):
        run: Callable[..., services.ActionResult] = spec["run"]  # type: ignore[assignment]
        result = run(actor=request.user, order=order, reason=form.cleaned_data["reason"])
        (messages.success if result.ok else messages.error)(request, result.message)
        return redirect("orders:detail", reference=order.reference)
    context = {
        "order": order,
        "spec": spec,
        "form": form,
        "allowed": may(order.state),
        "payload": payload_json(build_request(order)) if action == "resubmit" else "",
    }
    return render(request, CONFIRM, context)


@role_required(roles.WORK_QUEUE)
@require_POST
def order_check(request: AuthedHttpRequest, reference: str) -> HttpResponse:
    order = get_object_or_404(Order, reference=reference)
    if limited := take_impilo_call(request.user):
        messages.error(request, limited)
        return redirect("orders:detail", reference=order.reference)
    result = services.order_check_impilo(actor=request.user, order=order)
    (messages.success if result.ok else messages.error)(request, result.message)
    return redirect("orders:detail", reference=order.reference)


@role_required(roles.WORK_QUEUE)
@require_http_methods(["GET", "POST"])
def order_edit_resubmit(request: AuthedHttpRequest, reference: str) -> HttpResponse:
    """The New order form, pre-filled, for an order Impilo rejected; a reason is required."""
    order = get_object_or_404(Order, reference=reference, state=State.REJECTED)
    extra = {"resubmit": True, "reason": request.POST.get("reason", "")}
    if request.method == "POST":
        return entry_post(request, order, _resubmit_saver(order), extra=extra)
    form = OrderHeaderForm(initial=initial_for(order))
    rows = [
        LineRow(kind=line.kind, raw_id=str(line.impilo_id), raw_count=str(line.count))
        for line in order.lines.all()
    ]
    return render_form(request, form, rows, order=order, extra=extra)


def _resubmit_saver(order: Order) -> Callable[..., HttpResponse]:
    def save(
        request: AuthedHttpRequest,
        form: OrderHeaderForm,
        rows: list[LineRow],
        data: services.OrderInput,
        submit: bool,
    ) -> HttpResponse:
        reason = request.POST.get("reason", "").strip()[:2000]
        if not reason:
            extra = {"resubmit": True, "reason": "", "reason_error": "Say why the order changed."}
            return render_form(request, form, rows, order=order, extra=extra)
        result = services.order_edit_resubmit(
            actor=request.user,
            order=order,
            data=data,
            reason=reason,
            old_payload=payload_json(build_request(order)),
        )
        (messages.success if result.ok else messages.error)(request, result.message)
        return redirect("orders:detail", reference=order.reference)

    return save


@role_required(roles.WORK_QUEUE)
@require_POST
def bulk_resubmit(request: AuthedHttpRequest) -> HttpResponse:
    """Two steps: the chosen orders and what will happen; then each is handled on its own."""
    references = request.POST.getlist("reference")[:100]
    orders = list(Order.objects.filter(reference__in=references).order_by("state_changed_at"))
    form = ReasonForm(request.POST if "confirm" in request.POST else None)
    if not orders:
        messages.error(request, "Choose at least one order to resubmit.")
        return redirect("orders:attention")
    if "confirm" in request.POST and form.is_valid():
        results = [
            (
                order,
                services.order_resubmit(
                    actor=request.user, order=order, reason=form.cleaned_data["reason"]
                ),
            )
            for order in orders
        ]
        return render(request, "orders/bulk_result.html", {"results": results})
    payloads = [(order, payload_json(build_request(order))) for order in orders]
    return render(
        request,
        "orders/bulk_confirm.html",
        {
            "payloads": payloads,
            "form": form,
            "back": reverse("orders:attention"),
        },
    )
