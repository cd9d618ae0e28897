//! Stage 8: the passages a story's members share, located in every file.
//!
//! The members of each story are read again (only those: text is not held in
//! memory between stages). A member whose text is the one the sketch stage
//! read (same [`crate::hash::text`]) takes its shingles from there, and only
//! its words' spans are found again; a file changed since is shingled anew.
//! A shingle is *shared* when at least two distinct texts of the story hold
//! it (in a story made only of identical copies, every shingle is) and it is
//! not a stock shingle. Each member's maximal runs of shared shingles are
//! its shared spans; spans in different members that hold a common shingle
//! belong to the same passage (union-find over spans), so a passage lists,
//! for every member that contains it, where it sits. The passage's text is
//! the longest of its spans.
//!
//! Positions are byte ranges into the file's own bytes (half-open) and
//! 1-based line:column pairs (columns count characters; a line ends at LF,
//! CRLF or a lone CR).

use std::path::Path;

use crate::error::LoadError;
use crate::hash::MixMap;
use crate::load;
use crate::shingle;
use crate::tokenize;

/// A 1-based line and column (in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LineCol {
    /// Line number, from 1.
    pub line: u32,
    /// Column in characters, from 1.
    pub column: u32,
}

/// Where a passage sits in one member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    /// Index of the member in the story.
    pub member: u32,
    /// Byte range in the file, half-open.
    pub bytes: (u64, u64),
    /// Start position.
    pub start: LineCol,
    /// End position (exclusive, like the byte range).
    pub end: LineCol,
    /// Number of words of the span.
    pub words: u32,
    /// The span's own text in this member (it may differ from the passage's
    /// longest span in case, punctuation or extent).
    pub text: String,
    /// Up to [`CONTEXT_CHARS`] characters before the span, on its line.
    pub before: String,
    /// Up to [`CONTEXT_CHARS`] characters after the span, on its line.
    pub after: String,
}

/// Characters of context kept on each side of an occurrence.
pub const CONTEXT_CHARS: usize = 40;

fn context_before(text: &str, s: usize) -> String {
    // Back from `s`, a character at a time: at most `CONTEXT_CHARS` of
    // them, and none before the line's start (the line itself may be a
    // whole paragraph, not walked).
    let head = &text[..s];
    let start = head
        .char_indices()
        .rev()
        .take(CONTEXT_CHARS)
        .take_while(|&(_, c)| c != '\n' && c != '\r')
        .last()
        .map_or(s, |(i, _)| i);
    head[start..].to_string()
}

fn context_after(text: &str, e: usize) -> String {
    let tail = &text[e..];
    let end = tail
        .char_indices()
        .take(CONTEXT_CHARS)
        .take_while(|&(_, c)| c != '\n' && c != '\r')
        .last()
        .map_or(0, |(i, c)| i + c.len_utf8());
    tail[..end].to_string()
}

/// A passage shared by members of a story.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Passage {
    /// The text of the longest span, as decoded from its file.
    pub text: String,
    /// Words of that longest span.
    pub words: u32,
    /// Number of distinct members holding the passage.
    pub members: u32,
    /// Every span, ordered by member then position.
    pub occurrences: Vec<Occurrence>,
}

/// The passages of one story and what each member shares.
#[derive(Debug, Default)]
pub struct StoryPassages {
    /// Passages, most widely shared first, then longest.
    pub passages: Vec<Passage>,
    /// Per member: words covered by shared passages.
    pub shared_words: Vec<u32>,
    /// Members that could not be read again.
    pub errors: Vec<LoadError>,
}

/// One member of a story, as the passage stage needs it.
#[derive(Clone, Copy, Debug)]
pub struct Member<'a> {
    /// Its file.
    pub path: &'a Path,
    /// Its content node (identical texts share a node).
    pub node: u32,
    /// Its bytes, when they were read elsewhere; `None`: read the file.
    pub data: Option<&'a [u8]>,
    /// Counts its file if it had to be waited for (see [`load::read_noting`]).
    pub cold: Option<&'a load::Cold>,
    /// What the sketch stage found in it, when known.
    pub sketched: Option<Sketched<'a>>,
}

