"""The driver: runs in the learner's process, imports the learner's module and executes calls sent over a pipe.

Library labs (a Python interface rather than a server) are graded through this process so learner code never
runs inside the grader. It is started as ``python -I driver_main.py IMPL_DIR MODULE [--path FOLDER]...
[--adapter FILE]`` under the same limits as a learner server; ``-I`` keeps the grader's folders off ``sys.path``.
Standard library only.

- ``--path FOLDER`` (repeatable) holds a grader's own module to import as MODULE instead of the learner's (a probe
  that hands the learner's code the grader's fakes); it comes first on ``sys.path``, then IMPL_DIR.
- ``--adapter FILE`` puts a grader-owned adapter between the grader and the module: FILE defines ``wrap(module)``,
  and the grader calls the functions of what it returns. A lab uses one to hand the learner's code objects the
  grader owns in this process (an instrumented pager, say) and to read them back, where only plain values cross
  the pipe.

Protocol, one JSON object per line:

- driver → grader, once: ``{"ready": true}`` or ``{"ready": false, "error": {...}}`` when the import failed;
- grader → driver: ``{"id": 1, "call": "transfer", "args": [...], "kwargs": {...}}``;
- driver → grader: ``{"id": 1, "ok": true, "value": ...}`` or ``{"id": 1, "ok": false, "error": {...}}``.

An error is ``{"type": "ValueError", "message": "...", "traceback": "..."}``. Bytes travel as
``{"$bytes": "<base64>"}``; tuples become lists. The learner's prints go to stderr so they cannot corrupt the
protocol, which uses a private copy of the original stdout.
"""

from __future__ import annotations

import base64
import importlib
import importlib.util
import json
import os
import sys
import traceback
from typing import Any, BinaryIO

BYTES_TAG = "$bytes"


def encode_value(value: Any) -> Any:
    """A JSON-ready copy of ``value``; raises TypeError for what JSON and the bytes tag cannot carry."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return {BYTES_TAG: base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, list | tuple):
        return [encode_value(item) for item in value]
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise TypeError("dict keys must be strings to cross the driver pipe")
        return {key: encode_value(item) for key, item in value.items()}
    raise TypeError(f"a {type(value).__name__} cannot cross the driver pipe (use str, int, float, bytes, list, dict)")


def decode_value(value: Any) -> Any:
    if isinstance(value, list):
        return [decode_value(item) for item in value]
    if isinstance(value, dict):
        if set(value) == {BYTES_TAG}:
            return base64.b64decode(value[BYTES_TAG])
        return {key: decode_value(item) for key, item in value.items()}
    return value


def describe_error(error: BaseException) -> dict[str, str]:
    """The learner's exception with the frames of their own code only: the driver's frames would send them to a
    file they never wrote."""
    trace = error.__traceback__
    while trace is not None and trace.tb_next is not None and trace.tb_frame.f_code.co_filename == __file__:
        trace = trace.tb_next
    frames = traceback.format_exception(type(error), error, trace)
    return {"type": type(error).__name__, "message": str(error), "traceback": "".join(frames)[-4000:]}


def send(channel: BinaryIO, message: dict[str, Any]) -> None:
    channel.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
    channel.flush()


def serve(module: Any, requests: BinaryIO, replies: BinaryIO) -> None:
    for line in requests:
        request = json.loads(line)
        reply: dict[str, Any] = {"id": request["id"]}
        try:
            function = getattr(module, request["call"], None)
            if not callable(function):
                raise AttributeError(f"your module has no function {request['call']}()")
            value = function(*decode_value(request["args"]), **decode_value(request["kwargs"]))
            reply.update(ok=True, value=encode_value(value))
        except Exception as error:  # the learner's exception is data for the grader, not a driver failure
            reply.update(ok=False, error=describe_error(error))
        send(replies, reply)


def load_adapter(path: str) -> Any:
    spec = importlib.util.spec_from_file_location("labkit_driver_adapter", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"the grader's driver adapter {path} cannot be loaded")
    adapter = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(adapter)
    return adapter


def main() -> int:
    impl_dir, module_name, options = sys.argv[1], sys.argv[2], sys.argv[3:]
    first_folders = [value for flag, value in zip(options[::2], options[1::2], strict=True) if flag == "--path"]
    adapters = [value for flag, value in zip(options[::2], options[1::2], strict=True) if flag == "--adapter"]
    adapter_path = adapters[-1] if adapters else None
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything the learner prints, even with os.write(1, ...), lands in stderr
    sys.stdout = sys.stderr
    sys.path[0:0] = [*first_folders, impl_dir]  # the grader's folders first: no learner file shadows its module
    try:
        module = importlib.import_module(module_name)
        if adapter_path is not None:
            module = load_adapter(adapter_path).wrap(module)
    except BaseException as error:  # SyntaxError, ImportError, SystemExit at import time: all reported
        send(replies, {"ready": False, "error": describe_error(error)})
        return 1
    send(replies, {"ready": True})
    serve(module, sys.stdin.buffer, replies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
