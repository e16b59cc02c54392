"""Reading what members send: commands out of ``m.room.message`` content.

Pure functions over the event content (a JSON dict), so they are easy to test and never
trust the shape of what arrives.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

_QUOTED = re.compile(r"^(?:>[^\n]*\n)+\n?")


def relation(content: dict[str, Any]) -> dict[str, Any]:
    rel = content.get("m.relates_to")
    return rel if isinstance(rel, dict) else {}


def thread_root(content: dict[str, Any]) -> str | None:
    """The thread's root event id when the message was posted in a thread."""
    rel = relation(content)
    root = rel.get("event_id")
    if rel.get("rel_type") == "m.thread" and isinstance(root, str) and root:
        return root
    return None


def is_edit(content: dict[str, Any]) -> bool:
    """An edit (``m.replace``) repeats an old message: never run it as a new command."""
    return relation(content).get("rel_type") == "m.replace"


def replied_to(content: dict[str, Any]) -> str | None:
    reply = relation(content).get("m.in_reply_to")
    if isinstance(reply, dict) and isinstance(reply.get("event_id"), str):
        return str(reply["event_id"])
    return None


def strip_reply_fallback(body: str) -> str:
    """Drop the quoted ``> <@user> …`` lines older clients put before a reply's text."""
    if not body.startswith(">"):
        return body
    return _QUOTED.sub("", body, count=1)


def mentions_user(content: dict[str, Any], user_id: str) -> bool:
    """Whether the message mentions ``user_id``: intentional mentions, a pill or the bare id."""
    mentions = content.get("m.mentions")
    if isinstance(mentions, dict):
        ids = mentions.get("user_ids")
        if isinstance(ids, list) and user_id in ids:
            return True
    body = content.get("body")
    if isinstance(body, str) and user_id in body:
        return True
    formatted = content.get("formatted_body")
    return isinstance(formatted, str) and f"matrix.to/#/{user_id}" in unquote(formatted)


def strip_mention(text: str, names: list[str]) -> str:
    """``"WMLib bot: !ping"`` → ``"!ping"``: the bot's name or id at the start, with the
    colon or comma clients add after a pill."""
    stripped = text.lstrip()
    for name in sorted((n for n in names if n), key=len, reverse=True):
        if stripped.casefold().startswith(name.casefold()):
            rest = stripped[len(name) :]
            if not rest or rest[0] in ":, \n\t":
                return rest.lstrip(":,").lstrip()
    return text


def server_of(user_id: str) -> str:
    """``@ana:example.org`` → ``example.org`` (ports included, as Matrix compares them)."""
    return user_id.partition(":")[2]
