"""Discord, through an unmodified discord.py.

Every registry command works two ways: typed with the prefix in a message (``!tz set lagos``)
and as a slash command generated from the same declaration (``/tz set zone:lagos``, see
:mod:`adapters.discord.slash`).  Slash commands, button clicks and form submits are
interactions: the handler runs at once and, if it hasn't answered within ``defer_after``
seconds, the interaction is deferred (ephemeral for private commands) and answered by a
follow-up, so Discord's 3-second limit is always met.

Buttons carry their command in the custom id (``wmlib:cmd:rsvp 12 yes``) and are handled by
discord.py dynamic items, so clicks keep working after a restart.  Forms open as modals, five
fields per page; answers of earlier pages wait in memory until the last page is submitted.

Languages: every interaction carries the member's app locale (``Incoming.locale``, e.g.
``es-ES``), used when they chose none with ``!lang``; the adapter's own words (an expired form,
a modal's pages, "Done.") follow the same rule.  A post in a channel whose reader has no
language yet (a room post, or a prefix command from a member without ``!lang`` in a room
``bot.room_languages`` does not name) is written in the server's primary language when it is
a Community server (the only servers whose members choose it; elsewhere Discord reports
en-US, which must not override ``bot.language``): :meth:`Sending._with_room_language`.
Slash commands carry their descriptions in every language of the catalogs.

Nothing is ever pinged by accident: every send has ``AllowedMentions.none()``, except that a
reply mentioning the member it answers may ping that one member.

:class:`DiscordAdapter` is one class made of one part per role, each in its own module:

* :mod:`~adapters.discord.gateway`: the adapter itself: connecting, staying connected,
  stopping, syncing slash commands (only when they changed) and routing what arrives;
* :mod:`~adapters.discord.interactions`: slash commands, autocomplete and command buttons;
* :mod:`~adapters.discord.forms`: forms as modals, page by page, kept across restarts;
* :mod:`~adapters.discord.sending`: replies in channels, direct messages and interactions;
* :mod:`~adapters.discord.members`: organiser checks (in the group's own guilds only) and
  finding a member by name;
* :mod:`~adapters.discord.mentions`: ``<@id>``, ``<@&id>``, ``<#id>`` in what members
  write, read as the names Discord shows;
* :mod:`~adapters.discord.scheduled_events`: meetings as Guild Scheduled Events;
* :mod:`~adapters.discord.base`: the state all parts share and running a handler;
* :mod:`~adapters.discord.settings`: ``[adapters.discord]``;
* :mod:`~adapters.discord.render` and :mod:`~adapters.discord.slash`: pure functions
  (markdown and message splitting; slash command payloads).

This package is imported only when the Discord adapter is enabled; the core never imports
discord.py.
"""

from adapters.discord.gateway import DiscordAdapter
from adapters.discord.settings import DiscordSettings

__all__ = ["DiscordAdapter", "DiscordSettings"]
