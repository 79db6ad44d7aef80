"""containerize without and with a Docker engine, docker-compose and checkov: the static stages grade everywhere,
the image and compose-up stages are reported as not run where no engine answers (compose-up also where
docker-compose is not installed) and the policy stage where checkov is not installed (where it is, it runs, though
the stages before it did not); where an engine answers, nothing the grader built or ran is left on it (images,
containers, volumes, networks), also after Ctrl-C in the image or the Compose stage. And the grader's .dockerignore
matcher agrees with the engine's rules on both sides of each."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from labkit import fieldtools
from labkit.catalog import load_catalog
from labkit.requirements import missing
from support import KIT, environment, grade_json, session_env

LAB = "containerize"
SOLUTION = KIT / "solutions" / LAB
SCENARIOS = KIT / "tests" / "scenarios" / LAB
ALTERNATIVE = KIT / "tests" / "alternatives" / LAB / "multistage-allowlist"
NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}
STATIC_POINTS, IMAGE_POINTS, COMPOSE_UP_POINTS, POLICY_POINTS = 65, 15, 10, 10
RUNTIME_POINTS = IMAGE_POINTS + COMPOSE_UP_POINTS
CHECKOV = fieldtools.TOOLS["checkov"]
DOCKER_COMPOSE = fieldtools.TOOLS["docker-compose"]


@pytest.fixture
def fresh_machine(tmp_path: Path) -> dict[str, str]:
    """No Docker engine, and an empty tools folder: neither docker-compose nor checkov was ever installed."""
    return {**NO_ENGINE, "LABKIT_TOOLS_DIR": str(tmp_path / "tools")}


@pytest.fixture
def checkov_installed() -> None:
    if fieldtools.python_of(CHECKOV) is None:
        pytest.skip(f"checkov is {fieldtools.why_missing(CHECKOV)} (.ci/run installs it)")


def stage_statuses(result: dict) -> dict[str, str]:  # type: ignore[type-arg]
    return {stage["slug"]: stage["status"] for stage in result["labs"][0]["stages"]}


def test_a_fresh_machine_grades_the_static_stages_and_says_what_was_not_run(fresh_machine: dict[str, str]) -> None:
    code, result = grade_json(LAB, SOLUTION, env=fresh_machine)
    lab = result["labs"][0]
    assert code == 0, lab
    assert stage_statuses(result) == {
        "dockerfile": "passed", "compose": "passed", "kubernetes": "passed", "terraform": "passed", "image": "not_run",
        "compose-up": "not_run", "policy": "not_run",
    }  # fmt: skip
    image, compose_up, policy = lab["stages"][-3:]
    tools = fresh_machine["LABKIT_TOOLS_DIR"]
    assert "needs a Docker engine" in image["not_run"], image
    assert compose_up["not_run"].startswith("needs a Docker engine"), compose_up
    assert compose_up["not_run"].endswith(
        f"; needs docker-compose 1.29.2: not installed in {tools}/docker-compose-1.29.2: "
        "install it with `labkit tools install docker-compose`"
    ), compose_up
    assert policy["not_run"] == (
        f"needs checkov 3.3.30: not installed in {tools}/checkov-3.3.30: install it with `labkit tools install checkov`"
    )
    not_run = image["checks"] + compose_up["checks"] + policy["checks"]
    assert all(check["status"] == "not_run" and check["points"] == 0 for check in not_run)
    assert (lab["points"], lab["max_points"]) == (STATIC_POINTS, STATIC_POINTS)
    assert lab["not_run_points"] == RUNTIME_POINTS + POLICY_POINTS
    assert not any(Path(tools).glob("*-*")), "grading never installs a tool"


def test_without_an_engine_a_runtime_bug_earns_neither_zero_nor_full_marks(fresh_machine: dict[str, str]) -> None:
    code, result = grade_json(LAB, SCENARIOS / "shell-wrapper-ignores-sigterm", env=fresh_machine)
    lab = result["labs"][0]
    assert (code, stage_statuses(result)["image"]) == (0, "not_run")
    assert (lab["max_points"], lab["not_run_points"]) == (STATIC_POINTS, RUNTIME_POINTS + POLICY_POINTS)


def test_without_an_engine_a_static_bug_is_still_caught(fresh_machine: dict[str, str]) -> None:
    code, result = grade_json(LAB, SCENARIOS / "tf-ssh-open-to-all", env=fresh_machine)
    statuses = stage_statuses(result)
    assert code == 1
    assert (statuses["terraform"], statuses["image"], statuses["compose-up"], statuses["policy"]) == (
        "failed", "not_run", "not_run", "not_run"
    )  # fmt: skip


@pytest.mark.usefixtures("checkov_installed")
def test_the_policy_stage_runs_after_an_image_stage_that_could_not() -> None:
    code, result = grade_json(LAB, SOLUTION, env=NO_ENGINE)
    lab = result["labs"][0]
    assert code == 0, lab
    assert (stage_statuses(result)["image"], stage_statuses(result)["policy"]) == ("not_run", "passed")
    assert (lab["points"], lab["max_points"]) == (STATIC_POINTS + POLICY_POINTS, STATIC_POINTS + POLICY_POINTS)

    code, result = grade_json(LAB, SCENARIOS / "k8s-privileged-container", env=NO_ENGINE)
    assert code == 1
    assert (stage_statuses(result)["image"], stage_statuses(result)["policy"]) == ("not_run", "failed")


def engine_unavailable() -> str | None:
    lab = next(lab for lab in load_catalog(KIT).labs if lab.id == LAB)
    return missing(lab.stage("image").requires)


@pytest.fixture
def engine() -> Iterator[object]:
    reason = engine_unavailable()
    if reason:
        if os.environ.get("LABKIT_REQUIRE_DOCKER") == "1":
            pytest.fail(f"{reason} (LABKIT_REQUIRE_DOCKER=1: CI set the engine up)")
        pytest.skip(reason)
    from docker.client import from_env

    client = from_env(timeout=60)
    yield client
    client.close()


def labelled_by(client: object, prefix: str, *, compose_only: bool = False) -> list[str]:
    """Containers, images, volumes and networks on the engine whose run label starts with ``prefix`` (with
    ``compose_only``, the containers Compose started only)."""
    api = client.api  # type: ignore[attr-defined]
    filters = {"label": "labkit.run"}
    listed = {
        "container": [(c["Id"], c.get("Labels")) for c in api.containers(all=True, filters=filters)],
        "image": [(i["Id"], i.get("Labels")) for i in api.images(filters=filters)],
        "volume": [(v["Name"], v.get("Labels")) for v in (api.volumes(filters=filters) or {}).get("Volumes") or []],
        "network": [(n["Id"], n.get("Labels")) for n in api.networks(filters=filters)],
    }
    return [
        f"{kind} {name[:19]}"
        for kind, items in listed.items()
        for name, labels in items
        if (labels or {}).get("labkit.run", "").startswith(prefix)
        and (not compose_only or (kind == "container" and "com.docker.compose.project" in (labels or {})))
    ]


def require_docker_compose() -> None:
    """Skips, saying why, where docker-compose is not installed (.ci/run installs it, and says so loudly when it
    could not)."""
    if fieldtools.python_of(DOCKER_COMPOSE) is None:
        pytest.skip(f"docker-compose is {fieldtools.why_missing(DOCKER_COMPOSE)} (.ci/run installs it)")


@pytest.mark.parametrize("impl", [SCENARIOS / "crashes-at-start", ALTERNATIVE], ids=["crash", "multi-stage"])
def test_a_grading_leaves_nothing_on_the_engine(engine: object, impl: Path) -> None:
    """Also the untagged last image of a multi-stage build's first stage, and the Compose project's containers,
    volumes and network (the alternative passes the image stage, so its compose-up stage runs)."""
    if impl == ALTERNATIVE:
        require_docker_compose()
    prefix = f"czleak{os.getpid()}x"
    code, result = grade_json(LAB, impl, env={"LABKIT_RUN_ID_PREFIX": prefix})
    statuses = stage_statuses(result)
    if impl == ALTERNATIVE:
        assert (statuses["image"], statuses["compose-up"]) == ("passed", "passed"), code
    else:
        assert statuses["image"] == "failed", code
    assert labelled_by(engine, prefix) == []


@pytest.mark.parametrize("stage", ["image", "compose-up"])
def test_ctrl_c_during_a_runtime_stage_leaves_nothing(engine: object, tmp_path: Path, stage: str) -> None:
    """Ctrl-C once the grader has something on the engine (for compose-up: once Compose has started a container):
    labkit stops with an error and removes it all. On a loaded machine the whole grading may end before the
    interrupt is sent; such an attempt proves nothing about Ctrl-C (it must still leave nothing), so the test tries
    again, up to three times."""
    compose_only = stage == "compose-up"
    if compose_only:
        require_docker_compose()
    interrupted = 0
    for attempt in range(3):
        prefix = f"czint{os.getpid()}x{stage[0]}{attempt}x"
        process = subprocess.Popen(
            [sys.executable, "-m", "labkit", "grade", LAB, "--impl", str(SOLUTION), "--seed", "1"],
            cwd=KIT,
            env={**environment(), **session_env(), "LABKIT_RUN_ID_PREFIX": prefix, "LABKIT_STATE_DIR": str(tmp_path)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            from labkit.wait import until

            # Interrupted once the grader has something on the engine: an image (the base stand-in, or the build),
            # or a container of the Compose project.
            started = until(lambda: labelled_by(engine, prefix, compose_only=compose_only), 180.0, interval=0.2)  # noqa: B023
            assert started, f"the {stage} stage never started"
            running = process.poll() is None
            process.send_signal(signal.SIGINT)
            process.wait(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        assert labelled_by(engine, prefix) == []
        if running:
            assert process.returncode != 0
            interrupted += 1
            break
    assert interrupted, "in three attempts the grading always ended before the interrupt could be sent"


@pytest.fixture(scope="module")
def dockerfile_module() -> Iterator[ModuleType]:
    """The lab's Dockerfile helper, imported as its stages import it, and forgotten afterwards."""
    folder = str(KIT / "graders" / LAB)
    sys.path.insert(0, folder)
    try:
        import dockerfile

        yield dockerfile
    finally:
        sys.path.remove(folder)
        sys.modules.pop("dockerfile", None)


