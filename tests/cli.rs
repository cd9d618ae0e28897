//! End-to-end tests of the binary.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

mod common;
use common::{base, story_names};

fn storyclust() -> Command {
    let mut c = Command::cargo_bin("storyclust").unwrap();
    c.env_remove("NO_COLOR");
    c
}

fn json_of(args: &[&str]) -> (Value, i32) {
    let out = storyclust()
        .args(["--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    (v, out.status.code().unwrap())
}

#[test]
fn bakhmut_fixture_is_one_story_of_four_with_the_expected_passages() {
    let (v, code) = json_of(&["fixtures/bakhmut"]);
    assert_eq!(code, 0);
    let stories = v["stories"].as_array().unwrap();
    assert_eq!(stories.len(), 1, "exactly one story: {stories:#?}");
    let members: Vec<String> = stories[0]["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| base(d["path"].as_str().unwrap()))
        .collect();
    assert_eq!(
        members,
        [
            "000_dd3bff5cdd9db58f.txt",
            "001_4607232b1ce02615.txt",
            "002_ecce3a3c2beb379b.txt",
            "003_f01a6d959760f020.txt"
        ]
    );
    // Every passage occurrence cut from its file by the reported byte range.
    let mut cuts: Vec<String> = Vec::new();
    for p in stories[0]["passages"].as_array().unwrap() {
        for o in p["occurrences"].as_array().unwrap() {
            let bytes = fs::read(o["path"].as_str().unwrap()).unwrap();
            let r = o["bytes"].as_array().unwrap();
            let (s, e) = (
                r[0].as_u64().unwrap() as usize,
                r[1].as_u64().unwrap() as usize,
            );
            assert!(s < e && e <= bytes.len());
            cuts.push(String::from_utf8(bytes[s..e].to_vec()).expect("spans on char boundaries"));
        }
    }
    for phrase in [
        "would give Russia a new foothold in the Donetsk region",
        "The city is a fortress, every position and every street",
    ] {
        assert!(
            cuts.iter().any(|c| c.contains(phrase)),
            "no passage cut holds {phrase:?}"
        );
    }
    // Each member's line:column agrees with its byte offset.
    let p = &stories[0]["passages"][0]["occurrences"][0];
    let text = fs::read_to_string(p["path"].as_str().unwrap()).unwrap();
    let start = p["bytes"][0].as_u64().unwrap() as usize;
    let line = text[..start].matches('\n').count() + 1;
    assert_eq!(p["start"]["line"].as_u64().unwrap() as usize, line);
    // 004 is in no story, and the summary counts it.
    assert_eq!(v["summary"]["singletons"], 1);
    assert_eq!(v["summary"]["documents"], 5);
    // The parameters in force are in the output, with bands x rows.
    assert!(v["params"]["lsh"]["bands"].as_u64().unwrap() >= 1);
    assert_eq!(v["params"]["shingle"], 5);
}

#[test]
fn text_output_names_the_story_and_singleton_with_all() {
    storyclust()
        .args(["--all", "--color", "never", "fixtures/bakhmut"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Story 1"))
        .stdout(predicate::str::contains("4 articles"))
        .stdout(predicate::str::contains("Singletons:"))
        .stdout(predicate::str::contains("004_de68a8682b620b3a.txt"))
        .stdout(predicate::str::contains("\x1b[").not());
}

#[test]
fn color_always_colours_and_no_color_env_is_honoured_in_auto() {
    storyclust()
        .args(["--color", "always", "fixtures/bakhmut"])
        .assert()
        .stdout(predicate::str::contains("\x1b["));
    // Not a terminal: auto means no colour.
    storyclust()
        .args(["fixtures/bakhmut"])
        .env("NO_COLOR", "1")
        .assert()
        .stdout(predicate::str::contains("\x1b[").not());
}

#[test]
fn jsonl_has_begin_stories_and_summary() {
    let out = storyclust()
        .args(["--format", "jsonl", "--all", "fixtures/bakhmut"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let types: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["begin", "story", "singleton", "summary"]);
    assert_eq!(lines[0]["data"]["schema_version"], 1);
    assert_eq!(lines[0]["data"]["params"]["num_perm"], 128);
    assert_eq!(lines[1]["data"]["documents"].as_array().unwrap().len(), 4);
    assert_eq!(lines[3]["data"]["stories"], 1);
}

#[test]
fn missing_path_is_exit_2_naming_it() {
    storyclust()
        .arg("no/such/folder")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("storyclust: no/such/folder"));
}

#[test]
fn bad_option_is_exit_2() {
    storyclust()
        .args(["--threshold", "1.5", "fixtures/bakhmut"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--threshold"));
    storyclust().args(["--no-such-flag", "x"]).assert().code(2);
}

#[test]
fn fail_on_stories_gates_ci() {
    storyclust()
        .args(["--fail-on-stories", "fixtures/bakhmut"])
        .assert()
        .code(1);
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("1_a.txt"), "one lone article about nothing").unwrap();
    storyclust()
        .args(["--fail-on-stories"])
        .arg(dir.path())
        .assert()
        .code(0);
}

#[test]
fn bad_files_are_reported_and_the_rest_still_processed() {
    let dir = tempfile::tempdir().unwrap();
    for f in fs::read_dir("fixtures/bakhmut").unwrap() {
        let f = f.unwrap();
        fs::copy(f.path(), dir.path().join(f.file_name())).unwrap();
    }
    fs::write(dir.path().join("005_binary.txt"), b"PK\x03\x04\0\0binary").unwrap();
    fs::write(
        dir.path().join("006_latin1.txt"),
        b"Caf\xe9 cr\xe8me \x93quoted\x94",
    )
    .unwrap();
    fs::write(dir.path().join("007_empty.txt"), b"").unwrap();
    let out = storyclust()
        .args(["--format", "json", "--all"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("005_binary.txt") && stderr.contains("binary"),
        "{stderr}"
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["stories"].as_array().unwrap().len(), 1);
    assert_eq!(v["stories"][0]["size"], 4);
    assert_eq!(v["errors"].as_array().unwrap().len(), 1);
    let singles: Vec<&Value> = v["singletons"].as_array().unwrap().iter().collect();
    let latin = singles
        .iter()
        .find(|d| d["path"].as_str().unwrap().ends_with("006_latin1.txt"))
        .unwrap();
    assert_eq!(latin["encoding"], "windows1252");
    assert_eq!(latin["words"], 3);
}

#[test]
fn output_is_identical_whatever_the_thread_count() {
    let run = |threads: &str| {
        storyclust()
            .args([
                "--format",
                "json",
                "--no-timings",
                "--all",
                "--threads",
                threads,
            ])
            .args(["fixtures/bakhmut", "fixtures"])
            .output()
            .unwrap()
            .stdout
    };
    let one = run("1");
    assert!(!one.is_empty());
    assert_eq!(one, run("2"));
    assert_eq!(one, run("8"));
}

#[test]
fn identical_copies_form_one_story() {
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read_to_string("fixtures/bakhmut/004_de68a8682b620b3a.txt").unwrap();
    for i in 0..30 {
        // Same words, different whitespace and case: still identical text.
        let t = if i % 2 == 0 {
            text.clone()
        } else {
            text.replace(' ', "  ").to_uppercase()
        };
        fs::write(dir.path().join(format!("{i}_copy.txt")), t).unwrap();
    }
    let out = storyclust()
        .args(["--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["stories"].as_array().unwrap().len(), 1);
    assert_eq!(v["stories"][0]["size"], 30);
    // The whole text is one shared passage, found once in each copy: linear output.
    let p = &v["stories"][0]["passages"];
    assert_eq!(p.as_array().unwrap().len(), 1);
    assert_eq!(p[0]["occurrences"].as_array().unwrap().len(), 30);
}

#[test]
fn natural_order_and_ext_filter() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["10_b.txt", "2_a.txt", "x.txt", "3_c.md"] {
        fs::write(dir.path().join(name), format!("an article called {name}")).unwrap();
    }
    let (v, _) = json_of(&["--all", dir.path().to_str().unwrap()]);
    let names: Vec<String> = v["singletons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| base(d["path"].as_str().unwrap()))
        .collect();
    assert_eq!(names, ["2_a.txt", "10_b.txt", "x.txt"]);
    let (v, _) = json_of(&["--all", "--ext", "md", dir.path().to_str().unwrap()]);
    assert_eq!(v["singletons"].as_array().unwrap().len(), 1);
}

#[test]
fn terminal_output_never_carries_raw_control_characters() {
    let dir = tempfile::tempdir().unwrap();
    let evil = "Headline \u{1b}[2J\u{202e}gnp.exe\u{200b} more words to read here today\n";
    let body = "the city is a fortress every position and every street there almost every building is a fortress said the commander today";
    fs::write(
        dir.path().join("1_\u{1b}[31mred.txt"),
        format!("{evil}{body}"),
    )
    .unwrap();
    fs::write(dir.path().join("2_b.txt"), format!("{evil}{body}")).unwrap();
    let out = storyclust()
        .args(["--color", "never", "--all"])
        .arg(dir.path())
        .output()
        .unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(s.contains("Story 1"), "{s}");
    assert!(
        !s.contains('\u{1b}') && !s.contains('\u{202e}') && !s.contains('\u{200b}'),
        "{s:?}"
    );
    assert!(s.contains("\\u{202e}"));
    // JSON stays exact.
    let (v, _) = json_of(&[dir.path().to_str().unwrap()]);
    assert!(
        v["stories"][0]["documents"][0]["title"]
            .as_str()
            .unwrap()
            .contains('\u{202e}')
    );
}

#[test]
fn explain_prints_the_bands_and_rows_in_force() {
    let (v, _) = json_of(&["--threshold", "0.8", "fixtures/bakhmut"]);
    let (b, r) = (&v["params"]["lsh"]["bands"], &v["params"]["lsh"]["rows"]);
    storyclust()
        .args(["--explain", "--threshold", "0.8"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "LSH {b} bands x {r} rows"
        )))
        .stdout(predicate::str::contains("J=0.8"))
        .stdout(predicate::str::contains("Document-frequency cap"));
}

/// Deterministic filler text: `n` pseudo-random words, different for each `seed`.
fn filler(seed: u64, n: usize) -> String {
    const SYL: [&str; 16] = [
        "ka", "lo", "mi", "ne", "sur", "tal", "vo", "ber", "dan", "qui", "rop", "zel", "gim",
        "hus", "pra", "wen",
    ];
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            let mut w = String::new();
            for _ in 0..3 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                w.push_str(SYL[(x % 16) as usize]);
            }
            w
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn stories_of(dir: &Path, extra: &[&str]) -> Vec<Vec<String>> {
    let out = storyclust()
        .args(["--format", "json"])
        .args(extra)
        .arg(dir)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut s = story_names(&v);
    s.sort();
    s
}

/// Writes `stories` stories of two copies each and `lone` lone articles
/// (at most 10 of each) to `dir`, every article carrying the same 25-word
/// template sentence; returns the stories' file names.
fn template_corpus(dir: &Path, stories: u64, lone: u64) -> Vec<Vec<String>> {
    let template = "the joint agricultural weather facility of the agriculture and commerce departments said in its weekly international weather and crop summary released here today that";
    let mut expected = Vec::new();
    for s in 0..stories {
        let body = filler(100 + s, 60);
        let a = format!("{s}0_a.txt");
        let b = format!("{s}1_b.txt");
        fs::write(dir.join(&a), format!("{template} {body}")).unwrap();
        fs::write(
            dir.join(&b),
            format!("{template} {body} {}", filler(200 + s, 5)),
        )
        .unwrap();
        expected.push(vec![a, b]);
    }
    for s in 0..lone {
        fs::write(
            dir.join(format!("9{s}_lone.txt")),
            format!("{template} {}", filler(300 + s, 60)),
        )
        .unwrap();
    }
    expected.sort();
    expected
}

#[test]
fn boilerplate_shared_by_many_stories_ties_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let expected = template_corpus(dir.path(), 4, 3);
    assert_eq!(stories_of(dir.path(), &[]), expected);
    // Without the boilerplate cap the template alone makes the lone articles a story.
    assert_ne!(stories_of(dir.path(), &["--max-stories", "0"]), expected);
}

/// The boilerplate pass measures edges again from the evidence verification
/// kept, or verifies them again in full when the budget for evidence (a
/// quarter of `--spill-after`) is spent: all, none or some kept, the output
/// is the same.
#[test]
fn boilerplate_pass_is_the_same_whatever_evidence_was_kept() {
    let dir = tempfile::tempdir().unwrap();
    let expected = template_corpus(dir.path(), 6, 4);
    let run = |extra: &[&str]| {
        let out = storyclust()
            .args(["--format", "json", "--no-timings", "--all"])
            .args(extra)
            .arg(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        out.stdout
    };
    let kept = run(&[]);
    for extra in [
        &["--spill-after", "0"][..],
        &["--spill-after", "1K"][..],
        &["--spill-after", "1K", "-j", "1"][..],
    ] {
        assert!(run(extra) == kept, "output differs with {extra:?}");
    }
    assert_eq!(stories_of(dir.path(), &["--spill-after", "0"]), expected);
    assert_eq!(stories_of(dir.path(), &[]), expected);
}

#[test]
fn an_ocr_garbled_copy_joins_its_original() {
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read_to_string("fixtures/bakhmut/004_de68a8682b620b3a.txt").unwrap();
    // Classic OCR confusions on every word: e->c, h->b, l->1, o->0.
    let garbled: String = text
        .chars()
        .map(|c| match c {
            'e' => 'c',
            'h' => 'b',
            'l' => '1',
            'o' => '0',
            _ => c,
        })
        .collect();
    fs::copy(
        "fixtures/bakhmut/004_de68a8682b620b3a.txt",
        dir.path().join("1_clean.txt"),
    )
    .unwrap();
    fs::write(dir.path().join("2_ocr.txt"), garbled).unwrap();
    assert_eq!(
        stories_of(dir.path(), &[]),
        vec![vec!["1_clean.txt".to_string(), "2_ocr.txt".to_string()]]
    );
    assert!(stories_of(dir.path(), &["--no-ocr-fold"]).is_empty());
}

#[test]
fn compare_shows_the_pair_passages_and_figures() {
    storyclust()
        .args(["compare", "--color", "never"])
        .args([
            "fixtures/bakhmut/000_dd3bff5cdd9db58f.txt",
            "fixtures/bakhmut/003_f01a6d959760f020.txt",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("Jaccard 0.082"))
        .stdout(predicate::str::contains("· linked"))
        .stdout(predicate::str::contains(
            "would give Russia a new foothold in the Donetsk region",
        ));
    let out = storyclust()
        .args(["compare", "--format", "json"])
        .args([
            "fixtures/bakhmut/000_dd3bff5cdd9db58f.txt",
            "fixtures/bakhmut/004_de68a8682b620b3a.txt",
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    // 000 and 004 share only a few stock phrases: passages, but no link.
    assert_eq!(v["stories"][0]["documents"][0]["links"], 0);
    storyclust()
        .args([
            "compare",
            "fixtures/bakhmut/000_dd3bff5cdd9db58f.txt",
            "nope.txt",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nope.txt"));
}

#[test]
fn completions_and_man_page_come_from_the_cli_definitions() {
    storyclust()
        .args(["completions", "bash"])
        .assert()
        .success()
        .stdout(predicate::str::contains("--min-shared-words"));
    storyclust()
        .args(["completions", "zsh"])
        .assert()
        .success()
        .stdout(predicate::str::contains("compare"));
    storyclust()
        .arg("man")
        .assert()
        .success()
        .stdout(predicate::str::contains(".TH storyclust"))
        .stdout(predicate::str::contains("max\\-file\\-size"));
}

#[test]
fn passages_show_in_context_and_narrow_terminals_stay_readable() {
    let run = |cols: &str| {
        let out = storyclust()
            .env("COLUMNS", cols)
            .args(["--color", "never", "--passages", "3", "fixtures/bakhmut"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let wide = run("200");
    // Each occurrence is shown inside its member's own line, the span in «».
    assert!(
        wide.contains(
            "Its conquest «would give Russia a new foothold in the Donetsk region» it is"
        ),
        "{wide}"
    );
    let narrow = run("60");
    for line in narrow.lines() {
        // Passage headers may take two rows; every other line fits the terminal.
        let limit = if line.starts_with("  [") { 120 } else { 60 };
        assert!(
            line.chars().count() <= limit,
            "{} > {limit}: {line}",
            line.chars().count()
        );
    }
    assert!(
        narrow.contains("   1. fixtures/bakhmut/000_dd3bff5cdd9db58f.txt\n"),
        "{narrow}"
    );
}

/// Spilling intermediate data to a temporary file changes no byte of the
/// output, and the file is gone afterwards; a folder that cannot take it is
/// reported, and the run finishes in memory with the same stories.
#[test]
fn spilling_to_disk_changes_nothing() {
    let docs = common::reprint_corpus("spill-corpus", 120, 4);
    let docs = docs.to_str().unwrap();
    let run = |extra: &[&str]| {
        let out = storyclust()
            .args(["--format", "json", "--no-timings", "--all"])
            .args(extra)
            .arg(docs)
            .output()
            .unwrap();
        (
            out.stdout,
            String::from_utf8_lossy(&out.stderr).into_owned(),
            out.status.code(),
        )
    };
    let (in_memory, _, code) = run(&[]);
    assert_eq!(code, Some(0));
    let v: Value = serde_json::from_slice(&in_memory).unwrap();
    assert!(v["stories"].as_array().unwrap().len() > 50, "a real corpus");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_str().unwrap();
    for extra in [
        &["--spill-after", "0", "--temp-dir", dir][..],
        &["--spill-after", "64K", "--temp-dir", dir, "-j", "1"][..],
    ] {
        let (spilled, err, code) = run(extra);
        assert_eq!(code, Some(0), "{err}");
        assert!(spilled == in_memory, "output differs with {extra:?}");
    }
    assert_eq!(
        fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "temporary file left"
    );
    let (out, err, code) = run(&[
        "--spill-after",
        "0",
        "--temp-dir",
        "/nonexistent/storyclust",
    ]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("storyclust: /nonexistent/storyclust: temporary file:"),
        "{err}"
    );
    let w: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(story_names(&w), story_names(&v));
}

#[test]
fn a_text_with_hundreds_of_partners_is_verified_with_each() {
    // One long article quotes 300 briefs, each of its own passage: 300
    // pairs with the long article as their longer text, more than one
    // verification run takes (they are split), every one an edge.
    let dir = tempfile::tempdir().unwrap();
    let passages: Vec<String> = (0..300u64).map(|i| filler(1000 + i, 60)).collect();
    fs::write(dir.path().join("000_hub.txt"), passages.join(" . ")).unwrap();
    for (i, p) in passages.iter().enumerate() {
        fs::write(
            dir.path().join(format!("{:03}_brief.txt", i + 1)),
            format!("{p} {}", filler(5000 + i as u64, 20)),
        )
        .unwrap();
    }
    let run = |threads: &str| {
        let out = storyclust()
            .args(["--format", "json", "--no-timings", "-j", threads])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success());
        out.stdout
    };
    let one = run("1");
    let v: Value = serde_json::from_slice(&one).unwrap();
    assert_eq!(v["summary"]["edges"], 300, "{}", v["summary"]);
    assert_eq!(one, run("2"));
}
