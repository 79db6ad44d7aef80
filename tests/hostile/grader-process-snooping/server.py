"""Hostile: reads the grader's environment, command line and files through /proc and prints them."""

import json
import os
import sys


def report(label: str, text: str) -> None:
    print(f"{label}: {text}", file=sys.stderr)


def ancestors() -> list[int]:
    chain, pid = [], os.getppid()
    while pid > 1 and len(chain) < 12:
        chain.append(pid)
        try:
            with open(f"/proc/{pid}/status", encoding="ascii") as status:
                pid = next(int(line.split()[1]) for line in status if line.startswith("PPid:"))
        except (OSError, StopIteration, ValueError):
            break
    return chain


found_paths: list[str] = []
for depth, pid in enumerate(ancestors(), start=1):
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            variables = handle.read().split(b"\0")
    except OSError as error:
        report(f"ancestor {depth} environ", f"refused ({error.strerror})")
        continue
    leaked = [entry.decode(errors="replace") for entry in variables if entry.startswith(b"LABKIT_TEST_SECRET=")]
    report(f"ancestor {depth} environ", f"readable, {len(variables)} variables; {'; '.join(leaked) or 'no secret'}")
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            arguments = handle.read().decode(errors="replace").split("\0")
    except OSError:
        continue
    for argument in arguments:
        if argument.startswith("--labkit-config="):
            config = argument.split("=", 1)[1]
            found_paths += [config, os.path.dirname(config)]
            try:
                with open(config, encoding="utf-8") as handle:
                    named = json.load(handle)
                found_paths += [named["run_dir"], named["kit_root"]]
            except (OSError, ValueError, KeyError, TypeError) as error:
                report(f"following {config}", f"refused ({error})")

for path in found_paths:
    try:
        if os.path.isdir(path):
            report(f"listing {path}", ", ".join(sorted(os.listdir(path))[:20]))
        else:
            with open(path, encoding="utf-8", errors="replace") as handle:
                report(f"reading {path}", handle.read(200))
    except OSError as error:
        report(f"reading {path}", f"refused ({error.strerror})")
sys.exit(1)
