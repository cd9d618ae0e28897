//! JSON and JSON Lines output.
//!
//! `--format json` writes one document:
//!
//! ```text
//! { "tool": "storyclust", "version": …, "schema_version": 1,
//!   "params": Params, "stories": [Story…], "singletons": [Document…] (with --all),
//!   "errors": [Error…], "summary": Summary }
//! ```
//!
//! `--format jsonl` writes one `{"type": …, "data": …}` object per line: one
//! `begin` (tool, version, schema_version, params), one `story` per story,
//! one `singleton` per singleton (with `--all`), one `error` per problem, and
//! a closing `summary` (with an `evaluation` object when `--labels` was given). Field by field, the structs below are the schema.
//! Byte ranges are half-open `[start, end)` and count the file's own bytes.

use std::io::{self, Write};

use serde::Serialize;

use crate::{Outcome, Story, minhash::BandsRows};

use super::View;

/// The parameters in force, with what they imply.
#[derive(Serialize)]
pub struct Params<'a> {
    /// The configuration.
    #[serde(flatten)]
    pub config: &'a crate::Config,
    /// LSH bands × rows derived from `threshold` and `num_perm`.
    pub lsh: BandsRows,
    /// How tokens are made.
    pub tokenizer: &'static str,
    /// The hash functions.
    pub hashing: &'static str,
}

/// An article.
#[derive(Serialize)]
pub struct DocumentOut<'a> {
    /// Path as found.
    pub path: String,
    /// First non-empty line.
    pub title: &'a str,
    /// Words (tokens).
    pub words: u32,
    /// Size in bytes.
    pub bytes: u64,
    /// How the bytes were decoded: `utf8`, `utf8-bom` or `windows1252`.
    pub encoding: crate::load::Encoding,
}

/// A member of a story.
#[derive(Serialize)]
pub struct MemberOut<'a> {
    /// The article.
    #[serde(flatten)]
    pub document: DocumentOut<'a>,
    /// Other members it has a verified edge with.
    pub links: u32,
    /// Mean strength of those edges (0..=1).
    pub strength: f64,
    /// Words of it inside shared passages.
    pub shared_words: u32,
    /// `shared_words / words`.
    pub shared: f64,
}

/// A line and column (1-based; columns count characters).
pub type Position = crate::passages::LineCol;

/// Where a passage sits in one member.
#[derive(Serialize)]
pub struct OccurrenceOut {
    /// The member's path.
    pub path: String,
    /// Index of the member in the story's `documents`.
    pub member: u32,
    /// Byte range in the file, half-open.
    pub bytes: [u64; 2],
    /// Start.
    pub start: Position,
    /// End (exclusive).
    pub end: Position,
    /// Words in the span.
    pub words: u32,
}

/// A passage the members share.
#[derive(Serialize)]
pub struct PassageOut<'a> {
    /// Text of its longest span.
    pub text: &'a str,
    /// Words of that span.
    pub words: u32,
    /// Members holding it.
    pub members: u32,
    /// Every span.
    pub occurrences: Vec<OccurrenceOut>,
}

/// A story.
#[derive(Serialize)]
pub struct StoryOut<'a> {
    /// Story id.
    pub id: &'a str,
    /// Number of articles.
    pub size: usize,
    /// The articles.
    pub documents: Vec<MemberOut<'a>>,
    /// The shared passages.
    pub passages: Vec<PassageOut<'a>>,
}

/// A problem with one file.
#[derive(Serialize)]
pub struct ErrorOut {
    /// The file.
    pub path: String,
    /// The message.
    pub message: String,
}

pub(crate) fn path_str(p: &std::path::Path) -> String {
    p.to_string_lossy().into_owned()
}

