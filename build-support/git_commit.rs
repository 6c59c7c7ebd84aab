// Shared by the build scripts of the `kvbench` binary and of the benches
// (`include!`d, so both stamp the same way): the commit of the tree being
// built, so a record names the code that measured it, not whatever the
// working directory holds when the binary runs.

/// Emits `KVBENCH_BUILD_COMMIT` (`git describe --always --abbrev=12` of the
/// source tree, `-dirty` when its sources differ from it, or `unknown` outside
/// git) and asks to be rerun when the sources or the checked-out commit change.
fn emit_git_commit(workspace: &std::path::Path) {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(workspace)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    // `-dirty` means the code differs from the commit: only what is compiled
    // counts, not the results and reports a run writes into the checkout.
    let sources = ["crates", "benches", "build-support", "build.rs", "Cargo.toml", "Cargo.lock"];
    let commit = git(&["describe", "--always", "--abbrev=12"]).map_or_else(
        || "unknown".to_owned(),
        |commit| {
            let status = [&["status", "--porcelain", "--untracked-files=no", "--"][..], &sources].concat();
            if git(&status).is_some() { format!("{commit}-dirty") } else { commit }
        },
    );
    println!("cargo:rustc-env=KVBENCH_BUILD_COMMIT={commit}");
    // A directory is watched recursively: any edit re-describes the tree (for `-dirty`).
    for path in sources {
        println!("cargo:rerun-if-changed={}", workspace.join(path).display());
    }
    // HEAD moves on checkout, the branch's ref on commit, the index on `git add`
    // (in a worktree, HEAD and the index live in its own git dir, refs in the common one).
    if let (Some(dir), Some(common)) = (git(&["rev-parse", "--absolute-git-dir"]), git(&["rev-parse", "--git-common-dir"])) {
        let common = workspace.join(common);
        println!("cargo:rerun-if-changed={dir}/HEAD");
        println!("cargo:rerun-if-changed={dir}/index");
        println!("cargo:rerun-if-changed={}", common.join("packed-refs").display());
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            println!("cargo:rerun-if-changed={}", common.join(branch).display());
        }
    }
}
