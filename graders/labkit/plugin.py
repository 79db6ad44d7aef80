"""The labkit pytest plugin: stages as a ladder, per-check timeouts, and verdicts recorded into the results model.

Loaded explicitly by ``labkit grade`` (``-p labkit.plugin``) with plugin autoload off. It never imports the
learner's code; fixtures (``labkit.fixtures``) start the learner's program as a separate process.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Generator, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest
from _pytest.runner import runtestprotocol

from labkit import context
from labkit.artifacts import ArtifactStaging
from labkit.catalog import Lab, Stage, load_lab
from labkit.classify import Verdict, classify
from labkit.errors import CheckFailed, LabConfigError
from labkit.requirements import missing
from labkit.results import CheckResult, LabResult, StageResult, Status, split_points
from labkit.run_config import RunConfig
from labkit.stalls import STALL_S, StallWatch
from labkit.sweep import kill_marked

FAILING = (Status.FAILED, Status.TIMEOUT, Status.ERROR)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("labkit")
    group.addoption("--labkit-config", required=True, help="the run configuration: a JSON file written by labkit")
    group.addoption("--labkit-events-fd", type=int, default=-1, help="file descriptor for progress events")


@dataclass
class GradingState:
    config: RunConfig
    lab: Lab  # the lab config.lab_id names, loaded once
    events: IO[str] | None
    artifacts: ArtifactStaging  # where checks' attachments are written during the run
    stage_of: dict[str, Stage] = field(default_factory=dict)
    checks: dict[str, CheckResult] = field(default_factory=dict)
    provider: str | None = None
    provider_details: str = ""  # what the provider probes answered in full, for -v
    failed_stage: Stage | None = None
    aborted: str | None = None
    not_run: dict[str, str] = field(default_factory=dict)  # stage slug -> what this machine lacks for it
    stage: Stage | None = None  # the stage of the check running now
    # stage slug -> the finding of a start of the learner's program there that ran but never became ready: later
    # fresh starts in that stage wait less (it fails already; a program that was only slow gets a look).
    never_ready: dict[str, CheckFailed] = field(default_factory=dict)
    stalls: StallWatch = field(default_factory=StallWatch)

    @property
    def until(self) -> int:
        """The last stage this run grades (1-based)."""
        return self.config.choices.until or len(self.lab.stages)

    @property
    def stage_modules(self) -> frozenset[str]:
        """File names of the modules whose asserts judge the learner: the stages and an instructor's hidden ones."""
        return frozenset(name for s in self.lab.stages for name in (s.module_name, s.hidden_module_name))

    def emit(self, **event: Any) -> None:
        if self.events is not None:
            self.events.write(json.dumps(event) + "\n")
            self.events.flush()


STATE_KEY = pytest.StashKey[GradingState]()


def state_of(config: pytest.Config) -> GradingState:
    return config.stash[STATE_KEY]


