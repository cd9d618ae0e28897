//! A self-contained HTML report: no network, no external assets.
//!
//! The page lists the stories (size, title, strength), and for each story
//! shows a small matrix of how much each pair of members shares (the share of
//! the shorter member's words inside passages both hold) and the members side
//! by side, each shared passage highlighted in the same colour in every member
//! that holds it. Clicking a passage scrolls every other column to its copy of
//! that passage. All article text and file names are HTML-escaped: a
//! `<script>` in an article stays text.
//!
//! The renderer gets the members' bytes through a callback, so it does no I/O
//! of its own and is tested by rendering into a `Vec<u8>`.

use std::io::{self, Write};
use std::path::Path;

use crate::{Outcome, Story, load};

/// Members shown side by side per story; the rest are counted.
pub const MAX_COLUMNS: usize = 12;

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 1.5rem 3rem; color: #1d1d1f; background: #fafafa; }
h1 { font-size: 1.4rem; margin: 1.2rem 0 .2rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; border-top: 1px solid #ddd; padding-top: 1rem; }
h2 small, .meta { color: #666; font-weight: normal; font-size: .85rem; }
table { border-collapse: collapse; }
table.stories td, table.stories th { padding: .15rem .6rem; text-align: left; border-bottom: 1px solid #eee; }
table.matrix td, table.matrix th { width: 3.2rem; height: 1.6rem; text-align: center; font-size: .8rem; border: 1px solid #fff; }
.columns { display: flex; gap: .8rem; overflow-x: auto; align-items: flex-start; margin-top: .8rem; }
article.member { flex: 0 0 26rem; background: #fff; border: 1px solid #ddd; border-radius: 6px; }
article.member h3 { font-size: .85rem; margin: 0; padding: .4rem .6rem; background: #f0f0f0; word-break: break-all; }
article.member .meta { padding: 0 .6rem; }
.text { position: relative; max-height: 65vh; overflow-y: auto; padding: .4rem .6rem; white-space: pre-wrap; word-wrap: break-word; font: 13px/1.5 ui-monospace, monospace; }
mark { cursor: pointer; border-radius: 2px; color: inherit; }
mark.active { outline: 2px solid #000; }
.note { color: #666; font-size: .85rem; }
"#;

const SCRIPT: &str = r#"
function show(m) {
  const story = m.closest('section.story');
  const p = m.dataset.p;
  story.querySelectorAll('mark.active').forEach(x => x.classList.remove('active'));
  story.querySelectorAll('article.member .text').forEach(t => {
    const target = t.contains(m) ? m : t.querySelector('mark[data-p="' + p + '"]');
    if (!target) return;
    target.classList.add('active');
    t.scrollTop = Math.max(0, target.offsetTop - t.clientHeight / 3);
  });
}
document.addEventListener('click', e => {
  const m = e.target.closest('mark[data-p]');
  if (m) show(m);
});
// For browser tests: #click=S:P clicks passage P of story S and records where
// every column scrolled in body[data-scrolled].
window.addEventListener('load', () => {
  const h = location.hash.match(/^#click=(\d+):(\d+)$/);
  if (!h) return;
  const story = document.getElementById('story-' + h[1]);
  const m = story && story.querySelector('mark[data-p="' + h[2] + '"]');
  if (!m) return;
  m.click();
  const tops = [...story.querySelectorAll('article.member .text')].map(t => Math.round(t.scrollTop));
  document.body.dataset.scrolled = tops.join(',');
  document.body.dataset.active = story.querySelectorAll('mark.active').length;
});
"#;

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn colour(k: usize) -> String {
    let hue = (k as f64 * 137.508) % 360.0;
    format!("hsl({hue:.0}, 85%, 78%)")
}

/// Decodes a slice of a member's file as the loader decoded the whole file.
fn decode_part(path: &Path, bytes: &[u8]) -> String {
    load::decode(path, bytes.to_vec())
        .map(|t| t.text)
        .unwrap_or_else(|_| String::from_utf8_lossy(bytes).into_owned())
}

fn member_text(s: &Story, member: usize, path: &Path, bytes: &[u8]) -> String {
    let mut spans: Vec<(usize, usize, usize)> = Vec::new();
    for (k, p) in s.passages.iter().enumerate() {
        for o in &p.occurrences {
            if o.member as usize == member {
                spans.push((o.bytes.0 as usize, o.bytes.1 as usize, k));
            }
        }
    }
    spans.sort_unstable();
    let mut out = String::new();
    let mut at = 0usize;
    for (start, end, k) in spans {
        if start < at || end > bytes.len() {
            continue; // defensive: spans are disjoint and inside the file
        }
        out.push_str(&escape(&decode_part(path, &bytes[at..start])));
        let p = &s.passages[k];
        out.push_str(&format!(
            "<mark class=\"p{k}\" data-p=\"{k}\" title=\"passage {} · {} words · in {} articles\">{}</mark>",
            k + 1,
            p.words,
            p.members,
            escape(&decode_part(path, &bytes[start..end]))
        ));
        at = end;
    }
    out.push_str(&escape(&decode_part(path, &bytes[at.min(bytes.len())..])));
    out
}

/// Share of the shorter member's words in passages both members hold.
fn pair_share(o: &Outcome, s: &Story, i: usize, j: usize) -> f64 {
    let words_in = |p: &crate::passages::Passage, m: usize| -> u64 {
        p.occurrences
            .iter()
            .filter(|x| x.member as usize == m)
            .map(|x| x.words as u64)
            .sum()
    };
    let words: u64 = s
        .passages
        .iter()
        .map(|p| words_in(p, i).min(words_in(p, j)))
        .sum();
    let shorter = o.documents[s.members[i].doc as usize]
        .words
        .min(o.documents[s.members[j].doc as usize].words);
    if shorter == 0 {
        0.0
    } else {
        (words as f64 / shorter as f64).min(1.0)
    }
}

/// Writes the HTML report. `read` returns a member file's bytes (None when it
/// cannot be read again).
pub fn write_html(
    w: &mut dyn Write,
    o: &Outcome,
    read: &dyn Fn(&Path) -> Option<Vec<u8>>,
) -> io::Result<()> {
    writeln!(
        w,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>storyclust: {} stories</title><style>{STYLE}",
        o.stories.len()
    )?;
    let max_passages = o
        .stories
        .iter()
        .map(|s| s.passages.len())
        .max()
        .unwrap_or(0);
    for k in 0..max_passages {
        writeln!(w, "mark.p{k} {{ background: {}; }}", colour(k))?;
    }
    writeln!(w, "</style></head><body>")?;
    let st = &o.stats;
    writeln!(
        w,
        "<h1>storyclust</h1><p class=\"meta\">{} · {} of {} · {} · {} · storyclust {}</p>",
        plural(st.documents, "article", "articles"),
        plural(st.stories, "story", "stories"),
        plural(st.documents_in_stories, "article", "articles"),
        plural(st.singletons, "singleton", "singletons"),
        plural(st.errors, "problem", "problems"),
        env!("CARGO_PKG_VERSION")
    )?;
    writeln!(
        w,
        "<table class=\"stories\"><tr><th>#</th><th>articles</th><th>passages</th><th>strength</th><th>title</th></tr>"
    )?;
    for (i, s) in o.stories.iter().enumerate() {
        let strength =
            s.members.iter().map(|m| m.strength).sum::<f64>() / s.members.len().max(1) as f64;
        let title = &o.documents[s.members[0].doc as usize].title;
        writeln!(
            w,
            "<tr><td><a href=\"#story-{n}\">{n}</a></td><td>{}</td><td>{}</td><td>{:.2}</td><td>{}</td></tr>",
            s.members.len(),
            s.passages.len(),
            strength,
            escape(title),
            n = i + 1
        )?;
    }
    writeln!(w, "</table>")?;
    for (i, s) in o.stories.iter().enumerate() {
        let n = i + 1;
        writeln!(
            w,
            "<section class=\"story\" id=\"story-{n}\"><h2>Story {n} <small>{} · {} articles · {} shared passages</small></h2>",
            escape(&s.id),
            s.members.len(),
            s.passages.len()
        )?;
        let shown = s.members.len().min(MAX_COLUMNS);
        // Similarity matrix.
        write!(w, "<table class=\"matrix\"><tr><th></th>")?;
        for j in 0..shown {
            write!(w, "<th>{}</th>", j + 1)?;
        }
        writeln!(w, "</tr>")?;
        for a in 0..shown {
            write!(w, "<tr><th>{}</th>", a + 1)?;
            for b in 0..shown {
                if a == b {
                    write!(w, "<td>—</td>")?;
                } else {
                    let x = pair_share(o, s, a, b);
                    write!(
                        w,
                        "<td style=\"background: hsl(210, 80%, {:.0}%)\" title=\"{} and {}: {:.0}% of the shorter in shared passages\">{:.0}%</td>",
                        95.0 - 45.0 * x,
                        a + 1,
                        b + 1,
                        x * 100.0,
                        x * 100.0
                    )?;
                }
            }
            writeln!(w, "</tr>")?;
        }
        writeln!(w, "</table>")?;
        if shown < s.members.len() {
            writeln!(
                w,
                "<p class=\"note\">{} more members not shown side by side; every member is in the JSON output.</p>",
                s.members.len() - shown
            )?;
        }
        writeln!(w, "<div class=\"columns\">")?;
        for (j, m) in s.members.iter().take(shown).enumerate() {
            let d = &o.documents[m.doc as usize];
            let shared = if d.words == 0 {
                0.0
            } else {
                (m.shared_words as f64 / d.words as f64).min(1.0)
            };
            let body = match read(&d.path) {
                Some(bytes) => member_text(s, j, &d.path, &bytes),
                None => "<em>(could not be read again)</em>".to_string(),
            };
            writeln!(
                w,
                "<article class=\"member\" data-member=\"{j}\"><h3>{}. {}</h3><p class=\"meta\">{} words · linked to {} · {:.0}% shared</p><div class=\"text\">{body}</div></article>",
                j + 1,
                escape(&d.path.to_string_lossy()),
                d.words,
                m.links,
                shared * 100.0
            )?;
        }
        writeln!(w, "</div></section>")?;
    }
    writeln!(w, "<script>{SCRIPT}</script></body></html>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_markup_as_text() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }
}
