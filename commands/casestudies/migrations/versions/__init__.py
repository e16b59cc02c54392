"""Revisions of the case-study tables."""
