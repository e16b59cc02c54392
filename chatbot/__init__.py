"""Community chat bot of the Wikimedia and Libraries User Group: the platform-neutral core."""

__version__ = "0.1.0"
