"""Login with failed-attempt throttling per user name and per client address."""

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from lamplighter.infra import metrics
from lamplighter.infra.throttle import throttle_blocked, throttle_failed, throttle_reset

SCOPE_USER = "login-user"
SCOPE_ADDRESS = "login-address"


def _identities(request: HttpRequest) -> list[tuple[str, str, int]]:
    username = (request.POST.get("username") or "").strip().lower()[:150]
    address = request.META.get("REMOTE_ADDR", "")
    return [
        (SCOPE_USER, username, settings.LAMPLIGHTER_LOGIN_MAX_FAILURES),
        (SCOPE_ADDRESS, address, settings.LAMPLIGHTER_LOGIN_MAX_FAILURES_PER_ADDRESS),
    ]


class ThrottledLoginView(auth_views.LoginView):
    """Django's login view; after too many failures it answers 429 without checking the password."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """Refuse early while throttled; otherwise log in as usual."""
        if any(throttle_blocked(scope=s, identity=i, limit=limit) for s, i, limit in _identities(request)):
            form = self.get_form()
            form.errors.clear()
            form.add_error(
                None,
                _("Too many failed attempts. Try again in %(minutes)d minutes.")
                % {"minutes": max(1, settings.LAMPLIGHTER_LOGIN_WINDOW_SECONDS // 60)},
            )
            response = self.render_to_response(self.get_context_data(form=form))
            response.status_code = 429
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        """A wrong password counts against the user name and the address."""
        metrics.LOGIN_FAILURES.inc()
        for scope, identity, _limit in _identities(self.request):
            throttle_failed(
                scope=scope, identity=identity, window_seconds=settings.LAMPLIGHTER_LOGIN_WINDOW_SECONDS
            )
        return super().form_invalid(form)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        """A success clears the user name's count (not the address's: one good login must not reset a spray)."""
        throttle_reset(scope=SCOPE_USER, identity=_identities(self.request)[0][1])
        return super().form_valid(form)
