#!/usr/bin/env bash
# Baseline `bash-grep`: one `grep -m1` per key, anchored at the start of a line.
#
# Usage: grep.sh DATA KEY...   (the contract of `kvbench get --data DATA KEY...`:
# values on stdout in the order asked, `not found: KEY` on stderr, exit status
# 0 all found, 1 some missing, 2 usage or data error)
set -u
export LC_ALL=C # bytes, not characters: ${#key} and [[:blank:]] (space, tab) count bytes

(($# >= 2)) || { echo "usage: grep.sh DATA KEY..." >&2; exit 2; }
data=$1
shift
[[ -f $data && -r $data ]] || { echo "grep.sh: cannot read $data" >&2; exit 2; }
for key in "$@"; do
    [[ -n $key && $key != *[$' \t\n']* ]] || { echo "grep.sh: invalid key '$key'" >&2; exit 2; }
done

status=0
for key in "$@"; do
    # Escape what a basic regex treats specially, so the key matches as fixed bytes.
    pattern=$key
    for c in '\' . '[' '*' '^' '$'; do pattern=${pattern//"$c"/\\$c}; done
    # -m1: the first record wins, and grep stops reading there; -a: values may hold any byte.
    line=$(grep -a -m1 -- "^$pattern[[:blank:]]" "$data")
    case $? in
    0)
        line=${line%$'\r'}
        printf '%s\n' "${line:${#key}+1}"
        ;;
    1)
        echo "not found: $key" >&2
        status=1
        ;;
    *) exit 2 ;;
    esac
done
exit $status
