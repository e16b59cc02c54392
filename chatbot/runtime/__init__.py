"""The runtime that wires the parts together: the :class:`~chatbot.runtime.bot.Bot` (routing,
lifecycle, workers), finding plugins through entry points, and the ``chatbot`` command line.

Owns: ``bot``, ``plugins``, ``cli``.  May use: every other part of the core; nothing in the
core imports it.
"""
