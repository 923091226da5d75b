"""Dashboard pages for scenes (members apply, owners manage) and schedules (owners manage)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from lamplighter.automations import selectors, services
from lamplighter.automations.models import WEEKDAY_NAMES, Schedule
from lamplighter.dashboard.forms_automations import SceneForm, ScheduleForm, light_label
from lamplighter.dashboard.views import _or_404, _owned_home, _run
from lamplighter.homes.models import Home
from lamplighter.homes.selectors import home_get, home_role


def _scenes_url(home_id: int) -> str:
    return reverse("dashboard:scenes", kwargs={"home_id": home_id})


def _schedules_url(home_id: int) -> str:
    return reverse("dashboard:schedules", kwargs={"home_id": home_id})


def _form_page(
    request: HttpRequest, form: Form, *, home: Home, title: str, submit: str, cancel_url: str
) -> HttpResponse:
    context = {"form": form, "home": home, "title": title, "submit": submit, "cancel_url": cancel_url}
    return render(request, "dashboard/form.html", context)


def _confirm_page(
    request: HttpRequest, *, home: Home, title: str, message: str, cancel_url: str
) -> HttpResponse:
    context = {"home": home, "title": title, "message": message, "cancel_url": cancel_url}
    return render(request, "dashboard/confirm.html", context)


# ---- scenes ------------------------------------------------------------------------------


@login_required
def scenes(request: HttpRequest, home_id: int) -> HttpResponse:
    """The home's scenes, each with an Apply button; owners also create, edit and delete them."""
    home = _or_404(home_get, user=request.user, home_id=home_id)
    context = {
        "home": home,
        "is_owner": home_role(user=request.user, home=home) == "owner",
        "scenes": list(selectors.scene_list(user=request.user, home_id=home.pk)),
    }
    return render(request, "dashboard/scenes.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def scene_create(request: HttpRequest, home_id: int) -> HttpResponse:
    """Make a scene (owners)."""
    home = _owned_home(request, home_id)
    form = SceneForm(request.POST if request.method == "POST" else None, home=home)
    if (
        request.method == "POST"
        and _run(
            form,
            lambda data: services.scene_create(home=home, name=data["name"], lights=form.scene_lights()),
        )
        is not None
    ):
        return redirect(_scenes_url(home.pk))
    title = _("New scene")
    return _form_page(
        request, form, home=home, title=title, submit=_("Create scene"), cancel_url=_scenes_url(home.pk)
    )


@login_required
@require_http_methods(["GET", "POST"])
def scene_edit(request: HttpRequest, scene_id: int) -> HttpResponse:
    """Rename a scene or change its lights (owners)."""
    scene = _or_404(selectors.scene_get, user=request.user, scene_id=scene_id)
    home = _owned_home(request, scene.home_id)
    form = SceneForm(request.POST if request.method == "POST" else None, home=home, scene=scene)
    if (
        request.method == "POST"
        and _run(
            form,
            lambda data: services.scene_update(scene=scene, name=data["name"], lights=form.scene_lights()),
        )
        is not None
    ):
        return redirect(_scenes_url(home.pk))
    title = _("Edit the scene %(name)s") % {"name": scene.name}
    return _form_page(
        request, form, home=home, title=title, submit=_("Save"), cancel_url=_scenes_url(home.pk)
    )


@login_required
@require_http_methods(["GET", "POST"])
def scene_delete(request: HttpRequest, scene_id: int) -> HttpResponse:
    """Delete a scene and the schedules that use it (owners); GET asks first."""
    scene = _or_404(selectors.scene_get, user=request.user, scene_id=scene_id)
    home = _owned_home(request, scene.home_id)
    if request.method == "POST":
        services.scene_delete(scene=scene)
        return redirect(_scenes_url(home.pk))
    message = _("Delete the scene %(name)s? Schedules that use it are deleted with it.") % {
        "name": scene.name
    }
    title = _("Delete %(name)s") % {"name": scene.name}
    return _confirm_page(request, home=home, title=title, message=message, cancel_url=_scenes_url(home.pk))


@login_required
@require_POST
def scene_apply(request: HttpRequest, scene_id: int) -> HttpResponse:
    """Apply a scene (members too), then go back to the page the button was on."""
    scene = _or_404(selectors.scene_get, user=request.user, scene_id=scene_id)
    services.scene_apply(scene=scene)
    messages.success(
        request, _("%(name)s applied: its lights switch as their devices confirm.") % {"name": scene.name}
    )
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = _scenes_url(scene.home_id)
    return redirect(back)


# ---- schedules ---------------------------------------------------------------------------


def _schedule_rows(request: HttpRequest, home: Home) -> list[dict]:
    """Each schedule with what it switches and its next instant, for the list."""
    now = timezone.now()
    rows = []
    for schedule in selectors.schedule_list(user=request.user, home_id=home.pk).select_related(
        "light__room", "room", "scene"
    ):
        if schedule.light is not None:
            target = light_label(schedule.light)
        else:
            target = (schedule.room or schedule.scene).name  # type: ignore[union-attr]
        days = [
            WEEKDAYS_ABBR[WEEKDAY_NAMES.index(name)] for name in selectors.weekday_names(schedule.weekdays)
        ]
        rows.append(
            {
                "schedule": schedule,
                "target": target,
                # Every day: no list; otherwise the days' short names in the user's language.
                "days": days if len(days) < len(WEEKDAY_NAMES) else [],
                "offset": f"{schedule.offset_minutes:+d}",
                "next_at": selectors.schedule_next_at(schedule, now=now),
            }
        )
    return rows


@login_required
def schedules(request: HttpRequest, home_id: int) -> HttpResponse:
    """The home's schedules with their next run on the home's clock; owners manage them."""
    home = _or_404(home_get, user=request.user, home_id=home_id)
    context = {
        "home": home,
        "is_owner": home_role(user=request.user, home=home) == "owner",
        "rows": _schedule_rows(request, home),
        "Trigger": Schedule.Trigger,
    }
    return render(request, "dashboard/schedules.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def schedule_create(request: HttpRequest, home_id: int) -> HttpResponse:
    """Make a schedule (owners)."""
    home = _owned_home(request, home_id)
    form = ScheduleForm(request.POST if request.method == "POST" else None, home=home)
    if (
        request.method == "POST"
        and _run(form, lambda _data: services.schedule_create(home=home, spec=form.spec())) is not None
    ):
        return redirect(_schedules_url(home.pk))
    return _form_page(
        request,
        form,
        home=home,
        title=_("New schedule"),
        submit=_("Create schedule"),
        cancel_url=_schedules_url(home.pk),
    )


@login_required
@require_http_methods(["GET", "POST"])
def schedule_edit(request: HttpRequest, schedule_id: int) -> HttpResponse:
    """Change a schedule (owners); it is re-armed from now."""
    schedule = _or_404(selectors.schedule_get, user=request.user, schedule_id=schedule_id)
    home = _owned_home(request, schedule.home_id)
    form = ScheduleForm(request.POST if request.method == "POST" else None, home=home, schedule=schedule)
    if (
        request.method == "POST"
        and _run(form, lambda _data: services.schedule_update(schedule=schedule, spec=form.spec()))
        is not None
    ):
        return redirect(_schedules_url(home.pk))
    title = _("Edit the schedule %(name)s") % {"name": schedule.name}
    return _form_page(
        request, form, home=home, title=title, submit=_("Save"), cancel_url=_schedules_url(home.pk)
    )


@login_required
@require_http_methods(["GET", "POST"])
def schedule_delete(request: HttpRequest, schedule_id: int) -> HttpResponse:
    """Delete a schedule (owners); GET asks first."""
    schedule = _or_404(selectors.schedule_get, user=request.user, schedule_id=schedule_id)
    home = _owned_home(request, schedule.home_id)
    if request.method == "POST":
        services.schedule_delete(schedule=schedule)
        return redirect(_schedules_url(home.pk))
    message = _("Delete the schedule %(name)s?") % {"name": schedule.name}
    title = _("Delete %(name)s") % {"name": schedule.name}
    return _confirm_page(request, home=home, title=title, message=message, cancel_url=_schedules_url(home.pk))
