//! Renderers of the index commands: a batch checked or added, a build, the
//! story list and one story.

use std::io::{self, Write};

use serde::Serialize;

use super::View;
use super::json::{ErrorOut, OccurrenceOut, StoryOut, line, path_str};
use super::sanitize::one_line;
use crate::index::{BatchArticle, BatchOutcome, IndexSummary, IndexedStory, Merge, Status};

/// A passage as one batch article shares it.
#[derive(Serialize)]
pub struct SharedOut<'a> {
    /// Text of its longest span.
    pub text: &'a str,
    /// Words of that span.
    pub words: u32,
    /// Spans in the article and in the members it shares the passage with.
    pub occurrences: Vec<OccurrenceOut>,
}

/// What became of one batch article.
#[derive(Serialize)]
pub struct ArticleOut<'a> {
    /// Its path.
    pub path: String,
    /// `joins`, `new_story`, `new`, `indexed` or `empty`.
    pub status: Status,
    /// Its story id.
    pub story: Option<&'a str>,
    /// Archive articles it shares passages with.
    pub archive: Vec<String>,
    /// Other batch articles of its story.
    pub batch: Vec<String>,
    /// The passages it shares: with the archive when it joins an archive
    /// story, else with the rest of the batch.
    pub passages: Vec<SharedOut<'a>>,
}

/// Counts of a batch.
#[derive(Serialize, Default)]
pub struct BatchSummary {
    /// Files of the batch.
    pub articles: u64,
    /// Articles that join a story holding archive articles.
    pub joins: u64,
    /// Articles that start a story with other batch articles.
    pub new_story: u64,
    /// Articles in no story.
    pub new: u64,
    /// Articles already in the index.
    pub indexed: u64,
    /// Articles without words.
    pub empty: u64,
    /// Archive articles grouped again with the batch (the stories it joins,
    /// taken from the index; their files are read only for passages).
    pub neighbourhood: u64,
    /// Problems met.
    pub errors: u64,
    /// Wall time in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_ms: Option<u64>,
}

/// The counts of a batch outcome.
pub fn summary(b: &BatchOutcome, view: &View) -> BatchSummary {
    let mut s = BatchSummary {
        articles: b.articles.len() as u64,
        neighbourhood: b.neighbourhood,
        errors: b.outcome.errors.len() as u64,
        total_ms: (!view.no_timings).then_some(b.outcome.stats.timings_ms.total),
        ..BatchSummary::default()
    };
    for a in &b.articles {
        *match a.status {
            Status::Joins => &mut s.joins,
            Status::NewStory => &mut s.new_story,
            Status::New => &mut s.new,
            Status::Indexed => &mut s.indexed,
            Status::Empty => &mut s.empty,
        } += 1;
    }
    s
}

/// The serialisable form of one batch article.
pub fn article<'a>(b: &'a BatchOutcome, a: &'a BatchArticle) -> ArticleOut<'a> {
    let o = &b.outcome;
    let mut out = ArticleOut {
        path: path_str(&a.path),
        status: a.status,
        story: a.story_id.as_deref(),
        archive: Vec::new(),
        batch: Vec::new(),
        passages: Vec::new(),
    };
    let (Some(s), Some(doc)) = (a.story, a.doc) else {
        return out;
    };
    let story = &o.stories[s];
    let Some(me) = story.members.iter().position(|m| m.doc == doc) else {
        return out;
    };
    let joins = a.status == Status::Joins;
    // The members the article is compared with.
    let peer = |member: u32| -> bool {
        let d = story.members[member as usize].doc;
        d != doc && b.archive[d as usize] == joins
    };
    let mut archive = std::collections::BTreeSet::new();
    for p in &story.passages {
        if !p.occurrences.iter().any(|oc| oc.member as usize == me) {
            continue;
        }
        let peers: Vec<_> = p.occurrences.iter().filter(|oc| peer(oc.member)).collect();
        if peers.is_empty() {
            continue;
        }
        for oc in &peers {
            let d = story.members[oc.member as usize].doc;
            if b.archive[d as usize] {
                archive.insert(d);
            }
        }
        out.passages.push(SharedOut {
            text: &p.text,
            words: p.words,
            occurrences: p
                .occurrences
                .iter()
                .filter(|oc| oc.member as usize == me || peer(oc.member))
                .map(|oc| super::json::occurrence(o, story, oc))
                .collect(),
        });
    }
    out.archive = archive
        .into_iter()
        .map(|d| path_str(&o.documents[d as usize].path))
        .collect();
    out.batch = story
        .members
        .iter()
        .filter(|m| m.doc != doc && !b.archive[m.doc as usize])
        .map(|m| path_str(&o.documents[m.doc as usize].path))
        .collect();
    out
}

#[derive(Serialize)]
struct Head<'a> {
    tool: &'static str,
    version: &'static str,
    schema_version: u32,
    command: &'a str,
    index: IndexOut<'a>,
    params: super::json::Params<'a>,
}

