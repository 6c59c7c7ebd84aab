//! What people expect of a command-line tool: a reader that stops early
//! (`kvbench export … | head`) ends the command quietly, as it ends `cat`;
//! shell completions and a man page; results as JSON, CSV or Markdown for
//! scripts and pages (`--format`); nothing but errors on stderr with `--quiet`.
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

#[test]
fn tables_print_as_json_csv_or_markdown() {
    let reference = concat!(env!("CARGO_MANIFEST_DIR"), "/../../results/reference/suite.json");
    let set = kvbench_results::io::read(std::path::Path::new(reference)).unwrap();
    let stdout = |args: &[&str]| {
        let out = kvbench(args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    // export: the records, one CSV line each, or as a results file's JSON, or a Markdown table.
    let csv = stdout(&["export", "--format", "csv", reference]);
    assert!(csv.starts_with("strategy,start,dataset,workload,metric,value,unit,lower,upper,runs,samples,load\n"));
    assert_eq!(csv.lines().count(), set.records.len() + 1, "a header and one line per record");
    assert!(csv.contains("\"lru(0.1,mmap-index)\","), "a name with a comma is quoted");
    let json: kvbench_results::ResultSet =
        serde_json::from_str(&stdout(&["export", "--format", "json", reference])).unwrap();
    assert_eq!(json.records, set.records);
    let md = stdout(&["export", "--format", "markdown", reference]);
    assert!(md.starts_with("| strategy | start |") && md.lines().nth(1).unwrap().starts_with("|---|"), "{md}");
    // compare: the changes with their verdicts as JSON; the table as CSV or Markdown.
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&["compare", "--all", "--format", "json", reference, reference])).unwrap();
    assert_eq!(json["regressions"], 0);
    let changes = json["changes"].as_array().unwrap();
    assert!(!changes.is_empty() && changes.iter().all(|c| c["verdict"] == "unchanged"), "{json}");
    assert!(changes[0]["strategy"].is_string() && changes[0]["metric"].is_string(), "{}", changes[0]);
    let csv = stdout(&["compare", "--all", "--format", "csv", reference, reference]);
    assert!(csv.starts_with("measurement,metric,before,after,change,best,verdict\n"), "{csv}");
    let md = stdout(&["compare", "--all", "--format", "markdown", reference, reference]);
    assert!(md.starts_with("| measurement | metric |"), "{md}");
}

#[test]
fn a_quiet_suite_prints_only_its_results() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (data, results) = (format!("{d}/data"), format!("{d}/suite.json"));
    let suite = |format: &str| {
        let args = ["suite", "--keys", "2k", "--strategies", "hashmap,scan", "--workloads", "uniform", "--quick"];
        let rest = ["--data-dir", &data, "--results", &results, "--no-report", "--quiet", "--format", format];
        kvbench(&[&args[..], &rest[..]].concat())
    };
    let out = suite("json");
    assert!(out.status.success() && out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!json["results"]["records"].as_array().unwrap().is_empty(), "{json}");
    let choices = json["what_to_use"][0]["choices"].as_array().unwrap();
    assert_eq!(choices[0]["goal"], "lowest p50");
    assert_eq!(choices[0]["best"]["case"]["strategy"], "hashmap", "{json}");
    let out = suite("csv");
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(out.stderr.is_empty() && csv.starts_with("strategy,start,dataset,"), "{csv}");
    let out = suite("markdown");
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.contains("| strategy | open |") && md.contains("What to use for 2k"), "{md}");
}
