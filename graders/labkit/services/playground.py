"""What a lab's playground hook hands back: the learner's way in to the services it prepared.

A lab's ``graders/<lab>/playground.py`` may define ``playground(postgres, redis, impl_dir)``, a context manager
that loads the lab's data the way its grader does (through the grader's own helpers) and yields a
``PlaygroundData``; `labkit services up LAB` calls it with the servers the lab needs (``None`` for one it does
not) and leaves the context when the learner is done.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PlaygroundData:
    """``urls`` by the name the lab's README gives them (``DATABASE_URL``, ``REDIS_URL``): the learner's role,
    never a superuser. ``notes`` are one-line facts worth knowing (what was loaded, what could not be)."""

    urls: dict[str, str]
    notes: tuple[str, ...] = field(default=())
