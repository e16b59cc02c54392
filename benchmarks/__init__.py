"""Benchmarks that print their figures (never timed assertions in tests)."""

from __future__ import annotations

import os
import platform
import sys


def interpreter() -> str:
    """Which CPython ran the figures: an optimised build (PGO + LTO, as Debian's and the
    python.org images are) runs this project 10-20 % faster than pyenv's default build, so a
    figure means little without it."""
    base = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    return f"{platform.python_implementation()} {platform.python_version()} ({base})"
