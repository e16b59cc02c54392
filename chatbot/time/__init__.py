"""Time as members write and read it: time zones and places, date phrases, formatting.

Owns: ``zones`` (what ``!tz set`` accepts, resolved in this order:) ``zone_names`` (UTC
offsets, IANA names, the ``Zone`` type), ``abbreviations`` (``PST``, ``CET``, ``IST``…),
``places`` (cities and countries from GeoNames, indexed once and cached on disk; the few
names GeoNames lacks in ``place_extras``); ``parse``
(date phrases to aware datetimes; its steps in ``phrase_prepass``, ``phrase_instant``,
``phrase_grammar``, ``phrase_dateparser``, and ``chatbot when`` in ``when_cli``);
``schedule_rules`` (what may be booked); ``format`` (an instant in a reader's zone and
language).  May use: :mod:`chatbot.base`.
"""
