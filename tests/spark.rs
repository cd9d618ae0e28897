//! The Spark job (`spark/storyclust_spark.py`) gives the same stories as the
//! single-machine run, byte for byte, whatever the number of shuffle
//! partitions and the order of the input list.
//!
//! The test installs PySpark into a virtual environment under the target
//! folder (once; about a minute) and runs the job in local mode
//! (`local[2]`). It needs Java 17 or later and `python3` with `venv`; when
//! either cannot be set up it fails, saying so: it is never skipped.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const PYSPARK: &str = "pyspark==4.3.0";

fn tmp() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

/// The Python of a virtual environment holding PySpark, made if needed.
fn spark_python() -> PathBuf {
    let venv = tmp().join("spark-venv");
    let python = venv.join("bin/python");
    let has_pyspark = |p: &Path| {
        Command::new(p)
            .args(["-c", "import pyspark"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if has_pyspark(&python) {
        return python;
    }
    let _ = std::fs::remove_dir_all(&venv);
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .output()
        .unwrap_or_else(|e| panic!("the Spark test needs python3 to make a venv: {e}"));
    assert!(
        made.status.success(),
        "the Spark test cannot make a Python venv (is python3-venv installed?): {}",
        String::from_utf8_lossy(&made.stderr)
    );
    let pip = Command::new(venv.join("bin/pip"))
        .args(["install", "--disable-pip-version-check", "-q", PYSPARK])
        .output()
        .expect("pip runs");
    assert!(
        pip.status.success(),
        "the Spark test cannot install {PYSPARK} from PyPI: {}",
        String::from_utf8_lossy(&pip.stderr)
    );
    assert!(
        has_pyspark(&python),
        "{PYSPARK} installed but not importable"
    );
    python
}

fn java_version() -> String {
    let out = Command::new("java").arg("-version").output().unwrap_or_else(|e| {
        panic!("the Spark test needs Java 17 or later on PATH (Debian: openjdk-17-jre-headless): {e}")
    });
    assert!(out.status.success(), "`java -version` failed");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The lines of every part file in a Spark output folder, in part order.
fn part_lines(dir: &Path) -> Vec<String> {
    let mut parts: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("part-"))
        })
        .collect();
    parts.sort();
    parts
        .iter()
        .flat_map(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Index of the first differing line, for a readable failure.
fn first_difference(a: &[String], b: &[String]) -> String {
    let i = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let cut = |s: Option<&String>| s.map_or("<none>".to_owned(), |s| s.chars().take(400).collect());
    format!(
        "{} vs {} lines; first difference at line {i}:\n  local: {}\n  spark: {}",
        a.len(),
        b.len(),
        cut(a.get(i)),
        cut(b.get(i))
    )
}

#[test]
fn spark_job_gives_the_single_machine_stories() {
    let java = java_version();
    let python = spark_python();
    let docs = common::reprint_corpus("spark-corpus", 400, 5);

    // The input: the corpus (as links), one binary file and one empty file.
    let run = tmp().join("spark-run");
    let _ = std::fs::remove_dir_all(&run);
    let input = run.join("docs");
    std::fs::create_dir_all(&input).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(&docs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".txt"))
        .collect();
    for n in &names {
        std::os::unix::fs::symlink(docs.join(n), input.join(n)).unwrap();
    }
    std::fs::write(input.join("zz_binary.txt"), b"PK\x03\x04\0\0 not text").unwrap();
    std::fs::write(input.join("zz_empty.txt"), b"").unwrap();
    names.push("zz_binary.txt".into());
    names.push("zz_empty.txt".into());
    assert!(names.len() > 2000, "a corpus of a few thousand articles");

    // The single-machine run.
    let bin = env!("CARGO_BIN_EXE_storyclust");
    let local = Command::new(bin)
        .args(["--format", "jsonl", "--no-timings"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(local.status.code(), Some(2), "the binary file is an error");
    let local_out = String::from_utf8(local.stdout).unwrap();
    let of_type = |lines: &str, t: &str| -> Vec<String> {
        let tag = format!("{{\"type\":\"{t}\"");
        lines
            .lines()
            .filter(|l| l.starts_with(&tag))
            .map(str::to_owned)
            .collect()
    };
    let stories = of_type(&local_out, "story");
    let mut errors = of_type(&local_out, "error");
    errors.sort();
    assert!(stories.len() > 300, "{} stories", stories.len());
    assert_eq!(errors.len(), 1, "{errors:?}");

    // The input list, in a fixed shuffled order.
    names.sort_by_key(|n| {
        n.bytes()
            .fold(0xCBF2_9CE4_8422_2325u64, |h, b| {
                (h ^ b as u64).wrapping_mul(0x100_0000_01B3)
            })
            .rotate_left(17)
    });
    let list: String = names
        .iter()
        .map(|n| format!("{}\n", input.join(n).display()))
        .collect();
    std::fs::write(run.join("list.txt"), list).unwrap();

    let job = Command::new(&python)
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("spark/run_many.py"))
        .args(["--partitions", "1,3,8", "--out-root"])
        .arg(run.join("out"))
        .arg("--")
        .args(["--binary", bin, "--input-list"])
        .arg(run.join("list.txt"))
        .output()
        .unwrap();
    let job_err = String::from_utf8_lossy(&job.stderr);
    assert_eq!(
        job.status.code(),
        Some(2),
        "the job reports the binary file as an error and goes on\n{java}\n{job_err}"
    );
    for p in [1, 3, 8] {
        let out = run.join(format!("out/p{p}"));
        let spark_stories = part_lines(&out.join("stories"));
        assert!(
            spark_stories == stories,
            "shuffle partitions {p}: {}",
            first_difference(&stories, &spark_stories)
        );
        let mut spark_errors = part_lines(&out.join("errors"));
        spark_errors.sort();
        assert_eq!(spark_errors, errors, "shuffle partitions {p}");
    }
}
