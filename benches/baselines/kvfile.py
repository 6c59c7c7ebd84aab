"""What every Python baseline shares: the data format and the command line.

A baseline is `python3 SCRIPT [OPTIONS] DATA KEY...`, the contract of
`kvbench get --data DATA KEY...`: each value on its own line on stdout in the
order asked, `not found: KEY` on stderr for a missing key; exit status 0 when
every key was found, 1 when some were not, 2 on a usage or data error.

A record is one line `<key><space or tab><value>`: the key is every byte up to
the first space or tab, the value the rest of the line without one trailing
`\\r`; the first record of a key wins. Everything is bytes.
"""
import argparse
import os
import re
import sys

SEPARATORS = (b" ", b"\t")
_SEPARATOR = re.compile(rb"[ \t]")


def strip_eol(value):
    """`value` without its `\\n` (if any), then without one `\\r`."""
    if value.endswith(b"\n"):
        value = value[:-1]
    return value[:-1] if value.endswith(b"\r") else value


def split_record(line):
    """(key, value) of one line, or None when the line has no key."""
    sep = _SEPARATOR.search(line)
    if sep is None or sep.start() == 0:
        return None
    return line[: sep.start()], strip_eol(line[sep.end() :])


def scan(lines, key):
    """The value of the first line of `lines` whose key is `key`, or None."""
    prefixes = tuple(key + sep for sep in SEPARATORS)
    for line in lines:
        if line.startswith(prefixes):
            return strip_eol(line[len(key) + 1 :])
    return None


def _key(text):
    key = os.fsencode(text)
    if not key or any(byte in key for byte in b" \t\n"):
        raise argparse.ArgumentTypeError(f"invalid key {text!r}")
    return key


def arg_parser():
    """The common command line, described by the running script's docstring."""
    parser = argparse.ArgumentParser(description=sys.modules["__main__"].__doc__)
    parser.add_argument("data", help="the data file of `<key> <value>` lines")
    parser.add_argument("keys", nargs="+", type=_key, metavar="KEY", help="keys to look up")
    return parser


def main(open_lookup, parser=None):
    """Answers the command line's keys with `open_lookup(args)`, a function
    from a key to its value or None; returns the exit status."""
    args = (parser or arg_parser()).parse_args()
    missing = False
    try:
        get = open_lookup(args)
        out = sys.stdout.buffer
        for key in args.keys:
            value = get(key)
            if value is None:
                missing = True
                print(f"not found: {os.fsdecode(key)}", file=sys.stderr)
            else:
                out.write(value)
                out.write(b"\n")
        out.flush()
    except OSError as e:
        print(f"{os.path.basename(sys.argv[0])}: {args.data}: {e.strerror}", file=sys.stderr)
        return 2
    return 1 if missing else 0