/// The parameters of an outcome.
pub fn params(o: &Outcome) -> Params<'_> {
    Params {
        config: &o.config,
        lsh: o.bands_rows,
        tokenizer: "UAX#29 words; typographic quotes/dashes folded; NFKC; lower case",
        hashing: "token: xxh3-64(normalised UTF-8, seed_token); shingle: xxh3-64(LE u64 token hashes, seed_shingle); \
                  minhash: one-permutation splitmix64(h ^ seed_minhash) with optimal densification; \
                  seeds: splitmix64(seed ^ tag)",
    }
}

fn document(o: &Outcome, d: u32) -> DocumentOut<'_> {
    let doc = &o.documents[d as usize];
    DocumentOut {
        path: path_str(&doc.path),
        title: &doc.title,
        words: doc.words,
        bytes: doc.bytes,
        encoding: doc.encoding,
    }
}

/// The serialisable form of one occurrence of a passage of story `s`.
pub fn occurrence(o: &Outcome, s: &Story, oc: &crate::passages::Occurrence) -> OccurrenceOut {
    OccurrenceOut {
        path: path_str(&o.documents[s.members[oc.member as usize].doc as usize].path),
        member: oc.member,
        bytes: [oc.bytes.0, oc.bytes.1],
        start: oc.start,
        end: oc.end,
        words: oc.words,
    }
}

/// The serialisable form of a story.
pub fn story<'a>(o: &'a Outcome, s: &'a Story) -> StoryOut<'a> {
    StoryOut {
        id: &s.id,
        size: s.members.len(),
        documents: members(o, s),
        passages: s
            .passages
            .iter()
            .map(|p| PassageOut {
                text: &p.text,
                words: p.words,
                members: p.members,
                occurrences: p
                    .occurrences
                    .iter()
                    .map(|oc| occurrence(o, s, oc))
                    .collect(),
            })
            .collect(),
    }
}

/// The serialisable form of a story's members.
fn members<'a>(o: &'a Outcome, s: &'a Story) -> Vec<MemberOut<'a>> {
    s.members
        .iter()
        .map(|m| {
            let words = o.documents[m.doc as usize].words;
            MemberOut {
                document: document(o, m.doc),
                links: m.links,
                strength: round4(m.strength),
                shared_words: m.shared_words,
                shared: round4(if words == 0 {
                    0.0
                } else {
                    (m.shared_words as f64 / words as f64).min(1.0)
                }),
            }
        })
        .collect()
}

/// Appends to `out` the bytes `serde_json::to_vec(&story(o, s))` gives (a
/// unit test holds them equal), in about half the time: the occurrences,
/// most of the output, are written here, each member's path escaped once
/// instead of once for each of its occurrences, and nothing is allocated
/// for an occurrence.
pub fn write_story(out: &mut Vec<u8>, o: &Outcome, s: &Story) -> serde_json::Result<()> {
    let mut n = itoa::Buffer::new();
    out.extend_from_slice(b"{\"id\":");
    serde_json::to_writer(&mut *out, &s.id)?;
    out.extend_from_slice(b",\"size\":");
    out.extend_from_slice(n.format(s.members.len()).as_bytes());
    out.extend_from_slice(b",\"documents\":");
    serde_json::to_writer(&mut *out, &members(o, s))?;
    out.extend_from_slice(b",\"passages\":[");
    let paths = s
        .members
        .iter()
        .map(|m| serde_json::to_vec(&path_str(&o.documents[m.doc as usize].path)))
        .collect::<serde_json::Result<Vec<Vec<u8>>>>()?;
    for (i, p) in s.passages.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"text\":");
        serde_json::to_writer(&mut *out, &p.text)?;
        out.extend_from_slice(b",\"words\":");
        out.extend_from_slice(n.format(p.words).as_bytes());
        out.extend_from_slice(b",\"members\":");
        out.extend_from_slice(n.format(p.members).as_bytes());
        out.extend_from_slice(b",\"occurrences\":[");
        for (j, oc) in p.occurrences.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"path\":");
            out.extend_from_slice(&paths[oc.member as usize]);
            for (key, v) in [
                (&b",\"member\":"[..], oc.member as u64),
                (b",\"bytes\":[", oc.bytes.0),
                (b",", oc.bytes.1),
                (b"],\"start\":{\"line\":", oc.start.line as u64),
                (b",\"column\":", oc.start.column as u64),
                (b"},\"end\":{\"line\":", oc.end.line as u64),
                (b",\"column\":", oc.end.column as u64),
                (b"},\"words\":", oc.words as u64),
            ] {
                out.extend_from_slice(key);
                out.extend_from_slice(n.format(v).as_bytes());
            }
            out.push(b'}');
        }
        out.extend_from_slice(b"]}");
    }
    out.extend_from_slice(b"]}");
    Ok(())
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

