"""Heavy field tools (checkov, docker-compose): installed by `labkit tools install` into a folder of their own,
atomically and once when two installs race, with the sources that have no wheel built first; required by a stage
as ``tool:NAME`` (not run, with the command, where missing); and run by ``labkit.tools.checkov.scan``, whose
crashes, bad reports and hangs are harness errors.

The install's mechanics are exercised with a stand-in interpreter (a shell script that makes a "virtual
environment" in milliseconds and counts its builds), so no test installs the real tool: the one that runs checkov
uses the installation `.ci/run` made, and skips, saying so, where there is none.
"""

from __future__ import annotations

import json
import stat
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from labkit import fieldtools
from labkit.errors import HarnessError, LabConfigError
from labkit.fieldtools import FieldTool, install
from labkit.requirements import Requirement, parse_requirement, presence
from labkit.settings import Settings, reset_settings
from labkit.tools.checkov import scan
from support import run_labkit

FAKE = FieldTool("fake", "1.0", "fakemod", "a stand-in for the tests")
CHECKOV = fieldtools.TOOLS["checkov"]


@pytest.fixture
def tools_dir(tmp_path: Path) -> Iterator[Path]:
    """This process's LABKIT_TOOLS_DIR, an empty folder of the test's own."""
    folder = tmp_path / "tools"
    folder.mkdir()
    reset_settings(Settings(tools_dir=folder))
    presence.cache_clear()
    yield folder
    reset_settings()
    presence.cache_clear()


def executable(path: Path, source: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source).lstrip())
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def stand_in_interpreter(folder: Path, builds: Path, pip_seconds: float = 0.5) -> Path:
    """A "python" that answers the three commands an install runs: ``-m venv DIR`` (copies itself to DIR/bin/python
    and counts a build), ``-m pip install`` (takes ``pip_seconds``) and ``-m fakemod --version``."""
    return executable(
        folder / "python",
        f"""
        #!/bin/sh
        case "$2" in
          venv) mkdir -p "$3/bin" && cp "$0" "$3/bin/python" && echo build >> {builds} ;;
          pip) sleep {pip_seconds} ;;
          fakemod) echo "fakemod 1.0" ;;
          *) exit 9 ;;
        esac
        """,
    )


def test_an_install_builds_the_environment_once_and_the_second_finds_it(tools_dir: Path, tmp_path: Path) -> None:
    python = stand_in_interpreter(tmp_path / "bin", tmp_path / "builds", pip_seconds=0)
    assert fieldtools.python_of(FAKE) is None
    first = install(FAKE, python=str(python))
    second = install(FAKE, python=str(python))
    assert (first.already, second.already) == (False, True)
    assert first.folder == tools_dir / "fake-1.0"
    assert fieldtools.python_of(FAKE) == tools_dir / "fake-1.0" / "bin" / "python"
    assert json.loads((first.folder / fieldtools.MARKER).read_text()) == {"name": "fake", "version": "1.0"}
    assert (tmp_path / "builds").read_text().splitlines() == ["build"]
    assert stat.S_IMODE(first.folder.stat().st_mode) == 0o755, "every user who grades may run it"


