"""Hostile: uses the learner's Redis credentials against the whole server instead of storing anything."""

import sys

import redis


def attempt(label: str, url: str, *command: str) -> None:
    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        client.execute_command(*command)
    except redis.exceptions.ResponseError as error:  # NoPermissionError is one
        print(f"{label}: refused ({type(error).__name__}: {error})", file=sys.stderr)
    except redis.RedisError as error:  # a lost connection: SHUTDOWN went through
        print(f"{label}: allowed ({type(error).__name__}: {error})", file=sys.stderr)
    else:
        print(f"{label}: allowed", file=sys.stderr)
    finally:
        client.close()


def redis_save(url: str, key: str, value: str) -> None:
    attempt("FLUSHALL", url, "FLUSHALL")
    attempt("CONFIG SET", url, "CONFIG", "SET", "maxmemory", "1048576")
    attempt("SHUTDOWN", url, "SHUTDOWN", "NOSAVE")


def redis_load(url: str, key: str) -> str:
    return "hello"  # claims the value is there


def pg_save(dsn: str, key: str, value: str) -> None:
    return None


def pg_load(dsn: str, key: str) -> str:
    return "hello"