fn singletons(o: &Outcome) -> Vec<DocumentOut<'_>> {
    let mut in_story = vec![false; o.documents.len()];
    for s in &o.stories {
        for m in &s.members {
            in_story[m.doc as usize] = true;
        }
    }
    (0..o.documents.len() as u32)
        .filter(|&d| !in_story[d as usize])
        .map(|d| document(o, d))
        .collect()
}

pub(crate) fn errors(o: &Outcome) -> Vec<ErrorOut> {
    let mut v = Vec::new();
    o.each_error(|e| {
        v.push(ErrorOut {
            path: path_str(e.path()),
            message: e.to_string(),
        })
    });
    v
}

fn summary(o: &Outcome, view: &View) -> serde_json::Value {
    let mut v = serde_json::to_value(o.stats_now()).expect("stats serialise");
    if let Some(m) = v.as_object_mut() {
        if view.no_timings {
            m.remove("timings_ms");
        }
        if let Some(e) = &o.evaluation {
            m.insert(
                "evaluation".into(),
                serde_json::to_value(e).expect("evaluation serialises"),
            );
        }
    }
    v
}

/// Writes the one-document JSON form. It is written as it goes (the stories
/// one by one, their passages computed as they come), in the bytes serde
/// would give the whole document.
pub fn write_json(w: &mut dyn Write, o: &Outcome, view: &View) -> io::Result<()> {
    let field = |w: &mut dyn Write, first: bool, name: &str| -> io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        serde_json::to_writer(&mut *w, name)?;
        w.write_all(b":")
    };
    w.write_all(b"{")?;
    field(w, true, "tool")?;
    serde_json::to_writer(&mut *w, "storyclust")?;
    field(w, false, "version")?;
    serde_json::to_writer(&mut *w, env!("CARGO_PKG_VERSION"))?;
    field(w, false, "schema_version")?;
    serde_json::to_writer(&mut *w, &crate::SCHEMA_VERSION)?;
    field(w, false, "params")?;
    serde_json::to_writer(&mut *w, &params(o))?;
    field(w, false, "stories")?;
    w.write_all(b"[")?;
    o.for_each_story_rendered(
        |_, s| {
            let mut buf = Vec::new();
            write_story(&mut buf, o, s).map(|()| buf)
        },
        |i, _, json| -> io::Result<()> {
            if i > 0 {
                w.write_all(b",")?;
            }
            w.write_all(&json?)
        },
    )?;
    w.write_all(b"]")?;
    if view.all {
        field(w, false, "singletons")?;
        serde_json::to_writer(&mut *w, &singletons(o))?;
    }
    field(w, false, "errors")?;
    serde_json::to_writer(&mut *w, &errors(o))?;
    field(w, false, "summary")?;
    serde_json::to_writer(&mut *w, &summary(o, view))?;
    w.write_all(b"}\n")
}

/// Writes one JSON Lines record, `{"type": kind, "data": data}`.
pub(crate) fn line<T: Serialize>(w: &mut dyn Write, kind: &str, data: &T) -> io::Result<()> {
    line_with(w, kind, |w| Ok(serde_json::to_writer(w, data)?))
}

