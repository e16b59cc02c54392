"""The throw-away PostgreSQL cluster: fresh databases over real asyncpg, isolation, SKIP LOCKED."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.peers.postgres import PG_BINDIR_ENV

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from tests.peers.postgres import PostgresServer

REPO = Path(__file__).resolve().parent.parent
_seen_databases: set[str] = set()


@contextlib.asynccontextmanager
async def engine_for(url: str, **connect_args: Any) -> AsyncIterator[AsyncEngine]:
    """An async engine on ``url`` that is always disposed."""
    engine = create_async_engine(url, connect_args=connect_args)
    try:
        yield engine
    finally:
        await engine.dispose()


def database_of(url: str) -> str:
    database = make_url(url).database
    assert database is not None
    return database


async def test_fresh_database_accepts_create_insert_select(postgres_url: str) -> None:
    """A fresh database is empty and round-trips CREATE TABLE, INSERT and SELECT over asyncpg."""
    async with engine_for(postgres_url) as engine, engine.begin() as conn:
        tables = await conn.scalar(text("SELECT count(*) FROM pg_tables WHERE schemaname='public'"))
        assert tables == 0
        await conn.execute(text("CREATE TABLE note (id serial PRIMARY KEY, body text NOT NULL)"))
        await conn.execute(
            text("INSERT INTO note (body) VALUES (:body)"), [{"body": "hello"}, {"body": "привет"}]
        )
        rows = (await conn.execute(text("SELECT id, body FROM note ORDER BY id"))).all()
    assert [tuple(row) for row in rows] == [(1, "hello"), (2, "привет")]


@pytest.mark.parametrize("probe", ["first", "second"])
async def test_each_test_gets_its_own_database(postgres_url: str, probe: str) -> None:
    """Two tests get distinct databases: both create the same table without colliding."""
    database = database_of(postgres_url)
    assert database not in _seen_databases
    _seen_databases.add(database)
    async with engine_for(postgres_url) as engine, engine.begin() as conn:
        await conn.execute(text("CREATE TABLE isolation_probe (owner text NOT NULL)"))
        await conn.execute(text("INSERT INTO isolation_probe VALUES (:owner)"), {"owner": probe})
        owners = (await conn.scalars(text("SELECT owner FROM isolation_probe"))).all()
    assert owners == [probe]


async def test_databases_are_isolated_while_both_exist(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    """A table created in one database is invisible in another database of the same cluster."""
    other_name = f"{database_of(postgres_url)}_other"
    other_url = await asyncio.to_thread(postgres_server.create_database, other_name)
    try:
        async with engine_for(postgres_url) as engine, engine.begin() as conn:
            await conn.execute(text("CREATE TABLE only_here (id int)"))
        async with engine_for(other_url) as engine, engine.connect() as conn:
            found = await conn.scalar(text("SELECT to_regclass('public.only_here') IS NOT NULL"))
        assert found is False
    finally:
        await asyncio.to_thread(postgres_server.drop_database, other_name)


async def test_skip_locked_lets_two_workers_claim_different_rows(postgres_url: str) -> None:
    """FOR UPDATE SKIP LOCKED: a row locked by one connection is skipped by another, not awaited."""
    claim = text(
        "SELECT id FROM outbox WHERE sent IS NULL ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
    )
    # A regression (blocking instead of skipping) errors after 5 s instead of hanging the suite.
    async with engine_for(postgres_url, server_settings={"lock_timeout": "5s"}) as engine:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE outbox (id int PRIMARY KEY, sent timestamptz)"))
            await conn.execute(text("INSERT INTO outbox (id) VALUES (1), (2), (3)"))
        async with engine.connect() as first, engine.connect() as second:
            assert await first.scalar(claim) == 1
            assert await second.scalar(claim) == 2  # row 1 is locked by `first`: skipped
            with pytest.raises(DBAPIError, match="could not obtain lock"):
                async with second.begin_nested():  # the lock on row 1 is real
                    await second.execute(
                        text("SELECT 1 FROM outbox WHERE id = 1 FOR UPDATE NOWAIT")
                    )
            await first.execute(text("UPDATE outbox SET sent = now() WHERE id = 1"))
            await first.commit()
            assert await first.scalar(claim) == 3  # 1 is sent, 2 is still claimed by `second`
            await second.commit()
            await first.rollback()
            assert await first.scalar(claim) == 2  # `second` ended without sending row 2


async def test_drop_database_terminates_open_connections(postgres_server: PostgresServer) -> None:
    """drop_database does not hang on a connection that is still open: it terminates it."""
    url = await asyncio.to_thread(postgres_server.create_database, "held_open")
    async with engine_for(url) as engine:
        conn = await engine.connect()
        assert await conn.scalar(text("SELECT 1")) == 1
        await asyncio.to_thread(postgres_server.drop_database, "held_open")
        await conn.invalidate()
        await conn.close()
    listed = await asyncio.to_thread(
        postgres_server.execute, "SELECT count(*) FROM pg_database WHERE datname = 'held_open'"
    )
    assert listed.strip() == "0"


async def test_cluster_runs_with_fast_test_settings(
    postgres_url: str, request: pytest.FixtureRequest
) -> None:
    """The cluster trades durability for speed, allows 200 connections and marks its tests."""
    async with engine_for(postgres_url) as engine, engine.connect() as conn:
        settings = {
            name: await conn.scalar(text(f"SHOW {name}"))
            for name in ("fsync", "synchronous_commit", "full_page_writes", "max_connections")
        }
        version = await conn.scalar(text("SHOW server_version_num"))
    assert settings == {
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "200",
    }
    assert int(version) >= 130000
    assert request.node.get_closest_marker("postgres") is not None


def test_unavailable_postgres_fails_instead_of_skipping(tmp_path: Path) -> None:
    """Without usable binaries the fixture errors with a clear message; it never skips."""
    (tmp_path / "test_needs_pg.py").write_text("def test_x(postgres_url):\n    pass\n")
    env = {
        **os.environ,
        PG_BINDIR_ENV: str(tmp_path / "nowhere"),
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",  # only our plugin: faster start-up
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.peers.postgres",
            "-p",
            "no:cacheprovider",
            "-q",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 error" in result.stdout
    assert "skipped" not in result.stdout
    assert "throw-away PostgreSQL cluster unavailable" in result.stdout
    assert PG_BINDIR_ENV in result.stdout
