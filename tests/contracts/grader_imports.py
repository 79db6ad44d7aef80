"""Lab graders may use labkit's public API only: an import-linter contract, run by nox and CI.

Lab grader folders (graders/<lab>/) are not packages (their names have hyphens; pytest imports their modules by
path), so the contract is checked on a mirror: each folder copied into a package ``labgraders.<lab>`` in a
temporary folder, where import-linter's ``forbidden`` contract forbids every labkit module that is not public.
A direct import counts; labkit's public modules may of course use its private ones.

    python tests/contracts/grader_imports.py [KIT_ROOT]     exit 0 when every grader keeps the contract
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# What a lab's grader may import: documented in README.md's "Writing a lab".
PUBLIC = frozenset({
    "labkit.calls", "labkit.checks", "labkit.driver", "labkit.errors", "labkit.learners", "labkit.pool",
    "labkit.ports", "labkit.readiness", "labkit.render", "labkit.services", "labkit.tools", "labkit.tools.kvproto",
    "labkit.tools.checkov", "labkit.tools.compose", "labkit.tools.pymutants", "labkit.tools.redis_gate",
    "labkit.tools.sql", "labkit.tools.tcp", "labkit.tools.tcpproxy", "labkit.tools.udpproxy", "labkit.wait",
})  # fmt: skip
MIRROR = "labgraders"


def labkit_modules(kit: Path) -> list[str]:
    package = kit / "graders" / "labkit"
    names = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def private_modules(kit: Path) -> list[str]:
    return [name for name in labkit_modules(kit) if name != "labkit" and name not in PUBLIC]


def mirror_graders(kit: Path, into: Path) -> list[str]:
    """Copies every lab's grader modules into ``into/labgraders/<lab>/``; returns the lab package names."""
    root = into / MIRROR
    root.mkdir()
    (root / "__init__.py").write_text("")
    labs = []
    for folder in sorted(p for p in (kit / "graders").iterdir() if p.is_dir() and p.name != "labkit"):
        modules = sorted(folder.glob("*.py"))
        if not modules:
            continue
        name = folder.name.replace("-", "_")
        (root / name).mkdir()
        (root / name / "__init__.py").write_text("")
        for module in modules:
            shutil.copyfile(module, root / name / module.name)
        labs.append(name)
    return labs


def contract(kit: Path) -> str:
    forbidden = "\n    ".join(private_modules(kit))
    return f"""[importlinter]
root_packages =
    {MIRROR}
    labkit

[importlinter:contract:public-api]
name = Lab graders import labkit's public API only (see README.md, Writing a lab)
type = forbidden
source_modules =
    {MIRROR}
forbidden_modules =
    {forbidden}
allow_indirect_imports = True
"""


def check(kit: Path) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="lkcontract-") as folder:
        where = Path(folder)
        mirror_graders(kit, where)
        (where / ".importlinter").write_text(contract(kit))
        paths = [str(where), str(kit / "graders")]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
        lint = Path(sys.executable).with_name("lint-imports")
        return subprocess.run(
            [str(lint), str(where / ".importlinter"), "--no-cache"],
            cwd=where, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip


def main() -> int:
    kit = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2]
    done = check(kit)
    print(done.stdout.replace(MIRROR + ".", "graders/").rstrip(), done.stderr.rstrip(), sep="\n")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
