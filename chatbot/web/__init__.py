"""The HTTP side: health and readiness, Prometheus metrics, and routes modules add (the
calendar feed).

Owns: ``app`` (the aiohttp application and its server), ``metrics``.  May use:
:mod:`chatbot.delivery` and everything below it.
"""
