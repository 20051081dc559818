"""New order and draft editing. Every step works as a plain form post; htmx makes the
patient search, adding lines and choosing a patient happen without a page reload."""

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from orderdesk.accounts import roles
from orderdesk.accounts.roles import role_required
from orderdesk.catalog.models import orderable_items, orderable_kits
from orderdesk.core.rate_limit import take_impilo_call
from orderdesk.http import AuthedHttpRequest
from orderdesk.impilo.errors import ImpiloError
from orderdesk.orders import patients, services
from orderdesk.orders.forms import (
    MAX_LINES,
    LineRow,
    OrderHeaderForm,
    new_token,
    read_lines,
    validate_lines,
)
from orderdesk.orders.models import LineKind, Order, RecipientType, State

TEMPLATE = "orders/order_form.html"


@role_required(roles.CREATE_ORDERS)
@require_http_methods(["GET", "POST"])
def order_new(request: AuthedHttpRequest) -> HttpResponse:
    if request.method == "POST":
        return entry_post(request, None, _save_new)
    form = OrderHeaderForm(initial={"form_token": new_token()})
    return render_form(request, form, [LineRow(kind=LineKind.ITEM)])


@role_required(roles.CREATE_ORDERS)
@require_http_methods(["GET", "POST"])
def order_edit(request: AuthedHttpRequest, reference: str) -> HttpResponse:
    order = get_object_or_404(Order, reference=reference, state=State.DRAFT)
    if request.method == "POST":
        return entry_post(request, order, _save_draft(order))
    form = OrderHeaderForm(initial=initial_for(order))
    rows = [
        LineRow(kind=line.kind, raw_id=str(line.impilo_id), raw_count=str(line.count))
        for line in order.lines.all()
    ]
    return render_form(request, form, rows, order=order)


Saver = Callable[
    [AuthedHttpRequest, OrderHeaderForm, list[LineRow], "services.OrderInput", bool], HttpResponse
]


def entry_post(
    request: AuthedHttpRequest,
    order: Order | None,
    save: Saver,
    extra: dict[str, object] | None = None,
) -> HttpResponse:
    """Handle any button of the order form; `save` runs only for valid submit/draft."""
    action = request.POST.get("action", "submit")
    rows = read_lines(request.POST)
    if action in ("submit", "draft"):
        form = OrderHeaderForm(request.POST)
        data, line_errors = validated_input(form, rows)
        if data is None:
            return render_form(
                request, form, rows, order=order, line_errors=line_errors, extra=extra
            )
        return save(request, form, rows, data, action == "submit")
    # Any other button is a no-JavaScript step of filling in the form: nothing is saved.
    form = OrderHeaderForm(initial=_initial_from_post(request.POST))
    results, search_error = None, ""
    if action in ("add_item", "add_kit") and len(rows) < MAX_LINES:
        rows.append(LineRow(kind=LineKind.ITEM if action == "add_item" else LineKind.KIT))
    elif action.startswith("remove-") and action[7:].isdigit() and int(action[7:]) < len(rows):
        rows.pop(int(action[7:]))
    elif action == "search" or (action == "refresh" and request.POST.get("patient_query")):
        results, search_error = _search(request, request.POST.get("patient_query", ""))
    elif action == "change_patient":
        form.initial["patient"] = ""
    elif action.startswith("choose:"):
        form.initial["patient"] = action[len("choose:") :]
    return render_form(
        request, form, rows, order=order, results=results, search_error=search_error, extra=extra
    )


def validated_input(
    form: OrderHeaderForm, rows: list[LineRow]
) -> tuple["services.OrderInput | None", list[str]]:
    form_ok = form.is_valid()
    to_site = form.cleaned_data.get("recipient_type") == RecipientType.SITE
    line_errors = validate_lines(rows, to_site=to_site)
    if not form_ok or line_errors or any(row.errors for row in rows):
        return None, line_errors
    site = form.site_obj
    return services.OrderInput(
        recipient_type=form.cleaned_data["recipient_type"],
        patient=form.patient_choice,
        site_id=site.impilo_id if site else None,
        site_name=site.name if site else "",
        site_city=site.city if site else "",
        lines=rows,
        external_ids=form.cleaned_data["external_ids"],
    ), []


def _save_new(
    request: AuthedHttpRequest,
    form: OrderHeaderForm,
    rows: list[LineRow],
    data: "services.OrderInput",
    submit: bool,
) -> HttpResponse:
    order = services.order_create(
        actor=request.user, data=data, form_token=form.cleaned_data["form_token"], submit=submit
    )
    return _after_save(order)