def pytest_configure(config: pytest.Config) -> None:
    run = RunConfig.read(Path(config.getoption("--labkit-config")))
    lab = load_lab(run.kit_root / "labs" / run.lab_id / "lab.toml", run.kit_root)
    fd = config.getoption("--labkit-events-fd")
    config.stash[STATE_KEY] = GradingState(
        config=run,
        lab=lab,
        events=open(fd, "w", encoding="utf-8", closefd=True) if fd >= 0 else None,  # noqa: SIM115
        artifacts=ArtifactStaging(run.run_dir, lab.id),
    )
    config.stash[STATE_KEY].stalls.start()
    config.pluginmanager.import_plugin("labkit.timeouts")
    config.pluginmanager.import_plugin("labkit.fixtures")
    config.pluginmanager.import_plugin("labkit.kind_fixtures")
    config.pluginmanager.import_plugin("labkit.service_fixtures")


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Orders checks by stage, drops stages after the last one this run grades, rejects modules that are not
    stages, and leaves out the checks of stages whose requirements this machine lacks (reported as not run)."""
    state = state_of(config)
    by_module = {stage.module_name: stage for stage in state.lab.stages}
    hidden_modules = {stage.hidden_module_name: stage for stage in state.lab.stages}
    until = state.until
    kept: list[pytest.Item] = []
    for item in items:
        stage = by_module.get(item.path.name) or hidden_modules.get(item.path.name)
        if stage is None:
            raise LabConfigError(f"{item.path} is not a stage of {state.lab.id} (see its lab.toml)")
        if stage.index <= until:
            state.stage_of[item.nodeid] = stage
            kept.append(item)
    kept.sort(key=lambda item: state.stage_of[item.nodeid].index)
    items[:] = kept
    counts = {stage.slug: 0 for stage in state.lab.stages}
    for item in kept:
        counts[state.stage_of[item.nodeid].slug] += 1
    shares = {slug: iter(split_points(stage.points, counts[slug])) for slug, stage in _stages(state)}
    for item in kept:
        stage = state.stage_of[item.nodeid]
        state.checks[item.nodeid] = CheckResult(
            id=f"{stage.slug}/{getattr(item, 'originalname', item.name)}",
            name=check_title(item),
            status=Status.SKIPPED,
            max_points=next(shares[stage.slug]),
            message="not run",
            visibility="hidden" if stage.hidden or item.path.name == stage.hidden_module_name else "visible",
        )
    items[:] = leave_out_unmet_stages(state, kept)
    state.emit(event="collected", checks=len(items))


def leave_out_unmet_stages(state: GradingState, items: list[pytest.Item]) -> list[pytest.Item]:
    """The items whose stage can run here; the others' checks are marked not run, with the reason."""
    for stage in state.lab.stages[: state.until]:
        if stage.requires and (reason := missing(stage.requires)) is not None:
            state.not_run[stage.slug] = reason
    runnable = []
    for item in items:
        reason = state.not_run.get(state.stage_of[item.nodeid].slug)
        if reason is None:
            runnable.append(item)
        else:
            check = state.checks[item.nodeid]
            check.status, check.message = Status.NOT_RUN, f"not run: {reason}"
    return runnable


def _stages(state: GradingState) -> Iterator[tuple[str, Stage]]:
    return ((stage.slug, stage) for stage in state.lab.stages)


def check_title(item: pytest.Item) -> str:
    function = getattr(item, "function", None)
    doc = (function.__doc__ or "").strip().splitlines() if function else []
    if doc:
        return doc[0].rstrip(".")
    name = getattr(item, "originalname", item.name)
    return name.removeprefix("check_").removeprefix("test_").replace("_", " ")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool:
    """Runs a check; runs it once more if it failed while the grader itself stalled (``labkit.stalls``), so that a
    loaded machine does not fail a correct program. The second attempt's verdict stands."""
    state = state_of(item.config)
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    before = _Snapshot.take(state, item)
    state.stalls.restart()
    reports = runtestprotocol(item, nextitem=nextitem, log=False)
    stalled = state.stalls.longest()
    first = state.checks[item.nodeid]
    if stalled >= STALL_S and first.status in (Status.FAILED, Status.TIMEOUT):
        before.restore(state, item)
        reports = runtestprotocol(item, nextitem=nextitem, log=False)
        state.checks[item.nodeid].transcript.insert(
            0,
            f"(a first attempt {first.status.value} while the grader itself stalled for {stalled:.1f} s, which "
            f"proves nothing about your program; this is the second attempt. The first said: "
            f"{first.message.splitlines()[0] if first.message else first.status.value})",
        )
    for report in reports:
        item.ihook.pytest_runtest_logreport(report=report)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


@dataclass(frozen=True)
class _Snapshot:
    """What a check's attempt may change in the grading state, as it was before the attempt."""

    check: CheckResult
    failed_stage: Stage | None
    never_ready: dict[str, CheckFailed]

    @staticmethod
    def take(state: GradingState, item: pytest.Item) -> _Snapshot:
        return _Snapshot(copy.deepcopy(state.checks[item.nodeid]), state.failed_stage, dict(state.never_ready))

    def restore(self, state: GradingState, item: pytest.Item) -> None:
        state.checks[item.nodeid] = copy.deepcopy(self.check)
        state.failed_stage = self.failed_stage
        state.never_ready = dict(self.never_ready)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    state = state_of(item.config)
    stage = state.stage_of[item.nodeid]
    state.stage = stage
    context.reset(state.artifacts.shelf(item.nodeid, stage.slug, item.name))
    if state.aborted:
        pytest.skip(f"not run: {state.aborted}")
    if state.failed_stage is not None and state.failed_stage.index < stage.index:
        pytest.skip(f"not run: stage {state.failed_stage.index} '{state.failed_stage.slug}' did not pass")
    state.emit(event="check-start", stage=stage.slug, check=state.checks[item.nodeid].name)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report: pytest.TestReport = yield
    state = state_of(item.config)
    check = state.checks[item.nodeid]
    check.duration_s = round(check.duration_s + call.duration, 4)
    if call.excinfo is None:
        if call.when == "call":
            check.status, check.points, check.message = Status.PASSED, check.max_points, ""
        return report
    error = call.excinfo.value
    if isinstance(error, pytest.skip.Exception):
        check.status, check.message = Status.SKIPPED, str(error.msg)
        return report
    if call.when == "teardown" and check.status in FAILING:
        return report  # keep the first, more telling verdict
    record_failure(state, item, check, classify(error, stage_modules=state.stage_modules))
    return report


