//! `storyclust stage …`: the exchange format a distributed run uses.

use std::path::Path;

use assert_cmd::Command;
use serde_json::{Value, json};

fn storyclust() -> Command {
    Command::cargo_bin("storyclust").unwrap()
}

fn params(extra: &[&str]) -> String {
    let out = storyclust()
        .args(["stage", "params"])
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Runs a stage on rows; returns the output rows, exit code and stderr.
fn stage(name: &str, p: &str, rows: &[Value], extra: &[&str]) -> (Vec<Value>, i32, String) {
    let input: String = rows.iter().map(|r| format!("{r}\n")).collect();
    let out = storyclust()
        .args(["stage", name, "--params", p])
        .args(extra)
        .write_stdin(input)
        .output()
        .unwrap();
    let rows = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each output line is JSON"))
        .collect();
    (
        rows,
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn fixtures() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir("fixtures/bakhmut")
        .unwrap()
        .map(|e| e.unwrap().path().to_string_lossy().into_owned())
        .filter(|p| p.ends_with(".txt"))
        .collect();
    v.sort();
    v
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                s.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

#[test]
fn sketch_reads_paths_or_shipped_bytes_alike_and_reports_bad_files_in_rows() {
    let p = params(&[]);
    let files = fixtures();
    let mut rows: Vec<Value> = files.iter().map(|f| json!({ "path": f })).collect();
    let bytes = std::fs::read(&files[0]).unwrap();
    rows.push(json!({ "path": files[0], "data": base64(&bytes) }));
    rows.push(json!({ "path": "no/such/file.txt" }));
    let (out, code, err) = stage("sketch", &p, &rows, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.len(), rows.len(), "one row out per row in");
    assert_eq!(out[5], out[0], "shipped bytes sketch as the file does");
    assert_eq!(out[0]["words"], 484);
    assert_eq!(out[0]["bands"].as_array().unwrap().len(), 25);
    let missing = &out[6];
    assert!(missing.get("text").is_none());
    assert!(
        missing["error"]
            .as_str()
            .unwrap()
            .contains("no/such/file.txt"),
        "{missing}"
    );
    // The thread count never changes the output.
    let (one, _, _) = stage("sketch", &p, &rows, &["-j", "1"]);
    assert_eq!(one, out);
}

#[test]
fn stages_refuse_other_versions_and_name_the_bad_line() {
    let p = params(&[]);
    let old = p.replace("\"version\":1", "\"version\":0");
    let (_, code, err) = stage("verify", &old, &[], &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("version 0") && err.contains("version 1"),
        "{err}"
    );
    let rows = [json!({ "path": "fixtures/bakhmut" }), json!({ "path": 3 })];
    let (_, code, err) = stage("sketch", &p, &rows, &[]);
    assert_eq!(code, 2);
    assert!(err.contains("input line 2"), "{err}");
    let bad = storyclust()
        .args(["stage", "params", "--max-df", "1"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

/// The stages composed by hand on the fixture (no stock phrases or
/// boilerplate there) give the main command's story, byte for byte.
#[test]
fn stages_composed_give_the_main_commands_story() {
    let p = params(&[]);
    let rows: Vec<Value> = fixtures().iter().map(|f| json!({ "path": f })).collect();
    let (sk, code, err) = stage("sketch", &p, &rows, &[]);
    assert_eq!(code, 0, "{err}");
    let mut pairs = Vec::new();
    for i in 0..sk.len() {
        for j in i + 1..sk.len() {
            pairs.push(json!({
                "a": sk[i]["text"], "b": sk[j]["text"],
                "a_words": sk[i]["words"], "b_words": sk[j]["words"],
                "a_seq": sk[i]["seq"], "b_seq": sk[j]["seq"], "stock": [],
            }));
        }
    }
    let (edges, code, err) = stage("verify", &p, &pairs, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(!edges.is_empty());
    let nodes: Vec<Value> = sk
        .iter()
        .map(|s| json!({ "text": s["text"], "weight": 1 }))
        .collect();
    let (groups, code, err) = stage(
        "cluster",
        &p,
        &[json!({ "nodes": nodes, "edges": edges })],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let mut lines = Vec::new();
    for g in &groups {
        let texts = g["texts"].as_array().unwrap();
        let members: Vec<Value> = sk
            .iter()
            .filter(|s| texts.contains(&s["text"]))
            .map(|s| {
                json!({ "path": s["path"], "text": s["text"], "title": s["title"],
                        "words": s["words"], "bytes": s["bytes"], "encoding": s["encoding"] })
            })
            .collect();
        let inside: Vec<&Value> = edges
            .iter()
            .filter(|e| texts.contains(&e["a"]) && texts.contains(&e["b"]))
            .collect();
        let (story, code, err) = stage(
            "passages",
            &p,
            &[json!({ "members": members, "edges": inside, "stock": [] })],
            &[],
        );
        assert_eq!(code, 0, "{err}");
        lines.push(story[0]["line"].as_str().unwrap().to_owned());
    }
    let local = storyclust()
        .args(["--format", "jsonl", "--no-timings"])
        .arg(Path::new("fixtures/bakhmut"))
        .output()
        .unwrap();
    let want: Vec<String> = String::from_utf8(local.stdout)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("{\"type\":\"story\""))
        .map(str::to_owned)
        .collect();
    assert_eq!(want.len(), 1);
    assert_eq!(lines, want);
}
