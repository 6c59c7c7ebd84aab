#!/usr/bin/env python3
"""Baseline `py-readall`: read all the lines at once (`readlines()`), then
scan that list for each key."""
import sys

import kvfile


def open_lookup(args):
    with open(args.data, "rb") as f:
        lines = f.readlines()
    return lambda key: kvfile.scan(lines, key)


if __name__ == "__main__":
    sys.exit(kvfile.main(open_lookup))
