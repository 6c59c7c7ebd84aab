#!/usr/bin/env python3
"""Baseline `py-dict`: load every record into a dict (the first record of a
key wins), then look each key up."""
import sys

import kvfile


def open_lookup(args):
    table = {}
    with open(args.data, "rb") as f:
        for line in f:
            record = kvfile.split_record(line)
            if record is not None:
                table.setdefault(*record)
    return table.get


if __name__ == "__main__":
    sys.exit(kvfile.main(open_lookup))