@pytest.mark.parametrize(
    ("patterns", "path", "excluded"),
    [
        ([".git"], ".git/config", True),
        ([".git"], "app/.git", False),  # a pattern without ** matches from the root only
        (["**/.git"], "app/.git", True),
        (["*.pyc"], "server.pyc", True),
        (["*.pyc"], "app/server.pyc", False),
        (["**/*.pyc"], "app/x/server.pyc", True),
        (["**/__pycache__"], "app/__pycache__/server.cpython-311.pyc", True),
        ([".env*"], ".env.production", True),
        ([".env*"], "app/.env", False),
        (["/terraform/"], "terraform/terraform.tfstate", True),
        (["*", "!app"], "app/server.py", False),
        (["*", "!app"], "k8s/app.yaml", True),
        (["*", "!app", "app/secret*"], "app/secrets.txt", True),
        (["app", "!app/server.py"], "app/server.py", False),
        (["app", "!app/server.py"], "app/healthcheck.py", True),
        (["# .env", ""], ".env", False),
        (["a?c"], "abc", True),
        (["a?c"], "a/c", False),
    ],
)
def test_dockerignore_matching_follows_the_engine(
    dockerfile_module: ModuleType, patterns: list[str], path: str, excluded: bool
) -> None:
    assert dockerfile_module.dockerignore_excludes(patterns, path) is excluded


