"""Revisions of the meetings module's tables."""
