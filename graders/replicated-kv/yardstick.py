"""The reference solution's cluster, run beside the learner's in the same check: the yardstick of Efficiency.

Its three nodes run on this machine, through fault proxies of their own, at the same time as the learner's, so a
loaded machine slows both alike and the grader compares ratios, never absolute timings.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from labkit import context
from labkit.catalog import resolve_run
from labkit.cluster import Cluster, ClusterNode
from labkit.errors import HarnessError
from labkit.fixtures import launch_spec
from labkit.supervisor import LearnerProcess
from links import Links

REFERENCE_COMMAND = (sys.executable, "node.py")
_clusters = itertools.count(1)


def start_reference_cluster(grading: Any, links: Links, size: int) -> Cluster:
    """Starts the kit's reference solution as a cluster of ``size`` nodes routed through ``links``; the caller
    stops it. Its processes are marked like the learner's, so nothing of it outlives the run."""
    folder = grading.lab.solution_folder
    if not (folder / "node.py").is_file():
        raise HarnessError(f"the reference solution, the yardstick of this stage, is missing from {folder}")
    run = resolve_run(grading.lab, folder)

    def launch(node: ClusterNode, env: Mapping[str, str]) -> LearnerProcess:
        spec = launch_spec(grading, env, port=node.port, impl=folder)
        process = LearnerProcess.start(replace(spec, command=REFERENCE_COMMAND, writable=(node.data_dir,)))
        context.log(f"started reference node {node.id} (pid {process.pid})")
        return process

    cluster = Cluster(
        size,
        data_root=grading.config.run_dir / "reference" / str(next(_clusters)),
        launch=launch,
        wait_ready=lambda process: run.ready.wait(process, run.ready_timeout),
        peer_address=links.route,
    )
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster
