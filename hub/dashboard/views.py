"""Dashboard pages."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from homes.selectors import home_list


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """The user's homes."""
    return render(request, "dashboard/index.html", {"homes": home_list(user=request.user)})
