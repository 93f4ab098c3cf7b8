"""The run store's two databases: SQLite on one machine (default), PostgreSQL for several.

The store writes SQLite's dialect once; this module opens the connection and, for PostgreSQL, turns
each statement into PostgreSQL's: ``?`` placeholders become ``%s``, ``INSERT OR IGNORE`` / ``OR REPLACE``
become ``ON CONFLICT`` clauses keyed by the table's primary key as the schema declares it, ``REAL``
becomes a double, integer primary keys become identity columns. Rows behave like ``sqlite3.Row``
(by index, by name, ``dict(row)``) on both.
"""

from __future__ import annotations

import functools
import os
import re
import sqlite3
import threading
import zlib
from pathlib import Path

ENV_DATABASE_URL = "UNSUP_LAB_DATABASE_URL"
# Every claim of a device slot takes this transaction-scoped lock, as SQLite's BEGIN IMMEDIATE does:
# counting running runs and starting one is then one step for the whole cluster.
_CLAIM_LOCK_KEY = zlib.crc32(b"unsup-lab claim_slot")
_SCHEMA_LOCK_KEY = zlib.crc32(b"unsup-lab schema")
MAX_IDLE_CONNECTIONS = 8


def database_url() -> str | None:
    """``$UNSUP_LAB_DATABASE_URL`` when it names a PostgreSQL database, else None (SQLite)."""
    url = os.environ.get(ENV_DATABASE_URL, "").strip()
    if not url:
        return None
    if not url.startswith(("postgresql://", "postgres://")):
        from unsup_core.errors import UserError

        raise UserError(f"{ENV_DATABASE_URL} must start with postgresql:// (or be unset for SQLite)")
    return url


def url_without_password(url: str) -> str:
    """The URL with any password taken out (from user:password@ and from ?password=), all else kept.

    What may travel where others can read it (a Ray job's description): the password comes from the
    reader's own environment instead (PGPASSWORD or PGPASSFILE, which libpq reads when the URL has none).
    """
    from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        credentials, _, hosts = netloc.rpartition("@")
        netloc = f"{credentials.partition(':')[0]}@{hosts}"
    query = urlencode([(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True)
                       if key.lower() != "password"], quote_via=quote)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def database_errors() -> tuple[type[BaseException], ...]:
    """Errors of either database, for callers that turn them into one sentence."""
    try:
        import psycopg
    except ImportError:
        return (sqlite3.DatabaseError,)
    return (sqlite3.DatabaseError, psycopg.Error)


class SqliteBackend:
    """One file, WAL mode: readers never block the single writer of each run."""

    name = "sqlite"
    integrity_errors: tuple[type[BaseException], ...] = (sqlite3.IntegrityError,)

    def __init__(self, db_path: Path, read_only_uri: str | None = None) -> None:
        self.db_path = db_path
        self.read_only_uri = read_only_uri

    def connect(self) -> sqlite3.Connection:
        # isolation_level=None: transactions are opened explicitly (see begin), so no implicit
        # transaction holds a read snapshot between calls.
        if self.read_only_uri is not None:
            connection = sqlite3.connect(self.read_only_uri, uri=True, timeout=30, isolation_level=None)
        else:
            connection = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA busy_timeout=30000")
        connection.row_factory = sqlite3.Row
        return connection

    def create_schema(self, connection: sqlite3.Connection, schema: str) -> None:
        connection.executescript(schema)
        for table in EVOLVING_TABLES:
            _add_missing_columns(connection, schema, table,
                                 {row[1] for row in connection.execute(f"PRAGMA table_info({table})")})

    def begin(self, connection: sqlite3.Connection, *, claim: bool = False) -> None:
        # IMMEDIATE takes the write lock up front: a transaction that reads and then writes (a slot
        # claim) cannot be overtaken between its read and its write.
        connection.execute("BEGIN IMMEDIATE")