#[derive(Serialize)]
struct IndexOut<'a> {
    path: String,
    #[serde(flatten)]
    summary: &'a IndexSummary,
    /// The batch number given (for `add`).
    batch: Option<i64>,
}

fn head<'a>(b: &'a BatchOutcome, command: &'a str, index: &std::path::Path) -> Head<'a> {
    Head {
        tool: "storyclust",
        version: env!("CARGO_PKG_VERSION"),
        schema_version: crate::SCHEMA_VERSION,
        command,
        index: IndexOut {
            path: path_str(index),
            summary: &b.index,
            batch: b.batch,
        },
        params: super::json::params(&b.outcome),
    }
}

/// Writes a checked or added batch as one JSON document.
pub fn write_batch_json(
    w: &mut dyn Write,
    b: &BatchOutcome,
    command: &str,
    index: &std::path::Path,
    view: &View,
) -> io::Result<()> {
    #[derive(Serialize)]
    struct Doc<'a> {
        #[serde(flatten)]
        head: Head<'a>,
        articles: Vec<ArticleOut<'a>>,
        stories: Vec<StoryOut<'a>>,
        merged: &'a [Merge],
        dissolved: &'a [String],
        errors: Vec<ErrorOut>,
        summary: BatchSummary,
    }
    let doc = Doc {
        head: head(b, command, index),
        articles: b.articles.iter().map(|a| article(b, a)).collect(),
        stories: b
            .outcome
            .stories
            .iter()
            .map(|s| super::json::story(&b.outcome, s))
            .collect(),
        merged: &b.merged,
        dissolved: &b.dissolved,
        errors: super::json::errors(&b.outcome),
        summary: summary(b, view),
    };
    serde_json::to_writer(&mut *w, &doc)?;
    w.write_all(b"\n")
}

/// Writes a checked or added batch as JSON Lines: `begin`, one `article` per
/// batch file, one `story` per story holding batch articles, `merge`,
/// `dissolved`, `error`, `summary`.
pub fn write_batch_jsonl(
    w: &mut dyn Write,
    b: &BatchOutcome,
    command: &str,
    index: &std::path::Path,
    view: &View,
) -> io::Result<()> {
    line(w, "begin", &head(b, command, index))?;
    for a in &b.articles {
        line(w, "article", &article(b, a))?;
    }
    for s in &b.outcome.stories {
        line(w, "story", &super::json::story(&b.outcome, s))?;
    }
    for m in &b.merged {
        line(w, "merge", m)?;
    }
    for d in &b.dissolved {
        line(w, "dissolved", d)?;
    }
    for e in super::json::errors(&b.outcome) {
        line(w, "error", &e)?;
    }
    line(w, "summary", &summary(b, view))
}

