"""Migrations of the case-study module."""
