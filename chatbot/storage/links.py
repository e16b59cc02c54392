"""One member across platforms: the accounts they linked with ``!link``, and the codes.

A member asks for a code on one platform (``!link``), gets it by direct message, and types it
to the bot on the other (``!link CODE``) in a direct message: a code typed where others read
it is cancelled instead (:meth:`LinkStore.cancel`). From then on both accounts are one member: the
id of the account that asked for the code is the member's *key* (see
:attr:`chatbot.messages.events.Member.key`), which holds their preferences and under which
features store what they keep.

Safety: a code is random (8 characters, 40 bits), stored only as a SHA-256 hash, valid ten
minutes and used once (a conditional update marks it used, so two instances cannot both
accept it). An account may ask for a few codes and type a few wrong ones per ten minutes
(counted in the database, on every instance). A wrong, expired or used code gets one answer
that says nothing about which accounts exist. An account is in at most one link (its id is
the primary key) and a member has at most one account per platform (unique), so two
instances racing to link one account to two members cannot both win.

The map of linked accounts is small and read on every message, so it is held in memory and
re-read every :data:`REFRESH_SECONDS` by a worker (another instance may have linked someone;
this instance's own links take effect at once).
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import msgspec
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from chatbot.base.logs import get_logger
from chatbot.storage.models import LinkAttemptRow, LinkCodeRow, MemberLinkRow, MemberRow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from chatbot.messages.events import Member
    from chatbot.storage import Database

log = get_logger("chatbot.storage.links")

CODE_TTL = timedelta(minutes=10)
WINDOW = timedelta(minutes=10)
#: codes an account may ask for, and wrong codes it may type, per :data:`WINDOW`
CODES_PER_WINDOW = 3
WRONG_PER_WINDOW = 5
#: no 0/O, 1/I/L: read aloud or copied from a phone without mistakes
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
REFRESH_SECONDS = 30.0
#: the preferences a member has once, whichever account they write from
SETTINGS = ("zone", "lang")


class Refusal(enum.Enum):
    RATE = "rate"  # too many codes asked for or wrong codes typed
    INVALID = "invalid"  # wrong, expired or already used: one answer for all three
    SAME_ACCOUNT = "same_account"
    SAME_PLATFORM = "same_platform"  # the member has an account there already
    LINKED_ELSEWHERE = "linked_elsewhere"  # this account belongs to another member
    ALREADY = "already"  # the two accounts are already one member


class LinkRefused(Exception):
    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


class Account(msgspec.Struct, frozen=True):
    id: str
    platform: str
    display_name: str


class Linked(msgspec.Struct, frozen=True):
    """The outcome of a link: the member's key, the account that joined (whose earlier
    data features move to the key), and the settings both accounts held differently."""

    person: str
    joined: Account
    #: setting → (the member's value, the joining account's value), where both are set
    conflicts: dict[str, tuple[str, str]]


def normalise(code: str) -> str:
    return "".join(c for c in code.upper() if c.isalnum())


def hash_code(code: str) -> str:
    return hashlib.sha256(normalise(code).encode()).hexdigest()


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


class LinkStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._persons: dict[str, str] = {}
        #: whether anybody linked accounts at all (most groups' messages skip the lookup):
        #: an attribute kept with the map, as every message reads it
        self.any_linked = False

    # -- the in-memory map, read on every message ------------------------------------------

    def linked_keys(self) -> set[str]:
        """The keys of members who linked accounts (whose messages need routing)."""
        return set(self._persons.values())

    def person_of(self, account_id: str) -> str:
        """The member key of a linked account; "" for an account on its own."""
        return self._persons.get(account_id, "")

    async def load(self) -> None:
        async with self.db.sessions() as session:
            rows = (
                await session.execute(select(MemberLinkRow.account_id, MemberLinkRow.person_id))
            ).all()
        self._persons = {r.account_id: r.person_id for r in rows}
        self.any_linked = bool(self._persons)

    async def keep_fresh(self) -> None:
        """Re-read the map every :data:`REFRESH_SECONDS` (another instance may have linked
        someone): a worker of the bot's, so no message waits for the read."""
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            try:
                await self.load()
            except Exception:  # the database is away for a moment: keep the map we have
                log.warning("member_links_refresh_failed", exc_info=True)

    async def accounts(self, person: str) -> list[Account]:
        """Every account of the member whose key is ``person`` (just that one if unlinked)."""
        async with self.db.sessions() as session:
            rows = (
                await session.scalars(
                    select(MemberLinkRow)
                    .where(MemberLinkRow.person_id == person)
                    .order_by(MemberLinkRow.linked_at, MemberLinkRow.account_id)
                )
            ).all()
        if not rows:
            platform = person.partition(":")[0]
            return [Account(person, platform, "")]
        return [Account(r.account_id, r.platform, r.display_name) for r in rows]

    # -- codes -------------------------------------------------------------------------------

    async def issue(self, member: Member) -> str:
        """A new code for ``member`` (refused when they asked for too many lately)."""
        now = self.db.clock.now()
        async with self.db.session() as session:
            recent = await session.scalar(
                select(func.count())
                .select_from(LinkCodeRow)
                .where(LinkCodeRow.account_id == member.id, LinkCodeRow.created_at > now - WINDOW)
            )
            if (recent or 0) >= CODES_PER_WINDOW:
                raise LinkRefused(Refusal.RATE)
            await session.execute(
                delete(LinkCodeRow).where(LinkCodeRow.expires_at < now - timedelta(days=1))
            )
            code = new_code()
            session.add(
                LinkCodeRow(
                    code_hash=hash_code(code),
                    account_id=member.id,
                    platform=member.platform,
                    display_name=member.display_name,
                    created_at=now,
                    expires_at=now + CODE_TTL,
                )
            )
        return code

    async def redeem(
        self,
        member: Member,
        code: str,
        on_join: Callable[[AsyncSession, str], Awaitable[None]] | None = None,
    ) -> Linked:
        """Link ``member``'s account to the account that asked for ``code``; ``on_join``
        (session, member key) moves what features stored under the account's own id, in the
        same transaction, so a crash leaves either no link or a complete one."""
        now = self.db.clock.now()
        await self._check_attempts(member, now)
        digest = hash_code(code)
        async with self.db.sessions() as session:
            row = await session.get(LinkCodeRow, digest)
        if row is None or row.used_at is not None or row.expires_at <= now:
            await self._wrong(member, now)
            raise LinkRefused(Refusal.INVALID)
        if row.account_id == member.id:
            raise LinkRefused(Refusal.SAME_ACCOUNT)
        issuer = Account(row.account_id, row.platform, row.display_name)
        try:
            async with self.db.session() as session:
                used = await session.execute(
                    update(LinkCodeRow)
                    .where(
                        LinkCodeRow.code_hash == digest,
                        LinkCodeRow.used_at.is_(None),
                        LinkCodeRow.expires_at > now,
                    )
                    .values(used_at=now)
                )
                if used.rowcount != 1:  # type: ignore[attr-defined]
                    raise LinkRefused(Refusal.INVALID)  # taken a moment ago, elsewhere
                linked = await self._join(session, issuer, member, now)
                if on_join is not None:
                    await on_join(session, linked.person)
        except IntegrityError:  # another instance linked one of them at the same moment
            raise LinkRefused(Refusal.LINKED_ELSEWHERE) from None
        await self.load()
        return linked

    async def cancel(self, member: Member, code: str) -> None:
        """Spend ``code`` without linking anything: it was typed where others can read it,
        and one of them could type it first.  An unknown code counts as a wrong one."""
        now = self.db.clock.now()
        await self._check_attempts(member, now)
        async with self.db.session() as session:
            spent = await session.execute(
                update(LinkCodeRow)
                .where(
                    LinkCodeRow.code_hash == hash_code(code),
                    LinkCodeRow.used_at.is_(None),
                    LinkCodeRow.expires_at > now,
                )
                .values(used_at=now)
            )
        if spent.rowcount != 1:  # type: ignore[attr-defined]
            await self._wrong(member, now)
        else:
            log.info("link_code_cancelled_shown", account=member.id)

    async def _join(
        self, session: AsyncSession, issuer: Account, member: Member, now: datetime
    ) -> Linked:
        mine = await session.get(MemberLinkRow, member.id)
        theirs = await session.get(MemberLinkRow, issuer.id)
        person = theirs.person_id if theirs is not None else issuer.id
        if mine is not None:
            raise LinkRefused(
                Refusal.ALREADY if mine.person_id == person else Refusal.LINKED_ELSEWHERE
            )
        platforms = set(
            (
                await session.scalars(
                    select(MemberLinkRow.platform).where(MemberLinkRow.person_id == person)
                )
            ).all()
        )
        if theirs is None:
            platforms.add(issuer.platform)
        if member.platform in platforms:
            raise LinkRefused(Refusal.SAME_PLATFORM)
        if theirs is None:
            session.add(
                MemberLinkRow(
                    account_id=issuer.id,
                    person_id=person,
                    platform=issuer.platform,
                    display_name=issuer.display_name,
                    linked_at=now,
                    last_seen_at=now,
                )
            )
        session.add(
            MemberLinkRow(
                account_id=member.id,
                person_id=person,
                platform=member.platform,
                display_name=member.display_name,
                linked_at=now,
                last_seen_at=now,
            )
        )
        conflicts = await self._settle_settings(session, person, issuer, member, now)
        await session.flush()  # a racing link fails here, inside the transaction
        return Linked(person, Account(member.id, member.platform, member.display_name), conflicts)

    async def _settle_settings(
        self, session: AsyncSession, person: str, issuer: Account, member: Member, now: datetime
    ) -> dict[str, tuple[str, str]]:
        """Settings only the joining account had are adopted; both had: reported, the
        member's kept until they choose (``!link keep``)."""
        main = await session.get(MemberRow, person)
        joining = await session.get(MemberRow, member.id)
        if joining is None:
            return {}
        if main is None:
            main = MemberRow(
                id=person,
                platform=issuer.platform,
                display_name=issuer.display_name,
                created_at=now,
                updated_at=now,
            )
            session.add(main)
        conflicts: dict[str, tuple[str, str]] = {}
        for setting in SETTINGS:
            ours, theirs = getattr(main, setting), getattr(joining, setting)
            if theirs is None or ours == theirs:
                continue
            if ours is None:
                setattr(main, setting, theirs)
            else:
                conflicts[setting] = (ours, theirs)
        main.updated_at = now
        return conflicts

    async def _check_attempts(self, member: Member, now: datetime) -> None:
        async with self.db.sessions() as session:
            wrong = await session.scalar(
                select(func.count())
                .select_from(LinkAttemptRow)
                .where(LinkAttemptRow.account_id == member.id, LinkAttemptRow.at > now - WINDOW)
            )
        if (wrong or 0) >= WRONG_PER_WINDOW:
            raise LinkRefused(Refusal.RATE)

    async def _wrong(self, member: Member, now: datetime) -> None:
        async with self.db.session() as session:
            session.add(LinkAttemptRow(account_id=member.id, at=now))
            await session.execute(delete(LinkAttemptRow).where(LinkAttemptRow.at < now - WINDOW))

    # -- after linking -------------------------------------------------------------------------

    async def keep(self, person: str, settings: tuple[str, ...]) -> None:
        """Take ``settings`` into the member's row from the own row of the account that
        joined last (the one whose settings :meth:`redeem` reported as conflicts)."""
        async with self.db.session() as session:
            joined = await session.scalar(
                select(MemberLinkRow.account_id)
                .where(MemberLinkRow.person_id == person, MemberLinkRow.account_id != person)
                .order_by(MemberLinkRow.linked_at.desc())
                .limit(1)
            )
            if joined is None:
                return
            main = await session.get(MemberRow, person)
            source = await session.get(MemberRow, joined)
            if main is None or source is None:
                return
            for setting in settings:
                setattr(main, setting, getattr(source, setting))
            main.updated_at = self.db.clock.now()

    async def unlink(self, member: Member) -> Account | None:
        """Separate ``member``'s account from the others; returns the member's remaining key
        holder, or None if the account was not linked. The preferences are copied to the
        account that leaves; what features store stays with the member's key."""
        now = self.db.clock.now()
        async with self.db.session() as session:
            mine = await session.get(MemberLinkRow, member.id)
            if mine is None:
                return None
            person = mine.person_id
            await session.delete(mine)
            if member.id != person:
                main = await session.get(MemberRow, person)
                own = await session.get(MemberRow, member.id)
                if main is not None:
                    if own is None:
                        own = MemberRow(
                            id=member.id,
                            platform=member.platform,
                            display_name=member.display_name,
                            created_at=now,
                        )
                        session.add(own)
                    own.zone, own.lang, own.updated_at = main.zone, main.lang, now
            rest = (
                await session.scalars(
                    select(MemberLinkRow).where(
                        MemberLinkRow.person_id == person, MemberLinkRow.account_id != member.id
                    )
                )
            ).all()
            if len(rest) == 1 and rest[0].account_id == person:
                await session.delete(rest[0])  # one account left: no longer a link
            remaining = rest[0] if rest else None
            found = (
                Account(remaining.account_id, remaining.platform, remaining.display_name)
                if remaining is not None
                else Account(person, person.partition(":")[0], "")
            )
        await self.load()
        return found

    async def forget(self, person: str) -> list[str]:
        """Remove every link and code of the member; returns all their account ids."""
        ids = [a.id for a in await self.accounts(person)]
        async with self.db.session() as session:
            await session.execute(delete(MemberLinkRow).where(MemberLinkRow.person_id == person))
            await session.execute(delete(LinkCodeRow).where(LinkCodeRow.account_id.in_(ids)))
            await session.execute(delete(LinkAttemptRow).where(LinkAttemptRow.account_id.in_(ids)))
        await self.load()
        return ids

    async def seen(self, member: Member) -> None:
        """Note that a linked member spoke on this account (for where reminders go)."""
        async with self.db.session() as session:
            await session.execute(
                update(MemberLinkRow)
                .where(MemberLinkRow.account_id == member.id)
                .values(last_seen_at=self.db.clock.now(), display_name=member.display_name)
            )

    async def deliver_to(self, person: str) -> Account:
        """The account reminders and meeting DMs go to: the platform the member chose
        (``!remind via``), else the one they last spoke to the bot on."""
        async with self.db.sessions() as session:
            rows = (
                await session.scalars(
                    select(MemberLinkRow)
                    .where(MemberLinkRow.person_id == person)
                    .order_by(MemberLinkRow.last_seen_at.desc(), MemberLinkRow.account_id)
                )
            ).all()
            main = await session.get(MemberRow, person)
        if not rows:
            display = main.display_name if main is not None else ""
            return Account(person, person.partition(":")[0], display)
        chosen = main.remind_via if main is not None else None
        for row in rows:
            if row.platform == chosen:
                return Account(row.account_id, row.platform, row.display_name)
        first = rows[0]
        return Account(first.account_id, first.platform, first.display_name)
