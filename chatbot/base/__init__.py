"""What every part of the core may use: errors with user-facing messages, the clock, logging
with secret masking, and the config schema.

Owns: ``errors``, ``clock``, ``logs``, ``config``.  May use: the standard library and its
third-party libraries only, never another part of the core.
"""
