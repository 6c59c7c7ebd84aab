//! Every relative link and named section in the documentation resolves: the
//! README, the book in `docs/`, the published report and the experiment notes
//! in `results/`, and the comments of the justfile, the workflows and the
//! bench scripts that name a section of a Markdown file (`docs/ci.md: "…"`).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Component, Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Files under `dir` (recursively, skipping `target` folders) whose name is accepted by `keep`, sorted.
fn files_under(dir: &Path, keep: &dyn Fn(&str) -> bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    for path in paths {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "target" && name != "node_modules" && !name.starts_with('.') {
                files_under(&path, keep, out);
            }
        } else if keep(&name) {
            out.push(path);
        }
    }
}

/// The Markdown files whose links are checked.
fn markdown_files(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![root.join("README.md"), root.join("reports/README.md"), root.join("results/README.md")];
    files_under(&root.join("docs"), &|n| n.ends_with(".md"), &mut files);
    files_under(&root.join("results"), &|n| n == "NOTES.md", &mut files);
    files
}

/// The files whose comments may name a section of a Markdown file.
fn commented_files(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![root.join("justfile"), root.join(".ci/run")];
    files_under(&root.join(".github"), &|n| n.ends_with(".yml") || n.ends_with(".yaml"), &mut files);
    files_under(&root.join("benches"), &|n| n.ends_with(".sh"), &mut files);
    files
}

/// A heading's anchor as GitHub makes it: the heading's text (Markdown
/// removed), lowercased, spaces to '-', punctuation other than '-' and '_'
/// dropped.
fn slug(heading: &str) -> String {
    let text = strip_links(heading);
    let mut out = String::new();
    for c in text.chars() {
        if c == ' ' {
            out.push('-');
        } else if c.is_alphanumeric() || c == '-' || c == '_' {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// `[text](target)` → `text`, for a heading's anchor.
fn strip_links(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some((start, end, label)) = next_link(rest) {
        out.push_str(&rest[..start]);
        out.push_str(label);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The next `[label](target)` in `line`: its start, its end and its label.
fn next_link(line: &str) -> Option<(usize, usize, &str)> {
    let mut from = 0;
    while let Some(i) = line[from..].find("](") {
        let close = from + i;
        let Some(open) = line[..close].rfind('[') else {
            from = close + 2;
            continue;
        };
        let target_start = close + 2;
        let mut depth = 1;
        for (j, c) in line[target_start..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some((open, target_start + j + 1, &line[open + 1..close]));
                    }
                }
                _ => {}
            }
        }
        return None;
    }
    None
}

/// The link targets of one line, code spans left out.
fn link_targets(line: &str) -> Vec<String> {
    let mut plain = String::new();
    for (i, part) in line.split('`').enumerate() {
        if i % 2 == 0 {
            plain.push_str(part);
        } else {
            plain.push_str("code");
        }
    }
    let mut targets = Vec::new();
    let mut rest = plain.as_str();
    while let Some((start, end, label)) = next_link(rest) {
        let target_start = start + 1 + label.len() + 2;
        let target = rest[target_start..end - 1].split_whitespace().next().unwrap_or("");
        targets.push(target.to_string());
        rest = &rest[end..];
    }
    targets
}

/// Lines of a Markdown file outside fenced code blocks, with their numbers.
fn prose_lines(text: &str) -> Vec<(usize, &str)> {
    let mut fenced = false;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            out.push((i + 1, line));
        }
    }
    out
}

/// The anchors of a Markdown file's headings (a repeated heading gets `-1`, `-2`, … as on GitHub).
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for (_, line) in prose_lines(text) {
        let hashes = line.chars().take_while(|&c| c == '#').count();
        if (1..=6).contains(&hashes) && line[hashes..].starts_with(' ') {
            let base = slug(line[hashes..].trim());
            let mut anchor = base.clone();
            let mut n = 0;
            while seen.contains(&anchor) {
                n += 1;
                anchor = format!("{base}-{n}");
            }
            seen.insert(anchor);
        }
    }
    seen
}

