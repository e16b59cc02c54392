"""Revisions of the FAQ module's tables."""
