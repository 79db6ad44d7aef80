"""The document root the grader serves through the learner's server: generated per run from the seed, so the
content cannot be guessed, with one file of every type the README's table names and a secret just outside."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

# The README's table: extension -> Content-Type. Anything else is application/octet-stream.
CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "json": "application/json",
    "txt": "text/plain; charset=utf-8",
    "svg": "image/svg+xml",
    "png": "image/png",
    "jpg": "image/jpeg",
}
OCTET_STREAM = "application/octet-stream"
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima"]


@dataclass(frozen=True)
class SiteFile:
    path: str  # the URL path, e.g. "/docs/guide.txt"
    content: bytes
    content_type: str


@dataclass(frozen=True)
class Site:
    public: Path  # the document root handed to the server as DOCROOT
    files: dict[str, SiteFile]
    secret: bytes  # the content of ../secret.txt, which must never be served

    def __getitem__(self, path: str) -> SiteFile:
        return self.files[path]


def content_type_of(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return CONTENT_TYPES.get(extension, OCTET_STREAM)


def build_site(folder: Path, rng: random.Random) -> Site:
    def words(count: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(count))

    contents = {
        "/index.html": (
            f"<!doctype html>\n<html><head><title>{words(3)}</title>"
            f'<link rel="stylesheet" href="/style.css"></head>\n<body><p>{words(200)}</p></body></html>\n'
        ).encode(),
        "/style.css": "".join(f".{w} {{ color: #{rng.randrange(1 << 24):06x}; }}\n" for w in WORDS).encode(),
        "/app.js": f"console.log({json.dumps(words(12))});\n".encode(),
        "/data.json": json.dumps({"items": [words(2) for _ in range(20)], "seed": rng.randrange(1000)}).encode(),
        "/notes.txt": f"café ✓ {words(40)}\n".encode(),
        "/icon.svg": (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16">'
            f'<circle cx="8" cy="8" r="{rng.randint(2, 8)}"/></svg>\n'
        ).encode(),
        "/logo.png": b"\x89PNG\r\n\x1a\n" + rng.randbytes(256 * 1024),
        "/photo.jpg": b"\xff\xd8\xff\xe0" + rng.randbytes(3000),
        "/LICENSE": f"{words(30)}\n".encode(),
        "/backup.tar.gz": b"\x1f\x8b\x08\x00" + rng.randbytes(500),
        "/empty.txt": b"",
        "/docs/guide.txt": f"{words(60)}\n".encode(),
        "/docs/CHANGES.TXT": f"{words(20)}\n".encode(),  # extensions are compared in lower case
    }
    public = folder / "public"
    for path, content in contents.items():
        target = public / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    secret = f"secret {rng.randrange(1 << 32):08x}\n".encode()
    (folder / "secret.txt").write_bytes(secret)
    files = {path: SiteFile(path, content, content_type_of(path)) for path, content in contents.items()}
    return Site(public, files, secret)
