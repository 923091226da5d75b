"""The dashboard's backup page: staff download an archive of the whole hub."""

import uuid
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import FileResponse, HttpRequest, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from lamplighter.backup.archive import BackupError
from lamplighter.backup.services import backup_create, backup_file_name, backups_list

MAX_PASSPHRASE = 1024


@staff_member_required
@require_http_methods(["GET", "POST"])
def backup_page(request: HttpRequest) -> HttpResponseBase:
    """GET: the page (scheduled backups listed); POST: a new archive, downloaded at once.

    Staff only: an archive holds every home, every user's password hash and the hub's secret key.
    """
    if request.method == "POST":
        # Stripped, as `restore --passphrase-file` strips the file's first line.
        passphrase = request.POST.get("passphrase", "").strip()
        if len(passphrase) > MAX_PASSPHRASE:
            messages.error(request, _("The passphrase is too long."))
            return redirect("backup:page")
        name = backup_file_name(datetime.now(UTC), bool(passphrase))
        target = Path(settings.DATA_DIR) / f".download-{uuid.uuid4().hex}"
        try:
            backup_create(target=target, passphrase=passphrase or None)
        except BackupError as error:
            messages.error(request, _("The backup failed: %(reason)s") % {"reason": error})
            return redirect("backup:page")
        # Its name goes at once: the open file stays readable until sent, and no copy is left behind.
        archive = target.open("rb")
        target.unlink()
        return FileResponse(
            archive, as_attachment=True, filename=name, content_type="application/octet-stream"
        )
    scheduled = [
        {
            "name": path.name,
            "size": path.stat().st_size,
            "at": datetime.fromtimestamp(path.stat().st_mtime, UTC),
        }
        for path in reversed(backups_list())
    ]
    return render(
        request,
        "backup/backup.html",
        {
            "scheduled": scheduled,
            "backup_dir": settings.LAMPLIGHTER_BACKUP_DIR,
            "interval_hours": settings.LAMPLIGHTER_BACKUP_INTERVAL / 3600,
            "keep": settings.LAMPLIGHTER_BACKUP_KEEP,
        },
    )
