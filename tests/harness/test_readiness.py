"""Readiness strategies against real programs: each succeeds against a real server of its kind and explains
precisely why a program that never gets ready, exits first or listens elsewhere is not."""

from __future__ import annotations

import dataclasses
import itertools
import sys
import textwrap
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import trustme

from labkit.catalog import Limits, load_catalog, parse_run, resolve_run
from labkit.errors import CheckFailed, LabConfigError
from labkit.fixtures import FRESH_AGAIN_S
from labkit.ports import free_port
from labkit.readiness import (
    GrpcHealthReady,
    HttpReady,
    NoReadiness,
    Readiness,
    TcpReady,
    TlsReady,
    UdpReady,
)
from labkit.supervisor import LaunchSpec, LearnerProcess
from labkit.sweep import marked_processes
from support import KIT, RUN_PREFIX
from throwaway import Stage, ThrowawayKit

_numbers = itertools.count()
PATIENT_S = 20.0  # a real server is ready long before this, even on a loaded machine
IMPATIENT_S = 1.0  # for programs that will never be ready

TCP_SERVER = """
import os, socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(os.environ["PORT"]) + int(os.environ.get("OFFSET", "0")))); s.listen()
while True:
    c, _ = s.accept(); c.close()
"""

UDP_ECHO = """
import os, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(os.environ["PORT"]) + int(os.environ.get("OFFSET", "0"))))
while True:
    data, peer = s.recvfrom(65535)
    if data == b"\\x00hello\\xff" and not os.environ.get("SILENT"):
        s.sendto(b"hi", peer)
"""

HTTP_SERVER = """
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/healthz":  # any other path: the connection closes without a reply
            self.send_response(503)  # any status counts as ready
            self.send_header("Content-Length", "0")
            self.end_headers()

ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"""

GRPC_SERVER = """
import os
from concurrent import futures
import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
if os.environ["HEALTH"] != "absent":
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    servicer.set("", health_pb2.HealthCheckResponse.ServingStatus.Value(os.environ["HEALTH"]))
server.add_insecure_port("127.0.0.1:" + os.environ["PORT"])
server.start()
server.wait_for_termination()
"""

TLS_SERVER = """
import os, socket, ssl
context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(os.environ["CERT"])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(os.environ["PORT"]))); s.listen()
while True:
    c, _ = s.accept()
    try:
        context.wrap_socket(c, server_side=True).close()
    except OSError:
        c.close()
"""

SLEEPER = "import time; time.sleep(120)"
EXITS_EARLY = "import sys; print('boom: no config', file=sys.stderr); sys.exit(3)"

Start = Callable[..., LearnerProcess]


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Start]:
    processes: list[LearnerProcess] = []

    def launch(source: str, **env: str) -> LearnerProcess:
        number = next(_numbers)
        script = tmp_path / f"prog{number}.py"
        script.write_text(textwrap.dedent(source))
        spec = LaunchSpec(
            command=(sys.executable, str(script)), cwd=tmp_path, logs=tmp_path / f"logs{number}",
            marker=f"{RUN_PREFIX}ready{number}", limits=Limits(), port=free_port(), extra_env=env,
        )  # fmt: skip
        process = LearnerProcess.start(spec)
        processes.append(process)
        return process

    yield launch
    for process in processes:
        process.stop()
        assert not marked_processes(process.spec.marker), "stop() must leave nothing carrying the marker"


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("certs")
    trusted, foreign = trustme.CA(), trustme.CA()
    paths = {"ca": folder / "ca.pem", "cert": folder / "server.pem", "foreign_cert": folder / "foreign.pem"}
    trusted.cert_pem.write_to_path(str(paths["ca"]))
    trusted.issue_cert("localhost").private_key_and_cert_chain_pem.write_to_path(str(paths["cert"]))
    foreign.issue_cert("localhost").private_key_and_cert_chain_pem.write_to_path(str(paths["foreign_cert"]))
    return paths


