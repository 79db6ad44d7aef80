"""`python -m labkit` is the same as the `labkit` command."""

try:
    from labkit.cli import app

    app(prog_name="labkit")  # the same name in help and the same variable for shell completion
except KeyboardInterrupt:  # stopped before a command could take over (`labkit watch` saw another save)
    raise SystemExit(130) from None
