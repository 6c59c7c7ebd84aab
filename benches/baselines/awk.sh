#!/usr/bin/env bash
# Baseline `bash-awk`: one awk pass over the file for all the keys at once.
#
# Usage: awk.sh DATA KEY...   (the contract of `kvbench get --data DATA KEY...`:
# values on stdout in the order asked, `not found: KEY` on stderr, exit status
# 0 all found, 1 some missing, 2 usage or data error)
set -u
export LC_ALL=C # bytes, not characters, in length() and substr()

(($# >= 2)) || { echo "usage: awk.sh DATA KEY..." >&2; exit 2; }
[[ -f $1 && -r $1 ]] || { echo "awk.sh: cannot read $1" >&2; exit 2; }
for key in "${@:2}"; do
    [[ -n $key && $key != *[$' \t\n']* ]] || { echo "awk.sh: invalid key '$key'" >&2; exit 2; }
done

[[ $1 == /* ]] || set -- "./$1" "${@:2}" # awk would read a relative `a=b` as an assignment
exec awk '
BEGIN {
    FS = "[ \t]" # one separator, so $1 is every byte up to the first space or tab
    # The keys follow the data file: remember them in order, then take them
    # out of ARGV so that awk reads the data file only.
    for (i = 2; i < ARGC; i++) {
        asked[++n] = ARGV[i]
        if (!(ARGV[i] in wanted)) { wanted[ARGV[i]]; left++ }
        delete ARGV[i]
    }
    status = 0
}
NF > 1 && ($1 in wanted) && !($1 in found) { # the first record of a key wins
    value = substr($0, length($1) + 2)
    sub(/\r$/, "", value)
    found[$1] = value
    if (--left == 0) exit # every key found: stop reading
}
END {
    for (i = 1; i <= n; i++) {
        if (asked[i] in found) print found[asked[i]]
        else { print "not found: " asked[i] > "/dev/stderr"; status = 1 }
    }
    exit status
}' "$@"
