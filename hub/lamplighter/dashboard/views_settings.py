"""Dashboard pages for a home's settings (owners) and the user's language."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from lamplighter.accounts.services import preference_set_language
from lamplighter.adaptive.selectors import profile_of
from lamplighter.adaptive.services import home_adaptive_update
from lamplighter.dashboard.forms_settings import HomeAndAdaptiveForm, LanguageForm
from lamplighter.dashboard.views import _owned_home, _run
from lamplighter.homes import services as home_services


@login_required
@require_http_methods(["GET", "POST"])
def home_settings(request: HttpRequest, home_id: int) -> HttpResponse:
    """A home's name, time zone and place, and its adaptive profile (owners)."""
    home = _owned_home(request, home_id)
    profile = profile_of(home=home)
    initial = {
        "name": home.name,
        "timezone": home.timezone,
        "latitude": home.latitude,
        "longitude": home.longitude,
        "adaptive_min_brightness": profile.min_brightness,
        "adaptive_max_brightness": profile.max_brightness,
        "adaptive_min_kelvin": profile.min_kelvin,
        "adaptive_max_kelvin": profile.max_kelvin,
        "adaptive_sleep_brightness": profile.sleep_brightness,
        "adaptive_sleep_kelvin": profile.sleep_kelvin,
    }
    form = HomeAndAdaptiveForm(request.POST if request.method == "POST" else None, initial=initial)
    home_url = reverse("dashboard:home", kwargs={"home_id": home.pk})

    @transaction.atomic  # a refused profile stores nothing of the rest
    def save(data: dict) -> object:
        home_services.home_update(
            home=home,
            name=data["name"],
            timezone=data["timezone"],
            latitude=data["latitude"],
            longitude=data["longitude"],
            clear_location=data["latitude"] is None and data["longitude"] is None,
        )
        return home_adaptive_update(home=home, changes=form.adaptive_changes())

    if request.method == "POST" and _run(form, save) is not None:
        return redirect(home_url)
    context = {
        "form": form,
        "home": home,
        "title": _("Settings of %(name)s") % {"name": home.name},
        "submit": _("Save"),
        "cancel_url": home_url,
    }
    return render(request, "dashboard/form.html", context)


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """Remember the language chosen in the navigation: on the user, and in a cookie for the login page."""
    form = LanguageForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Unknown language."))
    language = form.cleaned_data["language"]
    if request.user.is_authenticated:
        preference_set_language(user=request.user, language=language)  # type: ignore[arg-type]
    back = form.cleaned_data["next"]
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("dashboard:index")
    response = redirect(back)
    if language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE or 365 * 24 * 3600,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
        )
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME, samesite="Lax")
    return response
