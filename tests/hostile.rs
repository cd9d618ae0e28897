//! Hostile input: every case must end without a panic, name the file and the
//! problem on stderr, still process the rest, write valid JSON and exit with
//! the documented code.

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command as Std, Stdio};

use assert_cmd::Command;
use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

mod common;
use common::story_names;

const WIRE: &str = "Bakhmut remains a prime objective for Russian President Vladimir Putin and its capture would give Russia a new foothold in the Donetsk region and a rare victory after several months of setbacks.";

struct Run {
    json: Value,
    stderr: String,
    code: i32,
}

fn run(args: &[&str], dir: &Path) -> Run {
    let out = Command::cargo_bin("storyclust")
        .unwrap()
        .args(["--format", "json", "--all"])
        .args(args)
        .arg(dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    Run {
        json: serde_json::from_slice(&out.stdout).expect("stdout is valid JSON"),
        stderr,
        code: out.status.code().expect("exited, not killed"),
    }
}

/// Every occurrence of every passage, cut from its file's bytes.
fn cuts(v: &Value) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for s in v["stories"].as_array().unwrap() {
        for p in s["passages"].as_array().unwrap() {
            for o in p["occurrences"].as_array().unwrap() {
                let path = o["path"].as_str().unwrap();
                let bytes = fs::read(path).unwrap();
                let (a, b) = (
                    o["bytes"][0].as_u64().unwrap() as usize,
                    o["bytes"][1].as_u64().unwrap() as usize,
                );
                out.push((path.to_string(), bytes[a..b].to_vec()));
            }
        }
    }
    out
}

#[test]
fn latin1_bom_crlf_and_lone_cr_keep_offsets_honest() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("1_utf8.txt"), format!("Headline\n\n{WIRE}\n")).unwrap();
    // The same copy with a curly apostrophe and an accent, in Windows-1252.
    // The same copy in Windows-1252: an accented headline, a curly quote (0x92).
    let mut latin = b"Caf\xe9 news\r\n\r\n".to_vec();
    let (before, after) = WIRE.split_once("Russia a new").unwrap();
    latin.extend(before.as_bytes());
    latin.extend(b"Russia\x92s new");
    latin.extend(after.as_bytes());
    fs::write(d.join("2_latin1.txt"), &latin).unwrap();
    fs::write(d.join("3_bom.txt"), format!("\u{feff}Title\r\r{WIRE}")).unwrap();
    let r = run(&[], d);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        story_names(&r.json),
        vec![vec!["1_utf8.txt", "2_latin1.txt", "3_bom.txt"]]
    );
    let docs = &r.json["stories"][0]["documents"];
    assert_eq!(docs[1]["encoding"], "windows1252");
    assert_eq!(docs[2]["encoding"], "utf8-bom");
    for (path, cut) in cuts(&r.json) {
        let text: String = if path.ends_with("2_latin1.txt") {
            cut.iter().map(|&b| b as char).collect()
        } else {
            String::from_utf8(cut).expect("UTF-8 spans on char boundaries")
        };
        // Windows-1252 0x92 is the curly apostrophe; everything else is WIRE's own text.
        let text = text.replace("Russia\u{92}s new", "Russia a new");
        assert!(WIRE.contains(&text), "{path}: {text:?}");
    }
    // Line numbers: LF, CRLF and lone CR all end lines.
    for o in r.json["stories"][0]["passages"][0]["occurrences"]
        .as_array()
        .unwrap()
    {
        assert_eq!(o["start"]["line"], 3, "{o}");
    }
}