/// Writes one JSON Lines record of type `kind` whose data `data` writes.
fn line_with<W: Write + ?Sized>(
    w: &mut W,
    kind: &str,
    data: impl FnOnce(&mut W) -> io::Result<()>,
) -> io::Result<()> {
    w.write_all(b"{\"type\":")?;
    serde_json::to_writer(&mut *w, kind)?;
    w.write_all(b",\"data\":")?;
    data(w)?;
    w.write_all(b"}\n")
}

/// Writes the JSON Lines form.
pub fn write_jsonl(w: &mut dyn Write, o: &Outcome, view: &View) -> io::Result<()> {
    #[derive(Serialize)]
    struct Begin<'a> {
        tool: &'static str,
        version: &'static str,
        schema_version: u32,
        params: Params<'a>,
    }
    line(
        w,
        "begin",
        &Begin {
            tool: "storyclust",
            version: env!("CARGO_PKG_VERSION"),
            schema_version: crate::SCHEMA_VERSION,
            params: params(o),
        },
    )?;
    o.for_each_story_rendered(
        |_, s| -> io::Result<Vec<u8>> {
            let mut buf = Vec::new();
            line_with(&mut buf, "story", |buf| Ok(write_story(buf, o, s)?))?;
            Ok(buf)
        },
        |_, _, buf| w.write_all(&buf?),
    )?;
    if view.all {
        for d in singletons(o) {
            line(w, "singleton", &d)?;
        }
    }
    for e in errors(o) {
        line(w, "error", &e)?;
    }
    line(w, "summary", &summary(o, view))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JSON Lines record is one compact object, its type escaped, then a
    /// newline.
    #[test]
    fn line_frames_one_record() {
        let mut buf = Vec::new();
        line(&mut buf, "st\"ory", &(1, "a")).unwrap();
        assert_eq!(buf, b"{\"type\":\"st\\\"ory\",\"data\":[1,\"a\"]}\n");
    }

    /// `write_story` gives serde's bytes for every story of the Bakhmut
    /// articles, copied under names that JSON must escape (a quote, a
    /// backslash, a control character, a byte that is not UTF-8).
    #[test]
    fn write_story_is_serde() {
        let dir = tempfile::tempdir().unwrap();
        let mut names: Vec<std::ffi::OsString> = vec![
            "a \"quoted\" name.txt".into(),
            "back\\slash.txt".into(),
            "tab\there\u{1}.txt".into(),
            "caf\u{e9} \u{2014} \u{1F4F0}.txt".into(),
        ];
        #[cfg(unix)]
        names.push(
            <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"latin1 \xff.txt")
                .into(),
        );
        let mut seeds: Vec<_> = std::fs::read_dir("fixtures/bakhmut")
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        seeds.sort();
        for (name, seed) in names.iter().zip(seeds.iter().cycle()) {
            std::fs::copy(seed, dir.path().join(name)).unwrap();
        }
        for seed in &seeds {
            std::fs::copy(seed, dir.path().join(seed.file_name().unwrap())).unwrap();
        }
        let o = crate::run(&[dir.path().to_path_buf()], &crate::Config::default()).unwrap();
        let (mut stories, mut occurrences, mut escaped) = (0, 0, 0);
        o.for_each_story_rendered(
            |_, s| {
                let mut fast = Vec::new();
                write_story(&mut fast, &o, s).unwrap();
                (fast, serde_json::to_vec(&story(&o, s)).unwrap())
            },
            |_, s, (fast, serde)| -> Result<(), ()> {
                assert!(
                    fast == serde,
                    "{}\n{}",
                    String::from_utf8_lossy(&fast),
                    String::from_utf8_lossy(&serde)
                );
                stories += 1;
                occurrences += s
                    .passages
                    .iter()
                    .map(|p| p.occurrences.len())
                    .sum::<usize>();
                escaped += serde.windows(2).filter(|w| w[0] == b'\\').count();
                Ok(())
            },
        )
        .unwrap();
        assert!(
            stories > 0 && occurrences > names.len(),
            "{stories} {occurrences}"
        );
        assert!(escaped > 0, "no escaped byte written");
    }
}