UDP = UdpReady(probe_datagram=b"\x00hello\xff")


# --- each strategy against a real server of its kind ---------------------------------------------------------


def test_tcp_accepts_a_listener(start: Start) -> None:
    TcpReady().wait(start(TCP_SERVER), PATIENT_S)


def test_udp_needs_a_reply_to_the_labs_probe(start: Start) -> None:
    UDP.wait(start(UDP_ECHO), PATIENT_S)


def test_http_accepts_any_status_on_the_labs_path(start: Start) -> None:
    HttpReady(path="/healthz").wait(start(HTTP_SERVER), PATIENT_S)


def test_grpc_health_accepts_serving(start: Start) -> None:
    GrpcHealthReady().wait(start(GRPC_SERVER, HEALTH="SERVING"), PATIENT_S)


def test_tls_verifies_against_the_labs_ca(start: Start, certificates: dict[str, Path]) -> None:
    process = start(TLS_SERVER, CERT=str(certificates["cert"]))
    TlsReady(ca=certificates["ca"], server_name="localhost").wait(process, PATIENT_S)


def test_tls_without_a_ca_verifies_nothing(start: Start, certificates: dict[str, Path]) -> None:
    TlsReady().wait(start(TLS_SERVER, CERT=str(certificates["foreign_cert"])), PATIENT_S)


def test_none_is_ready_while_the_program_runs(start: Start) -> None:
    NoReadiness().wait(start(SLEEPER), PATIENT_S)


# --- programs that never get ready: each strategy says what it saw -------------------------------------------

STRATEGIES: dict[str, Readiness] = {
    "tcp": TcpReady(),
    "udp": UDP,
    "http": HttpReady(path="/healthz"),
    "grpc-health": GrpcHealthReady(),
    "tls": TlsReady(),
    "none": NoReadiness(),
}


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_an_early_exit_is_reported_by_every_strategy(start: Start, name: str) -> None:
    process = start(EXITS_EARLY)
    process.wait_exit(PATIENT_S)  # `none` only sees an exit that already happened
    with pytest.raises(CheckFailed, match=r"your program exited with code 3 before it was ready on port \d+"):
        STRATEGIES[name].wait(process, PATIENT_S)
    assert "boom: no config" in process.stderr_tail()


@pytest.mark.parametrize("name", ["tcp", "http", "grpc-health", "tls"])
def test_a_silent_program_is_not_accepting_connections(start: Start, name: str) -> None:
    with pytest.raises(CheckFailed, match=r"did not accept connections on 127\.0\.0\.1:\d+ within 1 s") as caught:
        STRATEGIES[name].wait(start(SLEEPER), IMPATIENT_S)
    assert "$PORT" in (caught.value.hint or "")


def test_tcp_names_the_wrong_port(start: Start) -> None:
    process = start(TCP_SERVER, OFFSET="1")
    with pytest.raises(CheckFailed, match=r"listening on port \d+, but the grader asked for port \d+") as caught:
        TcpReady().wait(process, IMPATIENT_S)
    assert caught.value.got == f"listener(s) on port {process.port + 1}"  # type: ignore[operator]


def test_udp_without_a_socket_says_so(start: Start) -> None:
    with pytest.raises(CheckFailed, match=r"did not bind a UDP socket to 127\.0\.0\.1:\d+ within 1 s"):
        UDP.wait(start(SLEEPER), IMPATIENT_S)


def test_udp_names_the_wrong_port(start: Start) -> None:
    process = start(UDP_ECHO, OFFSET="1")
    with pytest.raises(CheckFailed, match=r"has a UDP socket on port (\d+), but the grader asked for port \d+"):
        UDP.wait(process, IMPATIENT_S)


def test_udp_that_never_replies_is_told_about_the_probe(start: Start) -> None:
    with pytest.raises(CheckFailed, match="did not answer the grader's probe datagram") as caught:
        UDP.wait(start(UDP_ECHO, SILENT="1"), IMPATIENT_S)
    assert "\\x00hello\\xff" in (caught.value.expected or "")