#[test]
fn binary_empty_and_whitespace_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("1_a.txt"), WIRE).unwrap();
    fs::write(d.join("2_b.txt"), WIRE).unwrap();
    fs::write(d.join("3_bin.txt"), b"\x7fELF\x02\x01\x01\0\0\0\0").unwrap();
    fs::write(d.join("4_empty.txt"), b"").unwrap();
    fs::write(d.join("5_blank.txt"), b"  \n\t\r\n ").unwrap();
    fs::write(d.join("6_one.txt"), b"word").unwrap();
    let r = run(&[], d);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("3_bin.txt: binary file (NUL byte at offset 7), skipped"),
        "{}",
        r.stderr
    );
    assert_eq!(
        r.stderr.lines().count(),
        1,
        "only the binary file is a problem: {}",
        r.stderr
    );
    assert_eq!(story_names(&r.json), vec![vec!["1_a.txt", "2_b.txt"]]);
    assert_eq!(r.json["singletons"].as_array().unwrap().len(), 3);
    assert_eq!(r.json["summary"]["documents"], 5);
}

#[test]
fn a_one_gigabyte_file_is_refused_from_its_size() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("1_a.txt"), WIRE).unwrap();
    fs::write(d.join("2_b.txt"), WIRE).unwrap();
    // Sparse: takes no disk space, and reading it would take a gigabyte of
    // memory (only its first 256 KiB are read before its size is taken).
    fs::File::create(d.join("3_huge.txt"))
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let r = run(&[], d);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("3_huge.txt: file of 1073741824 bytes is larger than the limit"),
        "{}",
        r.stderr
    );
    assert_eq!(story_names(&r.json), vec![vec!["1_a.txt", "2_b.txt"]]);
    // A limit beyond what offsets can address is refused as a bad option.
    Command::cargo_bin("storyclust")
        .unwrap()
        .args(["--max-file-size", "2G"])
        .arg(d)
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicates::str::contains("--max-file-size"));
}

#[test]
fn symlink_loops_and_dangling_links_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("1_a.txt"), WIRE).unwrap();
    fs::write(d.join("2_b.txt"), WIRE).unwrap();
    fs::create_dir(d.join("sub")).unwrap();
    std::os::unix::fs::symlink(d, d.join("sub/loop")).unwrap();
    // Listed, but gone by the time it is opened.
    std::os::unix::fs::symlink(d.join("deleted.txt"), d.join("3_gone.txt")).unwrap();
    let r = run(&[], d);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("loop") && r.stderr.contains("sub/loop"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("3_gone.txt"), "{}", r.stderr);
    assert_eq!(story_names(&r.json), vec![vec!["1_a.txt", "2_b.txt"]]);
}

#[test]
fn links_to_files_and_to_folders_are_followed() {
    // A folder of links to articles (looked up after the walk, in
    // parallel), and one whose links include a folder (walked again,
    // following links): both read like the articles themselves.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = d.join("src");
    fs::create_dir_all(src.join("more")).unwrap();
    fs::write(src.join("1_a.txt"), WIRE).unwrap();
    fs::write(src.join("2_b.txt"), WIRE).unwrap();
    fs::write(src.join("more/3_c.txt"), WIRE).unwrap();
    fs::write(src.join("4_notes.md"), WIRE).unwrap();
    let files = d.join("files");
    fs::create_dir(&files).unwrap();
    for n in ["1_a.txt", "2_b.txt", "4_notes.md"] {
        std::os::unix::fs::symlink(src.join(n), files.join(n)).unwrap();
    }
    let r = run(&[], &files);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(story_names(&r.json), vec![vec!["1_a.txt", "2_b.txt"]]);
    std::os::unix::fs::symlink(src.join("more"), files.join("more")).unwrap();
    let r = run(&[], &files);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        story_names(&r.json),
        vec![vec!["1_a.txt", "2_b.txt", "3_c.txt"]]
    );
}