def test_dockerfile_instructions_keep_their_first_line(dockerfile_module: ModuleType) -> None:
    text = (
        "# comment\nARG BASE_IMAGE=x:1\n\nFROM ${BASE_IMAGE} AS build\nRUN a \\\n    && b\n# inside\n"
        "CMD python -m app\n"
    )
    parsed = dockerfile_module.parse(text)
    assert [(i.line, i.keyword, i.text) for i in parsed] == [
        (2, "ARG", "BASE_IMAGE=x:1"), (4, "FROM", "${BASE_IMAGE} AS build"), (5, "RUN", "a && b"),
        (8, "CMD", "python -m app"),
    ]  # fmt: skip
    assert dockerfile_module.exec_form("python -m app") is None
    assert dockerfile_module.exec_form('["python", "-m", "app"]') == ["python", "-m", "app"]
    assert [dockerfile_module.duration_seconds(t) for t in ("2s", "500ms", "1m30s", "5", "")] == [
        2,
        0.5,
        90,
        None,
        None,
    ]


@pytest.fixture(scope="module")
def rules() -> Iterator[tuple[ModuleType, ModuleType]]:
    """The lab's Dockerfile and Terraform rules, imported as its stages import them, and forgotten afterwards."""
    folder = str(KIT / "graders" / LAB)
    sys.path.insert(0, folder)
    try:
        import dockerfile_rules
        import terraform_rules

        yield dockerfile_rules, terraform_rules
    finally:
        sys.path.remove(folder)
        for name in ("dockerfile_rules", "terraform_rules", "dockerfile", "findings", "yamldocs"):
            sys.modules.pop(name, None)