/// What the sketch stage found in a member's text. When the text read again
/// is the same (its [`crate::hash::text`] is `text_hash`), its shingles are
/// taken from here and only its words' spans are found again, which costs
/// less than half of tokenizing; otherwise (the file changed since) it is
/// tokenized and shingled anew.
#[derive(Clone, Copy, Debug)]
pub struct Sketched<'a> {
    /// Hash of the decoded text.
    pub text_hash: u64,
    /// Its number of words.
    pub words: u32,
    /// Its shingle hashes, in order.
    pub seq: &'a [u64],
}

struct Loaded<'a> {
    text: load::Text,
    /// Byte span of each token.
    tokens: Vec<(u32, u32)>,
    seq: std::borrow::Cow<'a, [u64]>,
    line_starts: Vec<u32>,
    /// Whether the text is all ASCII (a column is then a byte count).
    ascii: bool,
}

/// The tokens' spans and the shingles of a member's text, from what the
/// sketch stage found when the text is the same.
fn tokens_and_shingles<'a>(
    m: &Member<'a>,
    text: &str,
    tokenizer: &tokenize::Tokenizer,
    k: usize,
    shingle_seed: u64,
) -> (Vec<(u32, u32)>, std::borrow::Cow<'a, [u64]>) {
    if let Some(s) = m.sketched
        && crate::hash::text(text) == s.text_hash
    {
        let spans = tokenize::spans(text);
        // (The same text gives the same words, unless one of them has an
        // empty normal form: then the tokenizer is asked.)
        if spans.len() == s.words as usize && s.seq.len() == shingle::count(spans.len(), k) {
            return (spans, std::borrow::Cow::Borrowed(s.seq));
        }
    }
    let tokens = tokenizer.tokenize(text);
    let seq = shingle::shingles(&tokens, k, shingle_seed);
    (
        tokens.iter().map(|t| (t.start, t.end)).collect(),
        std::borrow::Cow::Owned(seq),
    )
}

/// Byte offsets where lines start: after `\n`, `\r\n` and a lone `\r`.
fn line_starts(text: &str) -> Vec<u32> {
    let b = text.as_bytes();
    let mut v = vec![0u32];
    for i in memchr::memchr2_iter(b'\n', b'\r', b) {
        if b[i] == b'\n' || b.get(i + 1) != Some(&b'\n') {
            v.push(i as u32 + 1);
        }
    }
    v
}

fn line_col(l: &Loaded<'_>, pos: usize) -> LineCol {
    let line = l.line_starts.partition_point(|&s| s as usize <= pos);
    let start = l.line_starts[line - 1] as usize;
    let column = if l.ascii {
        pos - start
    } else {
        l.text.text[start..pos].chars().count()
    } + 1;
    LineCol {
        line: line as u32,
        column: column as u32,
    }
}

struct Run {
    member: u32,
    first: u32,
    last: u32,
}

fn find(p: &mut [u32], mut x: u32) -> u32 {
    while p[x as usize] != x {
        let q = p[p[x as usize] as usize];
        p[x as usize] = q;
        x = q;
    }
    x
}

/// In [`PassageTables`], a shingle's first run when it has none yet.
const NO_RUN: u32 = u32::MAX;

/// In [`PassageTables`], the holder of a shingle no text holds (only a
/// member whose file changed since the sketch stage).
const NO_TEXT: u32 = u32::MAX;

thread_local! {
    /// Each thread's tables for [`story_passages`], kept from one story to
    /// the next: emptying them costs nothing (see [`crate::hash::SlotTable`]).
    static TABLES: std::cell::RefCell<PassageTables> =
        std::cell::RefCell::new(PassageTables::default());
}

