"""labkit.tools.sql: the statement splitter (tables of constructs and generated scripts), and errors, sessions
and scripts against a real PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labkit.errors import CheckFailed, HarnessError
from labkit.services import EmbeddedProvider, PostgresEndpoint, fresh_postgres_database
from labkit.tools.sql import (
    SplitError,
    Statement,
    connect,
    describe_error,
    read_script,
    run_script,
    split_statements,
)


def texts(script: str) -> list[str]:
    return [statement.text for statement in split_statements(script)]


def split_or_error(script: str) -> list[Statement] | SplitError:
    try:
        return split_statements(script)
    except SplitError as error:
        return error


def line_and_column(script: str, offset: int) -> tuple[int, int]:
    before = script[:offset].split("\n")
    return len(before), len(before[-1]) + 1


# -- the splitter, construct by construct -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        pytest.param("SELECT 1; SELECT 2;", ["SELECT 1", "SELECT 2"], id="two statements"),
        pytest.param("SELECT 1;\n  SELECT 2", ["SELECT 1", "SELECT 2"], id="last without semicolon"),
        pytest.param(" ;; \n ; -- only\n/* comments */", [], id="nothing but separators"),
        pytest.param("SELECT 'a;b', 'it''s; fine'; SELECT 2", ["SELECT 'a;b', 'it''s; fine'", "SELECT 2"], id="quotes"),
        pytest.param("SELECT 'a\\'; SELECT 2", ["SELECT 'a\\'", "SELECT 2"], id="backslash ends nothing in '...'"),
        pytest.param("SELECT E'a\\';b'; SELECT 2", ["SELECT E'a\\';b'", "SELECT 2"], id="E-string escapes"),
        pytest.param("SELECT e'\\\\'; SELECT 2", ["SELECT e'\\\\'", "SELECT 2"], id="e-string escaped backslash"),
        pytest.param("SELECT date'2024;1'; SELECT 2", ["SELECT date'2024;1'", "SELECT 2"], id="typed literal"),
        pytest.param('SELECT 1 AS "a;""b"; SELECT 2', ['SELECT 1 AS "a;""b"', "SELECT 2"], id="quoted identifier"),
        pytest.param("SELECT $$a;'b$$; SELECT 2", ["SELECT $$a;'b$$", "SELECT 2"], id="dollar quote"),
        pytest.param(
            "CREATE FUNCTION f() RETURNS int AS $fn$ SELECT $$;$$; $fn$ LANGUAGE sql; SELECT 2",
            ["CREATE FUNCTION f() RETURNS int AS $fn$ SELECT $$;$$; $fn$ LANGUAGE sql", "SELECT 2"],
            id="tagged dollar quote holding $$",
        ),
        pytest.param("SELECT $1 + a$b$c; SELECT 2", ["SELECT $1 + a$b$c", "SELECT 2"], id="parameters, $ in names"),
        pytest.param("SELECT 1 -- a; b\n; SELECT 2", ["SELECT 1", "SELECT 2"], id="line comment"),
        pytest.param("SELECT /* a /* b; */ c; */ 1; SELECT 2", ["SELECT /* a /* b; */ c; */ 1", "SELECT 2"], id="nest"),
        pytest.param("-- lead;\n/* x; */ SELECT 1 /* tail; */;", ["SELECT 1"], id="comments around a statement"),
        pytest.param(
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT 2;\nEND;\nSELECT 3",
            ["CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT 2;\nEND", "SELECT 3"],
            id="BEGIN ATOMIC",
        ),
        pytest.param(
            "create or replace procedure p() begin atomic select case when true then 1 end; end; select 3",
            ["create or replace procedure p() begin atomic select case when true then 1 end; end", "select 3"],
            id="CASE ... END inside BEGIN ATOMIC",
        ),
        pytest.param(
            "BEGIN; CREATE TABLE t (begin_at int); END; SELECT 3",
            ["BEGIN", "CREATE TABLE t (begin_at int)", "END", "SELECT 3"],
            id="transaction BEGIN and END",
        ),
        pytest.param(
            "CREATE FUNCTION begin() RETURNS int RETURN 1; SELECT 2",
            ["CREATE FUNCTION begin() RETURNS int RETURN 1", "SELECT 2"],
            id="a routine named begin",
        ),
        pytest.param("SELECT '\\x'; SELECT $$\\i$$ -- \\set\n", ["SELECT '\\x'", "SELECT $$\\i$$"], id="quoted \\"),
    ],
)
def test_split_construct(script: str, expected: list[str]) -> None:
    assert texts(script) == expected


def test_statements_know_their_line_and_column() -> None:
    script = "-- header\nSELECT 1;  SELECT\n  2;\r\n\tSELECT 'é;';"
    statements = split_statements(script)
    assert [(s.line, s.column) for s in statements] == [(2, 1), (2, 12), (4, 2)]
    assert all(script[s.offset : s.offset + len(s.text)] == s.text for s in statements)
    assert [s.first_word for s in statements] == ["SELECT"] * 3
    assert statements[1].first_line == "SELECT …"


@pytest.mark.parametrize(
    ("script", "opened_at", "reason"),
    [
        ("SELECT 1;\nSELECT 'abc;\n", "'abc", "string literal"),
        ('SELECT "abc;', '"abc', "quoted identifier"),
        ("SELECT $x$ a $$ b", "$x$", "dollar quote $x$"),
        ("SELECT 1 /* a /* b */", "/* a", "/* comment"),
        ("SELECT E'a\\'", "'a", "string literal"),
    ],
)
def test_unterminated_constructs_are_reported_where_they_open(script: str, opened_at: str, reason: str) -> None:
    with pytest.raises(SplitError) as raised:
        split_statements(script)
    assert raised.value.offset == script.index(opened_at)
    assert reason in raised.value.reason and "never closed" in raised.value.reason


@pytest.mark.parametrize(
    ("script", "command"),
    [
        ("SELECT 1;\n\\set ON_ERROR_STOP on\nSELECT 2;", "\\set"),
        ("CREATE TABLE t (id int);\n  \\i other.sql\n", "\\i"),
        ("SELECT 1 \\gset\n", "\\gset"),
    ],
)
def test_psql_meta_commands_are_refused_by_name(script: str, command: str) -> None:
    with pytest.raises(SplitError) as raised:
        split_statements(script)
    assert raised.value.offset == script.index(command)
    assert f"psql meta-command {command} is not supported" in raised.value.reason


# -- the splitter, on generated scripts ----------------------------------------------------------------------------

ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)


def dollar_quoted(tag: str, body: str) -> str | None:
    delimiter = f"${tag}$"
    return delimiter + body + delimiter if (body + delimiter).find(delimiter) == len(body) else None


QUOTED = st.one_of(
    ANY_TEXT.map(lambda s: "'" + s.replace("'", "''") + "'"),
    ANY_TEXT.map(lambda s: "E'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"),
    ANY_TEXT.filter(bool).map(lambda s: '"' + s.replace('"', '""') + '"'),
    st.builds(dollar_quoted, st.sampled_from(["", "x", "body", "_1"]), ANY_TEXT).filter(bool),
)
# Inside a BEGIN ATOMIC body, begin/end/case and parentheses change the nesting: the body tokens leave them out.
BODY_TOKENS = st.one_of(
    st.sampled_from(["from", "t", "x1", "a$b", "E", "values", "é", "=", "<>", ",", "::", "*", ".", "$1"]),
    st.integers(0, 999).map(str),
    QUOTED,
)
TOKENS = st.one_of(BODY_TOKENS, st.sampled_from(["begin", "atomic", "end", "case", "(", ")"]))
COMMENT_TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="*/\n\r"), max_size=10)
COMMENTS = st.one_of(
    COMMENT_TEXT.map(lambda s: f"-- {s}\n"),
    COMMENT_TEXT.map(lambda s: f"/*{s}*/"),
    st.tuples(COMMENT_TEXT, COMMENT_TEXT).map(lambda pair: f"/*{pair[0]}/* {pair[1]} */*/"),
)
BLANKS = st.sampled_from([" ", "\n", "\t", "  \n  "])


@st.composite
def plain_statements(draw: st.DrawFn, *, in_body: bool = False) -> str:
    """A statement that is not a routine definition; ``in_body``: one that may stand in a BEGIN ATOMIC body."""
    text = draw(st.sampled_from(["select", "insert", "values", "with", *([] if in_body else ["begin", "end"])]))
    tokens = BODY_TOKENS if in_body else TOKENS
    for token in draw(st.lists(tokens, max_size=8)):
        text += draw(st.one_of(BLANKS, st.tuples(BLANKS, COMMENTS).map("".join))) + token
    return text


@st.composite
def routine_statements(draw: st.DrawFn) -> str:
    inner = draw(st.lists(plain_statements(in_body=True), min_size=1, max_size=3))
    case = draw(st.sampled_from(["", " case when 1 = 1 then ';' else 2 end"]))
    return f"create function f() returns int language sql begin atomic {'; '.join(inner)};{case} end"


SEPARATORS = st.lists(st.one_of(BLANKS, COMMENTS, st.just(";")), max_size=4).map("".join)


@st.composite
def scripts(draw: st.DrawFn) -> tuple[str, list[str], list[str]]:
    """A script, its statements, and the separators around them: before the first, between, after the last."""
    statements = draw(st.lists(st.one_of(plain_statements(), routine_statements()), max_size=5))
    gaps = [draw(SEPARATORS)]
    gaps += [draw(BLANKS) + ";" + draw(SEPARATORS) for _ in statements[1:]]
    if statements:
        gaps.append(draw(st.sampled_from(["", ";", " ;\n"])) + draw(SEPARATORS))
    script = gaps[0] + "".join(text + gap for text, gap in zip(statements, gaps[1:], strict=True))
    return script, statements, gaps


@settings(max_examples=200, deadline=None)
@given(scripts())
def test_generated_scripts_split_into_their_statements(generated: tuple[str, list[str], list[str]]) -> None:
    script, statements, gaps = generated
    found = split_statements(script)
    assert [s.text for s in found] == statements
    cursor = 0
    for statement, gap in zip(found, gaps, strict=False):
        assert script[cursor : statement.offset] == gap
        assert (statement.line, statement.column) == line_and_column(script, statement.offset)
        cursor = statement.offset + len(statement.text)
    assert script[cursor:] == gaps[-1]  # the texts and the separators between them are the whole script


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from("ab E$;'\"-/*\n()\\"), max_size=40))
def test_any_text_splits_into_slices_with_only_separators_between(script: str) -> None:
    found = split_or_error(script)
    if isinstance(found, SplitError):
        assert 0 <= found.offset < len(script)
        return
    cursor = 0
    for statement in found:
        assert statement.offset >= cursor and statement.text
        assert script[statement.offset : statement.offset + len(statement.text)] == statement.text
        assert split_statements(script[cursor : statement.offset]) == []  # a gap holds no statement
        assert texts(statement.text) == [statement.text]
        cursor = statement.offset + len(statement.text)
    assert split_statements(script[cursor:]) == []


# -- against PostgreSQL ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(embedded: EmbeddedProvider) -> PostgresEndpoint:
    return embedded.start_postgres()


@pytest.fixture
def database(server: PostgresEndpoint) -> Iterator[PostgresEndpoint]:
    with fresh_postgres_database(server) as endpoint:
        yield endpoint


@pytest.fixture
def conn(database: PostgresEndpoint) -> Iterator[psycopg.Connection[Any]]:
    with connect(database, application="sql-tool-test") as session:
        yield session


def run_failing(conn: psycopg.Connection[Any], script: str, file: str = "migrations/001_tables.sql") -> CheckFailed:
    with pytest.raises(CheckFailed) as raised:
        run_script(conn, script, file)
    return raised.value


def table_exists(conn: psycopg.Connection[Any], name: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", [name]).fetchone()
    return bool(row and row[0])


def caret_column(message: str) -> int:
    """The 1-based column the caret line of an excerpt points at, as a learner reads it."""
    caret_line = next(line for line in message.splitlines() if line.rstrip().endswith("^"))
    return caret_line.index("^") - caret_line.index("|") - 1


def test_syntax_error_points_at_line_and_column_of_the_file(conn: psycopg.Connection[Any]) -> None:
    script = (
        "-- the shop\nCREATE TABLE users (id int);\n\nCREATE TABLE products (\n    id int,\n    title text,\n"
        "    note text,\n    price numeric CHEK (price >= 0)\n);\nCREATE TABLE never (id int);\n"
    )
    failure = run_failing(conn, script)
    line, column = line_and_column(script, script.index("CHEK"))
    assert failure.message.splitlines()[0] == (
        f'migrations/001_tables.sql, line {line}, column {column}: ERROR 42601: syntax error at or near "CHEK"'
    )
    shown = failure.message.splitlines()[1:]
    assert shown[0] == "    4 | CREATE TABLE products ("  # which statement, even when it starts far above
    assert shown[1].strip() == "… |"
    assert shown[-2] == "    8 |     price numeric CHEK (price >= 0)"
    assert caret_column(failure.message) == column
    assert table_exists(conn, "users") and not table_exists(conn, "never")  # ran statement by statement


def test_position_after_a_prefix_the_grader_sent(conn: psycopg.Connection[Any]) -> None:
    script = "-- a query\nSELECT oid,\n       nosuch\nFROM pg_class"
    (statement,) = split_statements(script)
    prefix = "PREPARE q AS "
    with pytest.raises(psycopg.Error) as raised:
        conn.execute((prefix + statement.text).encode())
    message = describe_error(raised.value, file="q.sql", script=script, statement=statement, sent_prefix=len(prefix))
    line, column = line_and_column(script, script.index("nosuch"))
    assert message.startswith(f'q.sql, line {line}, column {column}: ERROR 42703: column "nosuch" does not exist')
    assert caret_column(message) == column
    unplaced = describe_error(raised.value, file="q.sql", script=script, statement=statement, sent_prefix=None)
    assert unplaced.startswith("q.sql, statement at line 2, column 1: ERROR 42703")


def test_error_inside_a_do_block_maps_its_inner_position(conn: psycopg.Connection[Any]) -> None:
    script = "SELECT 1;\nDO $$\nBEGIN\n  UPDATE missing_table SET x = 1;\nEND\n$$;\n"
    failure = run_failing(conn, script, "online/backfill.sql")
    line, column = line_and_column(script, script.index("missing_table"))
    assert failure.message.startswith(f"online/backfill.sql, line {line}, column {column}: ERROR 42P01: relation")
    assert caret_column(failure.message) == column
    assert "CONTEXT: PL/pgSQL function inline_code_block line 3 at SQL statement" in failure.message


def test_error_without_position_marks_the_statement(conn: psycopg.Connection[Any]) -> None:
    script = "CREATE TABLE t (id int PRIMARY KEY);\n  INSERT INTO t\n  VALUES (1), (1);"
    failure = run_failing(conn, script)
    assert failure.message.splitlines()[:3] == [
        "migrations/001_tables.sql, statement at line 2, column 3: ERROR 23505: duplicate key value violates unique "
        'constraint "t_pkey"',
        "    2 |   INSERT INTO t",
        "      |   ^",
    ]
    assert "DETAIL: Key (id)=(1) already exists." in failure.message
    assert failure.hint is not None and "psql -v ON_ERROR_STOP=1" in failure.hint


def test_unsplittable_script_runs_nothing(conn: psycopg.Connection[Any]) -> None:
    failure = run_failing(conn, "CREATE TABLE t (id int);\n\\set x 1\n")
    assert failure.message.splitlines() == [
        "migrations/001_tables.sql, line 2, column 1: psql meta-command \\set is not supported: the file is run as "
        "plain SQL, not by psql",
        "    2 | \\set x 1",
        "      | ^",
    ]
    assert not table_exists(conn, "t")


def test_copy_from_the_client_is_refused_and_the_session_stays_usable(conn: psycopg.Connection[Any]) -> None:
    failure = run_failing(conn, "CREATE TABLE t (id int);\ncopy t FROM stdin;\n")
    assert failure.message.startswith("migrations/001_tables.sql, line 2, column 1: COPY to or from the client")
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)


def test_script_left_inside_a_transaction_fails_and_is_rolled_back(conn: psycopg.Connection[Any]) -> None:
    failure = run_failing(conn, "BEGIN;\nCREATE TABLE t (id int);\n")
    assert "ended inside a transaction" in failure.message
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert not table_exists(conn, "t")


def test_statements_commit_one_by_one_and_after_each_sees_them(conn: psycopg.Connection[Any]) -> None:
    seen: list[tuple[int, Any]] = []

    def after_each(statement: Statement, cursor: psycopg.Cursor[Any]) -> None:
        seen.append((statement.line, cursor.fetchone() if cursor.description else cursor.rowcount))

    script = "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1), (2);\nSELECT count(*) FROM t;\n"
    statements = run_script(conn, script, "001.sql", after_each=after_each)
    assert [s.line for s in statements] == [1, 2, 3]
    assert seen == [(1, -1), (2, 2), (3, (2,))]


def test_file_that_is_not_utf8_fails_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "001.sql"
    path.write_bytes(b"SELECT 1;\nSELECT '\xff';\n")
    with pytest.raises(CheckFailed) as raised:
        read_script(path, "migrations/001.sql")
    assert raised.value.message == "migrations/001.sql is not UTF-8 text (the first invalid byte is on line 2)"


def show(conn: psycopg.Connection[Any], setting: str) -> object:
    row = conn.execute(f"SHOW {setting}").fetchone()
    return row[0] if row else None


def test_connect_applies_name_timeouts_and_settings(database: PostgresEndpoint) -> None:
    settings = {"search_path": "public, pg_catalog", "TimeZone": "UTC"}
    with connect(
        database, application="labkit-test", statement_timeout=2.5, lock_timeout=0.25, settings=settings
    ) as session:
        assert session.autocommit
        assert show(session, "application_name") == "labkit-test"
        assert show(session, "statement_timeout") == "2500ms"
        assert show(session, "lock_timeout") == "250ms"
        assert show(session, "search_path") == "public, pg_catalog"
        assert show(session, "TimeZone") == "UTC"
        session.execute("SET statement_timeout = 0")
        session.execute("RESET statement_timeout")
        assert show(session, "statement_timeout") == "2500ms"  # the session's default, not the server's


def test_connect_timeout_cancels_a_long_statement(database: PostgresEndpoint) -> None:
    with (
        connect(database, application="labkit-test", statement_timeout=0.2) as session,
        pytest.raises(psycopg.errors.QueryCanceled),
    ):
        session.execute("SELECT pg_sleep(30)")


def test_connect_read_only_refuses_writes_with_and_without_autocommit(database: PostgresEndpoint) -> None:
    for autocommit in (True, False):
        with connect(database, application="labkit-test", read_only=True, autocommit=autocommit) as session:
            assert show(session, "transaction_read_only") == "on"
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                session.execute("CREATE TABLE t (id int)")


def test_connect_failure_is_a_harness_error_naming_the_database(server: PostgresEndpoint) -> None:
    with pytest.raises(HarnessError) as raised:
        connect(dataclasses.replace(server, dbname="no_such_db"), application="labkit-test")
    assert "cannot connect to database no_such_db" in raised.value.message