@pytest.mark.parametrize(
    ("options", "passes"),
    [("--interval=5s", True), ("--interval=4500ms", True), ("--interval=5001ms", False), ("--interval=6s", False),
     ("", False)],
)  # fmt: skip
def test_health_check_interval_boundary(rules: tuple[ModuleType, ModuleType], options: str, passes: bool) -> None:
    dockerfile_rules, _ = rules
    parse = sys.modules["dockerfile"].parse  # imported by dockerfile_rules
    instructions = parse(f'FROM x\nHEALTHCHECK {options} CMD ["python", "-m", "app.healthcheck"]\n')
    assert (dockerfile_rules.healthcheck_rule(dockerfile_rules.stages(instructions)[-1]) == []) is passes


@pytest.mark.parametrize(
    ("constraint", "pinned"),
    [("~> 5.80", True), ("= 5.80.0", True), ("5.80.0", True), (">= 5.0, < 6.0", True), (">= 5.0", False), ("", False)],
)
def test_provider_pins_need_an_upper_bound(
    rules: tuple[ModuleType, ModuleType], tmp_path: Path, constraint: str, pinned: bool
) -> None:
    _, terraform_rules = rules
    (tmp_path / "versions.tf").write_text(
        f'terraform {{\n  required_providers {{\n    aws = {{\n      source  = "hashicorp/aws"\n'
        f'      version = "{constraint}"\n    }}\n  }}\n}}\n'
    )
    module = terraform_rules.load(tmp_path, ["versions.tf"])
    assert (terraform_rules.providers_rule(module) == []) is pinned


@pytest.mark.parametrize(
    ("from_port", "to_port", "protocol", "cidr", "open_findings"),
    [
        (443, 443, "tcp", "0.0.0.0/0", 0),
        (22, 22, "tcp", "10.0.0.0/8", 0),
        (22, 22, "tcp", "0.0.0.0/0", 1),
        (21, 23, "tcp", "::/0", 1),
        (0, 65535, "tcp", "0.0.0.0/0", 4),  # SSH, MySQL, PostgreSQL and Redis
        (0, 0, "-1", "0.0.0.0/0", 4),
        (5433, 6378, "tcp", "0.0.0.0/0", 0),
    ],
)
def test_ssh_and_database_ports_closed_to_all_on_both_sides_of_each_range(
    rules: tuple[ModuleType, ModuleType], tmp_path: Path, from_port: int, to_port: int, protocol: str, cidr: str,
    open_findings: int,
) -> None:  # fmt: skip
    _, terraform_rules = rules
    key = "ipv6_cidr_blocks" if ":" in cidr else "cidr_blocks"
    (tmp_path / "main.tf").write_text(
        f'resource "aws_security_group" "app" {{\n  ingress {{\n    from_port = {from_port}\n    to_port = {to_port}\n'
        f'    protocol = "{protocol}"\n    {key} = ["{cidr}"]\n  }}\n}}\n'
    )
    module = terraform_rules.load(tmp_path, ["main.tf"])
    assert len(terraform_rules.open_ports_rule(module)) == open_findings


@pytest.fixture(scope="module")
def k8s() -> Iterator[tuple[ModuleType, ModuleType]]:
    """The lab's Kubernetes rules and its YAML reader, imported as stage 3 imports them, and forgotten afterwards."""
    folder = str(KIT / "graders" / LAB)
    sys.path.insert(0, folder)
    try:
        import k8s_rules
        import yamldocs

        yield k8s_rules, yamldocs
    finally:
        sys.path.remove(folder)
        for name in ("k8s_rules", "yamldocs", "dockerfile", "findings"):
            sys.modules.pop(name, None)


