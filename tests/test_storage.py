"""Storage on SQLite and PostgreSQL: migrations, member preferences, durable state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import inspect

from chatbot.base.clock import FakeClock
from chatbot.messages.events import Member
from chatbot.storage import Database, normalise_url
from chatbot.storage.members import MemberStore
from chatbot.storage.models import DialogRow


def test_urls_pick_async_drivers() -> None:
    """People write plain URLs; the bot picks the async driver."""
    assert normalise_url("sqlite:///data/x.db") == "sqlite+aiosqlite:///data/x.db"
    assert normalise_url("postgresql://u@h/db") == "postgresql+asyncpg://u@h/db"
    assert normalise_url("postgres://u@h/db") == "postgresql+asyncpg://u@h/db"


async def test_migrations_create_tables_and_are_idempotent(db_url: str, clock: FakeClock) -> None:
    """Upgrading creates the core tables; upgrading again changes nothing."""
    db = Database(db_url, clock)
    try:
        heads = await db.upgrade()
        assert heads == ["0003_member_links"]
        assert await db.upgrade() == ["0003_member_links"]
        async with db.engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert {"members", "dialogs", "state", "outbox", "jobs", "alembic_version"} <= tables
    finally:
        await db.close()


async def test_member_prefs_roundtrip_and_forget(db_url: str, clock: FakeClock) -> None:
    """Preferences persist across stores (restarts) and are gone after forget."""
    db = Database(db_url, clock)
    await db.upgrade()
    alice = Member("matrix:@alice:example.org", "matrix", "Alice")
    try:
        store = MemberStore(db)
        assert (await store.prefs(alice)).zone is None
        await store.update(alice, zone="Africa/Lagos")
        await store.update(alice, lang="fr")
        fresh = MemberStore(db)
        prefs = await fresh.prefs(alice)
        assert (prefs.zone, prefs.lang) == ("Africa/Lagos", "fr")
        data = await fresh.export(alice.id)
        assert data["profile"]["time_zone"] == "Africa/Lagos"
        await fresh.forget(alice.id)
        assert (await MemberStore(db).prefs(alice)).zone is None
        assert "profile" not in await fresh.export(alice.id)
    finally:
        await db.close()


async def test_datetimes_come_back_aware_utc(db_url: str, clock: FakeClock) -> None:
    """A time stored from any zone comes back as the same instant, in UTC."""
    db = Database(db_url, clock)
    await db.upgrade()
    manila = timezone(timedelta(hours=8))
    at = datetime(2027, 3, 28, 9, 30, tzinfo=manila)
    try:
        async with db.session() as session:
            session.add(
                DialogRow(
                    member_id="m",
                    room_id="r",
                    name="x",
                    step=0,
                    answers="{}",
                    reviewing=0,
                    return_to_review=0,
                    expires_at=at,
                    updated_at=at,
                )
            )
        async with db.sessions() as session:
            row = await session.get(DialogRow, ("m", "r"))
        assert row is not None
        assert row.expires_at == at
        assert row.expires_at.tzinfo is not None
        assert row.expires_at.utcoffset() == timedelta(0)
        assert row.expires_at == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    finally:
        await db.close()


async def test_state_values(db_url: str, clock: FakeClock) -> None:
    """Adapters keep small durable values (a sync token) that survive a restart."""
    db = Database(db_url, clock)
    await db.upgrade()
    try:
        assert await db.get_state("matrix.since") is None
        await db.set_state("matrix.since", "s1")
        await db.set_state("matrix.since", "s2")
    finally:
        await db.close()
    again = Database(db_url, clock)
    try:
        assert await again.get_state("matrix.since") == "s2"
    finally:
        await again.close()


async def test_quick_check_matches_alembic_with_module_branches(
    db_url: str, clock: FakeClock
) -> None:
    """After an upgrade, the start-up check (no Alembic import) sees the schema as current,
    also when module branches depend on core revisions."""
    from chatbot.storage import MIGRATIONS, declared_heads
    from commands import casestudies, faq, meetings

    locations = [m.migrations for m in (faq.module, meetings.module, casestudies.module)]
    assert all(locations)
    db = Database(db_url, clock)
    try:
        await db.upgrade([p for p in locations if p])
        async with db.engine.connect() as conn:
            stored = await conn.run_sync(
                lambda c: {
                    r[0] for r in c.exec_driver_sql("SELECT version_num FROM alembic_version")
                }
            )
        assert stored == declared_heads([MIGRATIONS / "versions", *[p for p in locations if p]])
    finally:
        await db.close()
