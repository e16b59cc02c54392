"""A chat in the terminal: several simulated members and rooms, no accounts needed.

Interactive on a terminal (a prompt, ``/as``, ``/room``, ``/dm``); with piped input it reads
one message per line and prints the replies on stdout, so it can be scripted.  Each line is
answered before the next is read, which keeps scripted sessions deterministic.

One person reads the console, as whichever member they are at the moment (``/as``), so a
post for a whole room (an announcement, a meeting) shows its times in that member's zone,
and every message counts as answerable ephemerally: a private reply is printed where the
command was typed, as only that person sees it (a reply meant for direct messages is still
shown as one, with the notice in the room).  A file a reply carries (an export) is written
to the exports folder (``exports``; by default an ``exports/`` folder next to the SQLite
database, or in the working directory) and its path printed.
"""

from __future__ import annotations

import asyncio
import re
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import msgspec

from chatbot.base.config import adapter_settings
from chatbot.base.i18n import Msg, _
from chatbot.dispatch.adapter import Capabilities, Sent
from chatbot.messages.events import Attachment, Incoming, Member, Outgoing, Reader, Room
from chatbot.messages.localise import localise, text_in
from chatbot.messages.render import describe_file, render_plain
from chatbot.storage.members import store_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from chatbot.base.config import Config
    from chatbot.dispatch.adapter import Core

NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,32}$")
_SQLITE_FILE = re.compile(r"^sqlite(?:\+\w+)?:///([^?]+)")
HELP = _(
    "Console commands:\n"
    "  /as NAME      speak as another member (e.g. /as bob)\n"
    "  /room #NAME   move to a room (e.g. /room #meetings)\n"
    "  /dm           talk to the bot in a direct message\n"
    "  /who          who and where you are\n"
    "  /quit         leave (Ctrl-D works too)\n"
    "Anything else is a chat message; bot commands start with {prefix} (try {prefix}help)."
)


class ConsoleSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    member: str = "alice"
    room: str = "#general"
    organisers: list[str] = msgspec.field(default_factory=list)
    #: where files sent by the bot (exports) are written; "" for an ``exports/`` folder next
    #: to the SQLite database, or in the working directory
    exports: str = ""


def exports_folder(settings: ConsoleSettings, database_url: str) -> Path:
    """The folder the console writes files to (see :class:`ConsoleSettings`)."""
    if settings.exports:
        return Path(settings.exports).expanduser()
    found = _SQLITE_FILE.match(database_url)
    if found and found.group(1) != ":memory:":
        return Path(found.group(1)).parent / "exports"
    return Path("exports")


def save_file(folder: Path, file: Attachment) -> Path:
    """Write ``file`` into ``folder`` (created when needed) under its own name, or with
    ``-2``, ``-3``… added when that is taken: an earlier export is never overwritten."""
    folder.mkdir(parents=True, exist_ok=True)
    stem, dot, ext = file.filename.rpartition(".")
    if not dot or not stem:
        stem, ext = file.filename, ""
    suffix = f".{ext}" if ext else ""
    number = 1
    while True:
        name = file.filename if number == 1 else f"{stem}-{number}{suffix}"
        path = folder / name
        try:
            with path.open("xb") as handle:
                handle.write(file.data)
        except FileExistsError:
            number += 1
            continue
        return path.resolve()


