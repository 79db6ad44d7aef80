"""`python -m labkit` is the same as the `labkit` command."""

import signal

try:
    # `labkit watch` starts its gradings with SIGINT held, so that a stop sent while this interpreter was still
    # starting waits until here, where it ends the run quietly (exit 130) instead of in a traceback.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    from labkit.cli import app

    app(prog_name="labkit")  # the same name in help and the same variable for shell completion
except KeyboardInterrupt:  # stopped before a command could take over (`labkit watch` saw another save)
    raise SystemExit(130) from None
