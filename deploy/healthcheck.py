"""The container's health check: GET http://127.0.0.1:$PORT/health/live must answer 200.

Run by the Dockerfile's HEALTHCHECK. The probe is answered before Django's host check
(sofinance.observability.middleware.HealthProbeMiddleware), so it passes whatever ALLOWED_HOSTS
says. Standard library only: it starts in milliseconds and loads no Django.
"""

import os
import sys
import urllib.request


def main() -> int:
    url = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/health/live"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            status = response.status
    except OSError as exc:  # refused, timed out, or an HTTP error status
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
