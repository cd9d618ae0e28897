//! CI mode: `storyclust index build|add|check|stories|show`.
//!
//! The corpus is a labelled reprint corpus made by the shared benchmark
//! generator (`../shared/bench/make_reprints.py`) from the Reuters-21578
//! articles in `../shared/data` (never copied into the repository).

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use assert_cmd::Command as Bin;
use serde_json::Value;

/// A reprint corpus of 120 stories (730 files), made once per test run.
fn corpus() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| common::reprint_corpus("index-corpus", 120, 3))
}

/// Splits the corpus into an archive (70%) and `n` batches, by a fixed
/// shuffle of the names, as symbolic links under `dir`.
fn split(dir: &Path, n: usize) -> (PathBuf, Vec<PathBuf>) {
    let mut names: Vec<String> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".txt"))
        .collect();
    names.sort();
    // A fixed permutation (SplitMix64 of the position).
    names.sort_by_key(|n| {
        let mut z = n.bytes().fold(0x9E37_79B9_7F4A_7C15u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100_0000_01B3)
        });
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z ^ (z >> 27)
    });
    let k = names.len() * 7 / 10;
    let archive = dir.join("archive");
    let batches: Vec<PathBuf> = (1..=n).map(|i| dir.join(format!("batch{i}"))).collect();
    for (i, name) in names.iter().enumerate() {
        let to = if i < k {
            &archive
        } else {
            &batches[(i - k) % n]
        };
        std::fs::create_dir_all(to).unwrap();
        std::os::unix::fs::symlink(corpus().join(name), to.join(name)).unwrap();
    }
    (archive, batches)
}

fn bin() -> Bin {
    Bin::cargo_bin("storyclust").unwrap()
}

fn json(args: &[&std::ffi::OsStr]) -> (Value, i32, String) {
    let out = bin().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {} {stderr}", String::from_utf8_lossy(&out.stdout)));
    (v, out.status.code().unwrap_or(-1), stderr)
}

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

/// Stories of the main command over `paths`, as sets of base names.
fn main_stories(paths: &[&Path]) -> BTreeSet<Vec<String>> {
    let mut args: Vec<&std::ffi::OsStr> = vec![os("--format"), os("json")];
    args.extend(paths.iter().map(|p| p.as_os_str()));
    let (v, code, err) = json(&args);
    assert_eq!(code, 0, "{err}");
    common::story_names(&v)
        .into_iter()
        .map(|mut s| {
            s.sort();
            s
        })
        .collect()
}

/// The index's stories, as sets of base names.
fn index_stories(idx: &Path) -> BTreeSet<Vec<String>> {
    let (v, code, err) = json(&[
        os("index"),
        os("stories"),
        os("--format"),
        os("json"),
        idx.as_os_str(),
    ]);
    assert_eq!(code, 0, "{err}");
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let mut names: Vec<String> = s["paths"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| common::base(p.as_str().unwrap()))
                .collect();
            names.sort();
            names
        })
        .collect()
}

fn build(idx: &Path, archive: &Path) {
    bin()
        .args(["index", "build"])
        .arg(idx)
        .arg(archive)
        .assert()
        .success();
}

fn add(idx: &Path, batch: &Path) -> Value {
    let (v, code, err) = json(&[
        os("index"),
        os("add"),
        os("--format"),
        os("json"),
        idx.as_os_str(),
        batch.as_os_str(),
    ]);
    assert_eq!(code, 0, "{err}");
    v
}

fn count_articles(idx: &Path) -> u64 {
    let (v, code, err) = json(&[
        os("index"),
        os("stories"),
        os("--format"),
        os("json"),
        idx.as_os_str(),
    ]);
    assert_eq!(code, 0, "{err}");
    let _ = v;
    let c = rusqlite::Connection::open(idx).unwrap();
    c.query_row("SELECT COUNT(*) FROM articles", [], |r| r.get::<_, i64>(0))
        .unwrap() as u64
}

