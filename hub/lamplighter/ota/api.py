"""REST endpoints for firmware: artifacts (upload streamed, owners), rollouts (start, cancel, resume)."""

import base64
import binascii

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from ninja import Router, Schema, Status

from lamplighter.devices.models import Device
from lamplighter.devices.selectors import device_list
from lamplighter.homes import permissions
from lamplighter.homes.selectors import home_get
from lamplighter.infra.api_types import DatabaseId, Error, InputSchema
from lamplighter.ota import selectors, services
from lamplighter.ota.models import Artifact, Rollout

router = Router(tags=["firmware"])
SIGNATURE_HEADER = "X-Lamplighter-Signature-File"  # base64 of the .sig file


class ArtifactOut(Schema):
    """A stored firmware artifact."""

    id: int
    version: str
    board: str
    kind: str
    size: int
    sha256: str
    signed: bool
    created_at: str


class RolloutIn(InputSchema):
    """A rollout to start: an artifact to some devices (by id) or to every device of a home."""

    artifact_id: DatabaseId
    device_ids: list[DatabaseId] = []
    home_id: DatabaseId | None = None
    batch_size: int = 10
    failure_threshold: int = 20
    delivery: str = Rollout.Delivery.AUTO
    force: bool = False


def _require_releaser(request: HttpRequest) -> None:
    if not selectors.user_may_release(user=request.user):
        raise PermissionDenied("only home owners may upload firmware or start rollouts")


@router.get("/firmware/artifacts", response=list[ArtifactOut])
def artifact_list(request: HttpRequest) -> list[dict]:
    """Uploaded artifacts (owners)."""
    return [selectors.artifact_payload(a) for a in selectors.artifact_list(user=request.user)]


@router.post("/firmware/artifacts", response={201: ArtifactOut, 400: Error, 403: Error, 413: Error})
def artifact_upload(request: HttpRequest, version: str, board: str, kind: str = "") -> Status[dict]:
    """Upload an artifact as the raw body (owners); the signature file goes base64 in a header.

    The body is streamed to the firmware folder with its SHA-256 computed on the way.
    """
    _require_releaser(request)
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    if declared > settings.LAMPLIGHTER_FIRMWARE_MAX_BYTES:
        return Status(
            413, {"detail": f"the artifact is larger than {settings.LAMPLIGHTER_FIRMWARE_MAX_BYTES} bytes"}
        )
    signature = None
    if request.headers.get(SIGNATURE_HEADER):
        try:
            signature = base64.b64decode(request.headers[SIGNATURE_HEADER], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as error:
            raise ValidationError(f"{SIGNATURE_HEADER} must be the base64 of the signature file") from error
    artifact = services.artifact_upload(
        chunks=services.file_chunks(request),
        version=version,
        board=board,
        kind=kind,
        signature_file=signature,
        uploaded_by=request.user,  # type: ignore[arg-type]
    )
    return Status(201, selectors.artifact_payload(artifact))


@router.get("/firmware/rollouts", response=list[dict])
def rollout_list(request: HttpRequest, home_id: DatabaseId | None = None) -> list[dict]:
    """Rollouts that touch the caller's homes, newest first (the history)."""
    return [
        selectors.rollout_payload(r, jobs=False)
        for r in selectors.rollout_list(user=request.user, home_id=home_id)
    ]


@router.get("/firmware/rollouts/{rollout_id}", response={200: dict, 404: Error})
def rollout_detail(request: HttpRequest, rollout_id: DatabaseId) -> dict:
    """One rollout with every device's job."""
    return selectors.rollout_payload(selectors.rollout_get(user=request.user, rollout_id=rollout_id))


@router.post("/firmware/rollouts", response={201: dict, 400: Error, 403: Error, 404: Error})
def rollout_create(request: HttpRequest, payload: RolloutIn) -> Status[dict]:
    """Start a rollout (owners of every device's home)."""
    _require_releaser(request)
    artifact = Artifact.objects.get(pk=payload.artifact_id)
    home = None
    if payload.home_id is not None:
        home = home_get(user=request.user, home_id=payload.home_id)
        devices = list(device_list(user=request.user, home_id=home.pk))
    else:
        devices = list(device_list(user=request.user).filter(pk__in=payload.device_ids))
        if len(devices) != len(set(payload.device_ids)):
            raise Device.DoesNotExist
    for owned_home in {device.home for device in devices} | ({home} if home else set()):
        permissions.home_require_owner(user=request.user, home=owned_home)
    rollout = services.rollout_create(
        artifact=artifact,
        devices=devices,
        home=home,
        batch_size=payload.batch_size,
        failure_threshold=payload.failure_threshold,
        delivery=payload.delivery,
        force=payload.force,
        created_by=request.user,  # type: ignore[arg-type]
    )
    return Status(201, selectors.rollout_payload(rollout))


def _owned_rollout(request: HttpRequest, rollout_id: DatabaseId) -> Rollout:
    rollout = selectors.rollout_get(user=request.user, rollout_id=rollout_id)
    for job in selectors.rollout_jobs(rollout=rollout):
        permissions.home_require_owner(user=request.user, home=job.device.home)
    return rollout


@router.post("/firmware/rollouts/{rollout_id}/cancel", response={200: dict, 403: Error, 404: Error})
def rollout_cancel(request: HttpRequest, rollout_id: DatabaseId) -> dict:
    """Cancel a rollout (owners): queued jobs are dropped."""
    return selectors.rollout_payload(services.rollout_cancel(rollout=_owned_rollout(request, rollout_id)))


@router.post("/firmware/rollouts/{rollout_id}/resume", response={200: dict, 403: Error, 404: Error})
def rollout_resume(request: HttpRequest, rollout_id: DatabaseId) -> dict:
    """Resume a paused rollout (owners)."""
    return selectors.rollout_payload(services.rollout_resume(rollout=_owned_rollout(request, rollout_id)))
