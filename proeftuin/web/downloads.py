"""A spreadsheet for staff as a download: the file made by services/spreadsheets.py (CSV for
Dutch Excel, or XLSX), named after what it holds and the day, never cached."""

from __future__ import annotations

from starlette.responses import Response

from proeftuin.db import utcnow
from proeftuin.i18n import TIMEZONE
from proeftuin.services.pages.staff_admin import StaffFile
from proeftuin.web.helpers import NO_STORE

FORMAT_FIELD = "formaat"  # "csv" (the default) or "xlsx"


def staff_download(found: StaffFile, name: str) -> Response:
    """``name`` without the day or the extension, e.g. ``logboek`` or ``codes-noord``."""
    day = utcnow().astimezone(TIMEZONE).date().isoformat()
    filename = f"{name}-{day}.{found.extension}"
    return Response(
        found.content,
        media_type=found.media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', **NO_STORE},
    )
