"""One DB-API connection to the job store: SQLite through the stdlib, anything else through SQLAlchemy.

`sqlite:///path` URLs use the stdlib `sqlite3` (importing SQLAlchemy costs more than a whole `call`):
WAL, a 30 s busy timeout and `BEGIN IMMEDIATE` for every write transaction (a lone writing statement
takes the lock as it starts), so concurrent writers wait their turn instead of failing with "database
is locked". Any other URL (postgresql://...) goes through SQLAlchemy's engine and its raw DB-API
connection. The SQL is written once with `?` placeholders. Every driver failure becomes a
`DatabaseError` that names the store (password masked).
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from schedcli.exceptions import DatabaseError
from schedcli.settings import mask_url

BUSY_TIMEOUT = 30.0


def is_transient(error: DatabaseError) -> bool:
    """Whether the driver error behind `error` may pass on retrying (locked, connection lost, server down).

    Every DB-API driver names that class OperationalError (PEP 249).
    """
    cause = error.__cause__
    return cause is not None and any(cls.__name__ == "OperationalError" for cls in type(cause).__mro__)


_stream_numbers = itertools.count()


class Database:
    """One DB-API connection, its placeholder style and its error classes; every failure a DatabaseError."""

    def __init__(self, url: str, connection, sqlite: bool, paramstyle: str, errors: tuple,
                 engine=None, server_cursors: bool = False):
        self.url = url
        self.connection = connection
        self.sqlite = sqlite
        self.errors = errors
        self.engine = engine
        self.server_cursors = server_cursors
        self._pyformat = paramstyle in ("format", "pyformat")
        # Parameters one statement may take: SQLite's limit (999 before 3.32), a round number elsewhere.
        self.max_params = (32766 if sqlite3.sqlite_version_info >= (3, 32) else 999) if sqlite else 10000
        self._converted: dict[str, str] = {}

    def sql(self, text: str) -> str:
        if not self._pyformat:
            return text
        converted = self._converted.get(text)
        if converted is None:
            converted = self._converted[text] = text.replace("%", "%%").replace("?", "%s")
        return converted

    def failure(self, action: str, exc: BaseException) -> DatabaseError:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        return DatabaseError(f"job store {mask_url(self.url)}: cannot {action}: {reason}")

    def _end_read(self) -> None:
        # PostgreSQL drivers open a transaction for every statement; end it so no snapshot is held.
        if not self.sqlite:
            self.connection.rollback()

    def fetch(self, sql: str, params: Sequence = ()) -> list[tuple]:
        try:
            cursor = self.connection.cursor()
            try:
                cursor.execute(self.sql(sql), tuple(params))
                return cursor.fetchall()
            finally:
                cursor.close()
                self._end_read()
        except self.errors as exc:
            raise self.failure("read", exc) from exc

    def stream(self, sql: str, params: Sequence = (), size: int = 2000) -> Iterator[tuple]:
        try:
            if self.server_cursors:  # psycopg keeps a plain cursor's whole result in memory
                cursor = self.connection.cursor(f"schedcli_stream_{next(_stream_numbers)}")
                cursor.itersize = size
            else:
                cursor = self.connection.cursor()
            try:
                cursor.execute(self.sql(sql), tuple(params))
                while rows := cursor.fetchmany(size):
                    yield from rows
            finally:
                cursor.close()
                self._end_read()
        except self.errors as exc:
            raise self.failure("read", exc) from exc

    @contextmanager
    def transaction(self, lone_statement: bool = False) -> Iterator[Transaction]:
        """A write transaction; on SQLite it takes the write lock first, so it never fails half-way with 'locked'.

        `lone_statement`: the transaction is one statement, which SQLite (in autocommit) runs as a transaction
        of its own, taking the write lock as it starts, as BEGIN IMMEDIATE would."""
        try:
            cursor = self.connection.cursor()
            try:
                if self.sqlite and not lone_statement:
                    cursor.execute("BEGIN IMMEDIATE")
                yield Transaction(self, cursor)
                self.connection.commit()
            except BaseException:
                try:
                    self.connection.rollback()
                except self.errors:
                    pass
                raise
            finally:
                cursor.close()
        except self.errors as exc:
            raise self.failure("write", exc) from exc

    def write_one(self, sql: str, params: Sequence = ()) -> int:
        """One statement as a transaction of its own; the rows it changed. A worker writes most of a job's
        states so, and the statements of `transaction()` around it cost as much as the write."""
        with self.transaction(lone_statement=True) as tx:
            return tx.execute(sql, params)

    def skip_waiting_for_disk(self) -> None:
        try:
            if self.sqlite:  # in WAL mode (the store's), NORMAL still never corrupts the database
                self.connection.execute("PRAGMA synchronous=NORMAL")
            else:
                cursor = self.connection.cursor()
                try:
                    cursor.execute("SET synchronous_commit TO off")
                finally:
                    cursor.close()
                self.connection.commit()
        except self.errors as exc:
            raise self.failure("configure the connection", exc) from exc

    def keep_more_pages(self, megabytes: int) -> None:
        """Let SQLite cache up to `megabytes` of the database (2 MB by default); other databases keep their own."""
        if not self.sqlite:
            return
        try:
            self.connection.execute(f"PRAGMA cache_size = -{megabytes * 1024}")
        except self.errors as exc:
            raise self.failure("configure the connection", exc) from exc

    def close(self) -> None:
        try:
            self.connection.close()
        except self.errors:
            pass
        if self.engine is not None:
            self.engine.dispose()


class Transaction:
    def __init__(self, database: Database, cursor):
        self._database = database
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence = ()) -> int:
        """Run one statement; the number of rows it changed."""
        self._cursor.execute(self._database.sql(sql), tuple(params))
        return self._cursor.rowcount

    def insert_many(self, sql: str, rows: list[Sequence], suffix: str = "") -> None:
        """`sql` is `INSERT INTO t (a, b, ...) VALUES`: the rows go in statements of many rows each, since
        drivers such as psycopg2 run executemany one round trip per row."""
        if not rows:
            return
        width = len(rows[0])
        per_statement = max(1, self._database.max_params // width)
        row_marks = "(" + ", ".join("?" * width) + ")"
        for start in range(0, len(rows), per_statement):
            chunk = rows[start:start + per_statement]
            self.execute(f"{sql} {', '.join([row_marks] * len(chunk))} {suffix}",
                         [value for row in chunk for value in row])

    def execute_in(self, sql: str, values: Sequence, params_before: Sequence = ()) -> int:
        """Run `sql`, whose last condition is `IN ({})`, over `values` in chunks; the rows it changed."""
        changed = 0
        for start in range(0, len(values), 500):
            chunk = values[start:start + 500]
            changed += self.execute(sql.format(", ".join("?" * len(chunk))), (*params_before, *chunk))
        return changed

    def fetch(self, sql: str, params: Sequence = ()) -> list[tuple]:
        self._cursor.execute(self._database.sql(sql), tuple(params))
        return self._cursor.fetchall()


def connect(url: str) -> Database:
    scheme = url.split(":", 1)[0]
    if scheme.split("+", 1)[0] == "sqlite":
        return _connect_sqlite(url)
    return _connect_sqlalchemy(url)


def _connect_sqlite(url: str) -> Database:
    # As SQLAlchemy reads it: sqlite:///relative/path, sqlite:////absolute/path, sqlite:// in memory.
    path = url.split("://", 1)[1][1:] if "://" in url else ""
    database = Database(url, None, sqlite=True, paramstyle="qmark", errors=(sqlite3.Error,))
    try:
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        database.connection = sqlite3.connect(path or ":memory:", timeout=BUSY_TIMEOUT, isolation_level=None)
    except (OSError, sqlite3.Error) as exc:
        raise database.failure("open the database", exc) from exc
    return database


def _connect_sqlalchemy(url: str) -> Database:
    database = Database(url, None, sqlite=False, paramstyle="qmark", errors=())
    try:
        import sqlalchemy
        from sqlalchemy.pool import NullPool
    except ImportError as exc:
        raise database.failure("open the database", f"{exc} (pip install SQLAlchemy)") from exc
    try:
        engine = sqlalchemy.create_engine(_with_driver(sqlalchemy.make_url(url)), poolclass=NullPool)
    except ImportError as exc:
        hint = f"{exc} (for PostgreSQL: pip install 'schedcli[postgres]')"
        raise database.failure("load the database driver", hint) from exc
    except sqlalchemy.exc.SQLAlchemyError as exc:
        raise database.failure("open the database", exc) from exc
    except ValueError as exc:  # a port that is not a number, an unclosed [: its words may quote the password
        raise database.failure("read the URL", "in the password, write / # ? @ as %2F %23 %3F %40") from exc
    database = Database(url, None, sqlite=False, paramstyle=engine.dialect.paramstyle,
                         errors=(engine.dialect.loaded_dbapi.Error,), engine=engine,
                         server_cursors=engine.dialect.driver in ("psycopg2", "psycopg"))
    try:
        database.connection = engine.raw_connection()
    except (sqlalchemy.exc.SQLAlchemyError, *database.errors) as exc:
        engine.dispose()
        raise database.failure("open the database", getattr(exc, "orig", None) or exc) from exc
    return database


def _with_driver(url):
    """A bare postgresql:// (or postgres://) URL with the PostgreSQL driver that is installed.

    SQLAlchemy 2.1 reads a bare URL as psycopg 3, 2.0 as psycopg2; `schedcli[postgres]` installs psycopg2.
    """
    if url.drivername not in ("postgresql", "postgres"):
        return url
    from importlib.util import find_spec

    driver = "psycopg" if find_spec("psycopg") is not None or find_spec("psycopg2") is None else "psycopg2"
    return url.set(drivername=f"postgresql+{driver}")
