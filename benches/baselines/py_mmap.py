#!/usr/bin/env python3
"""Baseline `py-mmap`: map the file, and for each key search the mapping for
a line that starts with it (`find(b"\\n" + key)`)."""
import mmap
import os
import sys

import kvfile


def map_file(path):
    """The file's bytes, mapped read-only (b"" for an empty file, which cannot be mapped)."""
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return b""
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)


def find(buf, key):
    """The value of the first record of `key` in `buf` (bytes or mmap), or None.

    Only line starts are candidates (the file's start, then after each
    `\\n`), so a key inside another line's value never matches; the separator
    is checked after the key, so a key that is a prefix of another does not
    either. Candidates are tried in file order, so the first record wins
    whichever separator it uses.
    """
    needle = b"\n" + key
    start = 0
    while True:
        end = start + len(key)
        if buf[start:end] == key and buf[end : end + 1] in kvfile.SEPARATORS:
            stop = buf.find(b"\n", end)
            return kvfile.strip_eol(buf[end + 1 : stop if stop >= 0 else len(buf)])
        newline = buf.find(needle, start)
        if newline < 0:
            return None
        start = newline + 1


def open_lookup(args):
    buf = map_file(args.data)
    return lambda key: find(buf, key)


if __name__ == "__main__":
    sys.exit(kvfile.main(open_lookup))