def test_http_names_the_path_that_got_no_status_line(start: Start) -> None:
    with pytest.raises(CheckFailed, match=r"accepted connections .* but did not answer GET /ready") as caught:
        HttpReady(path="/ready").wait(start(HTTP_SERVER), IMPATIENT_S)
    assert caught.value.got == "the connection was closed without a reply"


@pytest.mark.parametrize(
    ("health", "seen", "hint"),
    [("NOT_SERVING", "status NOT_SERVING", "set the status to SERVING"), ("absent", "UNIMPLEMENTED", "register")],
)
def test_grpc_health_reports_what_the_server_answered(start: Start, health: str, seen: str, hint: str) -> None:
    process = start(GRPC_SERVER, HEALTH=health)
    TcpReady().wait(process, PATIENT_S)  # the server is up: only its health answer is wrong
    with pytest.raises(CheckFailed, match="did not answer SERVING") as caught:
        GrpcHealthReady().wait(process, IMPATIENT_S)
    assert (caught.value.got or "").startswith(seen)
    assert hint in (caught.value.hint or "")


def test_tls_reports_a_plain_tcp_server(start: Start) -> None:
    with pytest.raises(CheckFailed, match=r"accepted connections .* but no TLS handshake completed") as caught:
        TlsReady().wait(start(TCP_SERVER), IMPATIENT_S)
    assert caught.value.got  # what the handshake ran into: a closed connection, an EOF


def test_tls_reports_a_certificate_from_another_ca(start: Start, certificates: dict[str, Path]) -> None:
    process = start(TLS_SERVER, CERT=str(certificates["foreign_cert"]))
    with pytest.raises(CheckFailed, match="no TLS handshake completed") as caught:
        TlsReady(ca=certificates["ca"]).wait(process, IMPATIENT_S * 3)
    assert "certificate verification failed" in (caught.value.got or "")


# --- configuration: lab.toml and run.toml --------------------------------------------------------------------


def run_table(text: str) -> dict[str, object]:
    """A lab.toml [run] table with the given lines."""
    return {"kind": "server", "command": ["{python}", "server.py"], **tomllib.loads(textwrap.dedent(text))}


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('ready = "htp"', r'ready must be one of "grpc-health", "http", "none", "tcp", "tls", "udp"; got \'htp\''),
        ("ready = 5", "ready must be one of"),
        ('ready = "tcp"\nready_path = "/"', r'ready_path is not an option of ready = "tcp", which takes no options'),
        ('ready = "http"\nready_probe = "x"', r'ready_probe is not an option of ready = "http", which takes ready_pa'),
        ('ready = "http"\nready_paht = "/x"', "unknown key"),
        ('ready = "http"\nready_path = "healthz"', "ready_path must start with '/'"),
        ('ready = "udp"', 'ready = "udp" needs the datagram to send'),
        ('ready = "udp"\nready_probe_hex = "zz"', "ready_probe_hex must be hexadecimal"),
        ('ready = "udp"\nready_probe = "a"\nready_probe_hex = "61"', "not both"),
        ('ready = "tls"\nready_ca = "missing.pem"', "ready_ca names .*missing.pem, which is not a file"),
        ('ready = "grpc-health"\nready_service = 3', "'ready_service' must be str"),
    ],
)
def test_a_bad_strategy_or_option_is_a_config_error_naming_the_file(tmp_path: Path, table: str, message: str) -> None:
    where = str(tmp_path / "lab.toml")
    with pytest.raises(LabConfigError, match=message) as caught:
        parse_run(run_table(table), where, folder=tmp_path)
    assert str(caught.value).startswith(where)