def _manifests(k8s: tuple[ModuleType, ModuleType], tmp_path: Path, edits: dict[str, tuple[str, str]]) -> list[object]:
    """The solution's k8s/ files, each with its (old, new) replacement applied; every old text must be there."""
    _, yamldocs = k8s
    documents = []
    for path in sorted((SOLUTION / "k8s").glob("*.yaml")):
        text = path.read_text()
        old, new = edits.get(path.name, ("", ""))
        assert old in text
        (tmp_path / path.name).write_text(text.replace(old, new, 1) if old else text)
        documents += yamldocs.load_documents(tmp_path / path.name, f"k8s/{path.name}")
    return documents


LIVENESS = "livenessProbe:\n            httpGet:\n              path: /healthz\n              port: http\n"
READINESS = "readinessProbe:\n            httpGet:\n              path: /ready\n              port: http\n"
ENV_FROM = "envFrom:\n            - configMapRef:\n                name: notes-config\n"
REDIS_IN_CONFIG = "  REDIS_URL: redis://redis:6379/0\n"
TCP_LIVENESS = "livenessProbe:\n            tcpSocket:\n              port: 8080\n"
EXEC_LIVENESS = 'livenessProbe:\n            exec:\n              command: ["python", "-m", "app.healthcheck"]\n'
METRICS_PORT = "containerPort: 8080\n            - name: metrics\n              containerPort: 9090"
REDIS_ENV = "          env:\n            - name: REDIS_URL\n              value: redis://redis:6379/0\n"
CONFIG_MAP = "kind: ConfigMap\nmetadata:\n  name: notes-config"
CONFIG_MAP_AS = "kind: {kind}\nmetadata:\n  name: notes"  # the Service's name


@pytest.mark.parametrize(
    ("edits", "findings"),
    [
        ({}, 0),
        ({"app.yaml": (LIVENESS, TCP_LIVENESS)}, 0),
        ({"app.yaml": (LIVENESS, EXEC_LIVENESS)}, 0),
        ({"app.yaml": (LIVENESS, LIVENESS.replace("/healthz", "/"))}, 1),
        ({"app.yaml": (LIVENESS, LIVENESS.replace("/healthz", "/ready"))}, 1),
        ({"app.yaml": (READINESS, READINESS.replace("port: http", "port: 8080"))}, 0),
        ({"app.yaml": (READINESS, READINESS.replace("/ready", "/healthz"))}, 1),
        ({"app.yaml": (READINESS, "readinessProbe:\n            tcpSocket:\n              port: http\n")}, 1),
        ({"app.yaml": ("containerPort: 8080", "containerPort: 8081")}, 1),
        ({"app.yaml": ("containerPort: 8080", METRICS_PORT)}, 0),
        ({"configmap.yaml": (REDIS_IN_CONFIG, "")}, 1),
        ({"configmap.yaml": (REDIS_IN_CONFIG, "  URL: redis://redis:6379/0\n"),
          "app.yaml": (ENV_FROM, ENV_FROM + "              prefix: REDIS_\n")}, 0),
        ({"configmap.yaml": (REDIS_IN_CONFIG, "  URL: redis://redis:6379/0\n")}, 1),
        ({"app.yaml": (ENV_FROM, "envFrom:\n            - secretRef:\n                name: notes-redis\n")}, 0),
        ({"configmap.yaml": (REDIS_IN_CONFIG, ""), "app.yaml": ("          env:\n", REDIS_ENV)}, 0),
        ({"service.yaml": ("targetPort: http", "targetPort: 8080")}, 0),
        ({"service.yaml": ("targetPort: http", "targetPort: 8081")}, 1),
        ({"service.yaml": ("      targetPort: http\n", "")}, 1),  # port 80 is not where the service listens
        ({"service.yaml": ("port: 80\n      targetPort: http", "port: 8080")}, 0),
    ],
)  # fmt: skip
def test_the_service_container_rule_on_both_sides(
    k8s: tuple[ModuleType, ModuleType], tmp_path: Path, edits: dict[str, tuple[str, str]], findings: int
) -> None:
    k8s_rules, _ = k8s
    assert len(k8s_rules.service_container_rule(_manifests(k8s, tmp_path, edits))) == findings


