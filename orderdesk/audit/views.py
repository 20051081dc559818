from django.http import HttpResponse
from django.shortcuts import render

from orderdesk.accounts import roles
from orderdesk.accounts.roles import role_required
from orderdesk.http import AuthedHttpRequest


@role_required(roles.VIEW_AUDIT)
def apicall_list(request: AuthedHttpRequest) -> HttpResponse:
    return render(request, "audit/apicall_list.html", {})
