"""`python -m labkit` is the same as the `labkit` command."""

try:
    from labkit.cli import app

    app()
except KeyboardInterrupt:  # stopped before a command could take over (`labkit watch` saw another save)
    raise SystemExit(130) from None
