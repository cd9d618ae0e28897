//! Human-readable output for a terminal.
//!
//! Per story: a header (number, id, size, passage count), one line per member
//! (path, words, links to other members, share of its words in shared
//! passages, title), then its shared passages, each with the text and, for
//! every member holding it, `line:column-line:column` and the byte range.
//! All text from articles and file names goes through
//! [`sanitize`](super::sanitize).

use std::io::{self, Write};

use super::View;
use super::sanitize::{one_line, sanitize};
use crate::Outcome;

struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
    fn passage(&self, s: &str) -> String {
        self.paint("1;33", s)
    }
    fn path(&self, s: &str) -> String {
        self.paint("36", s)
    }
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Writes the text report.
pub fn write_text(w: &mut dyn Write, o: &Outcome, view: &View) -> io::Result<()> {
    let st = Style { on: view.color };
    if view.verbose {
        let c = &o.config;
        writeln!(
            w,
            "{}",
            st.dim(&format!(
                "parameters: ocr_fold={} shingle={} window={} num_perm={} threshold={} (LSH {} bands x {} rows) seed={} max_df={} max_stories={} min_fingerprints={} min_shared_words={} min_coverage={} min_linkage={} coherence={} strong_words={} strong_coverage={}",
                c.ocr_fold,
                c.shingle,
                c.window,
                c.num_perm,
                c.threshold,
                o.bands_rows.bands,
                o.bands_rows.rows,
                c.seed,
                c.max_df,
                c.max_stories,
                c.min_fingerprints,
                c.min_shared_words,
                c.min_coverage,
                c.min_linkage,
                c.coherence,
                c.strong_words,
                c.strong_coverage
            ))
        )?;
        writeln!(w)?;
    }
    for (i, s) in o.stories.iter().enumerate() {
        writeln!(
            w,
            "{} {}  {} · {}",
            st.bold(&format!("Story {}", i + 1)),
            st.dim(&format!("[{}]", s.id)),
            plural(s.members.len(), "article", "articles"),
            plural(s.passages.len(), "shared passage", "shared passages"),
        )?;
        let width = s
            .members
            .iter()
            .map(|m| {
                one_line(&o.documents[m.doc as usize].path.to_string_lossy())
                    .chars()
                    .count()
            })
            .max()
            .unwrap_or(0);
        for (j, m) in s.members.iter().enumerate() {
            let d = &o.documents[m.doc as usize];
            let path = one_line(&d.path.to_string_lossy());
            let pad = " ".repeat(width - path.chars().count());
            let shared = if d.words == 0 {
                0.0
            } else {
                (m.shared_words as f64 / d.words as f64).min(1.0)
            };
            writeln!(
                w,
                "  {:>2}. {}{}  {:>6} words  linked to {}/{}  {:>3.0}% shared  {}",
                j + 1,
                st.path(&path),
                pad,
                d.words,
                m.links,
                s.members.len() - 1,
                shared * 100.0,
                st.dim(&format!("\"{}\"", cut(&one_line(&d.title), 60)))
            )?;
        }
        let shown = if view.passages == 0 {
            s.passages.len()
        } else {
            view.passages.min(s.passages.len())
        };
        if shown > 0 {
            writeln!(
                w,
                "  {}",
                st.bold(&if shown < s.passages.len() {
                    format!(
                        "Shared passages ({shown} of {}; --passages 0 shows all):",
                        s.passages.len()
                    )
                } else {
                    "Shared passages:".to_string()
                })
            )?;
        }
        for (k, p) in s.passages.iter().take(shown).enumerate() {
            writeln!(
                w,
                "  [{}] {} in {}: {}",
                k + 1,
                plural(p.words as usize, "word", "words"),
                plural(p.members as usize, "article", "articles"),
                st.passage(&format!("\"{}\"", cut(&one_line(&p.text), 240)))
            )?;
            for oc in &p.occurrences {
                writeln!(
                    w,
                    "        {:>2}. {}:{}:{}-{}:{}  bytes {}..{}",
                    oc.member + 1,
                    st.path(&sanitize(
                        &o.documents[s.members[oc.member as usize].doc as usize]
                            .path
                            .file_name()
                            .map(|f| f.to_string_lossy().into_owned())
                            .unwrap_or_default()
                    )),
                    oc.start.line,
                    oc.start.column,
                    oc.end.line,
                    oc.end.column,
                    oc.bytes.0,
                    oc.bytes.1
                )?;
            }
        }
        writeln!(w)?;
    }
    let in_story: std::collections::HashSet<u32> = o
        .stories
        .iter()
        .flat_map(|s| s.members.iter().map(|m| m.doc))
        .collect();
    if view.all {
        let singles: Vec<usize> = (0..o.documents.len())
            .filter(|d| !in_story.contains(&(*d as u32)))
            .collect();
        if !singles.is_empty() {
            writeln!(w, "{}", st.bold("Singletons:"))?;
            for d in singles {
                let doc = &o.documents[d];
                writeln!(
                    w,
                    "  {}  {} words  {}",
                    st.path(&one_line(&doc.path.to_string_lossy())),
                    doc.words,
                    st.dim(&format!("\"{}\"", cut(&one_line(&doc.title), 60)))
                )?;
            }
            writeln!(w)?;
        }
    }
    let s = &o.stats;
    let mut line = format!(
        "{} read: {} of {}, {}{}",
        plural(s.documents as usize, "article", "articles"),
        plural(s.stories as usize, "story", "stories"),
        plural(s.documents_in_stories as usize, "article", "articles"),
        plural(s.singletons as usize, "singleton", "singletons"),
        if view.all || s.singletons == 0 {
            ""
        } else {
            " (--all lists them)"
        }
    );
    if s.errors > 0 {
        line.push_str(&format!(
            ", {} (see stderr)",
            plural(s.errors as usize, "problem", "problems")
        ));
    }
    if !view.no_timings {
        line.push_str(&format!(" in {} ms", s.timings_ms.total));
    }
    writeln!(w, "{line}")?;
    if let Some(e) = &o.evaluation {
        writeln!(
            w,
            "{} ARI={:.4} precision={:.4} recall={:.4} F1={:.4}; {} gold pairs missed, {} wrong pairs made ({} labelled articles{})",
            st.bold("Against the labels:"),
            e.ari,
            e.precision,
            e.recall,
            e.f1,
            e.missed_pairs,
            e.wrong_pairs,
            e.documents,
            if e.missing > 0 {
                format!(", {} not in the input", e.missing)
            } else {
                String::new()
            }
        )?;
        if view.verbose {
            for p in &e.worst_wrong {
                writeln!(
                    w,
                    "  wrong merge: {} + {} in story {}{}",
                    sanitize(&p.a),
                    sanitize(&p.b),
                    p.story.as_deref().unwrap_or("?"),
                    p.passage
                        .as_ref()
                        .map(|t| format!(", tied by \"{}\"", cut(&one_line(t), 100)))
                        .unwrap_or_default()
                )?;
            }
            for p in &e.worst_missed {
                writeln!(w, "  missed: {} + {}", sanitize(&p.a), sanitize(&p.b))?;
            }
        }
    }
    if view.verbose {
        let c = &s.candidates;
        writeln!(
            w,
            "{}",
            st.dim(&format!(
                "candidates: {} (passage index {}, LSH {}); fingerprints {} ({} over the DF cap); stock shingles {} ({} boilerplate); verified edges {}",
                c.candidates, c.fingerprint_pairs, c.lsh_pairs, c.fingerprints, c.fingerprints_over_df_cap, s.stock_shingles, s.boilerplate_shingles, s.edges
            ))
        )?;
        if !view.no_timings {
            let t = &s.timings_ms;
            writeln!(
                w,
                "{}",
                st.dim(&format!(
                    "timings (ms): discover {} sketch {} candidates {} verify {} cluster {} boilerplate {} passages {}",
                    t.discover, t.sketch, t.candidates, t.verify, t.cluster, t.boilerplate, t.passages
                ))
            )?;
        }
    }
    Ok(())
}
