//! Snapshot tests of the renderers on the Bakhmut fixture.

use storyclust::report::{View, json, text};
use storyclust::{Config, Outcome, run};

fn outcome() -> Outcome {
    run(&["fixtures/bakhmut".into()], &Config::default()).unwrap()
}

fn render(f: impl Fn(&mut Vec<u8>) -> std::io::Result<()>) -> String {
    let mut buf = Vec::new();
    f(&mut buf).unwrap();
    String::from_utf8(buf).unwrap()
}

#[test]
fn text_report() {
    let o = outcome();
    let view = View {
        all: true,
        passages: 5,
        color: false,
        verbose: true,
        no_timings: true,
        width: 0,
    };
    insta::assert_snapshot!(render(|w| text::write_text(w, &o, &view)));
}

#[test]
fn text_report_in_colour() {
    let o = outcome();
    let view = View {
        passages: 2,
        color: true,
        no_timings: true,
        ..View::default()
    };
    insta::assert_snapshot!(render(|w| text::write_text(w, &o, &view)));
}

#[test]
fn text_report_on_a_narrow_terminal() {
    let o = outcome();
    let view = View {
        passages: 2,
        no_timings: true,
        width: 60,
        ..View::default()
    };
    insta::assert_snapshot!(render(|w| text::write_text(w, &o, &view)));
}

#[test]
fn json_report() {
    let o = outcome();
    let view = View {
        all: true,
        no_timings: true,
        ..View::default()
    };
    let s = render(|w| json::write_json(w, &o, &view));
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    insta::assert_snapshot!(serde_json::to_string_pretty(&v).unwrap());
}

#[test]
fn jsonl_report() {
    let o = outcome();
    let view = View {
        no_timings: true,
        ..View::default()
    };
    let s = render(|w| json::write_jsonl(w, &o, &view));
    let types: Vec<String> = s
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    insta::assert_snapshot!(types.join("\n"));
}
