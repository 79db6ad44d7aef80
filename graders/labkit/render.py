"""Showing bytes to a human: escaped, abbreviated, and with the first difference marked."""

from __future__ import annotations

PRINTABLE = set(range(0x20, 0x7F)) - {0x5C}


def escape_bytes(data: bytes, limit: int = 120) -> str:
    """Renders bytes like a Python literal without the b'' noise, cut to ``limit`` bytes with a note."""
    shown = data[:limit]
    text = "".join(_escape_byte(byte) for byte in shown)
    if len(data) > limit:
        text += f"… (+{len(data) - limit} more bytes, {len(data)} in all)"
    return f'"{text}"'


def _escape_byte(byte: int) -> str:
    if byte in PRINTABLE and byte != 0x22:
        return chr(byte)
    return {0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t", 0x5C: "\\\\", 0x22: '\\"'}.get(byte, f"\\x{byte:02x}")


def show_value(value: object) -> str:
    """A value as reports show it: like ``repr``, but bytes, also inside lists, tuples and dicts, escaped as
    ``escape_bytes`` shows them everywhere ("\\x00ok"), never as Python's b'\\x00ok'."""
    if isinstance(value, bytes | bytearray):
        return escape_bytes(bytes(value))
    if isinstance(value, list):
        return "[" + ", ".join(show_value(item) for item in value) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(show_value(item) for item in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{show_value(key)}: {show_value(item)}" for key, item in value.items()) + "}"
    return repr(value)


def hex_bytes(data: bytes, limit: int = 48) -> str:
    shown = " ".join(f"{byte:02x}" for byte in data[:limit])
    return shown + (f" … ({len(data)} bytes)" if len(data) > limit else "")


def first_difference(expected: bytes, got: bytes) -> int | None:
    for offset, (left, right) in enumerate(zip(expected, got, strict=False)):
        if left != right:
            return offset
    if len(expected) != len(got):
        return min(len(expected), len(got))
    return None


def describe_difference(expected: bytes, got: bytes, context: int = 16) -> str:
    """One paragraph saying where two byte strings part ways, with a window of hex around that offset."""
    offset = first_difference(expected, got)
    if offset is None:
        return "identical"
    start = max(0, offset - context)
    lines = [f"first difference at byte offset {offset} (expected {len(expected)} bytes, got {len(got)})"]
    lines.append(f"  expected[{start}:]  {hex_bytes(expected[start : offset + context], 2 * context)}")
    lines.append(f"  got[{start}:]       {hex_bytes(got[start : offset + context], 2 * context)}")
    caret_column = len(f"  expected[{start}:]  ") + 3 * (offset - start)
    lines.append(" " * caret_column + "^^")
    return "\n".join(lines)


def cap_text(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    return "…" + text[-max_chars:]
