"""The site's front page: where the admin, the API documentation and the health checks are."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_safe


@require_safe
def home(request):
    return render(request, "home.html")