def test_two_installs_at_once_build_once_and_leave_no_half_environment(tools_dir: Path, tmp_path: Path) -> None:
    python = stand_in_interpreter(tmp_path / "bin", tmp_path / "builds", pip_seconds=0.5)
    results: list[fieldtools.Installed] = []
    threads = [threading.Thread(target=lambda: results.append(install(FAKE, python=str(python)))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(result.already for result in results) == [False, True]
    assert (tmp_path / "builds").read_text().splitlines() == ["build"], "the second waited for the first"
    assert sorted(path.name for path in tools_dir.iterdir()) == [".fake-1.0.lock", "fake-1.0"], "no temporary folder"


def test_a_failed_install_is_a_harness_error_and_leaves_nothing_behind(tools_dir: Path, tmp_path: Path) -> None:
    broken = executable(tmp_path / "python", "#!/bin/sh\necho 'no venv module here' >&2\nexit 1\n")
    with pytest.raises(HarnessError, match="creating a virtual environment for fake failed with exit code 1") as caught:
        install(FAKE, python=str(broken))
    assert "no venv module here" in caught.value.message
    assert fieldtools.python_of(FAKE) is None
    assert [path.name for path in tools_dir.iterdir()] == [".fake-1.0.lock"]


def test_dependencies_without_a_wheel_are_built_first_with_their_build_tools(tools_dir: Path, tmp_path: Path) -> None:
    """pip's steps for a tool like docker-compose: the build tools, then the sources built without isolation (so
    that they use those tools), then the tool with its pins."""
    pip_log = tmp_path / "pip.log"
    python = executable(
        tmp_path / "bin" / "python",
        f"""
        #!/bin/sh
        case "$2" in
          venv) mkdir -p "$3/bin" && cp "$0" "$3/bin/python" ;;
          pip) shift 2; echo "$*" >> {pip_log} ;;
          fakemod) echo "fakemod 1.0" ;;
        esac
        """,
    )
    tool = FieldTool(
        "fake", "1.0", "fakemod", "built from source", pins=("dep==2",), from_source=("old==5",), build_with=("cy<3",)
    )
    install(tool, python=str(python))
    options = "install --disable-pip-version-check --no-input -q"
    assert pip_log.read_text().splitlines() == [
        f"{options} cy<3",
        f"{options} --no-build-isolation old==5",
        f"{options} fake==1.0 dep==2",
    ]


def test_a_tool_that_answers_with_another_version_is_not_installed(tools_dir: Path, tmp_path: Path) -> None:
    python = stand_in_interpreter(tmp_path / "bin", tmp_path / "builds", pip_seconds=0)
    with pytest.raises(HarnessError, match=r"says it is version 'fakemod 1.0', not 2.0"):
        install(FieldTool("fake", "2.0", "fakemod", "wrong version"), python=str(python))
    assert not (tools_dir / "fake-2.0").exists()


def test_the_tools_folder_defaults_to_the_xdg_cache(tmp_path: Path) -> None:
    try:
        reset_settings(Settings(xdg_cache_home=tmp_path))
        assert fieldtools.home(CHECKOV) == tmp_path / "labkit" / "tools" / "checkov-3.3.30"
        reset_settings(Settings(tools_dir=tmp_path / "mine", xdg_cache_home=tmp_path))
        assert fieldtools.home(CHECKOV) == tmp_path / "mine" / "checkov-3.3.30"
    finally:
        reset_settings()


def test_a_stage_may_require_a_known_tool_only() -> None:
    assert parse_requirement("tool:checkov", "stage 6 (policy)") == Requirement("tool", "checkov")
    with pytest.raises(LabConfigError, match=r"stage 6 \(policy\): requires 'tool:nmap' names no field tool"):
        parse_requirement("tool:nmap", "stage 6 (policy)")


def test_a_missing_tool_says_which_command_installs_it(tools_dir: Path) -> None:
    found = presence(Requirement("tool", "checkov"))
    assert not found.met
    assert found.detail == (
        f"not installed in {tools_dir / 'checkov-3.3.30'}: install it with `labkit tools install checkov`"
    )
    assert Requirement("tool", "checkov").needs == "needs checkov 3.3.30"


def fake_checkov(tools_dir: Path, script: str) -> None:
    """An "installed" checkov whose interpreter runs ``script`` (sh) whatever it is asked."""
    home = tools_dir / "checkov-3.3.30"
    executable(home / "bin" / "python", "#!/bin/sh\n" + script)
    (home / fieldtools.MARKER).write_text("{}")


@pytest.mark.parametrize(
    ("script", "error"),
    [
        ("echo 'Traceback (most recent call last): boom' >&2; exit 3", "checkov stopped with exit code 3: Traceback"),
        ("echo 'Passed checks: 3'", "checkov's report is not JSON: 'Passed checks: 3"),
        ('echo \'[{"check_type": "kubernetes", "results": 7}]\'', "checkov's report has an unexpected shape"),
        ("sleep 30", "checkov did not finish within 1 s"),
    ],
    ids=["crash", "not-json", "unexpected-shape", "hang"],
)
def test_checkov_failures_are_harness_errors(tools_dir: Path, tmp_path: Path, script: str, error: str) -> None:
    fake_checkov(tools_dir, script)
    with pytest.raises(HarnessError) as caught:
        scan(tmp_path, frameworks=["kubernetes"], checks=["CKV_K8S_16"], timeout=1)
    assert caught.value.message.startswith(error), caught.value.message


def test_scan_without_the_tool_names_the_install_command(tools_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(HarnessError, match="install it with `labkit tools install checkov`"):
        scan(tmp_path, frameworks=["kubernetes"], checks=["CKV_K8S_16"])


PRIVILEGED_POD = """
apiVersion: v1
kind: Pod
metadata:
  name: tools
  annotations:
    checkov.io/skip1: CKV_K8S_19=an annotation does not silence the grader
spec:
  hostNetwork: true
  containers:
    - name: app
      image: notes-app:1.0.0
      securityContext:
        privileged: true
"""


def test_scan_reports_checkovs_findings_suppressed_ones_too(tmp_path: Path) -> None:
    if fieldtools.python_of(CHECKOV) is None:
        pytest.skip(f"checkov is {fieldtools.why_missing(CHECKOV)} (.ci/run installs it)")
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "pod.yaml").write_text(PRIVILEGED_POD.lstrip())
    report = scan(tmp_path, frameworks=["kubernetes"], checks=["CKV_K8S_16", "CKV_K8S_19", "CKV_K8S_17"])
    assert report.version == "3.3.30"
    assert [(f.check_id, f.file, f.line, f.resource, f.suppressed) for f in report.findings] == [
        ("CKV_K8S_16", "k8s/pod.yaml", 1, "Pod.default.tools", False),
        ("CKV_K8S_19", "k8s/pod.yaml", 1, "Pod.default.tools", True),
    ]
    assert report.findings[0].name == "Container should not be privileged"
    assert report.passed == 1, "CKV_K8S_17 (hostPID) passed"


def test_cli_install_of_an_unknown_tool_is_a_usage_error() -> None:
    done = run_labkit("tools", "install", "nmap")
    assert done.returncode == 2
    assert "labkit knows no field tool 'nmap'" in done.stderr and "known: checkov" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_cli_install_that_cannot_write_says_so_without_a_traceback(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    done = run_labkit("tools", "install", "checkov", env={"LABKIT_TOOLS_DIR": str(blocker / "tools")})
    assert done.returncode == 2
    assert "checkov was not installed" in done.stderr and "LABKIT_TOOLS_DIR" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_cli_list_and_doctor_say_whether_it_is_installed(tmp_path: Path) -> None:
    env = {"LABKIT_TOOLS_DIR": str(tmp_path), "COLUMNS": "300", "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    listed = " ".join(run_labkit("tools", "list", env=env).stdout.replace("│", " ").split())
    assert "checkov 3.3.30 not installed: `labkit tools install checkov`" in listed
    doctor = run_labkit("doctor", env=env)
    lines = [" ".join(line.replace("│", " ").split()) for line in doctor.stdout.splitlines()]
    assert any(line.startswith("tool: checkov no 3.3.30 not installed in") for line in lines), doctor.stdout
    text = " ".join(lines)
    assert f"containerize tool:checkov no needs checkov 3.3.30: not installed in {tmp_path}/checkov-3.3.30" in text
    assert "install it with `labkit tools install checkov`; would not run: stage 7 policy" in text
