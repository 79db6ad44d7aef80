"""The service fixtures through the real grading path: a throwaway lab whose checks use PostgreSQL and Redis,
graded with the embedded provider and with the external provider pointed at servers this test started."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from labkit.services import EmbeddedProvider
from throwaway import Stage, ThrowawayKit

STAGE = """
import psycopg
import redis


def check_postgres_first(postgres):
    with psycopg.connect(postgres.dsn(), autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE tablename = 'marker'").fetchone()[0] == 0
        conn.execute("CREATE TABLE marker (id int)")


def check_postgres_second_sees_a_fresh_database(postgres):
    check_postgres_first(postgres)


def check_learner_role_owns_its_database_and_nothing_more(postgres, postgres_learner):
    assert postgres_learner.dbname == postgres.dbname and postgres_learner.user != postgres.user
    with psycopg.connect(postgres_learner.dsn(), autocommit=True) as conn:
        conn.execute("CREATE TABLE mine (id int PRIMARY KEY)")
        assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0] is False
        try:
            conn.execute("COPY mine FROM PROGRAM 'true'")
        except psycopg.errors.InsufficientPrivilege:
            pass
        else:
            raise AssertionError("COPY FROM PROGRAM must be refused to the learner role")


def check_learner_role_is_dropped_afterwards(postgres):
    with psycopg.connect(postgres.dsn(), autocommit=True) as conn:
        left = conn.execute("SELECT count(*) FROM pg_roles WHERE rolname LIKE 'labkit_learner_%'").fetchone()[0]
    assert left == 0, f"{left} learner roles were left behind"


def check_learner_redis_user_keeps_to_its_data(redis_url, redis_learner_url):
    learner = redis.Redis.from_url(redis_learner_url)
    learner.set("mine", "1")
    assert redis.Redis.from_url(redis_url).get("mine") == b"1", "the same logical db as the grader's"
    for command in (("FLUSHALL",), ("CONFIG", "GET", "*"), ("SHUTDOWN", "NOSAVE")):
        try:
            learner.execute_command(*command)
        except redis.exceptions.NoPermissionError:
            continue
        raise AssertionError(f"{command[0]} must be refused to the learner's Redis user")
    learner.delete("mine")


def check_redis_first(redis_url):
    client = redis.Redis.from_url(redis_url)
    assert client.dbsize() == 0
    client.set("marker", "1")


def check_redis_second_sees_a_flushed_db(redis_url):
    check_redis_first(redis_url)
"""


@pytest.fixture
def demo_kit(tmp_path: Path) -> ThrowawayKit:
    return ThrowawayKit(tmp_path).lab(
        "svc-demo", services=("postgres", "redis"), stages={"data": Stage(STAGE, points=7, timeout=20)}
    )


def grade_demo(kit: ThrowawayKit, services: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    code, result = kit.grade("svc-demo", "--services", services, env=env)
    assert code == 0, json.dumps(result, indent=1)
    return result


def test_embedded_services_give_each_check_a_fresh_database(demo_kit: ThrowawayKit) -> None:
    lab = grade_demo(demo_kit, "embedded")["labs"][0]
    assert lab["points"] == 7
    assert lab["services"].startswith("embedded")


def test_external_services_use_the_given_servers(demo_kit: ThrowawayKit, services_dir: Path) -> None:
    with EmbeddedProvider("lktest-external", services_dir) as servers:
        postgres, redis_server = servers.start_postgres(), servers.start_redis()
        env = {"LABKIT_POSTGRES_URL": postgres.dsn(), "LABKIT_REDIS_URL": redis_server.url()}
        lab = grade_demo(demo_kit, "external", env)["labs"][0]
    assert lab["points"] == 7
    assert lab["services"].startswith("external")


def test_unusable_provider_is_a_harness_error_not_a_zero(demo_kit: ThrowawayKit) -> None:
    env = {"LABKIT_POSTGRES_URL": "", "LABKIT_REDIS_URL": ""}
    code, result = demo_kit.grade("svc-demo", "--services", "external", env=env)
    assert code == 2, json.dumps(result, indent=1)
    check = result["labs"][0]["stages"][0]["checks"][0]
    assert check["status"] == "error"
    assert "LABKIT_POSTGRES_URL" in check["message"]
