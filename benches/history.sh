#!/usr/bin/env bash
# The bench-history branch in CI (docs/ci.md: "The history of main: `kvbench history`"):
#
#   benches/history.sh add RESULTS        on a push to main (.github/workflows/history.yml): put the
#                                         branch into the worktree ./history (an orphan branch if origin
#                                         has none yet), add the run RESULTS named by HEAD's commit date,
#                                         commit, and push (rebased and retried if the branch moved)
#   benches/history.sh compare RESULTS MD on a pull request (.github/workflows/bench.yml): place the
#                                         change's runs RESULTS against main's recent runs into the
#                                         Markdown file MD (a note there if origin has no history yet)
#
# The history lives on a branch of its own so that it grows with every push
# without a clone of main carrying it. KVBENCH is the kvbench command
# (default: cargo run --release --quiet -p kvbench --).
set -euo pipefail

root=$(git rev-parse --show-toplevel)
cd "$root"
read -r -a kvbench <<<"${KVBENCH:-cargo run --release --quiet -p kvbench --}"
branch=bench-history

# Puts origin's bench-history into the worktree $1: detached (to read), or
# with $2 = create as the local branch bench-history (to commit to; an orphan
# branch when origin has none). Fails when origin has none and $2 is not create.
checkout() {
    local dir=$1 create=${2:-}
    git worktree remove --force "$dir" 2>/dev/null || true
    git worktree prune
    if git fetch --quiet origin "+refs/heads/$branch:refs/remotes/origin/$branch" 2>/dev/null; then
        if [ "$create" = create ]; then
            git worktree add --quiet -B "$branch" "$dir" "origin/$branch"
        else
            git worktree add --quiet --detach "$dir" "origin/$branch"
        fi
    elif [ "$create" = create ]; then
        echo "origin has no $branch branch: starting it" >&2
        git branch -D "$branch" 2>/dev/null || true
        git worktree add --quiet --orphan -b "$branch" "$dir"
    else
        return 1
    fi
}

case "${1:-}" in
add)
    results=${2:?usage: benches/history.sh add RESULTS}
    checkout history create
    commit=$(git rev-parse HEAD)
    "${kvbench[@]}" history add "$results" --history history/runs --date "$(git log -1 --format=%cI "$commit")"
    git -C history add runs
    git -C history commit --quiet -m "History of main: ${commit:0:12} ($(git log -1 --format=%s "$commit"))"
    for attempt in 1 2 3; do
        git -C history push --quiet origin "HEAD:refs/heads/$branch" && exit 0
        echo "push $attempt refused (the branch moved?): rebasing onto origin's $branch" >&2
        git -C history fetch --quiet origin "$branch"
        git -C history rebase --quiet FETCH_HEAD
    done
    echo "could not push to $branch" >&2
    exit 1
    ;;
compare)
    results=${2:?usage: benches/history.sh compare RESULTS MD}
    md=${3:?usage: benches/history.sh compare RESULTS MD}
    tmp=$(mktemp -d)
    if ! checkout "$tmp/history"; then
        printf '### Against the recent history of main\n\nNo `%s` branch on origin yet: it starts with the first push to main.\n' \
            "$branch" >"$md"
        rm -rf "$tmp"
        exit 0
    fi
    status=0
    "${kvbench[@]}" history compare "$results" --history "$tmp/history/runs" --markdown "$md" || status=$?
    git worktree remove --force "$tmp/history"
    rm -rf "$tmp"
    exit "$status"
    ;;
*)
    sed -n '2,14p' "$0" >&2
    exit 2
    ;;
esac