/// A story's distinct shingles, one slot each, with what the passage
/// search needs of each (arrays by slot, set when the slot is taken).
#[derive(Default)]
struct PassageTables {
    slots: crate::hash::SlotTable,
    /// The last distinct text seen holding the slot's shingle, and how
    /// many distinct texts hold it.
    holders: Vec<(u32, u32)>,
    /// The first run holding the slot's shingle ([`NO_RUN`]: none yet).
    first_run: Vec<u32>,
    /// The slot of each position of each distinct text, text after text.
    slot_of: Vec<u32>,
}

impl PassageTables {
    /// The maximal runs of shared shingles of each member (in member
    /// order), into `runs`, and in `parent` their union-find forest, runs
    /// that hold a common shingle joined. A shingle is shared when two
    /// distinct texts of the story hold it (or the story is of one text)
    /// and it is not stock.
    fn runs(
        &mut self,
        members: &[Member<'_>],
        loaded: &[Option<Loaded<'_>>],
        stock: &crate::verify::Stock,
        runs: &mut Vec<Run>,
        parent: &mut Vec<u32>,
    ) {
        // Distinct texts holding each shingle, and where the slots of each
        // member's positions are: a member repeating a text takes that
        // text's (unless its file changed since the sketch stage, which
        // gave it other shingles: those are not counted as a text's).
        let mut texts: Vec<(u32, std::ops::Range<usize>, &[u64])> = Vec::new();
        // (A member repeating a text counts again: the table is only larger.)
        let total = loaded.iter().flatten().map(|l| l.seq.len()).sum();
        let cap = self.slots.reset(total);
        if self.holders.len() < cap {
            self.holders.resize(cap, (0, 0));
            self.first_run.resize(cap, NO_RUN);
        }
        self.slot_of.clear();
        let mut at: Vec<Option<std::ops::Range<usize>>> = Vec::with_capacity(members.len());
        for (m, l) in members.iter().zip(loaded) {
            let Some(l) = l else {
                at.push(None);
                continue;
            };
            let start = self.slot_of.len();
            // A member repeating a text with other shingles (its file
            // changed since) is not counted as a holder.
            let counted = match texts.iter().find(|t| t.0 == m.node) {
                Some((_, r, seq)) if *seq == &l.seq[..] => {
                    at.push(Some(r.clone()));
                    continue;
                }
                Some(_) => false,
                None => true,
            };
            for &h in l.seq.iter() {
                let (s, new) = self.slots.insert(h);
                let e = &mut self.holders[s];
                if new {
                    *e = if counted { (m.node, 1) } else { (NO_TEXT, 0) };
                    self.first_run[s] = NO_RUN;
                } else if counted && e.0 != m.node {
                    *e = (m.node, e.1 + 1);
                }
                self.slot_of.push(s as u32);
            }
            if counted {
                texts.push((m.node, start..self.slot_of.len(), &l.seq));
            }
            at.push(Some(start..self.slot_of.len()));
        }
        let single_text = texts.len() == 1;
        let (slots, holders) = (&self.slots, &self.holders);
        let shared = |s: u32| -> bool {
            (single_text || holders[s as usize].1 >= 2) && !stock.contains(slots.key(s as usize))
        };
        // Maximal runs of shared shingles per member.
        for (mi, r) in at.iter().enumerate() {
            let Some(r) = r else { continue };
            let pos = &self.slot_of[r.clone()];
            let mut i = 0;
            while i < pos.len() {
                if !shared(pos[i]) {
                    i += 1;
                    continue;
                }
                let mut j = i;
                while j + 1 < pos.len() && shared(pos[j + 1]) {
                    j += 1;
                }
                runs.push(Run {
                    member: mi as u32,
                    first: i as u32,
                    last: j as u32,
                });
                i = j + 1;
            }
        }
        // Union runs that hold a common shingle.
        parent.clear();
        parent.extend(0..runs.len() as u32);
        for (ri, run) in runs.iter().enumerate() {
            let r = at[run.member as usize]
                .as_ref()
                .expect("a run's member is loaded");
            for &s in &self.slot_of[r.start + run.first as usize..=r.start + run.last as usize] {
                let other = self.first_run[s as usize];
                if other == NO_RUN {
                    self.first_run[s as usize] = ri as u32;
                } else {
                    let (a, b) = (find(parent, ri as u32), find(parent, other));
                    if a != b {
                        parent[a.max(b) as usize] = a.min(b);
                    }
                }
            }
        }
    }
}

/// Finds the passages of a story. `stock` holds the stock shingle hashes; `cfg` and `shingle_seed` as in the sketch stage.
pub fn story_passages<'a>(
    members: &[Member<'a>],
    stock: &crate::verify::Stock,
    cfg: &crate::Config,
    shingle_seed: u64,
) -> StoryPassages {
    let (k, tokenizer) = (cfg.shingle, cfg.tokenizer());
    let mut out = StoryPassages {
        shared_words: vec![0; members.len()],
        ..Default::default()
    };
    let mut loaded: Vec<Option<Loaded<'a>>> = Vec::with_capacity(members.len());
    for m in members {
        let text = match m.data {
            Some(bytes) => load::from_bytes(m.path, bytes.to_vec(), cfg.max_file_bytes),
            None => load::read_noting(m.path, cfg.max_file_bytes, m.cold),
        };
        match text {
            Ok(text) => {
                let (tokens, seq) = tokens_and_shingles(m, &text.text, &tokenizer, k, shingle_seed);
                // (Shingles kept by the sketch stage are mostly not in the
                // cache: asked for while the next member is read.)
                crate::store::prefetch(&seq);
                let line_starts = line_starts(&text.text);
                let ascii = text.text.is_ascii();
                loaded.push(Some(Loaded {
                    text,
                    tokens,
                    seq,
                    line_starts,
                    ascii,
                }));
            }
            Err(e) => {
                out.errors.push(e);
                loaded.push(None);
            }
        }
    }
    let mut runs: Vec<Run> = Vec::new();
    let mut parent: Vec<u32> = Vec::new();
    TABLES.with_borrow_mut(|t| t.runs(members, &loaded, stock, &mut runs, &mut parent));
    let mut groups: MixMap<u32, Vec<u32>> = MixMap::default();
    for ri in 0..runs.len() as u32 {
        let root = find(&mut parent, ri);
        groups.entry(root).or_default().push(ri);
    }
    let mut passages: Vec<(u32, Passage)> = Vec::with_capacity(groups.len());
    for (root, rs) in groups {
        let mut occurrences = Vec::with_capacity(rs.len());
        let mut best: Option<(u32, usize, usize, usize)> = None; // (words, member, start, end)
        let mut distinct: Vec<u32> = Vec::new();
        for &ri in &rs {
            let r = &runs[ri as usize];
            let l = loaded[r.member as usize].as_ref().expect("loaded");
            let span = (l.tokens.len()).min(k.max(1));
            let t0 = r.first as usize;
            let t1 = r.last as usize + span - 1;
            let (s, e) = (l.tokens[t0].0 as usize, l.tokens[t1].1 as usize);
            let words = (t1 - t0 + 1) as u32;
            out.shared_words[r.member as usize] += words;
            if best.is_none_or(|b| words > b.0) {
                best = Some((words, r.member as usize, s, e));
            }
            if !distinct.contains(&r.member) {
                distinct.push(r.member);
            }
            occurrences.push(Occurrence {
                member: r.member,
                bytes: (l.text.file_offset(s) as u64, l.text.file_offset(e) as u64),
                start: line_col(l, s),
                end: line_col(l, e),
                words,
                text: l.text.text[s..e].to_string(),
                before: context_before(&l.text.text, s),
                after: context_after(&l.text.text, e),
            });
        }
        occurrences.sort_by_key(|o| (o.member, o.bytes));
        let (words, m, s, e) = best.expect("a group has a run");
        let text = loaded[m].as_ref().expect("loaded").text.text[s..e].to_string();
        passages.push((
            root,
            Passage {
                text,
                words,
                members: distinct.len() as u32,
                occurrences,
            },
        ));
    }
    passages.sort_by(|(_, a), (_, b)| {
        b.members
            .cmp(&a.members)
            .then(b.words.cmp(&a.words))
            .then(a.occurrences[0].member.cmp(&b.occurrences[0].member))
            .then(a.occurrences[0].bytes.cmp(&b.occurrences[0].bytes))
    });
    out.passages = passages.into_iter().map(|(_, p)| p).collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn context_is_the_line_around_a_span_up_to_its_limit() {
        // By definition: the line's characters before (after) the span,
        // the last (first) CONTEXT_CHARS of them.
        let before = |t: &str, s: usize| -> String {
            let line = t[..s].rfind(['\n', '\r']).map_or(0, |i| i + 1);
            let head: Vec<char> = t[line..s].chars().collect();
            head[head.len().saturating_sub(CONTEXT_CHARS)..]
                .iter()
                .collect()
        };
        let after = |t: &str, e: usize| -> String {
            let end = t[e..].find(['\n', '\r']).map_or(t.len(), |i| e + i);
            t[e..end].chars().take(CONTEXT_CHARS).collect()
        };
        let mut x = 7u64;
        for len in 0..300 {
            let t: String = (0..len)
                .map(|_| {
                    x = crate::hash::splitmix64(x);
                    let pick = if x.is_multiple_of(16) { x % 6 } else { 6 };
                    ['\n', '\r', 'é', '€', '𝄞', ' ', 'a'][pick as usize]
                })
                .collect();
            for (i, _) in t.char_indices().chain([(t.len(), ' ')]) {
                assert_eq!(context_before(&t, i), before(&t, i), "{t:?} at {i}");
                assert_eq!(context_after(&t, i), after(&t, i), "{t:?} at {i}");
            }
        }
    }

    #[test]
    fn line_starts_follow_every_line_ending() {
        let plain = |t: &str| -> Vec<u32> {
            let b = t.as_bytes();
            let mut v = vec![0u32];
            for (i, &c) in b.iter().enumerate() {
                if c == b'\n' || (c == b'\r' && b.get(i + 1) != Some(&b'\n')) {
                    v.push(i as u32 + 1);
                }
            }
            v
        };
        let mut x = 3u64;
        for len in 0..200 {
            let t: String = (0..len)
                .map(|_| {
                    x = crate::hash::splitmix64(x);
                    ['a', '\n', '\r', ' ', 'é'][(x % 5) as usize]
                })
                .collect();
            assert_eq!(line_starts(&t), plain(&t), "{t:?}");
        }
        assert_eq!(line_starts("a\r\nb\rc\n"), vec![0, 3, 5, 7]);
    }

    /// Writes `texts` to `0.txt`, `1.txt`, … in `dir`.
    fn write_files(dir: &Path, texts: &[String]) -> Vec<std::path::PathBuf> {
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let p = dir.join(format!("{i}.txt"));
                fs::write(&p, t).unwrap();
                p
            })
            .collect()
    }