@pytest.mark.parametrize(
    ("edits", "rule", "findings"),
    [
        ({"service.yaml": ("  name: notes\n", "  name: notes-web\n")}, "objects_rule", 0),
        ({"service.yaml": ("  name: notes\n", "")}, "objects_rule", 1),
        ({"service.yaml": ("  name: notes\n", '  name: ""\n')}, "objects_rule", 1),
        ({"configmap.yaml": (CONFIG_MAP, CONFIG_MAP_AS.format(kind="Service"))}, "objects_rule", 1),  # two Services
        ({"configmap.yaml": (CONFIG_MAP, CONFIG_MAP_AS.format(kind="ConfigMap"))}, "objects_rule", 0),  # two kinds
        ({"app.yaml": ("                name: notes-config\n", "")}, "secrets_rule", 1),
        ({"app.yaml": ("                  name: notes-db\n", "")}, "secrets_rule", 1),
        ({"app.yaml": ("                  key: url\n", "")}, "secrets_rule", 1),
        ({"app.yaml": (ENV_FROM, ENV_FROM + "            - secretRef: {}\n")}, "secrets_rule", 1),
        ({"app.yaml": ("          env:\n", "          env:\n            - name: GREETING\n              valueFrom:\n"
                       "                configMapKeyRef: {name: notes-config, key: GREETING}\n")}, "secrets_rule", 0),
        ({"app.yaml": ("          env:\n", "          env:\n            - name: GREETING\n              valueFrom:\n"
                       "                configMapKeyRef: {name: notes-config, key: greeting}\n")}, "secrets_rule", 1),
    ],
)  # fmt: skip
def test_objects_are_named_and_references_resolve(
    k8s: tuple[ModuleType, ModuleType], tmp_path: Path, edits: dict[str, tuple[str, str]], rule: str, findings: int
) -> None:
    k8s_rules, _ = k8s
    assert len(getattr(k8s_rules, rule)(_manifests(k8s, tmp_path, edits))) == findings


@pytest.mark.parametrize(
    ("exposed", "passes"),
    [("", True), ("EXPOSE 8080\n", True), ("EXPOSE 8080/tcp\n", True), ("EXPOSE 8081\n", False),
     ("EXPOSE 8080 9090\n", False), ("EXPOSE 8080/udp\n", False), ("EXPOSE 80\n", False)],
)  # fmt: skip
def test_exposed_port_is_the_service_port_only(
    rules: tuple[ModuleType, ModuleType], exposed: str, passes: bool
) -> None:
    dockerfile_rules, _ = rules
    parse = sys.modules["dockerfile"].parse
    instructions = parse(f'FROM x\n{exposed}CMD ["python", "-m", "app"]\n')
    assert (dockerfile_rules.exposed_port_rule(dockerfile_rules.stages(instructions)[-1]) == []) is passes


@pytest.mark.parametrize(
    ("validation", "output", "findings"),
    [
        ('condition = length(var.db_password) >= 16\n    error_message = "Too short."', "value = 1", 0),
        ('error_message = "Too short."', "value = 1", 1),
        ("condition = length(var.db_password) >= 16", "value = 1", 1),
        ('condition = length(var.db_password) >= 16\n    error_message = "Too short."', 'description = "x"', 1),
    ],
)
def test_validations_are_whole_and_outputs_have_values(
    rules: tuple[ModuleType, ModuleType], tmp_path: Path, validation: str, output: str, findings: int
) -> None:
    _, terraform_rules = rules
    (tmp_path / "main.tf").write_text(
        'variable "db_password" {\n  type = string\n  description = "d"\n  sensitive = true\n'
        f"  validation {{\n    {validation}\n  }}\n}}\n"
        f'output "db_endpoint" {{\n  {output}\n}}\n'
    )
    module = terraform_rules.load(tmp_path, ["main.tf"])
    found = terraform_rules.variables_rule(module) + terraform_rules.outputs_rule(module)
    assert len([f for f in found if "no variable" not in f.problem and "no output" not in f.problem]) == findings
