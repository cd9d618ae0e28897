//! Helpers shared by the integration tests (each test crate uses some).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

/// The base name of a path.
pub fn base(p: &str) -> String {
    Path::new(p)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// The members of each story of a JSON report, as base names, in report order.
pub fn story_names(v: &Value) -> Vec<Vec<String>> {
    v["stories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s["documents"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| base(d["path"].as_str().unwrap()))
                .collect()
        })
        .collect()
}

/// The shared folder beside the repository (`SHARED` overrides).
pub fn shared() -> PathBuf {
    std::env::var_os("SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}

/// A labelled reprint corpus of `stories` stories, made by the shared
/// benchmark generator (`../shared/bench/make_reprints.py`) from the
/// Reuters-21578 articles in `../shared/data` (never copied into the
/// repository), under the tests' temporary folder as `name`; made once and
/// reused. Returns its `docs` folder.
pub fn reprint_corpus(name: &str, stories: u32, seed: u32) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let docs = root.join("out/docs");
    if docs.join(".done").exists() {
        return docs;
    }
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let tar = shared().join("data/reuters21578.tar.gz");
    assert!(
        tar.exists(),
        "{} is missing: the test builds its corpus from it",
        tar.display()
    );
    let st = Command::new("tar")
        .arg("-xzf")
        .arg(&tar)
        .arg("-C")
        .arg(&root)
        .status()
        .expect("tar runs");
    assert!(st.success(), "tar failed");
    let st = Command::new("python3")
        .arg(shared().join("bench/make_reprints.py"))
        .arg("--src")
        .arg(root.join("reuters21578/docs"))
        .arg("--out")
        .arg(root.join("out"))
        .args([
            "--stories",
            &stories.to_string(),
            "--seed",
            &seed.to_string(),
        ])
        .stdout(Stdio::null())
        .status()
        .expect("python3 runs make_reprints.py");
    assert!(st.success(), "make_reprints.py failed");
    std::fs::write(docs.join(".done"), "").unwrap();
    docs
}
