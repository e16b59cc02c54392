"""What a message is, independent of any platform: members, rooms, incoming text, replies
made of parts (plain text, code, times, mentions, lists, buttons), and their plain rendering.

Owns: ``events`` (the value types), ``render`` (the plain-text renderer every adapter can
fall back on), ``plural`` (a count with its noun in the right form).
May use: :mod:`chatbot.time`, :mod:`chatbot.base`.
"""
