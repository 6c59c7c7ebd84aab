//! What people expect of a command-line tool: a reader that stops early
//! (`kvbench export … | head`) ends the command quietly, as it ends `cat`;
//! shell completions and a man page.
#![allow(clippy::unwrap_used)]

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

/// Runs `kvbench args`, reads only the first bytes of its stdout and closes the pipe.
fn read_head_of(args: &[&str]) -> (std::process::ExitStatus, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kvbench"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut head = [0u8; 64];
    child.stdout.take().unwrap().read_exact(&mut head).unwrap();
    // The pipe's read end is dropped here, while kvbench still has much to print.
    let out = child.wait_with_output().unwrap();
    (out.status, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn printing_commands_end_quietly_when_the_reader_stops() {
    let reference = "results/reference/suite.json";
    for args in [&["export", reference][..], &["compare", "--all", reference, reference][..]] {
        let (status, stderr) = read_head_of(args);
        assert!(!stderr.contains("panicked") && stderr.is_empty(), "{args:?}: {stderr}");
        let quiet = status.success() || status.signal() == Some(libc::SIGPIPE);
        assert!(quiet, "{args:?} ended by SIGPIPE or printed everything, not {status:?}");
    }
}

fn kvbench(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kvbench")).args(args).output().unwrap()
}

#[test]
fn completions_and_the_man_page_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish"] {
        let out = kvbench(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", String::from_utf8_lossy(&out.stderr));
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(["suite", "serve", "compare", "--memory-limit"].iter().all(|w| script.contains(w)), "{shell}");
    }
    let out = kvbench(&["completions", "no-such-shell"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("possible values"));
    let man = kvbench(&["man"]);
    let page = String::from_utf8_lossy(&man.stdout);
    assert!(man.status.success() && page.starts_with(".ie") && page.contains(".TH kvbench 1"), "{page}");
    assert!(page.contains("suite") && page.contains("serve"), "{page}");
}