#[test]
fn an_unreadable_file_is_reported() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("1_a.txt"), WIRE).unwrap();
    fs::write(d.join("2_b.txt"), WIRE).unwrap();
    let locked = d.join("3_locked.txt");
    fs::write(&locked, "secret words of a locked file").unwrap();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    let r = run(&[], d);
    if fs::read(&locked).is_ok() {
        // Running as root: permission bits do not stop reading, so the file is read.
        eprintln!("note: root can read mode-000 files; checking it is processed instead");
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(r.json["summary"]["documents"], 3);
    } else {
        assert_eq!(r.code, 2);
        assert!(
            r.stderr.contains("3_locked.txt") && r.stderr.contains("ermission denied"),
            "{}",
            r.stderr
        );
        assert_eq!(r.json["summary"]["documents"], 2);
    }
    assert_eq!(story_names(&r.json), vec![vec!["1_a.txt", "2_b.txt"]]);
}

#[test]
fn scripts_without_spaces_rtl_emoji_and_combining_marks() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cjk = "俄罗斯总统普京表示巴赫穆特的战斗仍在继续乌克兰军队坚守阵地数月之久北约秘书长斯托尔滕贝格说";
    let rtl = "قالت وزارة الدفاع إن القوات صدت هجمات عديدة قرب المدينة خلال الليلة الماضية";
    let mixed = "Cafe\u{301} 👍🏽 na\u{ef}ve Zoë 🇺🇦 family 👨‍👩‍👧 done";
    fs::write(d.join("1_cjk.txt"), format!("{cjk}。{rtl} {mixed}")).unwrap();
    fs::write(d.join("2_cjk.txt"), format!("新闻：{cjk}！{rtl}.\n{mixed}")).unwrap();
    let r = run(&[], d);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(story_names(&r.json), vec![vec!["1_cjk.txt", "2_cjk.txt"]]);
    for (path, cut) in cuts(&r.json) {
        String::from_utf8(cut).unwrap_or_else(|_| panic!("{path}: span not on char boundaries"));
    }
}

#[test]
fn ten_thousand_identical_copies_stay_linear() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for i in 0..10_000 {
        fs::write(d.join(format!("{i:05}_copy.txt")), WIRE).unwrap();
    }
    let out = Command::cargo_bin("storyclust")
        .unwrap()
        .args(["--format", "json"])
        .arg(d)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["stories"].as_array().unwrap().len(), 1);
    assert_eq!(v["stories"][0]["size"], 10_000);
    assert_eq!(v["stories"][0]["passages"].as_array().unwrap().len(), 1);
    assert_eq!(v["summary"]["distinct_texts"], 1);
    // Linear output: a few hundred bytes per copy, not per pair.
    assert!(
        out.stdout.len() < 10_000 * 600,
        "{} bytes",
        out.stdout.len()
    );
}

#[test]
fn a_hundred_thousand_tiny_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for i in 0..100_000u32 {
        let sub = d.join(format!("{:03}", i / 1000));
        if i % 1000 == 0 {
            fs::create_dir(&sub).unwrap();
        }
        fs::write(
            sub.join(format!("{i}.txt")),
            format!("item {i} of the list"),
        )
        .unwrap();
    }
    let r = run(&["--no-timings"], d);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json["summary"]["documents"], 100_000);
    assert_eq!(r.json["stories"].as_array().unwrap().len(), 0);
}

