"""The HTTP side: health and readiness, Prometheus metrics, and routes modules add (the
calendar feed).

Owns: ``app`` (the aiohttp application and its server), ``metrics``, ``pages`` (what the
modules' server-rendered pages share: Jinja2 environment, base template, stylesheet, page
language, page cache), ``security`` (hashed tokens, CSRF, cookies).  May use:
:mod:`chatbot.delivery` and everything below it.
"""