class PostgresBackend:
    """A PostgreSQL server that every machine of a cluster reaches (``postgresql://user@host/db``)."""

    name = "postgresql"

    def __init__(self, url: str) -> None:
        import psycopg

        self.url = url
        self.integrity_errors = (psycopg.errors.IntegrityError,)
        self._primary_keys: dict[str, tuple[str, ...]] = {}
        # Connections of threads that ended, kept for the next thread: Streamlit runs each rerun of a
        # page in a new thread, and a PostgreSQL connection costs a server process to open.
        self._idle: list = []
        self._idle_lock = threading.Lock()

    def connect(self) -> "PostgresConnection":
        import psycopg

        with self._idle_lock:
            while self._idle:
                connection = self._idle.pop()
                if not connection.closed and connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
                    return PostgresConnection(connection, self._primary_keys, self._give_back)
                connection.close()
        try:
            connection = psycopg.connect(self.url, autocommit=True, row_factory=_row_factory)
        except psycopg.OperationalError as error:
            from unsup_core.errors import UserError

            reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
            raise UserError(f"cannot reach the PostgreSQL database of {ENV_DATABASE_URL} ({reason}); start it "
                            "or correct the URL") from None
        return PostgresConnection(connection, self._primary_keys, self._give_back)

    def _give_back(self, connection) -> None:
        with self._idle_lock:
            if len(self._idle) < MAX_IDLE_CONNECTIONS:
                self._idle.append(connection)
                return
        connection.close()

    def create_schema(self, connection: "PostgresConnection", schema: str) -> None:
        self._primary_keys.update(primary_keys(schema))
        # Concurrent CREATE TABLE IF NOT EXISTS can collide in PostgreSQL's catalog: one at a time.
        connection.execute("BEGIN")
        try:
            connection.execute("SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK_KEY,))
            connection.executescript(schema)
            for table in EVOLVING_TABLES:
                present = {row[0] for row in connection.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name=?"
                    " AND table_schema=current_schema()", (table,))}
                _add_missing_columns(connection, schema, table, present)
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    def begin(self, connection: "PostgresConnection", *, claim: bool = False) -> None:
        connection.execute("BEGIN")
        if claim:
            connection.execute("SELECT pg_advisory_xact_lock(?)", (_CLAIM_LOCK_KEY,))


class PostgresConnection:
    """A psycopg connection that takes the store's SQLite-dialect statements."""

    def __init__(self, connection, primary_keys: dict[str, tuple[str, ...]], give_back=None) -> None:
        self._connection = connection
        self._primary_keys = primary_keys
        self._give_back = give_back

    def __del__(self) -> None:
        # The store keeps one of these per thread: when the thread ends, its connection is reused.
        if self._give_back is not None and not self._connection.closed:
            self._give_back(self._connection)

    def execute(self, sql: str, params=()):
        return self._connection.execute(to_postgres(sql, self._keys()), tuple(params))

    def executemany(self, sql: str, rows) -> None:
        rows = [tuple(row) for row in rows]
        insert = re.match(r"\s*INSERT (?:OR (IGNORE|REPLACE) )?INTO (\w+) \(([^)]*)\) VALUES \(([?,\s]*)\)\s*$", sql)
        if not insert or not rows:
            with self._connection.cursor() as cursor:
                cursor.executemany(to_postgres(sql, self._keys()), rows)
            return
        # One statement of many VALUES rows: a metrics batch costs one round trip, not one per row.
        conflict, table, columns = insert.group(1), insert.group(2), [c.strip() for c in insert.group(3).split(",")]
        if conflict == "REPLACE":  # one row may not be updated twice in a statement: the last one wins
            key = [columns.index(name) for name in dict(self._keys())[table]]
            rows = list({tuple(row[i] for i in key): row for row in rows}.values())
        one_row = "(" + ",".join("?" * len(columns)) + ")"
        chunk = max(1, 30_000 // len(columns))
        for start in range(0, len(rows), chunk):
            part = rows[start:start + chunk]
            statement = sql[:insert.start(4) - 1] + ",".join([one_row] * len(part))
            self._connection.execute(to_postgres(statement, self._keys()), [v for row in part for v in row])

    def executescript(self, script: str) -> None:
        for statement in filter(None, (part.strip() for part in _strip_comments(script).split(";"))):
            self._connection.execute(to_postgres_ddl(statement))

    def close(self) -> None:
        self._give_back = None
        self._connection.close()

    def _keys(self) -> tuple:
        return tuple(sorted(self._primary_keys.items()))


class Row(tuple):
    """A result row read by position or by column name, like ``sqlite3.Row``."""

    def __new__(cls, names: tuple[str, ...], values) -> "Row":
        row = super().__new__(cls, values)
        row._names = names
        return row

    def keys(self) -> tuple[str, ...]:
        return self._names

    def __getitem__(self, key):
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names.index(key))
        return tuple.__getitem__(self, key)


