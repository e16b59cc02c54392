"""From a message to a handler: command declarations and argument converters, the context a
handler gets, multi-step dialogues, flood protection, and the adapter contract.

Owns: ``registry`` (commands, groups, modules, :class:`Context`), ``host`` (the bot as
features see it), ``converters``, ``dialogs``, ``ratelimit``, ``adapter`` (the protocol
every platform implements).  May use: :mod:`chatbot.storage`, :mod:`chatbot.messages`,
:mod:`chatbot.time`, :mod:`chatbot.base`.
"""
