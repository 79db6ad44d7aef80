"""Fixtures for the redis-patterns stages: one logical Redis db and one pool of driver processes per run; the db
is emptied before every check."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import pytest
import redis

from labkit.pool import driver_pool_fixture
from labkit.services import RedisEndpoint, fresh_redis_db, learner_redis_url
from labkit.tools.redis_gate import WriteGate

LAB_DB = 0  # drivers live for the whole run, so the lab keeps one logical db and empties it per check
POOL_SIZE = 8


@dataclass(frozen=True)
class LabRedis:
    admin_url: str
    learner_url: str

    @property
    def learner_user(self) -> str:
        return unquote(urlsplit(self.learner_url).username or "")


@pytest.fixture(scope="session")
def lab_redis(redis_server: RedisEndpoint) -> LabRedis:
    return LabRedis(redis_server.url(LAB_DB), learner_redis_url(redis_server, LAB_DB))


# The learner's module in driver processes that see only the restricted user's REDIS_URL.
pool = driver_pool_fixture(size=POOL_SIZE, env=lambda lab_redis: {"REDIS_URL": lab_redis.learner_url})


@pytest.fixture
def db(redis_server: RedisEndpoint, lab_redis: LabRedis) -> Iterator[redis.Redis]:
    """The grader's own connection to the lab's db, emptied for this check."""
    fresh_redis_db(redis_server, LAB_DB)
    admin = redis.Redis.from_url(lab_redis.admin_url, decode_responses=True, socket_timeout=10)
    yield admin
    admin.close()


@pytest.fixture
def gate(db: redis.Redis, lab_redis: LabRedis) -> WriteGate:
    return WriteGate(db, lab_redis.learner_user)