    /// A member of content node `node` read from its file, with nothing
    /// kept from a sketch stage.
    fn read_member(path: &Path, node: u32) -> Member<'_> {
        Member {
            path,
            node,
            data: None,
            cold: None,
            sketched: None,
        }
    }

    /// The tables a thread keeps carry nothing from one story to the next:
    /// stories made one after the other on one thread (in both orders, the
    /// larger one first to leave the most behind) give what each gives
    /// alone on a fresh thread.
    #[test]
    fn a_story_is_the_same_after_other_stories_on_its_thread() {
        let dir = tempfile::tempdir().unwrap();
        let wire = "the city is a fortress, every position and every street \
                    there, the governor said as shelling went on near Bakhmut";
        let other = "fighter jets and long-range missiles are what it needs, \
                     the minister told reporters in Brussels on Tuesday";
        let texts = [
            format!("A. {wire}. {other}. Local copy."),
            format!("B. {other}. Then {wire}."),
            format!("C. {wire}, and more of it."),
            format!("D. only {other}, nothing else of it."),
            format!("E. {other}; {other}."),
        ];
        let paths = write_files(dir.path(), &texts);
        // Per passage: its members, its occurrences' places, its text.
        type Found = (u32, Vec<(u32, (u64, u64))>, String);
        let story = |nodes: &[u32]| -> Vec<Found> {
            let members: Vec<Member<'_>> = nodes
                .iter()
                .map(|&n| read_member(&paths[n as usize], n))
                .collect();
            let sp = story_passages(
                &members,
                &crate::verify::Stock::default(),
                &crate::Config::default(),
                2,
            );
            sp.passages
                .iter()
                .map(|p| {
                    let at = p.occurrences.iter().map(|o| (o.member, o.bytes)).collect();
                    (p.members, at, p.text.clone())
                })
                .collect()
        };
        let (big, small): (&'static [u32], &'static [u32]) = (&[0, 1, 2], &[3, 4]);
        let alone = |nodes: &'static [u32]| {
            std::thread::scope(|s| s.spawn(|| story(nodes)).join().unwrap())
        };
        let (big_alone, small_alone) = (alone(big), alone(small));
        assert!(!big_alone.is_empty() && !small_alone.is_empty());
        std::thread::scope(|s| {
            s.spawn(|| {
                assert_eq!(story(big), big_alone);
                assert_eq!(story(small), small_alone);
                assert_eq!(story(big), big_alone);
            });
        });
    }

    /// Two members of one text (one node) whose files now differ (one
    /// changed since the sketch stage): the text counts once as a holder,
    /// each member's spans are found in its own words, and the changed one
    /// shows the shared passage where it still holds it.
    #[test]
    fn members_of_one_text_whose_files_now_differ() {
        let dir = tempfile::tempdir().unwrap();
        let shared = "the garrison held the eastern districts while supplies ran low";
        let files = [
            format!("One. {shared}, officials said."),
            format!("Changed since, much longer now: one two three. {shared}."),
            format!("Other outlet: {shared}; more follows."),
        ];
        let paths = write_files(dir.path(), &files);
        let members: Vec<Member<'_>> = [0u32, 0, 1]
            .iter()
            .zip(&paths)
            .map(|(&node, path)| read_member(path, node))
            .collect();
        let sp = story_passages(
            &members,
            &crate::verify::Stock::default(),
            &crate::Config::default(),
            2,
        );
        assert_eq!(sp.passages.len(), 1, "{:?}", sp.passages);
        let p = &sp.passages[0];
        assert_eq!(p.members, 3);
        for o in &p.occurrences {
            let bytes = fs::read(&paths[o.member as usize]).unwrap();
            assert_eq!(
                &bytes[o.bytes.0 as usize..o.bytes.1 as usize],
                shared.as_bytes()
            );
        }
        // Alone with a member of the same text, a story of one text: all
        // its words are shared, each span found in its own file.
        let sp = story_passages(
            &members[..2],
            &crate::verify::Stock::default(),
            &crate::Config::default(),
            2,
        );
        let occurrences: Vec<&Occurrence> =
            sp.passages.iter().flat_map(|p| &p.occurrences).collect();
        assert_eq!(
            occurrences.iter().map(|o| o.words).sum::<u32>(),
            13 + 18, // every word of both files
            "{:?}",
            sp.passages
        );
        for o in occurrences {
            let bytes = fs::read(&paths[o.member as usize]).unwrap();
            let cut = &bytes[o.bytes.0 as usize..o.bytes.1 as usize];
            assert_eq!(cut, o.text.as_bytes());
        }
    }

    #[test]
    fn passages_map_back_to_file_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let shared = "the city is a fortress, every position and every street there";
        let a = dir.path().join("a.txt");
        let b = dir.path().join("b.txt");
        fs::write(
            &a,
            format!("Headline one\n\nSome local copy first. {shared}, he said.\n"),
        )
        .unwrap();
        fs::write(
            &b,
            format!("Other\r\n“{shared}” — quoted by another outlet today."),
        )
        .unwrap();
        let members = [
            Member {
                path: &a,
                node: 0,
                data: None,
                cold: None,
                sketched: None,
            },
            Member {
                path: &b,
                node: 1,
                data: None,
                cold: None,
                sketched: None,
            },
        ];
        let sp = story_passages(
            &members,
            &crate::verify::Stock::default(),
            &crate::Config::default(),
            2,
        );
        assert_eq!(sp.passages.len(), 1);
        let p = &sp.passages[0];
        assert_eq!(p.members, 2);
        assert_eq!(p.text, shared);
        for o in &p.occurrences {
            let bytes = fs::read(members[o.member as usize].path).unwrap();
            let cut = &bytes[o.bytes.0 as usize..o.bytes.1 as usize];
            assert_eq!(cut, shared.as_bytes());
        }
        // Columns count characters: in an ASCII text bytes, after `“` not.
        assert_eq!(
            p.occurrences[0].start,
            LineCol {
                line: 3,
                column: 24
            }
        );
        let n = shared.len() as u32; // (ASCII)
        assert_eq!(
            p.occurrences[0].end,
            LineCol {
                line: 3,
                column: 24 + n
            }
        );
        assert_eq!(p.occurrences[1].start, LineCol { line: 2, column: 2 });
        assert_eq!(
            p.occurrences[1].end,
            LineCol {
                line: 2,
                column: 2 + n
            }
        );
        assert_eq!(p.occurrences[0].before, "Some local copy first. ");
        assert_eq!(p.occurrences[0].after, ", he said.");
        assert_eq!(p.occurrences[1].before, "“");
        assert_eq!(sp.shared_words, vec![11, 11]);
    }

    #[test]
    fn sketched_shingles_serve_only_the_text_they_came_from() {
        let dir = tempfile::tempdir().unwrap();
        let shared = "the garrison held the eastern districts while supplies ran low";
        let a = dir.path().join("a.txt");
        let b = dir.path().join("b.txt");
        fs::write(&a, format!("First outlet.\n{shared}, officials said.\n")).unwrap();
        // Windows-1252 (not UTF-8): offsets map back to the file's bytes.
        let mut bytes = b"Caf\xe9 report: ".to_vec();
        bytes.extend_from_slice(shared.as_bytes());
        bytes.extend_from_slice(b" \x96 and more.");
        fs::write(&b, bytes).unwrap();
        let cfg = crate::Config::default();
        let seed = 2;
        let sketch = |p: &Path| {
            let text = load::read(p, cfg.max_file_bytes).unwrap();
            let tokens = cfg.tokenizer().tokenize(&text.text);
            let seq = shingle::shingles(&tokens, cfg.shingle, seed);
            (crate::hash::text(&text.text), tokens.len() as u32, seq)
        };
        let run = |sketches: [Option<&(u64, u32, Vec<u64>)>; 2]| {
            let members: Vec<Member<'_>> = [&a, &b]
                .iter()
                .zip(sketches)
                .enumerate()
                .map(|(i, (p, s))| Member {
                    path: p,
                    node: i as u32,
                    data: None,
                    cold: None,
                    sketched: s.map(|(h, words, seq)| Sketched {
                        text_hash: *h,
                        words: *words,
                        seq,
                    }),
                })
                .collect();
            let sp = story_passages(&members, &crate::verify::Stock::default(), &cfg, seed);
            (sp.passages, sp.shared_words)
        };
        let fresh = run([None, None]);
        assert_eq!(fresh.0.len(), 1);
        let (sa, sb) = (sketch(&a), sketch(&b));
        assert_eq!(run([Some(&sa), Some(&sb)]), fresh);
        // The sketch is what is used when the text is the same: shingles
        // that match nothing leave no passage.
        let unrelated = (sa.0, sa.1, (0..sa.2.len() as u64).collect());
        assert!(run([Some(&unrelated), Some(&sb)]).0.is_empty());
        // A file changed since it was sketched (here with as many words)
        // is tokenized again: the passages are those of its new text.
        fs::write(&a, format!("Second source.\n{shared}, officials said.\n")).unwrap();
        let fresh = run([None, None]);
        assert_eq!(run([Some(&unrelated), Some(&sb)]), fresh);
        assert_eq!(
            fresh.0[0].occurrences[0].start,
            LineCol { line: 2, column: 1 }
        );
    }
}
