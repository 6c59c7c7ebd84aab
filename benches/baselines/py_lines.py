#!/usr/bin/env python3
"""Baseline `py-lines`: for each key, read the file with `for line in file`
until the key's first record."""
import sys

import kvfile


def open_lookup(args):
    def get(key):
        with open(args.data, "rb") as f:
            return kvfile.scan(f, key)

    return get


if __name__ == "__main__":
    sys.exit(kvfile.main(open_lookup))