fn paint(view: &View, code: &str, s: &str) -> String {
    if view.color {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

fn list(paths: &[String], max: usize) -> String {
    let mut s: Vec<String> = paths.iter().take(max).map(|p| one_line(p)).collect();
    if paths.len() > max {
        s.push(format!("and {} more", paths.len() - max));
    }
    s.join(", ")
}

/// Writes a checked or added batch for a terminal.
pub fn write_batch_text(
    w: &mut dyn Write,
    b: &BatchOutcome,
    command: &str,
    index: &std::path::Path,
    view: &View,
) -> io::Result<()> {
    let s = summary(b, view);
    writeln!(
        w,
        "{} articles {} {} ({} articles, {} stories{}):",
        s.articles,
        if command == "add" {
            "added to"
        } else {
            "checked against"
        },
        one_line(&path_str(index)),
        b.index.articles,
        b.index.stories,
        if command == "add" {
            " now"
        } else {
            " after adding"
        },
    )?;
    writeln!(
        w,
        "  {} reuse archive copy · {} start new stories · {} new · {} already indexed{}",
        s.joins,
        s.new_story,
        s.new,
        s.indexed,
        if s.empty > 0 {
            format!(" · {} empty", s.empty)
        } else {
            String::new()
        }
    )?;
    let order = [
        Status::Joins,
        Status::NewStory,
        Status::Indexed,
        Status::New,
        Status::Empty,
    ];
    for status in order {
        for a in b.articles.iter().filter(|a| a.status == status) {
            let out = article(b, a);
            let (label, code) = match status {
                Status::Joins => ("joins", "1;33"),
                Status::NewStory => ("new story", "1;36"),
                Status::Indexed => ("indexed", "2"),
                Status::New => ("new", "2"),
                Status::Empty => ("empty", "2"),
            };
            writeln!(w)?;
            writeln!(
                w,
                "{:<9}  {}  {}",
                paint(view, code, label),
                out.story.unwrap_or("-               "),
                one_line(&out.path)
            )?;
            if !out.archive.is_empty() {
                writeln!(
                    w,
                    "           shares {} passage(s) with {}",
                    out.passages.len(),
                    list(&out.archive, 4)
                )?;
            }
            if !out.batch.is_empty() {
                writeln!(w, "           with batch articles {}", list(&out.batch, 4))?;
            }
            let shown = if view.passages == 0 {
                out.passages.len()
            } else {
                view.passages.min(out.passages.len())
            };
            for p in &out.passages[..shown] {
                writeln!(
                    w,
                    "           «{}» ({} words)",
                    one_line(&truncate(p.text, 100)),
                    p.words
                )?;
                for oc in &p.occurrences {
                    writeln!(
                        w,
                        "             {} {}:{}-{}:{} [{}..{}]",
                        one_line(&oc.path),
                        oc.start.line,
                        oc.start.column,
                        oc.end.line,
                        oc.end.column,
                        oc.bytes[0],
                        oc.bytes[1]
                    )?;
                }
            }
            if shown < out.passages.len() {
                writeln!(
                    w,
                    "           … {} more passage(s) (--passages 0 shows all)",
                    out.passages.len() - shown
                )?;
            }
        }
    }
    if !b.merged.is_empty() || !b.dissolved.is_empty() {
        writeln!(w)?;
    }
    for m in &b.merged {
        writeln!(w, "story {} merged into {}", m.id, m.into)?;
    }
    for d in &b.dissolved {
        writeln!(w, "story {d} dissolved: its articles are in no story now")?;
    }
    if !view.no_timings {
        writeln!(
            w,
            "\n{} archive articles regrouped with the batch · {} ms",
            b.neighbourhood, b.outcome.stats.timings_ms.total
        )?;
    }
    Ok(())
}

fn truncate(s: &str, max: usize) -> String {
    let mut t: String = s.chars().take(max).collect();
    if s.chars().nth(max).is_some() {
        t.push('…');
    }
    t
}

/// Writes a built index's counts.
pub fn write_built(
    w: &mut dyn Write,
    format: &str,
    index: &std::path::Path,
    summary: &IndexSummary,
    o: &crate::Outcome,
) -> io::Result<()> {
    #[derive(Serialize)]
    struct Built<'a> {
        tool: &'static str,
        version: &'static str,
        command: &'static str,
        index: String,
        #[serde(flatten)]
        summary: &'a IndexSummary,
        params: super::json::Params<'a>,
        errors: Vec<ErrorOut>,
    }
    let b = Built {
        tool: "storyclust",
        version: env!("CARGO_PKG_VERSION"),
        command: "build",
        index: path_str(index),
        summary,
        params: super::json::params(o),
        errors: super::json::errors(o),
    };
    if format == "text" {
        writeln!(
            w,
            "indexed {} articles ({} distinct texts) in {} stories into {}",
            summary.articles,
            summary.texts,
            summary.stories,
            one_line(&path_str(index))
        )
    } else {
        serde_json::to_writer(&mut *w, &b)?;
        w.write_all(b"\n")
    }
}

/// Writes the story list.
pub fn write_stories(w: &mut dyn Write, format: &str, stories: &[IndexedStory]) -> io::Result<()> {
    match format {
        "json" => {
            serde_json::to_writer(&mut *w, stories)?;
            w.write_all(b"\n")
        }
        "jsonl" => {
            for s in stories {
                line(w, "story", s)?;
            }
            Ok(())
        }
        _ => {
            for s in stories {
                writeln!(
                    w,
                    "{}  {:>5} articles  batch {:<4} {}",
                    s.id,
                    s.paths.len(),
                    s.created_batch,
                    one_line(&truncate(&s.title, 70))
                )?;
            }
            Ok(())
        }
    }
}

/// Writes one story, after the ids that were merged into it.
pub fn write_story(
    w: &mut dyn Write,
    format: &str,
    chain: &[IndexedStory],
    story: &IndexedStory,
) -> io::Result<()> {
    if format != "text" {
        #[derive(Serialize)]
        struct Shown<'a> {
            merged_from: &'a [IndexedStory],
            #[serde(flatten)]
            story: &'a IndexedStory,
        }
        serde_json::to_writer(
            &mut *w,
            &Shown {
                merged_from: chain,
                story,
            },
        )?;
        return w.write_all(b"\n");
    }
    for c in chain {
        writeln!(
            w,
            "story {} was merged into {} in batch {}",
            c.id,
            c.merged_into.as_deref().unwrap_or("?"),
            c.ended_batch.unwrap_or(0)
        )?;
    }
    if story.ended_batch.is_some() {
        writeln!(
            w,
            "story {} was dissolved in batch {}: its articles are in no story",
            story.id,
            story.ended_batch.unwrap_or(0)
        )?;
        return Ok(());
    }
    writeln!(
        w,
        "story {} (made in batch {}), {} articles: {}",
        story.id,
        story.created_batch,
        story.paths.len(),
        one_line(&story.title)
    )?;
    for p in &story.paths {
        writeln!(w, "  {}", one_line(p))?;
    }
    Ok(())
}
