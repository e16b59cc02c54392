"""Platform-neutral values that flow between adapters and the core.

Handlers say *what* to send (a time, a member, a list); each adapter decides *how* it looks.
They are frozen ``msgspec.Struct`` values rather than dataclasses: the same immutability,
and ten times cheaper to create, which matters on the dispatch path (two per message).
User-supplied text travels as :class:`Plain` or :class:`Code` so every renderer escapes it;
bare ``str`` parts are the bot's own text in a small markdown subset (``**bold**``,
``` `code` ```).
A reply may also carry files (:class:`Attachment`, e.g. an export): each adapter sends them
its own way (a Discord attachment, a Matrix ``m.file`` upload, a file written by the console),
and plain text shows them as ``[file: name, N KB]``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from typing import Literal

import msgspec

from chatbot.base.i18n import Msg
from chatbot.base.i18n import Plain as Plain  # defined below the time layer; a reply part
from chatbot.time.format import TimeStyle


class Member(msgspec.Struct, frozen=True):
    """A person's account on one platform; ``id`` is scoped, e.g. ``matrix:@alice:example.org``.

    ``person`` is set (by the core, on every message) when the member linked accounts on
    several platforms (``!link``): it is the id of their first account. Features key what
    they store by :attr:`key`, so a linked member is one member everywhere; adapters send to
    :attr:`id`, the account the message came from."""

    id: str
    platform: str
    display_name: str
    person: str = ""

    @property
    def native_id(self) -> str:
        """The id without the platform prefix, as the platform knows it."""
        return self.id.partition(":")[2]

    @property
    def key(self) -> str:
        """What the member's data is stored under: their linked identity, else this account."""
        return self.person or self.id


class Room(msgspec.Struct, frozen=True):
    """A place messages are posted: a channel, a Matrix room, a DM."""

    id: str
    platform: str
    name: str
    is_direct: bool = False

    @property
    def native_id(self) -> str:
        return self.id.partition(":")[2]


class Incoming(msgspec.Struct, frozen=True):
    """One message from a member, already stripped of platform details."""

    platform: str
    member: Member
    room: Room
    text: str
    event_id: str = ""
    thread_id: str | None = None
    mentions_bot: bool = False
    #: values of a submitted :class:`Form`, keyed by field (the text is the form's command)
    form_values: dict[str, str] | None = None
    #: adapter-specific handle (e.g. a Discord interaction) the adapter needs to answer
    handle: object = None
    #: the adapter can answer this message so that only its sender sees it (a Discord
    #: interaction; the console, which only its user reads).  Otherwise a private reply goes
    #: by direct message: see :class:`Reply`.
    ephemeral: bool = False
    #: the language the member's app is set to, where the platform says (a Discord
    #: interaction's locale, e.g. ``es-ES``); used when they chose none with ``!lang``
    locale: str | None = None
    #: a button pressed by a gesture the member can take back (a Matrix reaction): its id,
    #: so a feature can undo what the press did when it is taken back (see
    #: :class:`~chatbot.dispatch.adapter.Withdrawn`); "" for anything typed or clicked
    gesture: str = ""


class Code(msgspec.Struct, frozen=True):
    """Literal text in a monospace block (escaped), e.g. exported data."""

    text: str
    language: str = ""


class When(msgspec.Struct, frozen=True):
    """An instant, rendered in the reader's zone (or natively by the platform)."""

    at: datetime
    style: TimeStyle = "full"
    relative: bool = False

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("When needs an aware datetime")


class Mention(msgspec.Struct, frozen=True):
    """A member, rendered as a proper mention where the platform has one."""

    member: Member


#: ``str`` is the bot's own markdown that needs no translation (punctuation, a code span);
#: its words travel as :class:`~chatbot.base.i18n.Msg`, translated for each reader
Inline = str | Plain | Code | When | Mention | Msg


class Bullets(msgspec.Struct, frozen=True):
    """A list: one item per entry, each a sequence of inline parts."""

    items: tuple[tuple[Inline, ...], ...]


Part = Inline | Bullets

ButtonStyle = Literal["primary", "secondary", "success", "danger"]


class Button(msgspec.Struct, frozen=True):
    """An action offered under a reply.  Clicking it runs ``command`` (without the prefix,
    e.g. ``rsvp 12 yes``) as the member who clicked, so it needs no state and keeps working
    after a restart.  Platforms without buttons show the command to type instead."""

    label: str | Msg
    command: str
    style: ButtonStyle = "secondary"


class ShownIf(msgspec.Struct, frozen=True):
    """A form field that applies only when the answer to the earlier field ``key`` names
    one of ``any_of`` (its words split on ``;``, ``,`` and spaces, case-insensitively).
    Data rather than a function, so a form kept in the database keeps its rule."""

    key: str
    any_of: tuple[str, ...]

    def holds(self, answers: Mapping[str, str]) -> bool | None:
        """Whether the field applies; None while ``key`` is not answered yet."""
        if self.key not in answers:
            return None
        words = {w.casefold() for w in re.split(r"[;,\s]+", answers[self.key]) if w}
        return any(option.casefold() in words for option in self.any_of)