#[test]
fn check_and_add_give_the_stories_of_one_run_over_archive_and_batches() {
    let dir = tempfile::tempdir().unwrap();
    let (archive, batches) = split(dir.path(), 2);
    let idx = dir.path().join("idx.db");
    build(&idx, &archive);
    assert_eq!(index_stories(&idx), main_stories(&[&archive]));
    let built_ids: BTreeSet<String> = {
        let (v, _, _) = json(&[
            os("index"),
            os("stories"),
            os("--format"),
            os("json"),
            idx.as_os_str(),
        ]);
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect()
    };

    // A check says what an add would do, and writes nothing.
    let (checked, code, err) = json(&[
        os("index"),
        os("check"),
        os("--format"),
        os("json"),
        idx.as_os_str(),
        batches[0].as_os_str(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(index_stories(&idx), main_stories(&[&archive]));
    // Each batch article's story in the check is its story in one run over
    // archive + batch.
    let whole = main_stories(&[&archive, &batches[0]]);
    let story_of = |name: &str| whole.iter().find(|s| s.iter().any(|n| n == name)).cloned();
    let mut joins = 0;
    for a in checked["articles"].as_array().unwrap() {
        let name = common::base(a["path"].as_str().unwrap());
        let want = story_of(&name);
        let got = a["story"].as_str().map(|id| {
            let s = checked["stories"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["id"] == id)
                .unwrap();
            let mut names: Vec<String> = s["documents"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| common::base(d["path"].as_str().unwrap()))
                .collect();
            names.sort();
            names
        });
        assert_eq!(got, want, "{name}");
        if a["status"] == "joins" {
            joins += 1;
            assert!(!a["archive"].as_array().unwrap().is_empty(), "{a}");
            let p = &a["passages"][0];
            let paths: BTreeSet<&str> = p["occurrences"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["path"].as_str().unwrap())
                .collect();
            assert!(paths.contains(a["path"].as_str().unwrap()), "{p}");
            assert!(paths.len() >= 2, "spans in both files: {p}");
        }
    }
    assert!(joins > 20, "{joins} articles join archive stories");
    // Only the stories the batch joins are read again, not the archive.
    let archive_size = std::fs::read_dir(&archive).unwrap().count() as u64;
    let read = checked["summary"]["neighbourhood"].as_u64().unwrap();
    assert!(
        read > 0 && read < archive_size / 2,
        "{read} of {archive_size} archive articles read again"
    );

    // Adding gives what the check said, then the index equals one run over everything.
    let added = add(&idx, &batches[0]);
    assert_eq!(added["articles"], checked["articles"]);
    assert_eq!(added["merged"], checked["merged"]);
    assert_eq!(index_stories(&idx), whole);
    add(&idx, &batches[1]);
    assert_eq!(
        index_stories(&idx),
        main_stories(&[&archive, &batches[0], &batches[1]])
    );
    // Story ids are stable: every id of the build is still live or recorded
    // as merged into a live one.
    for id in &built_ids {
        let (v, code, err) = json(&[
            os("index"),
            os("show"),
            os("--format"),
            os("json"),
            idx.as_os_str(),
            os(id),
        ]);
        assert_eq!(code, 0, "{err}");
        assert!(v["ended_batch"].is_null(), "{v}");
        assert!(!v["paths"].as_array().unwrap().is_empty(), "{v}");
    }
}

#[test]
fn the_same_article_twice_is_recognised_not_duplicated() {
    let dir = tempfile::tempdir().unwrap();
    let (archive, batches) = split(dir.path(), 1);
    let idx = dir.path().join("idx.db");
    build(&idx, &archive);
    let first = add(&idx, &batches[0]);
    let n = count_articles(&idx);
    let again = add(&idx, &batches[0]);
    assert_eq!(count_articles(&idx), n);
    assert_eq!(again["summary"]["indexed"], first["summary"]["articles"]);
    assert_eq!(again["summary"]["joins"], 0);
    assert_eq!(again["index"]["texts"], first["index"]["texts"]);
    // The same text under another name: one more article, no more texts,
    // and it joins its copy's story (identical copies are a story).
    let copy = dir.path().join("copy");
    std::fs::create_dir(&copy).unwrap();
    let one = std::fs::read_dir(&archive)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::copy(&one, copy.join("copy.txt")).unwrap();
    let v = add(&idx, &copy);
    assert_eq!(v["articles"][0]["status"], "joins", "{v}");
    assert_eq!(v["index"]["texts"], first["index"]["texts"]);
    assert_eq!(count_articles(&idx), n + 1);
}

#[test]
fn the_gate_exit_code_follows_reuse() {
    let dir = tempfile::tempdir().unwrap();
    let arch = dir.path().join("arch");
    let new = dir.path().join("new");
    let other = dir.path().join("other");
    for d in [&arch, &new, &other] {
        std::fs::create_dir(d).unwrap();
    }
    let fx = Path::new("fixtures/bakhmut");
    for e in std::fs::read_dir(fx).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let to = if name.starts_with("003") { &new } else { &arch };
        std::fs::copy(&p, to.join(&name)).unwrap();
    }
    std::fs::write(
        other.join("x.txt"),
        "The city council met on Tuesday to discuss the new budget for parks and schools.",
    )
    .unwrap();
    let idx = dir.path().join("idx.db");
    build(&idx, &arch);
    bin()
        .args(["index", "check", "--fail-on-reuse"])
        .arg(&idx)
        .arg(&other)
        .assert()
        .code(0);
    bin()
        .args(["index", "check", "--fail-on-reuse"])
        .arg(&idx)
        .arg(&new)
        .assert()
        .code(1)
        .stdout(predicates::str::contains("joins"));
    bin()
        .args(["index", "check"])
        .arg(&idx)
        .arg(&new)
        .assert()
        .code(0);
    bin()
        .args(["index", "check"])
        .arg(&idx)
        .arg(dir.path().join("missing"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("missing"));
}

#[test]
fn other_parameters_and_formats_are_refused_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    let idx = dir.path().join("idx.db");
    bin()
        .args(["index", "build", "--shingle", "4"])
        .arg(&idx)
        .arg("fixtures/bakhmut")
        .assert()
        .success();
    // Parameters come from the index; the same value may be repeated.
    bin()
        .args(["index", "check", "--shingle", "4"])
        .arg(&idx)
        .arg("fixtures/bakhmut")
        .assert()
        .success();
    bin()
        .args(["index", "check", "--shingle", "5", "--seed", "3"])
        .arg(&idx)
        .arg("fixtures/bakhmut")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("seed=0, shingle=4"))
        .stderr(predicates::str::contains("seed=3, shingle=5"));
    bin()
        .args(["index", "build"])
        .arg(&idx)
        .arg("fixtures/bakhmut")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("already exists"));
    {
        let c = rusqlite::Connection::open(&idx).unwrap();
        c.execute(
            "UPDATE meta SET value = '0' WHERE key = 'format_version'",
            [],
        )
        .unwrap();
    }
    bin()
        .args(["index", "add"])
        .arg(&idx)
        .arg("fixtures/bakhmut")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("format version 0"))
        .stderr(predicates::str::contains("format version 1"));
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, "not a database at all, just text").unwrap();
    bin()
        .args(["index", "stories"])
        .arg(&junk)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("junk.db"));
    bin()
        .args(["index", "stories"])
        .arg(dir.path().join("none.db"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no such index"));
}

#[test]
fn two_adds_at_once_both_land_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (archive, batches) = split(dir.path(), 2);
    let idx = dir.path().join("idx.db");
    build(&idx, &archive);
    let exe = assert_cmd::cargo::cargo_bin("storyclust");
    let children: Vec<_> = batches
        .iter()
        .map(|b| {
            Command::new(&exe)
                .args(["index", "add", "--format", "json"])
                .arg(&idx)
                .arg(b)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(
        index_stories(&idx),
        main_stories(&[&archive, &batches[0], &batches[1]])
    );
    let c = rusqlite::Connection::open(&idx).unwrap();
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
}

/// Kills `storyclust index add` with SIGKILL while its transaction is open
/// (held there by the test hook), then at arbitrary moments: the index must
/// open and hold the whole batch or none of it.
#[test]
fn kill_9_during_an_add_leaves_the_whole_batch_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let (archive, batches) = split(dir.path(), 1);
    let idx = dir.path().join("idx.db");
    build(&idx, &archive);
    let before = count_articles(&idx);
    let exe = assert_cmd::cargo::cargo_bin("storyclust");

    let mut child = Command::new(&exe)
        .args(["index", "add"])
        .arg(&idx)
        .arg(&batches[0])
        .env(storyclust::index::HOLD_ENV, "60")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("holding before commit"), "{line}");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(count_articles(&idx), before, "a killed add left rows");
    let c = rusqlite::Connection::open(&idx).unwrap();
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    drop(c);

    // Kills at arbitrary moments.
    let whole = before + std::fs::read_dir(&batches[0]).unwrap().count() as u64;
    let mut seen = BTreeSet::new();
    for ms in [5u64, 40, 80, 120, 200, 400] {
        let mut child = Command::new(&exe)
            .args(["index", "add"])
            .arg(&idx)
            .arg(&batches[0])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(ms));
        let _ = child.kill();
        child.wait().unwrap();
        let n = count_articles(&idx);
        assert!(
            n == before || n == whole,
            "{n} articles: neither {before} nor {whole}"
        );
        seen.insert(n);
        if n == whole {
            break;
        }
    }
    // Finally the batch goes in whole.
    add(&idx, &batches[0]);
    assert_eq!(count_articles(&idx), whole);
    assert_eq!(index_stories(&idx), main_stories(&[&archive, &batches[0]]));
}
