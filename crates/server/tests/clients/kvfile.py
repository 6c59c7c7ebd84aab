"""A data file read by kvbench's record rules, for the client checks.

A line is split at its first space or tab into key and value (a trailing CR
dropped); the first line of a key wins. The test's data files have no
malformed lines.
"""

import uuid


def records(path):
    """Every key of the file with its value, as bytes, first occurrence winning."""
    found = {}
    with open(path, "rb") as f:
        for line in f.read().split(b"\n"):
            line = line.removesuffix(b"\r")
            seps = [i for i in (line.find(b" "), line.find(b"\t")) if i > 0]
            if not seps:
                continue
            sep = min(seps)
            found.setdefault(line[:sep], line[sep + 1 :])
    return found


def absent(present, n):
    """n keys shaped like UUIDs that are not in the file, plus keys no file can hold."""
    keys = []
    while len(keys) < n:
        key = str(uuid.uuid4()).encode()
        if key not in present:
            keys.append(key)
    return keys, [b"a b", b"tab\tkey", b"", b"k" * 2000]


class Checks:
    """Counts of answers checked per operation; the first wrong answer stops the run."""

    def __init__(self, client, version, **extra):
        self.summary = {"client": client, "version": version, **extra}

    def expect(self, operation, got, want, what):
        if got != want:
            short = lambda v: repr(v)[:300]
            raise SystemExit(f"{self.summary['client']}: {operation} {short(what)}: got {short(got)}, want {short(want)}")
        self.summary[operation] = self.summary.get(operation, 0) + 1