def test_options_become_the_strategy(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("not read before a probe")
    cases = {
        'ready = "http"\nready_path = "/healthz"': HttpReady(path="/healthz"),
        'ready = "udp"\nready_probe = "ping"': UdpReady(probe_datagram=b"ping"),
        'ready = "udp"\nready_probe_hex = "00 ff"': UdpReady(probe_datagram=b"\x00\xff"),
        'ready = "grpc-health"\nready_service = "kv.Store"': GrpcHealthReady(service="kv.Store"),
        'ready = "tls"\nready_ca = "ca.pem"\nready_server_name = "kv"': TlsReady(tmp_path / "ca.pem", "kv"),
        'ready = "none"': NoReadiness(),
        "": TcpReady(),
    }
    for table, strategy in cases.items():
        assert parse_run(run_table(table), "lab.toml", folder=tmp_path).ready == strategy, table


def test_run_toml_keeps_the_labs_options_unless_it_changes_them(tmp_path: Path) -> None:
    lab = load_catalog(KIT).get("http-server")
    base = parse_run(run_table('ready = "http"\nready_path = "/healthz"'), "lab.toml", folder=tmp_path)
    lab = dataclasses.replace(lab, run=base)
    for run_toml, expected in [
        ('command = ["./server"]', HttpReady(path="/healthz")),
        ('ready_path = "/up"', HttpReady(path="/up")),
        ('ready = "tcp"', TcpReady()),
    ]:
        (tmp_path / "run.toml").write_text(run_toml)
        assert resolve_run(lab, tmp_path).ready == expected, run_toml
    (tmp_path / "run.toml").write_text('ready = "carrier-pigeon"')
    with pytest.raises(CheckFailed, match=r"run\.toml: ready must be one of"):
        resolve_run(lab, tmp_path)


# --- through the real grading path: the fixtures wait by the lab's strategy -----------------------------------

UDP_STAGE = """
import socket

from labkit.checks import expect_equal


def check_the_learner_is_ready_by_udp(learner):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(10)
        sock.sendto(b"\\x00hello\\xff", ("127.0.0.1", learner.port))
        expect_equal(sock.recv(100), b"hi", "the reply to the probe")
"""


def test_fixtures_wait_by_the_labs_strategy_and_run_toml_can_change_it(tmp_path: Path) -> None:
    """A UDP-only program is ready by the lab's probe; a run.toml that asks for TCP readiness makes it fail."""
    kit = ThrowawayKit(tmp_path).lab(
        "udp-demo",
        "server",
        run={
            "command": ["{python}", "server.py"],
            "ready": "udp",
            "ready_probe_hex": "00 68 65 6c 6c 6f ff",
            "ready_timeout": 20,
        },
        stages={"probe": Stage(UDP_STAGE, timeout=30)},
    )
    impl = kit.impl({"server.py": UDP_ECHO})

    code, result = kit.grade("udp-demo", impl=impl)
    assert code == 0, result["labs"][0]["stages"][0]["checks"]

    kit.impl(run_toml={"ready": "tcp", "ready_timeout": 2})  # a UDP-only program never accepts
    code, result = kit.grade("udp-demo", impl=impl)
    check = result["labs"][0]["stages"][0]["checks"][0]
    assert code == 1
    assert check["message"].startswith("your program did not accept connections on 127.0.0.1:")
    assert check["message"].endswith("within 2 s")


PER_STAGE_CONFTEST = """
from labkit.learners import learner_fixture

learner = learner_fixture(scope="module")
"""

THREE_CHECKS = """
def check_one(learner):
    pass


def check_two(learner):
    pass


def check_three(learner):
    pass
"""


def test_a_program_never_ready_is_not_waited_for_again_by_each_check_of_its_stage(tmp_path: Path) -> None:
    """One program per stage that binds its port but never answers the probe: the first check waits the full
    readiness time, the later ones take one short look at the same process and report the first finding."""
    kit = ThrowawayKit(tmp_path).lab(
        "never-ready",
        "server",
        run={"command": ["{python}", "server.py"], "ready": "udp", "ready_probe": "ping", "ready_timeout": 3},
        stages={"probe": Stage(THREE_CHECKS, timeout=30)},
        helpers={"conftest": PER_STAGE_CONFTEST},
    )
    impl = kit.impl({"server.py": UDP_ECHO})  # answers only its own probe, never "ping"
    code, result = kit.grade("never-ready", impl=impl)
    checks = result["labs"][0]["stages"][0]["checks"]
    assert code == 1 and [check["status"] for check in checks] == ["failed"] * 3
    first, *later = checks
    assert "within 3 s" in first["message"]
    for check in later:
        assert check["message"].startswith(first["message"]), check["message"]
        assert "when an earlier check started it" in check["message"]
    started = [line for check in checks for line in check["transcript"] if line.startswith("started your program")]
    assert len(started) == 1, "the same process serves the stage: it is not started again for every check"


PER_CHECK_CONFTEST = """
from labkit.learners import learner_fixture

learner = learner_fixture()
"""


def test_a_fresh_start_of_a_program_never_ready_earlier_in_its_stage_waits_less(tmp_path: Path) -> None:
    """A program started anew for each check, which binds its port but never answers the probe: the first start
    gets the lab's whole readiness time, each later one in the stage a few seconds, and they report the first
    finding."""
    kit = ThrowawayKit(tmp_path).lab(
        "never-ready",
        "server",
        run={"command": ["{python}", "server.py"], "ready": "udp", "ready_probe": "ping", "ready_timeout": 8},
        stages={"probe": Stage(THREE_CHECKS, timeout=60)},
        helpers={"conftest": PER_CHECK_CONFTEST},
    )
    impl = kit.impl({"server.py": UDP_ECHO})
    code, result = kit.grade("never-ready", impl=impl)
    checks = result["labs"][0]["stages"][0]["checks"]
    assert code == 1 and [check["status"] for check in checks] == ["failed"] * 3
    first, *later = checks
    assert "within 8 s" in first["message"]
    for check in later:
        assert check["message"].startswith(first["message"]), check["message"]
        assert f"not ready within {FRESH_AGAIN_S:g} s either" in check["message"]
    started = [line for check in checks for line in check["transcript"] if line.startswith("started your program")]
    assert len(started) == 3, "each check starts its own program"


GATED_UDP_ECHO = (
    """
import os, time
while not os.path.exists(os.environ["GO_FILE"]):
    time.sleep(0.01)
"""
    + UDP_ECHO
)

GATED_CONFTEST = """
from pathlib import Path

import pytest

from labkit.learners import learner_fixture

GO_FILE = Path({go!r})
learner = learner_fixture(scope="module", env={{"GO_FILE": str(GO_FILE)}})


@pytest.fixture
def go():
    GO_FILE.touch()
"""

GATED_CHECKS = """
def check_one(learner):
    pass


def check_two(go, learner):
    pass
"""


def test_a_late_starter_that_became_ready_serves_the_next_check(tmp_path: Path) -> None:
    """Not ready while the first check waits; ready during the next check's short look, which then uses it."""
    go = tmp_path / "go"
    kit = ThrowawayKit(tmp_path).lab(
        "late-start",
        "server",
        run={
            "command": ["{python}", "server.py"],
            "ready": "udp",
            "ready_probe_hex": "00 68 65 6c 6c 6f ff",
            "ready_timeout": 1,
        },
        stages={"probe": Stage(GATED_CHECKS, timeout=30)},
        helpers={"conftest": GATED_CONFTEST.format(go=str(go))},
    )
    impl = kit.impl({"server.py": GATED_UDP_ECHO})
    code, result = kit.grade("late-start", impl=impl)
    checks = result["labs"][0]["stages"][0]["checks"]
    assert code == 1 and [check["status"] for check in checks] == ["failed", "passed"], checks
    assert any("became ready after an earlier check" in line for line in checks[1]["transcript"])
