//! The HTML report, loaded in a real browser (headless Chromium).
//!
//! `.ci/run` installs Debian's `chromium` when it is missing; without it this
//! test fails with a message saying so (it is never skipped silently).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::Command as Bin;

fn chromium() -> PathBuf {
    for p in [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ] {
        if Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!("headless Chromium is needed for this test: apt-get install chromium (.ci/run does)");
}

fn browser(url: &str, extra: &[&str]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1400,1000",
            "--virtual-time-budget=3000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn report_highlights_passages_scrolls_on_click_and_keeps_scripts_as_text() {
    let dir = tempfile::tempdir().unwrap();
    for f in fs::read_dir("fixtures/bakhmut").unwrap() {
        let f = f.unwrap();
        fs::copy(f.path(), dir.path().join(f.file_name())).unwrap();
    }
    // A hostile story (two copies): markup in the title and the body must stay text.
    let hostile = "<script>document.title='pwned'</script> <b>bold</b>\n\nThe council met on Tuesday night and voted to close the old bridge for repairs until the end of the summer, the mayor's office said in a statement.";
    fs::write(dir.path().join("005_hostile.txt"), hostile).unwrap();
    fs::write(dir.path().join("006_hostile_copy.txt"), hostile).unwrap();
    let report = dir.path().join("report.html");
    Bin::cargo_bin("storyclust")
        .unwrap()
        .arg("--html")
        .arg(&report)
        .arg(dir.path())
        .assert()
        .success();
    let html = fs::read_to_string(&report).unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no network assets"
    );
    let url = format!("file://{}#click=1:0", report.display());
    let dom = browser(&url, &["--dump-dom"]);
    // Passages are highlighted in the DOM, the same passage in every member.
    assert!(
        dom.contains("would give Russia a new foothold in the Donetsk region</mark>")
            || dom.contains("would give Russia a new foothold in the Donetsk region and"),
        "passage not highlighted"
    );
    let marks_p0 = dom.matches("data-p=\"0\"").count();
    assert!(
        marks_p0 >= 5,
        "passage 1 marked in every member: {marks_p0}"
    );
    // Clicking passage 1 made it active in each column and scrolled columns to it.
    let body = &dom[dom.find("<body").unwrap()..];
    let body_tag = &body[..body.find('>').unwrap()];
    assert!(body_tag.contains("data-active=\"4\""), "{body_tag}");
    let scrolled: Vec<i64> = body_tag
        .split("data-scrolled=\"")
        .nth(1)
        .expect("the click handler ran")
        .split('"')
        .next()
        .unwrap()
        .split(',')
        .map(|x| x.parse().unwrap())
        .collect();
    assert_eq!(scrolled.len(), 4);
    assert!(
        scrolled.iter().filter(|&&x| x > 0).count() >= 3,
        "{scrolled:?}"
    );
    // The article's script stayed text: escaped in the DOM, title untouched.
    assert!(
        dom.contains("&lt;script&gt;document.title="),
        "script not escaped"
    );
    assert!(!dom.contains("<title>pwned"), "script ran");
    assert!(dom.contains("&lt;b&gt;bold&lt;/b&gt;"));
    // A screenshot for people (kept out of the repository, under target/).
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report.png");
    browser(&url, &[&format!("--screenshot={}", shot.display())]);
    assert!(fs::metadata(&shot).unwrap().len() > 10_000);
}