def _save_draft(order: Order) -> Saver:
    def save(
        request: AuthedHttpRequest,
        form: OrderHeaderForm,
        rows: list[LineRow],
        data: "services.OrderInput",
        submit: bool,
    ) -> HttpResponse:
        outcome = services.order_update_draft(
            actor=request.user, order=order, data=data, submit=submit
        )
        if not outcome.ok:
            messages.error(request, outcome.loser_message(order.reference))
        order.refresh_from_db()
        return _after_save(order)

    return save


def _after_save(order: Order) -> HttpResponse:
    if order.state == State.DRAFT:
        return redirect("orders:edit", reference=order.reference)
    return redirect("orders:detail", reference=order.reference)


def render_form(
    request: AuthedHttpRequest,
    form: OrderHeaderForm,
    rows: list[LineRow],
    *,
    order: Order | None = None,
    results: list[patients.PatientChoice] | None = None,
    search_error: str = "",
    line_errors: list[str] | None = None,
    extra: dict[str, object] | None = None,
) -> HttpResponse:
    """The order form page; also used, pre-filled, by support's edit and resubmit."""
    token = form["patient"].value() or ""
    context = {
        **(extra or {}),
        "form": form,
        "rows": rows,
        "order": order,
        "chosen": patients.recall(token) if token else None,
        "results": results,
        "search_error": search_error,
        "line_errors": line_errors or [],
        "max_count": settings.ORDER_MAX_COUNT,
        **_catalog(),
    }
    return render(request, TEMPLATE, context)


def _catalog() -> dict[str, object]:
    return {
        "items": list(orderable_items().order_by("name")),
        "kits": list(orderable_kits().order_by("name").prefetch_related(None)),
    }


def _initial_from_post(data: QueryDict) -> dict[str, object]:
    names = ("recipient_type", "patient", "site", "external_ids", "form_token")
    return {name: data.get(name, "") for name in names}


def initial_for(order: Order) -> dict[str, object]:
    from orderdesk.orders.patients import PatientChoice

    patient = ""
    if order.patient_impilo_id:
        patient = PatientChoice(
            id=order.patient_impilo_id,
            name=order.patient_name,
            date_of_birth=order.patient_date_of_birth,
            external_id=order.patient_external_id,
            site_name=order.site_name,
            city=order.recipient_city,
            archived=False,
            enrolled=True,
        ).remember()
    return {
        "recipient_type": order.recipient_type,
        "patient": patient,
        "site": order.site_impilo_id or "",
        "external_ids": "\n".join(order.external_ids),
        "form_token": order.form_token or new_token(),
    }


def _search(
    request: AuthedHttpRequest, query: str
) -> tuple[list[patients.PatientChoice] | None, str]:
    if len(query.strip()) < 2:
        return None, "Type at least 2 characters of a name, an identifier or a date of birth."
    if limited := take_impilo_call(request.user):
        return None, limited
    try:
        return patients.search(query, actor=request.user), ""
    except ImpiloError as exc:
        return None, f"Impilo's patient search is not answering right now: {exc.message}"


# The picker's requests are POSTs: what a person types into the search, and the patient
# chosen, travel in the request body, never in a URL (proxies and browsers log those).


@role_required(roles.CREATE_ORDERS)
@require_POST
def patient_search(request: AuthedHttpRequest) -> HttpResponse:
    results, error = _search(request, request.POST.get("patient_query", ""))
    context = {"results": results, "search_error": error}
    return render(request, f"{TEMPLATE}#patient-results", context)


@role_required(roles.CREATE_ORDERS)
@require_POST
def patient_card(request: AuthedHttpRequest) -> HttpResponse:
    """The chosen patient's card (the button's action is "choose:<reference>"), or the
    empty picker again, for "Change patient"."""
    action = request.POST.get("action", "")
    ref = action[len("choose:") :] if action.startswith("choose:") else ""
    chosen = patients.recall(ref) if ref else None
    if ref and (chosen is None or not chosen.choosable):
        return HttpResponseBadRequest("That patient cannot be chosen: search for them again.")
    form = OrderHeaderForm(initial={"patient": ref if chosen else ""})
    return render(request, f"{TEMPLATE}#patient-picker", {"form": form, "chosen": chosen})


@role_required(roles.CREATE_ORDERS)
@require_GET
def line_row(request: AuthedHttpRequest) -> HttpResponse:
    kind = request.GET.get("kind")
    if kind not in LineKind.values:
        return HttpResponseBadRequest("kind must be item or kit")
    context = {"row": LineRow(kind=kind), "max_count": settings.ORDER_MAX_COUNT, **_catalog()}
    return render(request, f"{TEMPLATE}#line-row", context)