fn is_external(target: &str) -> bool {
    let scheme = target.split(':').next().unwrap_or("");
    target.contains(':') && !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || c == '+')
}

/// `path` with `.` and `..` resolved, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn display(root: &Path, path: &Path) -> String {
    path.strip_prefix(normalize(root)).unwrap_or(path).display().to_string()
}

/// Checks that `target` (from `file`) names an existing file and, with `#anchor`, a heading of it.
fn check_target(root: &Path, file: &Path, target: &str) -> Result<(), String> {
    let (path, anchor) = match target.split_once('#') {
        Some((path, anchor)) => (path, Some(anchor)),
        None => (target, None),
    };
    let resolved = if path.is_empty() { file.to_path_buf() } else { normalize(&file.parent().unwrap().join(path)) };
    if !resolved.exists() {
        return Err(format!("{} does not exist", display(root, &resolved)));
    }
    if let Some(anchor) = anchor {
        if resolved.extension().is_none_or(|e| e != "md") {
            return Err(format!("#{anchor} points into {}, which is not Markdown", display(root, &resolved)));
        }
        let text = fs::read_to_string(&resolved).unwrap();
        if !anchors(&text).contains(anchor) {
            return Err(format!("{} has no heading whose anchor is #{anchor}", display(root, &resolved)));
        }
    }
    Ok(())
}

/// `(path, heading)` for each `FILE.md: "Heading"` or `README: "Heading"` in a comment line.
fn named_sections(line: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find(": \"") {
        let before = &rest[..i];
        let path = before.rsplit(|c: char| c.is_whitespace() || c == '(').next().unwrap_or("");
        let after = &rest[i + 3..];
        let Some(end) = after.find('"') else { break };
        if path == "README" || path.ends_with(".md") {
            let path = if path == "README" { "README.md" } else { path };
            out.push((path.to_string(), after[..end].to_string()));
        }
        rest = &after[end + 1..];
    }
    out
}

