//! Stamps the commit of the tree being built into the benches.
include!("build-support/git_commit.rs");

fn main() {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").map(std::path::PathBuf::from).unwrap_or_default();
    emit_git_commit(&manifest);
}
