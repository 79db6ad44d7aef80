"""`python -m app`: serve until SIGTERM or SIGINT, then finish the requests in flight and exit 0."""

from app.server import main

raise SystemExit(main())
