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

/// Keeps the last `max` characters of `s`, marking a cut with `…`.
fn cut_front(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let mut t = String::from("…");
    t.extend(s.chars().skip(n - max.saturating_sub(1)));
    t
}

/// Keeps both ends of `s` within `max` characters, marking the cut with `…`.
fn cut_middle(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let head = max.saturating_sub(1) / 2;
    let tail = max.saturating_sub(1) - head;
    let mut t: String = s.chars().take(head).collect();
    t.push('…');
    t.extend(s.chars().skip(n - tail));
    t
}

/// One line showing an occurrence in its member's own words: the context
/// before, the span (highlighted, or in «» without colour), the context after,
/// fitted to `avail` characters.
fn context_line(st: &Style, oc: &crate::passages::Occurrence, avail: usize) -> String {
    let span = one_line(&oc.text);
    let (before, after) = (one_line(&oc.before), one_line(&oc.after));
    let marks = if st.on { 0 } else { 2 };
    let span = cut_middle(&span, avail.saturating_sub(marks + 2).max(12));
    let room = avail.saturating_sub(span.chars().count() + marks);
    let after_room = (room / 2).min(after.chars().count());
    let before_room = room - after_room;
    let before = cut_front(&before, before_room);
    let after = cut(&after, room - before.chars().count().min(room));
    let shown = if st.on {
        st.passage(&span)
    } else {
        format!("«{span}»")
    };
    format!("{before}{shown}{after}")
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
    // Each story is written into its own buffer, a batch in parallel.
    let one = |w: &mut dyn Write, i: usize, s: &crate::Story| -> io::Result<()> {
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
        // Wide: one line per member. Narrow: the path on its own line.
        let figures_len = 42;
        let narrow = view.width > 0 && 6 + width + figures_len + 12 > view.width;
        for (j, m) in s.members.iter().enumerate() {
            let d = &o.documents[m.doc as usize];
            let path = one_line(&d.path.to_string_lossy());
            let shared = if d.words == 0 {
                0.0
            } else {
                (m.shared_words as f64 / d.words as f64).min(1.0)
            };
            let figures = format!(
                "{:>6} words  linked to {}/{}  {:>3.0}% shared",
                d.words,
                m.links,
                s.members.len() - 1,
                shared * 100.0
            );
            if narrow {
                let path = cut_front(&path, view.width.saturating_sub(6).max(10));
                writeln!(w, "  {:>2}. {}", j + 1, st.path(&path))?;
                let title_room = view.width.saturating_sub(6 + figures.len() + 4).max(10);
                writeln!(
                    w,
                    "      {}  {}",
                    figures.trim_start(),
                    st.dim(&format!("\"{}\"", cut(&one_line(&d.title), title_room)))
                )?;
            } else {
                let pad = " ".repeat(width - path.chars().count());
                let title_room = if view.width == 0 {
                    60
                } else {
                    view.width
                        .saturating_sub(6 + width + 2 + figures.len() + 4)
                        .clamp(10, 60)
                };
                writeln!(
                    w,
                    "  {:>2}. {}{}  {}  {}",
                    j + 1,
                    st.path(&path),
                    pad,
                    figures,
                    st.dim(&format!("\"{}\"", cut(&one_line(&d.title), title_room)))
                )?;
            }
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
            let head = format!(
                "  [{}] {} in {}: ",
                k + 1,
                plural(p.words as usize, "word", "words"),
                plural(p.members as usize, "article", "articles"),
            );
            let room = if view.width == 0 {
                240
            } else {
                (2 * view.width)
                    .saturating_sub(head.chars().count() + 2)
                    .max(20)
            };
            writeln!(
                w,
                "{head}{}",
                st.passage(&format!("\"{}\"", cut(&one_line(&p.text), room)))
            )?;
            for oc in &p.occurrences {
                let file = sanitize(
                    &o.documents[s.members[oc.member as usize].doc as usize]
                        .path
                        .file_name()
                        .map(|f| f.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                );
                let place = format!(
                    ":{}:{}-{}:{}",
                    oc.start.line, oc.start.column, oc.end.line, oc.end.column
                );
                let bytes = format!("bytes {}..{}", oc.bytes.0, oc.bytes.1);
                let one_row = 12 + file.chars().count() + place.len() + 2 + bytes.len();
                if view.width > 0 && one_row > view.width {
                    let file =
                        cut_front(&file, view.width.saturating_sub(12 + place.len()).max(10));
                    writeln!(w, "        {:>2}. {}{place}", oc.member + 1, st.path(&file))?;
                    writeln!(w, "            {bytes}")?;
                } else {
                    writeln!(
                        w,
                        "        {:>2}. {}{place}  {bytes}",
                        oc.member + 1,
                        st.path(&file)
                    )?;
                }
                let avail = if view.width == 0 {
                    110
                } else {
                    view.width.saturating_sub(12).max(20)
                };
                writeln!(w, "            {}", context_line(&st, oc, avail))?;
            }
        }
        writeln!(w)?;
        Ok(())
    };
    o.for_each_story_rendered(
        |i, s| -> io::Result<Vec<u8>> {
            let mut buf = Vec::new();
            one(&mut buf, i, s)?;
            Ok(buf)
        },
        |_, _, buf| w.write_all(&buf?),
    )?;
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
    let stats = o.stats_now();
    let s = &stats;
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
    if view.width > 0 && line.chars().count() > view.width {
        // Narrow terminal: break after a colon or comma.
        let mut row = String::new();
        for part in line.split_inclusive([':', ',']) {
            if !row.is_empty() && row.chars().count() + part.chars().count() > view.width {
                writeln!(w, "{}", row.trim_end())?;
                row = String::from(" ");
            }
            row.push_str(part);
        }
        writeln!(w, "{}", row.trim_end())?;
    } else {
        writeln!(w, "{line}")?;
    }
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
                    "timings (ms): discover {} sketch {} candidates {} verify {} cluster {} boilerplate {} passages {}{}",
                    t.discover, t.sketch, t.candidates, t.verify, t.cluster, t.boilerplate, t.passages,
                    if s.spilled_bytes > 0 {
                        format!("; {:.0} MB through a temporary file", s.spilled_bytes as f64 / 1e6)
                    } else {
                        String::new()
                    }
                ))
            )?;
        }
    }
    Ok(())
}
