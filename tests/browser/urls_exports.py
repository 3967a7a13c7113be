"""A test-only URLconf: the real routes plus a stand-in for the exports API of the jobs app
(DESIGN.md's export resource), so the report pages' export script is driven end to end before
that app lands. POST …/exports answers a queued export; each GET of it moves it on by 50% until
it is done with a download link."""

from __future__ import annotations

import json

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from sofinance.urls import handler404, handler500  # noqa: F401 - the real handlers
from sofinance.urls import urlpatterns as real_urlpatterns

EXPORTS: dict[int, dict] = {}


def envelope(data, status=200):
    return JsonResponse(
        {"success": True, "data": data, "error": None, "meta": {"request_id": "test"}}, status=status
    )


@require_POST
def export_create(request, company_id: int):
    body = json.loads(request.body)
    export = {
        "id": len(EXPORTS) + 1,
        "kind": body["kind"],
        "format": body["format"],
        "as_of": body.get("as_of"),
        "status": "queued",
        "progress": 0,
        "row_count": None,
        "download_url": None,
        "company": company_id,
        "user": request.user.username,
    }
    EXPORTS[export["id"]] = export
    return envelope(export, status=201)


@require_GET
def export_detail(request, company_id: int, export_id: int):
    export = EXPORTS[export_id]
    export["progress"] = min(export["progress"] + 50, 100)
    export["status"] = "done" if export["progress"] == 100 else "running"
    if export["status"] == "done":
        export["row_count"] = 1234
        export["download_url"] = f"/media/exports/{export_id}.{export['format']}"
    return envelope(export)


urlpatterns = [
    path("api/v1/companies/<int:company_id>/exports", export_create),
    path("api/v1/companies/<int:company_id>/exports/<int:export_id>", export_detail),
    *real_urlpatterns,
]
