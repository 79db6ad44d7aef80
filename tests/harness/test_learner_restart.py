"""A server lab that keeps state on disk: its program is killed (SIGKILL) and started again on the same folder,
through ``start_learner(writable=[folder])``, and finds what it wrote."""

from __future__ import annotations

from pathlib import Path

from throwaway import Stage, ThrowawayKit

# Counts its starts in $DATA_DIR/starts and answers every connection with that count.
SERVER = """
import os, socket

data = os.path.join(os.environ["DATA_DIR"], "starts")
starts = int(open(data).read()) + 1 if os.path.exists(data) else 1
with open(data, "w") as handle:
    handle.write(str(starts))
listener = socket.socket()
listener.bind(("127.0.0.1", int(os.environ["PORT"])))
listener.listen()
while True:
    conn, _ = listener.accept()
    conn.sendall(str(starts).encode() + b"\\n")
    conn.close()
"""

STAGE = """
import signal
import socket

from labkit.checks import expect_equal


def starts_seen(process):
    with socket.create_connection(("127.0.0.1", process.port), timeout=5) as conn:
        return conn.makefile().readline().strip()


def check_killed_program_restarts_on_its_data(start_learner, run_info):
    \"\"\"A killed program started again on the same folder finds its data\"\"\"
    folder = run_info.run_dir / "data"
    folder.mkdir()
    first = start_learner(env={"DATA_DIR": str(folder)}, writable=[folder])
    expect_equal(starts_seen(first), "1", "starts counted by the first program")
    first.stop()
    expect_equal(first.exit_code(), -signal.SIGKILL, "how the first program ended")
    second = start_learner(env={"DATA_DIR": str(folder)}, writable=[folder])
    expect_equal(starts_seen(second), "2", "starts counted after the restart")
"""


def test_a_killed_server_restarts_on_its_writable_folder(tmp_path: Path) -> None:
    kit = ThrowawayKit(tmp_path).lab(
        "restart-demo",
        "server",
        run={"command": ["{python}", "server.py"], "ready": "tcp"},
        stages={"restarts": Stage(STAGE, timeout=30)},
    )
    impl = kit.impl({"server.py": SERVER})
    code, result = kit.grade("restart-demo", impl=impl)
    checks = result["labs"][0]["stages"][0]["checks"]
    assert code == 0, checks
    assert [check["status"] for check in checks] == ["passed"]