class FormField(msgspec.Struct, frozen=True):
    key: str
    label: str | Msg
    placeholder: str | Msg = ""
    required: bool = True
    long: bool = False
    max_length: int = 1000
    default: str = ""
    #: asked only when this holds for the answers of earlier pages (None: always asked)
    when: ShownIf | None = None


class Form(msgspec.Struct, frozen=True):
    """Several answers at once (a Discord modal, paged five fields at a time).

    A field with a :class:`ShownIf` is asked on a page after the one that answers the field
    it depends on, and only when its rule holds.

    On submit the adapter delivers an :class:`Incoming` whose text is ``command`` (without
    the prefix) and whose ``form_values`` hold the answers.  Platforms without forms ignore
    it; the feature must then offer the same through a dialogue."""

    id: str
    title: str | Msg
    fields: tuple[FormField, ...]
    command: str


#: characters never kept in a file name: path separators, and what Windows refuses
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
MAX_FILENAME = 100


def safe_filename(name: str, default: str = "file") -> str:
    """``name`` made safe to attach or save anywhere: no path separators or control
    characters, no leading dots (no ``..``, no hidden file), at most :data:`MAX_FILENAME`
    characters with the extension kept; ``default`` when nothing is left."""
    text = "".join(c for c in unicodedata.normalize("NFC", name) if unicodedata.category(c) != "Cf")
    text = _UNSAFE_NAME.sub("-", text).strip(" .-")
    if len(text) > MAX_FILENAME:
        _stem, dot, ext = text.rpartition(".")
        keep = ("." + ext) if dot and 0 < len(ext) <= 10 else ""
        text = text[: MAX_FILENAME - len(keep)].rstrip(" .-") + keep
    return text or default


class Attachment(msgspec.Struct, frozen=True):
    """A file sent with a reply (an export), rather than pasted in many messages.

    ``filename`` is what the reader sees and saves: it must be a bare, safe name (use
    :func:`safe_filename` on anything built from user text); ``mime`` its media type."""

    filename: str
    data: bytes
    mime: str = "application/octet-stream"

    def __post_init__(self) -> None:
        if not self.filename or safe_filename(self.filename) != self.filename:
            raise ValueError(f"not a safe file name: {self.filename!r} (use safe_filename)")

    @property
    def size(self) -> int:
        return len(self.data)


class Reply(msgspec.Struct, frozen=True):
    """What a handler answers, and who may read it.

    ``private``: only the caller may read it (their data, an unpublished submission, an
    organisers' queue).  It is an ephemeral answer where the message allows one
    (:attr:`Incoming.ephemeral`), otherwise a direct message with a short notice in the
    room; never a post others can read.
    ``aside``: it concerns only the caller but holds nothing secret (help, an error, a
    setting just typed): ephemeral where the message allows, otherwise in the room.
    ``direct``: it goes by direct message where the platform has them, even from a
    Discord interaction (long exports, a dialogue that continues there).
    ``files``: files sent with the text (after it), each adapter its own way.

    The core settles these before the adapter sees the reply: an adapter gets
    ``private=True`` only for an answer it should make ephemeral, or in a direct room.
    """

    parts: tuple[Part, ...]
    private: bool = False
    direct: bool = False
    buttons: tuple[Button, ...] = ()
    form: Form | None = None
    aside: bool = False
    files: tuple[Attachment, ...] = ()

    @classmethod
    def of(
        cls,
        *parts: Part,
        private: bool = False,
        direct: bool = False,
        buttons: tuple[Button, ...] = (),
        form: Form | None = None,
        aside: bool = False,
        files: tuple[Attachment, ...] = (),
    ) -> Reply:
        if not (private or direct or buttons or form is not None or aside or files):
            return cls(parts)  # the common reply: no keywords for msgspec to read
        return cls(
            parts,
            private=private,
            direct=direct,
            buttons=buttons,
            form=form,
            aside=aside,
            files=files,
        )

    @property
    def has_times(self) -> bool:
        for part in self.parts:
            if isinstance(part, When):
                return True
            if isinstance(part, Bullets) and any(
                isinstance(p, When) for item in part.items for p in item
            ):
                return True
        return False


class Reader(msgspec.Struct, frozen=True):
    """Who will read a rendering: their zone key and language (both optional)."""

    zone: str | None = None
    lang: str | None = None


class Outgoing(msgspec.Struct, frozen=True):
    """A reply on its way out through an adapter.

    ``delivery_id`` is stable across retries, so adapters derive idempotency keys from it
    (Matrix transaction ids, Discord nonces).
    """

    room: Room
    reply: Reply
    reader: Reader = Reader()
    in_reply_to: Incoming | None = None
    delivery_id: str = ""
    #: when the bot decided to send it; renderers drop the year of dates in the same year
    sent_at: datetime | None = None