#[test]
fn every_relative_link_and_section_in_the_docs_resolves() {
    let root = normalize(&repo_root());
    let files = markdown_files(&root);
    assert!(files.iter().any(|f| f.ends_with("docs/SUMMARY.md")), "no docs/SUMMARY.md among {files:?}");
    let mut failures = Vec::new();
    let mut checked = 0;
    for file in &files {
        let text = fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", display(&root, file)));
        for (line_no, line) in prose_lines(&text) {
            for target in link_targets(line) {
                if target.is_empty() || is_external(&target) {
                    continue;
                }
                checked += 1;
                if let Err(why) = check_target(&root, file, &target) {
                    failures.push(format!("{}:{line_no}: link ({target}): {why}", display(&root, file)));
                }
            }
        }
    }
    assert!(checked > 50, "only {checked} relative links found: is the scan broken?");
    assert!(failures.is_empty(), "{} broken link(s):\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_section_named_in_a_comment_exists() {
    let root = normalize(&repo_root());
    let mut failures = Vec::new();
    for file in commented_files(&root) {
        let Ok(text) = fs::read_to_string(&file) else { continue };
        for (i, line) in text.lines().enumerate() {
            if !line.trim_start().starts_with('#') {
                continue;
            }
            for (path, heading) in named_sections(line) {
                let target = format!("{path}#{}", slug(&heading));
                if let Err(why) = check_target(&root, &root.join("x"), &target) {
                    failures.push(format!("{}:{}: section {path}: \"{heading}\": {why}", display(&root, &file), i + 1));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} broken section reference(s):\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn slugs_follow_github() {
    assert_eq!(slug("The regression gate: `just ci-bench`"), "the-regression-gate-just-ci-bench");
    assert_eq!(slug("How to read the suite's tables"), "how-to-read-the-suites-tables");
    assert_eq!(slug("`kvbench bench macro`"), "kvbench-bench-macro");
    assert_eq!(slug("snake_case and 100M × 2 → [a link](x.md)"), "snake_case-and-100m--2--a-link");
    let repeated = anchors("# A\n\n## A\n\n```\n# not a heading\n```\n### B.\n");
    assert_eq!(repeated.into_iter().collect::<Vec<_>>(), ["a", "a-1", "b"]);
}

#[test]
fn links_are_found_outside_code() {
    let line = "see [the guide](docs/guide.md#your-own-file), `[not](a-link.md)` and ![chart](x.png \"t\")";
    assert_eq!(link_targets(line), ["docs/guide.md#your-own-file", "x.png"]);
    assert_eq!(link_targets("[`code` label](a.md) and [b](https://example.com)"), ["a.md", "https://example.com"]);
    assert!(is_external("https://example.com") && !is_external("docs/a.md#x"));
    let text = "x\n```\n[no](missing.md)\n```\n[yes](here.md)\n";
    let found: Vec<_> =
        prose_lines(text).into_iter().flat_map(|(n, l)| link_targets(l).into_iter().map(move |t| (n, t))).collect();
    assert_eq!(found, [(5, "here.md".to_string())]);
    assert_eq!(
        named_sections(
            "# Run it first (docs/methodology.md: \"Publishing the reference run\"), or README: \"Install\""
        ),
        [
            ("docs/methodology.md".to_string(), "Publishing the reference run".to_string()),
            ("README.md".to_string(), "Install".to_string())
        ]
    );
}

/// `kvbench ARGS --help`, as the binary prints it.
fn help(args: &[String]) -> String {
    // Help wraps to the terminal: 100 columns, whoever runs the test.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kvbench"))
        .args(args)
        .arg("--help")
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    assert!(out.status.success(), "kvbench {args:?} --help: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The subcommands a help text lists under `Commands:` (but `help`).
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        // A command's line starts with two spaces; a wrapped description is indented further.
        .filter(|l| l.starts_with("  ") && !l[2..].starts_with(' '))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .filter(|name| name != "help")
        .collect()
}

/// The command reference: every visible command and subcommand with its help, depth first.
fn command_reference() -> String {
    let mut out = String::new();
    let mut todo: Vec<Vec<String>> = vec![Vec::new()];
    while let Some(args) = todo.pop() {
        let text = help(&args);
        let name = std::iter::once("kvbench".to_owned()).chain(args.iter().cloned()).collect::<Vec<_>>().join(" ");
        out.push_str(&format!("\n### `{name}`\n\n```text\n{}\n```\n", text.trim_end()));
        let children = subcommands(&text);
        todo.extend(children.into_iter().rev().map(|c| [args.clone(), vec![c]].concat()));
    }
    out
}

#[test]
fn the_guides_command_reference_is_the_binarys_help() {
    let path = repo_root().join("docs/guide.md");
    let guide = fs::read_to_string(&path).unwrap();
    let (start, end) = ("<!-- command reference -->\n", "<!-- end of the command reference -->");
    let from = guide.find(start).expect("the guide marks where its command reference starts") + start.len();
    let to = guide.find(end).expect("and where it ends");
    let written = &guide[from..to];
    let current = command_reference();
    if std::env::var_os("KVBENCH_BLESS").is_some() {
        fs::write(&path, format!("{}{current}{}", &guide[..from], &guide[to..])).unwrap();
        return;
    }
    assert!(
        written == current,
        "docs/guide.md's command reference is not the binary's help: run `KVBENCH_BLESS=1 cargo test -p kvbench --test docs`"
    );
    for command in ["gen", "suite", "bench micro", "history backfill", "completions", "man"] {
        assert!(written.contains(&format!("### `kvbench {command}`")), "{command} is in the reference");
    }
    assert!(!written.contains("kvbench probe"), "a hidden command is not");
}