#[test]
fn a_broken_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..300 {
        fs::write(dir.path().join(format!("{i}_a.txt")), format!("{i} {WIRE}")).unwrap();
    }
    let mut child = Std::cargo_bin("storyclust")
        .unwrap()
        .args(["--all", "--passages", "0"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is dropped here: the pipe is closed after one line, like `| head -1`.
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(first.starts_with("Story 1"), "{first}");
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

/// A member file that disappears after it was sketched but before its story
/// is written is reported when the story's passages are computed, with its
/// path, and counted in the summary; the story still lists it.
#[test]
fn a_file_gone_before_its_passages_is_reported_when_written() {
    let dir = tempfile::tempdir().unwrap();
    for (i, tail) in ["one local tail", "another local ending", "a third"]
        .iter()
        .enumerate()
    {
        fs::write(
            dir.path().join(format!("{i:03}_x.txt")),
            format!("Headline {i}\n\n{WIRE} {WIRE} {tail}.\n"),
        )
        .unwrap();
    }
    let cfg = storyclust::Config::default();
    let mut outcome =
        storyclust::run_streaming(&[dir.path().to_path_buf()], &cfg, &storyclust::NoProgress)
            .unwrap();
    assert_eq!(outcome.stories.len(), 1);
    assert!(
        outcome.stories[0].passages.is_empty(),
        "passages are pending"
    );
    let gone = dir.path().join("001_x.txt");
    fs::remove_file(&gone).unwrap();
    let mut json = Vec::new();
    storyclust::report::json::write_json(&mut json, &outcome, &Default::default()).unwrap();
    let v: Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["summary"]["errors"], 1);
    assert_eq!(v["errors"][0]["path"], gone.to_str().unwrap());
    assert_eq!(v["stories"][0]["size"], 3);
    assert!(!v["stories"][0]["passages"].as_array().unwrap().is_empty());
    let late = outcome.settle();
    assert_eq!(late.len(), 1);
    assert_eq!(late[0].path(), gone);
    assert_eq!(outcome.errors.len(), 1);
}

/// Words of story `s`: a text no other story shares.
fn story_words(s: u64, n: usize) -> String {
    let mut x = s.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let syl = [
                "ka", "lo", "mi", "tre", "vu", "sen", "dor", "pa", "qi", "zu",
            ];
            (0..3)
                .map(|k| syl[((x >> (8 * k)) % 10) as usize])
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Stories are written a batch at a time while the next batch is made:
/// across several batches every story comes out once, in order, with its
/// passages, and files gone before their story is written are reported in
/// story order; a writer that fails stops the writing with its error.
#[test]
fn stories_over_several_batches_are_written_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let n = 1100u64; // more than two batches of 512
    for s in 0..n {
        let wire = story_words(s, 40);
        for (m, tail) in ["one local tail", "another local ending"]
            .iter()
            .enumerate()
        {
            fs::write(
                dir.path().join(format!("{:05}_s{s}.txt", 2 * s + m as u64)),
                format!("Headline {s} {m}\n\n{wire}, {tail}.\n"),
            )
            .unwrap();
        }
    }
    let cfg = storyclust::Config::default();
    let outcome =
        storyclust::run_streaming(&[dir.path().to_path_buf()], &cfg, &storyclust::NoProgress)
            .unwrap();
    assert_eq!(outcome.stories.len(), n as usize);
    let ids: Vec<String> = outcome.stories.iter().map(|s| s.id.clone()).collect();
    // One member gone in the first batch, one in the third.
    let gone: Vec<_> = [3usize, 1050]
        .iter()
        .map(|&i| {
            outcome.documents[outcome.stories[i].members[1].doc as usize]
                .path
                .clone()
        })
        .collect();
    for g in &gone {
        fs::remove_file(g).unwrap();
    }
    let mut json = Vec::new();
    storyclust::report::json::write_json(&mut json, &outcome, &Default::default()).unwrap();
    let v: Value = serde_json::from_slice(&json).unwrap();
    let stories = v["stories"].as_array().unwrap();
    let written: Vec<&str> = stories.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(written, ids, "every story once, in order");
    for (i, s) in stories.iter().enumerate() {
        let passages = s["passages"].as_array().unwrap();
        if i == 3 || i == 1050 {
            continue;
        }
        assert_eq!(passages.len(), 1, "story {i}");
        assert_eq!(passages[0]["members"], 2, "story {i}");
    }
    let errors: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    let want: Vec<&str> = gone.iter().map(|g| g.to_str().unwrap()).collect();
    assert_eq!(errors, want, "late errors in story order");

    /// Takes `left` bytes, then fails.
    struct Failing {
        left: usize,
    }
    impl std::io::Write for Failing {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if buf.len() > self.left {
                return Err(std::io::Error::other("disk full"));
            }
            self.left -= buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let half = json.len() / 2;
    let err = storyclust::report::json::write_json(
        &mut Failing { left: half },
        &outcome,
        &Default::default(),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "disk full");
}

/// A folder that is not in memory (dropped from the page cache, as a
/// folder not read for a while or just copied in is) is read ahead once
/// the first batch meets it, and gives the same output as when it is.
#[cfg(target_os = "linux")]
#[test]
fn a_folder_not_in_memory_gives_the_same_output() {
    let dir = tempfile::tempdir().unwrap();
    let n = 1100u64; // the articles of more than one batch
    for s in 0..n / 2 {
        let wire = story_words(s, 30);
        for m in 0..2 {
            fs::write(
                dir.path().join(format!("{:05}_s{s}.txt", 2 * s + m)),
                format!("Headline {s} {m}\n\n{wire}, local tail {m}.\n"),
            )
            .unwrap();
        }
    }
    let out = || {
        let o = Command::cargo_bin("storyclust")
            .unwrap()
            .args(["--format", "json", "--no-timings"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0));
        o.stdout
    };
    let warm = out();
    drop_from_memory(dir.path());
    let cold = out();
    assert!(cold == warm, "output differs when read from disk");
    let v: Value = serde_json::from_slice(&cold).unwrap();
    assert_eq!(v["stories"].as_array().unwrap().len(), (n / 2) as usize);
}

/// Drops every file of `dir` from the page cache, as a folder not read for
/// a while is.
#[cfg(target_os = "linux")]
fn drop_from_memory(dir: &Path) {
    use std::os::fd::AsRawFd;
    for e in fs::read_dir(dir).unwrap() {
        let f = fs::File::open(e.unwrap().path()).unwrap();
        f.sync_all().unwrap();
        // SAFETY: a plain system call on a descriptor `f` owns.
        unsafe { libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    }
}

/// `index check` reads again the archive files of the stories a batch
/// joins, for their passages: an archive not in memory is read ahead a
/// batch of stories at a time, with the same output as when it is.
#[cfg(target_os = "linux")]
#[test]
fn an_archive_not_in_memory_gives_the_same_check() {
    let root = tempfile::tempdir().unwrap();
    let (archive, batch) = (root.path().join("archive"), root.path().join("batch"));
    fs::create_dir_all(&archive).unwrap();
    fs::create_dir_all(&batch).unwrap();
    let n = 600u64; // the stories of more than one batch of 512
    for s in 0..n {
        let wire = story_words(s, 30);
        fs::write(
            archive.join(format!("{s:05}_a.txt")),
            format!("Headline {s}\n\n{wire}, archive tail.\n"),
        )
        .unwrap();
        fs::write(
            batch.join(format!("{s:05}_b.txt")),
            format!("Reprint {s}\n\n{wire}, batch tail.\n"),
        )
        .unwrap();
    }
    let db = root.path().join("archive.db");
    Command::cargo_bin("storyclust")
        .unwrap()
        .args(["index", "build"])
        .arg(&db)
        .arg(&archive)
        .assert()
        .success();
    let check = || {
        let o = Command::cargo_bin("storyclust")
            .unwrap()
            .args(["index", "check", "--format", "json", "--no-timings"])
            .arg(&db)
            .arg(&batch)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        o.stdout
    };
    let warm = check();
    drop_from_memory(&archive);
    let cold = check();
    assert!(
        cold == warm,
        "check differs when the archive is read from disk"
    );
    let v: Value = serde_json::from_slice(&cold).unwrap();
    assert_eq!(v["summary"]["joins"], n);
    let stories = v["stories"].as_array().unwrap();
    assert_eq!(stories.len(), n as usize);
    assert!(
        stories
            .iter()
            .all(|s| !s["passages"].as_array().unwrap().is_empty()),
        "every joined story has its passages"
    );
}
