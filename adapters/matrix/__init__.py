"""The Matrix adapter: matrix-nio, with end-to-end encryption when ``matrix-nio[e2e]`` is in.

What it guarantees (issue 4):

* **Login once, one device.**  A password login's device id and access token are kept in the
  bot's database, so a restart reuses the device (and its crypto store) instead of adding a
  new one.  An access token from the environment is used as is.
* **Nothing lost, nothing repeated.**  The sync token is stored only after the events of its
  sync were handled (see :mod:`adapters.matrix.ledger`); answered event ids are remembered and
  every send carries a transaction id derived from what it answers, so a replay after a crash
  never posts twice.  On the very first start the room history is skipped.
* **Replies** are ``m.notice`` events with plain and HTML bodies, in reply to the command (in
  its thread when it came from one), with intentional mentions that never reach ``@room``.
* **Invites** are accepted from the allowed servers and rooms only; others are declined.
* **Encrypted rooms** work: the crypto store lives in ``store_path``, keys are shared with
  every device of the room's members without marking them verified (see ``_room_send``).

Issue 7, posts for a whole room and buttons:

* A post the bot makes on its own in a shared room (outbox: announcements, meetings) lists
  its full times in every zone the room's joined members set, grouped and sorted, then UTC;
  the zones come from the core's member cache.
* Buttons become reactions (see :mod:`adapters.matrix.reactions`): a member's reaction with
  a button's key runs its command as that member.  Taking a reaction back (its redaction)
  goes to the features' ``withdrawn_hooks``: meetings withdraw the RSVP that reaction gave.

:class:`MatrixAdapter` is one class made of one part per role, each in its own module:

* :mod:`~adapters.matrix.sync`: the adapter itself: running, stopping, the sync loop and
  routing each event;
* :mod:`~adapters.matrix.session`: logging in once per device, the stored token and device;
* :mod:`~adapters.matrix.crypto`: key housekeeping and events not decryptable yet;
* :mod:`~adapters.matrix.rooms`: invites and direct rooms;
* :mod:`~adapters.matrix.sending`: replies, sent exactly once;
* :mod:`~adapters.matrix.reactions`: buttons as reactions, and reactions for features;
* :mod:`~adapters.matrix.members`: organisers (power levels and creators in the group's
  own rooms), finding a member;
* :mod:`~adapters.matrix.base`: the state all parts share, retries and back-off;
* :mod:`~adapters.matrix.settings`: ``[adapters.matrix]``;
* :mod:`~adapters.matrix.ledger`: the stored sync token and answered events;
* :mod:`~adapters.matrix.incoming` and :mod:`~adapters.matrix.render`: pure functions
  (reading what members send; replies as Matrix content).
"""

from adapters.matrix.reactions import Reaction
from adapters.matrix.sending import MatrixUnavailable
from adapters.matrix.settings import MatrixSettings
from adapters.matrix.sync import MatrixAdapter

__all__ = ["MatrixAdapter", "MatrixSettings", "MatrixUnavailable", "Reaction"]
