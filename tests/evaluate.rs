//! `--labels` must agree with the benchmark's scorer (`../shared/bench/score.py`)
//! to four decimals on the same clustering.

use std::path::PathBuf;
use std::process::Command;

use assert_cmd::Command as Bin;

fn scorer() -> PathBuf {
    // The shared benchmark folder sits beside the checkout (SHARED overrides).
    let shared = std::env::var_os("SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let p = shared.join("bench/score.py");
    assert!(
        p.exists(),
        "{} is missing: this test compares against the shared benchmark scorer",
        p.display()
    );
    p
}

fn field(text: &str, key: &str) -> f64 {
    let at = text
        .find(&format!("{key}="))
        .unwrap_or_else(|| panic!("{key} in {text}"));
    let rest = &text[at + key.len() + 1..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .unwrap_or(rest.len());
    rest[..end].parse().unwrap()
}

fn check(labels: &str) {
    let dir = tempfile::tempdir().unwrap();
    let gold = dir.path().join("labels.json");
    std::fs::write(&gold, labels).unwrap();
    let out = Bin::cargo_bin("storyclust")
        .unwrap()
        .args(["--format", "json", "--labels"])
        .arg(&gold)
        .arg("fixtures/bakhmut")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pred = dir.path().join("pred.json");
    std::fs::write(&pred, &out.stdout).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ours = &v["summary"]["evaluation"];
    let py = Command::new("python3")
        .arg(scorer())
        .arg(&gold)
        .arg(&pred)
        .output()
        .expect("python3 runs");
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    let text = String::from_utf8(py.stdout).unwrap();
    for (key, ours) in [
        ("ARI", &ours["ari"]),
        ("precision", &ours["precision"]),
        ("recall", &ours["recall"]),
        ("F1", &ours["f1"]),
    ] {
        let theirs = field(&text, key);
        let ours = ours.as_f64().unwrap();
        assert!(
            (ours - theirs).abs() < 5e-5,
            "{key}: ours {ours:.6}, score.py {theirs:.4}\n{text}"
        );
    }
}

#[test]
fn agrees_with_score_py_when_right() {
    check(
        r#"{"000_dd3bff5cdd9db58f.txt": 1, "001_4607232b1ce02615.txt": 1, "002_ecce3a3c2beb379b.txt": 1,
              "003_f01a6d959760f020.txt": 1, "004_de68a8682b620b3a.txt": 2}"#,
    );
}

#[test]
fn agrees_with_score_py_when_wrong() {
    check(
        r#"{"000_dd3bff5cdd9db58f.txt": 1, "001_4607232b1ce02615.txt": 1, "002_ecce3a3c2beb379b.txt": 2,
              "003_f01a6d959760f020.txt": 1, "004_de68a8682b620b3a.txt": 2, "999_not_there.txt": 3}"#,
    );
}

#[test]
fn text_output_reports_the_scores_and_offenders() {
    let dir = tempfile::tempdir().unwrap();
    let gold = dir.path().join("labels.json");
    std::fs::write(
        &gold,
        r#"{"000_dd3bff5cdd9db58f.txt": "a", "001_4607232b1ce02615.txt": "a", "002_ecce3a3c2beb379b.txt": "b",
            "003_f01a6d959760f020.txt": "a", "004_de68a8682b620b3a.txt": "b"}"#,
    )
    .unwrap();
    let out = Bin::cargo_bin("storyclust")
        .unwrap()
        .args(["--verbose", "--labels"])
        .arg(&gold)
        .arg("fixtures/bakhmut")
        .output()
        .unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(s.contains("precision=0.5000 recall=0.7500"), "{s}");
    assert!(
        s.contains("wrong merge: 000_dd3bff5cdd9db58f.txt + 002_ecce3a3c2beb379b.txt"),
        "{s}"
    );
    assert!(
        s.contains("missed: 002_ecce3a3c2beb379b.txt + 004_de68a8682b620b3a.txt"),
        "{s}"
    );
}
