"""Dashboard pages for firmware: a home's updates (live), upload, start, cancel and resume rollouts."""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from lamplighter.devices.selectors import device_list
from lamplighter.homes.models import Home
from lamplighter.homes.permissions import home_require_owner
from lamplighter.homes.selectors import home_get, home_role
from lamplighter.ota import selectors, services
from lamplighter.ota.models import Artifact, Rollout


class UploadForm(forms.Form):
    """A firmware file, its version and board, and the signature file from `lamplighter firmware sign`."""

    file = forms.FileField(label=_("File"))
    version = forms.CharField(max_length=64, label=_("Version"))
    board = forms.CharField(max_length=64, initial="esp32", label=_("Board"))
    kind = forms.ChoiceField(choices=Artifact.Kind.choices, initial=Artifact.Kind.IMAGE, label=_("Kind"))
    signature = forms.FileField(
        required=False,
        label=_("Signature"),
        help_text=_("The .sig file written by `lamplighter firmware sign`."),
    )


class RolloutForm(forms.Form):
    """An artifact to every device of the home (or the ones ticked), in batches."""

    artifact = forms.ModelChoiceField(queryset=Artifact.objects.all(), label=_("Artifact"))
    devices = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label=_("Devices")
    )
    batch_size = forms.IntegerField(min_value=1, initial=10, label=_("Batch size"))
    failure_threshold = forms.IntegerField(
        min_value=0, max_value=100, initial=20, label=_("Failure threshold (%)")
    )
    delivery = forms.ChoiceField(
        choices=Rollout.Delivery.choices, initial=Rollout.Delivery.AUTO, label=_("Delivery")
    )
    force = forms.BooleanField(required=False, label=_("Allow a downgrade"))

    def __init__(self, *args: Any, home: Home, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["devices"].choices = [  # type: ignore[attr-defined]
            (str(d.pk), d.name) for d in device_list(user=user, home_id=home.pk)
        ]


def _home(request: HttpRequest, home_id: int) -> Home:
    try:
        return home_get(user=request.user, home_id=home_id)
    except ObjectDoesNotExist as error:
        raise Http404("not found") from error


def _page_url(home_id: int) -> str:
    return reverse("ota:home-firmware", kwargs={"home_id": home_id})


def _render(
    request: HttpRequest, home: Home, upload: UploadForm | None = None, rollout: RolloutForm | None = None
) -> HttpResponse:
    is_owner = home_role(user=request.user, home=home) == "owner"
    rollouts = list(selectors.rollout_list(user=request.user, home_id=home.pk)[:20])
    context = {
        "home": home,
        "is_owner": is_owner,
        "artifacts": selectors.artifact_list(user=request.user)[:20],
        "rollouts": [
            (r, list(selectors.rollout_jobs(rollout=r).filter(device__home=home))) for r in rollouts
        ],
        "upload_form": upload or UploadForm(),
        "rollout_form": rollout or RolloutForm(home=home, user=request.user),
        "max_bytes": settings.LAMPLIGHTER_FIRMWARE_MAX_BYTES,
    }
    return render(request, "ota/firmware.html", context)


@login_required
def firmware_page(request: HttpRequest, home_id: int) -> HttpResponse:
    """The home's firmware updates: artifacts, rollouts (history) and each device's job, live."""
    return _render(request, _home(request, home_id))


@login_required
@require_POST
def artifact_upload(request: HttpRequest, home_id: int) -> HttpResponse:
    """Upload an artifact (owners)."""
    home = _home(request, home_id)
    home_require_owner(user=request.user, home=home)
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        signature = form.cleaned_data["signature"]
        try:
            services.artifact_upload(
                chunks=form.cleaned_data["file"].chunks(),
                version=form.cleaned_data["version"],
                board=form.cleaned_data["board"],
                kind=form.cleaned_data["kind"],
                signature_file=signature.read().decode("utf-8", "replace") if signature else None,
                uploaded_by=request.user,  # type: ignore[arg-type]
            )
            return redirect(_page_url(home.pk))
        except ValidationError as error:
            form.add_error(None, error)
    return _render(request, home, upload=form)


@login_required
@require_POST
def rollout_start(request: HttpRequest, home_id: int) -> HttpResponse:
    """Start a rollout to the home's devices (owners)."""
    home = _home(request, home_id)
    home_require_owner(user=request.user, home=home)
    form = RolloutForm(request.POST, home=home, user=request.user)
    if form.is_valid():
        devices = list(device_list(user=request.user, home_id=home.pk))
        chosen = set(form.cleaned_data["devices"])
        if chosen:
            devices = [d for d in devices if str(d.pk) in chosen]
        try:
            services.rollout_create(
                artifact=form.cleaned_data["artifact"],
                devices=devices,
                home=None if chosen else home,
                batch_size=form.cleaned_data["batch_size"],
                failure_threshold=form.cleaned_data["failure_threshold"],
                delivery=form.cleaned_data["delivery"],
                force=form.cleaned_data["force"],
                created_by=request.user,  # type: ignore[arg-type]
            )
            return redirect(_page_url(home.pk))
        except ValidationError as error:
            form.add_error(None, error)
    return _render(request, home, rollout=form)


def _owned_rollout(request: HttpRequest, rollout_id: int) -> Rollout:
    try:
        rollout = selectors.rollout_get(user=request.user, rollout_id=rollout_id)
    except ObjectDoesNotExist as error:
        raise Http404("not found") from error
    homes = {job.device.home for job in selectors.rollout_jobs(rollout=rollout)}
    if not homes:
        raise PermissionDenied
    for home in homes:
        home_require_owner(user=request.user, home=home)
    return rollout


@login_required
@require_POST
def rollout_cancel(request: HttpRequest, rollout_id: int) -> HttpResponse:
    """Cancel a rollout (owners)."""
    rollout = services.rollout_cancel(rollout=_owned_rollout(request, rollout_id))
    return redirect(request.POST.get("next") or _page_url(rollout.home_id or 0))


@login_required
@require_POST
def rollout_resume(request: HttpRequest, rollout_id: int) -> HttpResponse:
    """Resume a paused rollout (owners)."""
    rollout = services.rollout_resume(rollout=_owned_rollout(request, rollout_id))
    return redirect(request.POST.get("next") or _page_url(rollout.home_id or 0))
