"""Command-line values shared by every subcommand: image sizes ('HxW') and shards ('i/N').

Standard library only: the renderer's own environment imports this too.
"""
from __future__ import annotations

from .errors import UserError


class BadValue(UserError, ValueError):
    """A bad command-line value: a one-line UserError that is also a ValueError (argparse types, checks)."""


def parse_size(text: str, min_side: int = 32, max_side: int = 4096, option: str = "--size") -> tuple[int, int]:
    """'HxW' -> (H, W), each side within [min_side, max_side]; errors name ``option``."""
    try:
        h, w = (int(v) for v in str(text).lower().split("x"))
    except ValueError:
        raise BadValue(f"{option} {text!r}: expected HxW, e.g. 240x416") from None
    if not (min_side <= h <= max_side and min_side <= w <= max_side):
        raise BadValue(f"{option} {text}: impossible size, each side must be between {min_side} and {max_side} "
                       "pixels")
    return h, w


def parse_shard(text: str) -> tuple[int, int]:
    """'i/N' -> (i, N) with 0 <= i < N: this job takes items k with k % N == i."""
    try:
        i, n = (int(v) for v in str(text).split("/"))
    except ValueError:
        raise BadValue(f"--shard {text!r}: expected i/N, e.g. 0/4") from None
    if n < 1 or not 0 <= i < n:
        raise BadValue(f"--shard {text}: need N >= 1 and 0 <= i < N")
    return i, n
