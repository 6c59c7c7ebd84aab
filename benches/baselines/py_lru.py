#!/usr/bin/env python3
"""Baseline `py-lru`: an LRU cache (`functools.lru_cache`) holding a fraction
of the file's keys in front of the mmap search of `py_mmap`."""
import argparse
import functools
import math
import sys

import kvfile
from py_mmap import find, map_file

CHUNK = 1 << 20


def ratio(text):
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"cache ratio {text} is not in (0, 1]")
    return value


def count_lines(buf):
    """Lines in `buf`, counting a last line without `\\n`: the key count for a
    file without duplicates (the Rust `lru` sizes its cache on distinct keys)."""
    newlines = sum(buf[i : i + CHUNK].count(b"\n") for i in range(0, len(buf), CHUNK))
    return newlines + (len(buf) > 0 and buf[-1:] != b"\n")


def open_lookup(args):
    buf = map_file(args.data)
    capacity = max(1, math.ceil(args.cache_ratio * count_lines(buf)))
    return functools.lru_cache(maxsize=capacity)(lambda key: find(buf, key))


if __name__ == "__main__":
    parser = kvfile.arg_parser()
    parser.add_argument(
        "--cache-ratio", type=ratio, default=0.1, help="fraction of the file's keys the cache holds (default 0.1)"
    )
    sys.exit(kvfile.main(open_lookup, parser))
