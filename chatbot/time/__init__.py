"""Time as members write and read it: time zones and places, date phrases, formatting.

Owns: ``zones`` (what ``!tz set`` accepts: offsets, abbreviations, IANA names),
``places`` (cities and countries from GeoNames), ``parse`` (date phrases to aware
datetimes; its steps in ``phrase_prepass``, ``phrase_instant``, ``phrase_grammar``,
``phrase_dateparser``, and ``chatbot when`` in ``when_cli``), ``format`` (an instant in a
reader's zone and language).  May use:
:mod:`chatbot.base`.
"""