def record_failure(state: GradingState, item: pytest.Item, check: CheckResult, verdict: Verdict) -> None:
    check.status, check.points = verdict.status, 0.0
    check.message, check.expected, check.got, check.hint = (
        verdict.message,
        verdict.expected,
        verdict.got,
        verdict.hint,
    )
    code = learner_exit_code(context.current())
    if code is not None and "exited with code" not in check.message:
        check.message += f"\n(your program exited with code {code} during this check)"
        if code != 0:
            # The check's own advice is about a symptom; the program ending under it is the cause.
            check.hint = "your program stopped while this check ran: its stderr below shows why"
    check.stderr_tail = context.current().stderr_tail()
    stage = state.stage_of[item.nodeid]
    if state.failed_stage is None or stage.index < state.failed_stage.index:
        state.failed_stage = stage
    if verdict.status is Status.ERROR:
        state.aborted = "the run stopped after a harness error"


def learner_exit_code(ctx: context.CheckContext) -> int | None:
    """The exit code of the first learner process of this check that ended by itself (not stopped by the grader)."""
    ended = (p for p in ctx.processes if not getattr(p, "stopped_by_grader", False))
    return next((code for process in ended if (code := process.exit_code()) is not None), None)


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    state = state_of(item.config)
    check = state.checks[item.nodeid]
    check.transcript = context.current().capped_transcript()
    check.artifacts = list(context.current().artifacts)
    state.emit(event="check-end", stage=state.stage_of[item.nodeid].slug, check=check.name, status=check.status)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = state_of(session.config)
    kill_marked(state.config.run_id, prefix=True)
    result = build_lab_result(state)
    if not state.config.choices.hidden_details:
        conceal_hidden_details(result)
    if exitstatus in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR) and result.error is None:
        result.error = f"pytest stopped with {pytest.ExitCode(exitstatus).name}"
    state.config.results_path.write_text(json.dumps(asdict(result), default=str), encoding="utf-8")
    state.emit(event="finished")
    if state.events is not None:
        state.events.close()


def conceal_hidden_details(result: LabResult) -> None:
    """Hidden checks keep their name, verdict and points; what they sent and expected stays with the instructor."""
    for stage in result.stages:
        for check in stage.checks:
            if check.visibility != "hidden":
                continue
            if check.status not in (Status.PASSED, Status.NOT_RUN):  # why a stage was not run is no secret
                check.message = f"{check.status.value} (a hidden check: its details are not shown)"
            check.expected = check.got = check.hint = check.stderr_tail = None
            check.transcript = []
            check.artifacts = []  # and `labkit grade` keeps only the files the results name


def build_lab_result(state: GradingState) -> LabResult:
    result = LabResult(
        id=state.lab.id,
        title=state.lab.title,
        impl=str(state.config.impl),
        services=state.provider,
        services_details=state.provider_details or None,
        lab_max_points=state.lab.max_points,
    )
    by_stage: dict[str, list[CheckResult]] = {stage.slug: [] for stage in state.lab.stages}
    for nodeid, check in state.checks.items():
        by_stage[state.stage_of[nodeid].slug].append(check)
    for stage in state.lab.stages[: state.until or None]:
        result.stages.append(
            StageResult(
                slug=stage.slug,
                title=stage.title,
                index=stage.index,
                max_points=stage.points,
                checks=by_stage[stage.slug],
                hints=list(stage.hints),
                not_run=state.not_run.get(stage.slug),
            )
        )
    return result