class ConsoleAdapter:
    platform = "console"
    capabilities = Capabilities(rich_text=False, direct_messages=True)

    def __init__(
        self, config: Config, stdin: TextIO | None = None, stdout: TextIO | None = None
    ) -> None:
        self.settings = adapter_settings(config, "console", ConsoleSettings)
        self.exports = exports_folder(self.settings, config.database_url())
        self.prefix = config.bot.prefix
        self.bot_name = config.bot.name
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.interactive = self.stdin.isatty() and self.stdout.isatty()
        self.member = self._member(self.settings.member)
        self.room = self._room(self.settings.room)
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._stopping = asyncio.Event()
        self._counter = 0
        #: whether :meth:`run` is serving (``/readyz``)
        self.connected = False
        self.core: Core | None = None

    # -- identities ------------------------------------------------------------------------

    def _member(self, name: str) -> Member:
        return Member(f"{self.platform}:{name}", self.platform, name)

    def _room(self, name: str) -> Room:
        name = name if name.startswith("#") else f"#{name}"
        return Room(f"{self.platform}:{name}", self.platform, name)

    def _dm_room(self, member: Member) -> Room:
        return Room(
            f"{self.platform}:dm:{member.display_name}",
            self.platform,
            f"DM {member.display_name}",
            is_direct=True,
        )

    # -- Adapter protocol ------------------------------------------------------------------

    async def run(self, core: Core, started: Callable[[], None]) -> None:
        loop = asyncio.get_running_loop()
        reader = threading.Thread(
            target=self._read_stdin, args=(loop,), daemon=True, name="console-stdin"
        )
        reader.start()
        self.core = core
        self.connected = True
        try:
            await self._serve(core, started)
        finally:
            self.connected = False

    async def _serve(self, core: Core, started: Callable[[], None]) -> None:
        started()
        if self.interactive:
            welcome = _(
                "Console chat with {bot}. You are {member} in {room}. Type {prefix}help, or "
                "/help for console commands.",
                bot=self.bot_name,
                member=self.member.display_name,
                room=self.room.name,
                prefix=self.prefix,
            )
            self._print(text_in(welcome, await self._lang()))
        while not self._stopping.is_set():
            self._prompt()
            get = asyncio.ensure_future(self._lines.get())
            stop = asyncio.ensure_future(self._stopping.wait())
            done, _pending = await asyncio.wait({get, stop}, return_when=asyncio.FIRST_COMPLETED)
            for fut in (get, stop):
                if fut not in done:
                    fut.cancel()
            if get not in done:
                break
            line = get.result()
            if line is None:
                break
            await self.feed(core, line.rstrip("\r\n"))

    async def stop(self) -> None:
        self._stopping.set()

    async def send(self, out: Outgoing) -> Sent | None:
        reader = out.reader
        if not (reader.zone or out.room.is_direct):
            store = store_of(self.core)  # a room post: read by the member at the console
            if store is not None:
                prefs = await store.prefs(self.member)
                # their language, else the room's (an announcement carries it)
                reader = Reader(prefs.zone, prefs.lang or reader.lang)
        out = localise(msgspec.structs.replace(out, reader=reader))
        lang = out.reader.lang
        text = render_plain(msgspec.structs.replace(out.reply, files=()), reader, out.sent_at)
        for file in out.reply.files:
            path = await asyncio.to_thread(save_file, self.exports, file)
            saved = _("{file} saved as {path}", file=describe_file(file), path=str(path))
            text += ("\n" if text else "") + text_in(saved, lang)
        if out.room.is_direct:
            target = out.room.name.removeprefix("DM ")
            if not (self.room.is_direct and self.member.display_name == target):
                tag = text_in(_("[DM to {name}]", name=target), lang)
                text = "\n".join(f"{tag} {line}" for line in text.splitlines())
        self._print(text)
        self._counter += 1
        return Sent(out.room.id, str(self._counter))

    async def send_direct(self, member: Member, out: Outgoing) -> Sent | None:
        room = self._dm_room(member)
        return await self.send(msgspec.structs.replace(out, room=room))

    async def is_organiser(self, member: Member, room: Room) -> bool:
        return member.display_name in self.settings.organisers

    async def resolve_member(self, room: Room, text: str) -> Member | None:
        name = text.removeprefix("@")
        return self._member(name) if NAME.match(name) else None

    # -- terminal --------------------------------------------------------------------------

    def _read_stdin(self, loop: asyncio.AbstractEventLoop) -> None:
        """Blocking reads in a daemon thread, so a stuck terminal never holds up shutdown."""
        try:
            for line in self.stdin:
                loop.call_soon_threadsafe(self._lines.put_nowait, line)
        except (OSError, ValueError):
            pass
        try:
            loop.call_soon_threadsafe(self._lines.put_nowait, None)
        except RuntimeError:  # the loop is already closed
            pass

    async def feed(self, core: Core, line: str) -> None:
        """Handle one typed line: a console command or a chat message."""
        self.core = core
        if not line.strip():
            return
        if line.startswith("/") and not line.startswith("//"):
            await self._console_command(line)
            return
        self._counter += 1
        incoming = Incoming(
            platform=self.platform,
            member=self.member,
            room=self.room,
            text=line,
            event_id=f"console-{self._counter}",
            ephemeral=True,  # one person reads the console: nothing it prints is shared
        )
        await core.handle(incoming)

    async def _console_command(self, line: str) -> None:
        word, _sep, arg = line[1:].partition(" ")
        arg = arg.strip()
        word = word.casefold()
        if word == "as" and NAME.match(arg.removeprefix("@")):
            self.member = self._member(arg.removeprefix("@"))
            if self.room.is_direct:
                self.room = self._dm_room(self.member)
            await self._note(
                _(
                    "You are now {member} in {room}.",
                    member=self.member.display_name,
                    room=self.room.name,
                )
            )
        elif word == "room" and NAME.match(arg.removeprefix("#")):
            self.room = self._room(arg)
            await self._note(_("You are now in {room}.", room=self.room.name))
        elif word == "dm":
            self.room = self._dm_room(self.member)
            await self._note(
                _("You are now in a direct message with the bot. /room #general goes back.")
            )
        elif word == "who":
            await self._note(
                _(
                    "You are {member} in {room}.",
                    member=self.member.display_name,
                    room=self.room.name,
                )
            )
        elif word in ("quit", "exit"):
            self._stopping.set()
        elif word == "help":
            await self._note(HELP.given(prefix=self.prefix))
        else:
            await self._note(
                _("Unknown console command '/{word}'. /help lists them.", word=word), always=True
            )

    async def _lang(self) -> str | None:
        """The language of the console's own lines: the current member's ``!lang``, else
        the bot's default."""
        store = store_of(self.core)
        if store is None:
            return None
        return (await store.prefs(self.member)).lang

    async def _note(self, text: Msg, *, always: bool = False) -> None:
        if self.interactive or always:
            self._print(text_in(text, await self._lang()))

    def _prompt(self) -> None:
        if self.interactive:
            self.stdout.write(f"{self.member.display_name}@{self.room.name}> ")
            self.stdout.flush()

    def _print(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()
