"""`python -m app.healthcheck`: exit 0 when GET /healthz answers 200 on $PORT, else 1 (for HEALTHCHECK)."""

import os
import sys
import urllib.request

try:
    with urllib.request.urlopen(f"http://127.0.0.1:{os.environ.get('PORT', '8080')}/healthz", timeout=3) as reply:
        sys.exit(0 if reply.status == 200 else 1)
except OSError:
    sys.exit(1)
