"""Work that must happen exactly once, later or elsewhere: the durable outbox that posts
messages, the scheduler of timed jobs, and the leases that share platform connections
between instances.

Owns: ``outbox``, ``scheduler``, ``leases``.  May use: :mod:`chatbot.dispatch` (the adapter
contract, rate limits), :mod:`chatbot.storage` and everything below it.
"""