def _row_factory(cursor):
    names = tuple(column.name for column in cursor.description or ())
    return lambda values: Row(names, values)


# -- dialect ---------------------------------------------------------------------------------------
def _strip_comments(script: str) -> str:
    return re.sub(r"--[^\n]*", "", script)


def primary_keys(schema: str) -> dict[str, tuple[str, ...]]:
    """table -> its primary-key columns, read from the CREATE TABLE statements of ``schema``."""
    keys = {}
    for table, body in re.findall(r"CREATE TABLE IF NOT EXISTS (\w+) \((.*?)\)\s*(?:WITHOUT ROWID)?;",
                                  _strip_comments(schema), flags=re.S):
        composite = re.search(r"PRIMARY KEY \(([^)]*)\)", body)
        if composite:
            keys[table] = tuple(name.strip() for name in composite.group(1).split(","))
        else:
            keys[table] = tuple(re.findall(r"(\w+) \w+ PRIMARY KEY", body))
    return keys


def to_postgres_ddl(statement: str) -> str:
    statement = re.sub(r"\s*WITHOUT ROWID\s*$", "", statement)
    statement = re.sub(r"\bINTEGER PRIMARY KEY\b", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", statement)
    return re.sub(r"\bREAL\b", "DOUBLE PRECISION", statement)


@functools.lru_cache(maxsize=512)
def to_postgres(sql: str, keys: tuple) -> str:
    """One statement of the store, in PostgreSQL's dialect (``keys``: (table, primary key) pairs)."""
    sql = sql.replace("%", "%%").replace("?", "%s")
    if sql.strip() == "BEGIN IMMEDIATE":
        return "BEGIN"
    ignore = re.match(r"\s*INSERT OR IGNORE INTO", sql)
    if ignore:
        return "INSERT INTO" + sql[ignore.end():] + " ON CONFLICT DO NOTHING"
    replace = re.match(r"\s*INSERT OR REPLACE INTO (\w+) \(([^)]*)\)", sql)
    if replace:
        table, columns = replace.group(1), [name.strip() for name in replace.group(2).split(",")]
        key = dict(keys)[table]
        updates = ", ".join(f"{name}=EXCLUDED.{name}" for name in columns if name not in key)
        return (f"INSERT INTO{sql[replace.start(1) - 1:]} ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}")
    return sql


# Tables that gained columns after stores were made (runs: owner, host, ...; run_control: hold_at).
EVOLVING_TABLES = ("runs", "run_control")


def _add_missing_columns(connection, schema: str, table: str, present: set[str]) -> None:
    """Columns added to ``table`` after a store was made (nullable ones only) are added to that store."""
    body = re.search(rf"CREATE TABLE IF NOT EXISTS {table} \((.*?)\n\)[^;]*;", schema, flags=re.S).group(1)
    for name, kind in re.findall(r"^\s*(\w+) (\w+),?$", body, flags=re.M):
        if name not in present:
            statement = f"ALTER TABLE {table} ADD COLUMN {name} {kind}"
            connection.execute(statement if isinstance(connection, sqlite3.Connection)
                               else to_postgres_ddl(statement))
