"""Work that must happen exactly once, later or elsewhere: the durable outbox that posts
messages, the scheduler of timed jobs, and the leases that share platform connections
between instances.

Owns: ``outbox`` (the sender; its parts in ``outbox_rows``, ``outbox_claims``,
``outbox_policy``, ``outbox_payload``), ``scheduler``, ``leases``, and ``workers`` (the
instance name and injectable wait the three share).  May use: :mod:`chatbot.dispatch` (the
adapter contract, rate limits), :mod:`chatbot.storage` and everything below it.
"""
