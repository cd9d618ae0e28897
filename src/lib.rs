//! # storyclust
//!
//! Finds the *stories* in a folder of news articles: groups of articles that
//! reuse the same wire copy (reprinted, cut to a brief, edited, OCR-garbled,
//! translated), with the passages the members share and where each passage
//! sits in every file.
//!
//! Data flows one way, one module per stage:
//!
//! ```text
//! load → tokenize → shingle → minhash → candidates → verify → cluster → passages → report
//! ```
//!
//! ```no_run
//! use storyclust::{Config, run};
//! let outcome = run(&["fixtures/bakhmut".into()], &Config::default()).unwrap();
//! for story in &outcome.stories {
//!     println!("{} has {} articles", story.id, story.members.len());
//! }
//! ```
#![deny(missing_docs)]

pub mod candidates;
pub mod cluster;
pub mod error;
pub mod evaluate;
pub mod hash;
pub mod index;
pub mod load;
pub mod minhash;
pub mod passages;
pub mod report;
pub mod shingle;
pub mod stage;
pub mod store;
pub mod tokenize;
pub mod verify;

use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use rayon::prelude::*;

pub use error::{CompareError, ConfigError, LoadError};

/// Version of the JSON output schema.
pub const SCHEMA_VERSION: u32 = 1;

/// Every parameter of a run. `Config::default()` gives the documented defaults.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Config {
    /// File extensions taken when walking folders.
    pub extensions: Vec<String>,
    /// Fold letters OCR often confuses (c/e, b/h, 1/l, 0/o, rn/m, …) before hashing.
    pub ocr_fold: bool,
    /// Files larger than this many bytes are skipped unread, with a message.
    pub max_file_bytes: u64,
    /// Shingle size in words.
    pub shingle: usize,
    /// Winnowing window in shingles: any shared run of `window + shingle − 1`
    /// words is guaranteed a shared fingerprint.
    pub window: usize,
    /// MinHash permutations (signature length).
    pub num_perm: usize,
    /// Jaccard threshold of the near-duplicate path (sets LSH bands × rows).
    pub threshold: f64,
    /// The one seed all hashing derives from.
    pub seed: u64,
    /// Document-frequency cap: shingles and fingerprints in more documents than
    /// this are stock phrases and never tie articles together.
    pub max_df: usize,
    /// Boilerplate cap: text held by more than this many different stories
    /// (after a first clustering; a singleton is a story of its own) is
    /// template, not reused copy, and counts as a stock phrase. 0 turns it off.
    pub max_stories: usize,
    /// Minimum shared fingerprints for a passage-index candidate.
    pub min_fingerprints: u32,
    /// Minimum words of shared passages, in each article, for a partial-reuse edge.
    pub min_shared_words: u32,
    /// Minimum share of the shorter article covered by shared passages.
    pub min_coverage: f64,
    /// Two groups merge while more than this share of their article pairs are verified edges.
    pub min_linkage: f64,
    /// Two groups merge only if their cross pairs are at least this strong,
    /// relative to the mean pair strength inside the tighter group.
    pub coherence: f64,
    /// Words of a verbatim shared passage that make a pair a story on its own
    /// (weaker pairs only attach articles to a story).
    pub strong_words: u32,
    /// Share of the shorter article covered by shared passages that makes a
    /// pair a story on its own (OCR-damaged copies have short runs but cover much).
    pub strong_coverage: f64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            extensions: vec!["txt".into()],
            ocr_fold: true,
            max_file_bytes: 64 << 20,
            shingle: 5,
            window: 4,
            num_perm: 128,
            threshold: 0.5,
            seed: 0,
            max_df: 100,
            max_stories: 2,
            min_fingerprints: 2,
            min_shared_words: 15,
            min_coverage: 0.05,
            min_linkage: 0.5,
            coherence: 0.4,
            strong_words: 20,
            strong_coverage: 0.5,
        }
    }
}

impl Config {
    /// Checks every parameter's range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |name, expected, got: String| {
            Err(ConfigError::OutOfRange {
                name,
                expected,
                got,
            })
        };
        if !(1..=load::MAX_FILE_BYTES).contains(&self.max_file_bytes) {
            return bad(
                "--max-file-size",
                "between 1 byte and 1 GiB",
                self.max_file_bytes.to_string(),
            );
        }
        if !(1..=16).contains(&self.shingle) {
            return bad("--shingle", "between 1 and 16", self.shingle.to_string());
        }
        if !(1..=64).contains(&self.window) {
            return bad("--window", "between 1 and 64", self.window.to_string());
        }
        if !(1..=1024).contains(&self.num_perm) {
            return bad(
                "--num-perm",
                "between 1 and 1024",
                self.num_perm.to_string(),
            );
        }
        if !(self.threshold > 0.0 && self.threshold <= 1.0) {
            return bad("--threshold", "in (0, 1]", self.threshold.to_string());
        }
        if self.max_df < 2 {
            return bad("--max-df", "at least 2", self.max_df.to_string());
        }
        if !(0.0..=1.0).contains(&self.min_coverage) {
            return bad("--min-coverage", "in [0, 1]", self.min_coverage.to_string());
        }
        if !(0.0..1.0).contains(&self.min_linkage) {
            return bad("--min-linkage", "in [0, 1)", self.min_linkage.to_string());
        }
        if !(0.0..=1.0).contains(&self.strong_coverage) {
            return bad(
                "--strong-coverage",
                "in [0, 1]",
                self.strong_coverage.to_string(),
            );
        }
        if !(0.0..=1.0).contains(&self.coherence) {
            return bad("--coherence", "in [0, 1]", self.coherence.to_string());
        }
        Ok(())
    }

    /// The clustering parameters.
    pub fn cluster_params(&self) -> cluster::ClusterParams {
        cluster::ClusterParams {
            min_linkage: self.min_linkage,
            coherence: self.coherence,
        }
    }

    /// The LSH bands × rows these parameters imply.
    pub fn bands_rows(&self) -> minhash::BandsRows {
        minhash::optimal_bands_rows(self.threshold, self.num_perm)
    }

    /// The tokenizer these parameters imply.
    pub fn tokenizer(&self) -> tokenize::Tokenizer {
        tokenize::Tokenizer {
            seed: hash::Seeds::new(self.seed).token,
            ocr_fold: self.ocr_fold,
        }
    }

    /// The verification thresholds.
    pub fn verify_params(&self) -> verify::VerifyParams {
        verify::VerifyParams {
            shingle: self.shingle,
            jaccard: self.threshold,
            min_shared_words: self.min_shared_words,
            min_coverage: self.min_coverage,
        }
    }
}

/// One input article.
#[derive(Clone, Debug)]
pub struct Document {
    /// Its path as found.
    pub path: PathBuf,
    /// Its first non-empty line, trimmed (at most 120 characters).
    pub title: String,
    /// Number of words (tokens).
    pub words: u32,
    /// Size in bytes.
    pub bytes: u64,
    /// How it was decoded.
    pub encoding: load::Encoding,
    /// Its text node: identical texts (same normalised words) share one. `None` for empty texts.
    pub node: Option<u32>,
}

/// A member of a story.
#[derive(Clone, Debug)]
pub struct StoryMember {
    /// Index into [`Outcome::documents`].
    pub doc: u32,
    /// Other members it has a verified edge with (identical copies included).
    pub links: u32,
    /// Mean strength of those edges (coverage or Jaccard, 0..=1).
    pub strength: f64,
    /// Words of it inside passages shared with other members.
    pub shared_words: u32,
}

/// A story: articles that reuse the same copy.
#[derive(Clone, Debug)]
pub struct Story {
    /// Stable id: 16 hex digits of the smallest text hash among its members.
    pub id: String,
    /// Members in input order.
    pub members: Vec<StoryMember>,
    /// Shared passages, most widely shared first.
    pub passages: Vec<passages::Passage>,
}

/// Counts and timings of a run.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Stats {
    /// Files found.
    pub files: u64,
    /// Articles read.
    pub documents: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Distinct texts.
    pub distinct_texts: u64,
    /// Shingles over the document-frequency cap, or boilerplate.
    pub stock_shingles: u64,
    /// Shingles found to be boilerplate (held by more than `max_stories` stories).
    pub boilerplate_shingles: u64,
    /// What the candidate stage did.
    pub candidates: candidates::CandidateStats,
    /// Verified edges.
    pub edges: u64,
    /// Stories of two or more articles.
    pub stories: u64,
    /// Articles in such stories.
    pub documents_in_stories: u64,
    /// Articles in no story.
    pub singletons: u64,
    /// Problems met (files skipped or not re-read).
    pub errors: u64,
    /// Wall time per stage in milliseconds.
    pub timings_ms: Timings,
    /// Bytes of intermediate data written to the temporary file. Not in the
    /// JSON output, which does not depend on `--spill-after`.
    #[serde(skip)]
    pub spilled_bytes: u64,
}

/// Wall time per stage in milliseconds.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Timings {
    /// Finding the files.
    pub discover: u64,
    /// Reading, tokenising, shingling, sketching.
    pub sketch: u64,
    /// Candidate pairs.
    pub candidates: u64,
    /// Verification.
    pub verify: u64,
    /// Clustering.
    pub cluster: u64,
    /// Finding boilerplate, then verifying and clustering again.
    pub boilerplate: u64,
    /// Passages.
    pub passages: u64,
    /// Whole run.
    pub total: u64,
}

/// Everything a run found.
#[derive(Debug)]
pub struct Outcome {
    /// The parameters in force.
    pub config: Config,
    /// LSH bands × rows in force.
    pub bands_rows: minhash::BandsRows,
    /// Articles read, in natural order.
    pub documents: Vec<Document>,
    /// Stories of two or more articles, largest first.
    pub stories: Vec<Story>,
    /// Problems met; each names its file. The run went on without it.
    pub errors: Vec<LoadError>,
    /// Counts and timings.
    pub stats: Stats,
    /// Scores against gold labels, when labels were given.
    pub evaluation: Option<evaluate::Evaluation>,
    /// What computing the passages needs, when the run left them to be
    /// computed as the stories are written ([`run_streaming`]).
    pub(crate) pending: Option<Pending>,
}

/// What a run keeps to compute its stories' passages later, story by story.
#[derive(Debug)]
pub(crate) struct Pending {
    node_weight: Vec<u64>,
    node_content: Vec<u64>,
    edges: std::collections::HashMap<(u32, u32), f64>,
    stock: verify::Stock,
    /// Nodes of each story.
    nodes: Vec<Vec<u32>>,
    shingle_seed: u64,
    /// Problems met while computing passages, in story order.
    late: std::sync::Mutex<Vec<LoadError>>,
    /// Time spent computing passages, in milliseconds.
    ms: std::sync::atomic::AtomicU64,
    /// Where the progress of computing them goes.
    progress: ProgressSlot,
    /// The sketch stage's sequences, for the passage stage.
    sketched: Option<KeptSketches>,
    /// Members' files that had to be waited for (once a batch had enough,
    /// the members of the batches of stories to come are read ahead).
    cold: load::Cold,
}

/// The sketch stage's shingle sequences and text hashes, owned (see
/// [`SketchedStore`]).
struct KeptSketches {
    seqs: store::Sequences,
    text_hash: Vec<Option<u64>>,
}

impl KeptSketches {
    fn view(&self) -> SketchedStore<'_> {
        SketchedStore {
            seqs: &self.seqs,
            text_hash: &self.text_hash,
        }
    }
}

impl std::fmt::Debug for KeptSketches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeptSketches")
            .field("documents", &self.text_hash.len())
            .finish_non_exhaustive()
    }
}

/// A progress receiver kept for the pending passages.
#[derive(Default)]
struct ProgressSlot(Option<Box<dyn Progress + Send>>);

impl std::fmt::Debug for ProgressSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "progress" } else { "none" })
    }
}

/// Stories whose passages are computed together, in parallel, when written.
const STORY_BATCH: usize = 512;

/// `make(i)` for each of `n` stories, in order: in batches of
/// [`STORY_BATCH`], each made in parallel. Once enough members' files had to be
/// waited for (`cold`), the files `paths(range)` of the batch after are read
/// ahead while a batch is made (see `load::Prefetch`).
fn stories_in_batches<T: Send>(
    n: usize,
    cold: &load::Cold,
    paths: impl Fn(std::ops::Range<usize>) -> Vec<PathBuf>,
    make: impl Fn(usize) -> T + Sync + Send,
) -> Vec<T> {
    let mut prefetch = load::Prefetch::new();
    let mut out = Vec::with_capacity(n);
    let mut batches = (0..n)
        .step_by(STORY_BATCH)
        .map(|start| start..(start + STORY_BATCH).min(n))
        .peekable();
    while let Some(batch) = batches.next() {
        prefetch.keep_ahead(
            cold,
            || paths(batch.clone()),
            || batches.peek().map_or_else(Vec::new, |b| paths(b.clone())),
        );
        out.par_extend(batch.into_par_iter().map(&make));
    }
    out
}

/// A batch of stories ready to be written: each story (made now when its
/// passages were pending) and what the renderer made of it.
type Rendered<'a, T> = Vec<(std::borrow::Cow<'a, Story>, T)>;

impl Outcome {
    /// The files of the members of stories `r`.
    fn member_paths(&self, r: std::ops::Range<usize>) -> Vec<PathBuf> {
        self.stories[r]
            .iter()
            .flat_map(|s| &s.members)
            .map(|m| self.documents[m.doc as usize].path.clone())
            .collect()
    }

    fn pending_story(&self, p: &Pending, i: usize) -> (Story, Vec<LoadError>) {
        let ctx = StoryContext {
            documents: &self.documents,
            node_weight: &p.node_weight,
            node_content: &p.node_content,
            edges: &p.edges,
            stock: &p.stock,
            data: None,
            cold: Some(&p.cold),
            sketched: p.sketched.as_ref().map(KeptSketches::view),
            cfg: &self.config,
            shingle_seed: p.shingle_seed,
        };
        let docs: Vec<u32> = self.stories[i].members.iter().map(|m| m.doc).collect();
        make_story(&ctx, &p.nodes[i], &docs, true)
    }

    /// Story `i` with its passages, computed now if the run left them
    /// pending (a problem met is reported when the story is written).
    pub fn story(&self, i: usize) -> std::borrow::Cow<'_, Story> {
        match &self.pending {
            None => std::borrow::Cow::Borrowed(&self.stories[i]),
            Some(p) => std::borrow::Cow::Owned(self.pending_story(p, i).0),
        }
    }

    /// Reports the progress of computing pending passages to `progress`
    /// (its `finish` is called when the last story has been visited).
    pub fn report_progress_to(&mut self, progress: Box<dyn Progress + Send>) {
        if let Some(p) = &mut self.pending {
            p.progress = ProgressSlot(Some(progress));
        }
    }

    /// Calls `f` with every story and its passages, in order. Pending
    /// passages are computed a batch of stories at a time, in parallel, and
    /// dropped after `f`: memory holds two batches (the one `f` is given
    /// and the next), not every passage.
    pub fn for_each_story<E>(
        &self,
        mut f: impl FnMut(usize, &Story) -> Result<(), E>,
    ) -> Result<(), E> {
        self.for_each_story_rendered(|_, _| (), |i, s, ()| f(i, s))
    }

    /// Like [`Outcome::for_each_story`], with `render` called first on each
    /// story of a batch in parallel (say, to serialise it), and `sink` then
    /// called in order with the story and what `render` made of it.
    ///
    /// `sink` runs on the calling thread (it may hold what cannot move
    /// between threads, such as a locked stdout) while the next batch is
    /// made on the worker threads, so that the two overlap: writing a
    /// batch's JSON no longer leaves the workers waiting.
    pub fn for_each_story_rendered<T: Send, E>(
        &self,
        render: impl Fn(usize, &Story) -> T + Sync,
        mut sink: impl FnMut(usize, &Story, T) -> Result<(), E>,
    ) -> Result<(), E> {
        let progress: &dyn Progress =
            match self.pending.as_ref().and_then(|p| p.progress.0.as_ref()) {
                Some(b) => b.as_ref(),
                None => &NoProgress,
            };
        if self.pending.is_some() {
            progress.stage("passages", self.stories.len() as u64);
        }
        // One batch (the problems met making its stories are noted).
        let make = |r: std::ops::Range<usize>| -> Rendered<'_, T> {
            match &self.pending {
                None => r
                    .into_par_iter()
                    .map(|i| {
                        let s = &self.stories[i];
                        (std::borrow::Cow::Borrowed(s), render(i, s))
                    })
                    .collect(),
                Some(p) => {
                    progress.advance(r.len() as u64);
                    let t = Instant::now();
                    let done: Vec<(Story, Vec<LoadError>, T)> = r
                        .into_par_iter()
                        .map(|i| {
                            let (s, errs) = self.pending_story(p, i);
                            let t = render(i, &s);
                            (s, errs, t)
                        })
                        .collect();
                    p.ms.fetch_add(ms(t), std::sync::atomic::Ordering::Relaxed);
                    let mut late = p.late.lock().unwrap_or_else(|e| e.into_inner());
                    done.into_iter()
                        .map(|(s, errs, t)| {
                            late.extend(errs);
                            (std::borrow::Cow::Owned(s), t)
                        })
                        .collect()
                }
            }
        };
        let n = self.stories.len();
        let mut batches = (0..n)
            .step_by(STORY_BATCH)
            .map(|start| start..(start + STORY_BATCH).min(n))
            .peekable();
        let mut ready: Option<(usize, Rendered<'_, T>)> = None;
        // Members' files not in memory are read ahead, a batch ahead (see
        // `load::Prefetch`).
        let mut prefetch = load::Prefetch::new();
        loop {
            let next = batches.next();
            if next.is_none() && ready.is_none() {
                break;
            }
            if let Some(p) = &self.pending {
                prefetch.keep_ahead(
                    &p.cold,
                    || next.clone().map_or_else(Vec::new, |r| self.member_paths(r)),
                    || {
                        batches
                            .peek()
                            .map_or_else(Vec::new, |r| self.member_paths(r.clone()))
                    },
                );
            }
            let make = &make;
            let (made, sunk) = std::thread::scope(|scope| {
                // (Without a thread to be had, the batch is made after the
                // writing, as it was before they overlapped.)
                let making = next.clone().map(|r| {
                    std::thread::Builder::new()
                        .spawn_scoped(scope, {
                            let r = r.clone();
                            move || make(r)
                        })
                        .map_err(|_| r)
                });
                let sunk = match ready.take() {
                    Some((start, stories)) => stories
                        .into_iter()
                        .enumerate()
                        .try_for_each(|(k, (s, t))| sink(start + k, &s, t)),
                    None => Ok(()),
                };
                let made = making.map(|m| match m {
                    Ok(h) => h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
                    Err(r) => make(r),
                });
                (made, sunk)
            });
            sunk?;
            ready = next.zip(made).map(|(r, m)| (r.start, m));
        }
        if self.pending.is_some() {
            progress.finish();
        }
        Ok(())
    }

    /// Computes and keeps every pending passage (for reports that need all
    /// of them at once, such as the HTML report). Returns the problems met.
    pub fn complete(&mut self) -> &[LoadError] {
        let before = self.errors.len();
        if let Some(p) = &self.pending {
            let t = Instant::now();
            let done = stories_in_batches(
                self.stories.len(),
                &p.cold,
                |r| self.member_paths(r),
                |i| self.pending_story(p, i),
            );
            let mut stories = Vec::with_capacity(done.len());
            let mut errs = Vec::new();
            for (s, e) in done {
                stories.push(s);
                errs.extend(e);
            }
            if let Some(b) = &p.progress.0 {
                b.finish();
            }
            self.stories = stories;
            self.stats.timings_ms.passages += ms(t);
            self.stats.timings_ms.total += ms(t);
            self.errors.extend(errs);
        }
        self.settle();
        &self.errors[before.min(self.errors.len())..]
    }

    /// Moves the problems met while writing pending passages to
    /// [`Outcome::errors`] and their time to the timings; returns the new
    /// problems. Stories keep no passages.
    pub fn settle(&mut self) -> &[LoadError] {
        let before = self.errors.len();
        if let Some(p) = self.pending.take() {
            let late = p.late.into_inner().unwrap_or_else(|e| e.into_inner());
            let t = p.ms.into_inner();
            self.stats.timings_ms.passages += t;
            self.stats.timings_ms.total += t;
            self.errors.extend(late);
            self.stats.errors = self.errors.len() as u64;
        }
        &self.errors[before..]
    }

    /// Problems met so far, counting those met while writing pending passages.
    pub fn error_count(&self) -> u64 {
        self.errors.len() as u64
            + self.pending.as_ref().map_or(0, |p| {
                p.late.lock().unwrap_or_else(|e| e.into_inner()).len() as u64
            })
    }

    /// Calls `f` with every problem met so far, pending passages' included.
    pub fn each_error(&self, mut f: impl FnMut(&LoadError)) {
        self.errors.iter().for_each(&mut f);
        if let Some(p) = &self.pending {
            p.late
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .for_each(f);
        }
    }

    /// The counts and timings so far, pending passages' problems and time
    /// included.
    pub fn stats_now(&self) -> Stats {
        let mut s = self.stats.clone();
        s.errors = self.error_count();
        s.timings_ms = self.timings();
        s
    }

    /// Timings so far, pending passages' included.
    pub fn timings(&self) -> Timings {
        let mut t = self.stats.timings_ms.clone();
        if let Some(p) = &self.pending {
            let ms = p.ms.load(std::sync::atomic::Ordering::Relaxed);
            t.passages += ms;
            t.total += ms;
        }
        t
    }
}

/// What the sketch stage keeps of one file.
pub(crate) struct Sketched {
    /// The article (not yet given a text node).
    pub document: Document,
    /// Hash of its normalised token sequence.
    pub content: u64,
    /// Its shingle hashes, in order.
    pub seq: Vec<u64>,
    /// [`hash::text`] of its decoded text, when it was read now (not for
    /// an article taken from an index).
    pub text_hash: Option<u64>,
}

/// One input of the pipeline: a file to read, or an article already
/// sketched (from an index; its file is read again only for passages).
pub(crate) enum Input {
    /// A file.
    File(PathBuf),
    /// An article already sketched.
    Stored(Sketched),
}

fn title_of(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let mut t: String = line.chars().take(120).collect();
    if line.chars().nth(120).is_some() {
        t.push('…');
    }
    t
}

/// The largest token buffers a thread keeps for the next article: this
/// many bytes of hashes, an eighth as many tokens (16 bytes each).
const KEPT_BUFFER_BYTES: usize = 1 << 21;

thread_local! {
    /// Each thread's tokens and their hashes' bytes, for [`sketch_text`].
    static SKETCH_BUFFERS: std::cell::RefCell<(Vec<tokenize::Token>, Vec<u8>)> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// Reads and sketches one file; `cold` as in [`load::read_noting`].
fn sketch_file(
    path: &std::path::Path,
    cfg: &Config,
    cold: Option<&load::Cold>,
) -> Result<Sketched, LoadError> {
    let text = load::read_noting(path, cfg.max_file_bytes, cold)?;
    Ok(sketch_text(path, &text, cfg))
}

/// Tokenizes and shingles one decoded file.
fn sketch_text(path: &std::path::Path, text: &load::Text, cfg: &Config) -> Sketched {
    let seeds = hash::Seeds::new(cfg.seed);
    // The tokens' hashes as little-endian bytes are what both the text's
    // hash (`hash::words`) and its shingles hash: made once, in buffers
    // each thread keeps from one article to the next.
    let (words, content, seq) = SKETCH_BUFFERS.with_borrow_mut(|(tokens, le)| {
        cfg.tokenizer().tokenize_into(&text.text, tokens);
        le.clear();
        le.reserve(tokens.len() * 8);
        for t in tokens.iter() {
            le.extend_from_slice(&t.hash.to_le_bytes());
        }
        let content = hash::bytes(le, seeds.shingle ^ 0xC0DE);
        let seq = shingle::shingles_of_le_bytes(le, cfg.shingle, seeds.shingle);
        let words = tokens.len() as u32;
        // A very long article's buffers are not kept.
        if le.capacity() > KEPT_BUFFER_BYTES || tokens.capacity() > KEPT_BUFFER_BYTES / 8 {
            (*tokens, *le) = (Vec::new(), Vec::new());
        }
        (words, content, seq)
    });
    let bytes = match text.encoding {
        load::Encoding::Utf8 => text.text.len() as u64,
        load::Encoding::Utf8Bom => text.text.len() as u64 + 3,
        load::Encoding::Windows1252 => text.file_offset(text.text.len()) as u64,
    };
    Sketched {
        document: Document {
            path: path.to_path_buf(),
            title: title_of(&text.text),
            words,
            bytes,
            encoding: text.encoding,
            node: None,
        },
        content,
        seq,
        text_hash: Some(hash::text(&text.text)),
    }
}

/// Verifies one pair of nodes `a < b`: the edge between them, if any.
fn verified_edge(
    sa: &verify::Shingled,
    sb: &verify::Shingled,
    stock: &verify::Stock,
    cfg: &Config,
    a: u32,
    b: u32,
) -> Option<cluster::Edge> {
    edge_from(&verify::overlap(sa, sb, stock, cfg.shingle), cfg, a, b)
}

/// The edge a measured overlap of nodes `a < b` makes, if any.
fn edge_from(o: &verify::Overlap, cfg: &Config, a: u32, b: u32) -> Option<cluster::Edge> {
    o.is_edge(&cfg.verify_params()).then_some(cluster::Edge {
        a,
        b,
        strength: o.strength(),
        strong: o.jaccard >= cfg.threshold
            || o.longest >= cfg.strong_words
            || o.coverage >= cfg.strong_coverage,
    })
}

/// The positions of a shingle sequence's fingerprints: winnowed, those in
/// `stock` left out.
fn fingerprint_positions<'a>(
    seq: &'a [u64],
    cfg: &Config,
    stock: &'a [u64],
) -> impl Iterator<Item = usize> + 'a {
    shingle::winnow(seq, cfg.window)
        .into_iter()
        .map(|p| p as usize)
        .filter(move |&p| !verify::contains(stock, seq[p]))
}

/// A node's distinct winnowed fingerprints (sorted), leaving out `stock`.
fn fingerprints_of(s: &verify::Shingled, cfg: &Config, stock: &[u64]) -> Vec<u64> {
    let mut f: Vec<u64> = fingerprint_positions(&s.seq, cfg, stock)
        .map(|p| s.seq[p])
        .collect();
    f.sort_unstable();
    f.dedup();
    f
}

/// A node's LSH band keys, one per band, from its distinct shingles (in any
/// order: a signature is a minimum per bin).
fn bands_of(
    set: &[u64],
    cfg: &Config,
    seeds: &hash::Seeds,
    bands_rows: minhash::BandsRows,
) -> Vec<u64> {
    let sig = minhash::signature(set, cfg.num_perm, seeds.minhash);
    minhash::band_keys(&sig, bands_rows, seeds.band)
}

/// Partitions of the hash space the stores split postings into (2^bits):
/// one partition's postings are sorted and counted at a time.
const PARTITION_BITS: u32 = 8;

/// The mark, in the id of a shingle's posting, of a shingle that is also
/// one of the article's fingerprints (ids of articles and nodes stay below
/// 2^31: a run of 2^31 articles would need terabytes of memory first).
const FINGERPRINT: u32 = 1 << 31;

/// The place of evidence that was not kept (see [`Verified`]).
const NOT_KEPT: usize = usize::MAX;

/// Verified edges, in the order of their pairs, each with whether its
/// evidence holds a widespread shingle; when asked for, each edge's kept
/// evidence, with the group of pairs whose `runs` hold its runs and where
/// they start there (`NOT_KEPT`: not kept, the budget for it spent).
struct Verified {
    edges: Vec<(cluster::Edge, bool)>,
    evidence: Vec<(verify::Evidence, u32, usize)>,
    runs: Vec<Vec<u8>>,
}

/// What one partition of the shingle postings gives.
struct PartitionCounts {
    /// Its shingles over the document-frequency cap.
    stock: Vec<u64>,
    /// The postings of its shingles in more than `max_stories` texts.
    wide: Vec<store::Posting>,
    /// The candidate pairs its fingerprints propose.
    pairs: Vec<u64>,
    /// Its distinct fingerprints.
    fingerprints: u64,
    /// Those over the cap.
    over_cap: u64,
}

/// The folder spilled data goes to.
fn spill_dir() -> PathBuf {
    store::spill_options().dir_or_default()
}

/// What the sketch stage computes of one article, before it goes to the
/// stores.
struct Sketch {
    document: Document,
    content: u64,
    /// Shingle hashes in order.
    seq: Vec<u64>,
    /// Distinct shingle hashes, in order of first occurrence.
    set: Vec<u64>,
    /// Whether each of `set` is one of its fingerprints (known stock left
    /// out).
    fingerprint: Vec<bool>,
    /// LSH band keys.
    bands: Vec<u64>,
    /// Its shingles that an index already knows as boilerplate.
    boilerplate: Vec<u64>,
    /// See [`Sketched::text_hash`].
    text_hash: Option<u64>,
}

impl Sketch {
    fn new(
        s: Sketched,
        cfg: &Config,
        seeds: &hash::Seeds,
        bands_rows: minhash::BandsRows,
        known: &KnownStock,
    ) -> Sketch {
        if s.document.words == 0 {
            return Sketch {
                document: s.document,
                content: s.content,
                seq: Vec::new(),
                set: Vec::new(),
                fingerprint: Vec::new(),
                bands: Vec::new(),
                boilerplate: Vec::new(),
                text_hash: s.text_hash,
            };
        }
        let (set, at) = shingle::distinct(&s.seq);
        // The same fingerprints as `fingerprints_of`, marked in the set.
        let mut fingerprint = vec![false; set.len()];
        for p in fingerprint_positions(&s.seq, cfg, &known.over_df) {
            fingerprint[at[p] as usize] = true;
        }
        let bands = bands_of(&set, cfg, seeds, bands_rows);
        let boilerplate = if known.boilerplate.is_empty() {
            Vec::new()
        } else {
            set.iter()
                .copied()
                .filter(|&h| verify::contains(&known.boilerplate, h))
                .collect()
        };
        Sketch {
            document: s.document,
            content: s.content,
            seq: s.seq,
            set,
            fingerprint,
            bands,
            boilerplate,
            text_hash: s.text_hash,
        }
    }
}

/// What an index looks up for one new article.
pub(crate) struct Probe {
    /// The article.
    pub document: Document,
    /// Hash of its normalised words.
    pub content: u64,
    /// Its fingerprints, stock left out.
    pub fingerprints: Vec<u64>,
    /// Its LSH band keys.
    pub bands: Vec<u64>,
    /// Its shingle hashes, in order.
    pub seq: Vec<u64>,
    /// See [`Sketched::text_hash`].
    pub text_hash: Option<u64>,
}

/// Reads and sketches one article for an index lookup.
pub(crate) fn probe_file(
    path: &std::path::Path,
    cfg: &Config,
    bands_rows: minhash::BandsRows,
    over_df: &[u64],
) -> Result<Probe, LoadError> {
    let seeds = hash::Seeds::new(cfg.seed);
    let s = sketch_file(path, cfg, None)?;
    let shingled = verify::Shingled::new(s.document.words, s.seq);
    Ok(Probe {
        fingerprints: fingerprints_of(&shingled, cfg, over_df),
        bands: bands_of(&shingled.set, cfg, &seeds, bands_rows),
        seq: shingled.seq,
        document: s.document,
        content: s.content,
        text_hash: s.text_hash,
    })
}

/// What the stories of one run share: their articles, nodes, verified
/// edges and stock phrases.
pub(crate) struct StoryContext<'a> {
    /// The articles (a story's `docs` index them).
    pub documents: &'a [Document],
    /// Articles each node stands for.
    pub node_weight: &'a [u64],
    /// Text hash of each node.
    pub node_content: &'a [u64],
    /// Strength of each verified edge, by its nodes (smaller first).
    pub edges: &'a std::collections::HashMap<(u32, u32), f64>,
    /// Stock phrases.
    pub stock: &'a verify::Stock,
    /// Bytes of each article when they were read elsewhere (by document).
    pub data: Option<&'a [Vec<u8>]>,
    /// Counts the members' files that had to be waited for.
    pub cold: Option<&'a load::Cold>,
    /// What the sketch stage kept of each article, when at hand.
    pub sketched: Option<SketchedStore<'a>>,
    /// The parameters.
    pub cfg: &'a Config,
    /// Seed of the shingle hashes.
    pub shingle_seed: u64,
}

/// The sketch stage's shingle sequences (one per document, in document
/// order) and text hashes, kept for the passage stage of a run that spilled
/// nothing; the sequences are lent from memory, never read back from the
/// temporary file (at random, that costs more than tokenizing).
#[derive(Clone, Copy)]
pub(crate) struct SketchedStore<'a> {
    pub seqs: &'a store::Sequences,
    pub text_hash: &'a [Option<u64>],
}

/// One story from its nodes and its articles (`docs` ascending): each
/// member's links and strength, the shared passages when `wanted` (the files
/// are read again), and its id, the smallest text hash of its nodes.
pub(crate) fn make_story(
    ctx: &StoryContext<'_>,
    nodes: &[u32],
    docs: &[u32],
    wanted: bool,
) -> (Story, Vec<LoadError>) {
    let documents = ctx.documents;
    // Each member's sketched sequence, when at hand in memory.
    let sketched = |d: u32| {
        let k = ctx.sketched?;
        Some(passages::Sketched {
            text_hash: (*k.text_hash.get(d as usize)?)?,
            words: documents[d as usize].words,
            seq: k.seqs.in_memory(d)?,
        })
    };
    let members: Vec<passages::Member<'_>> = docs
        .iter()
        .map(|&d| passages::Member {
            path: &documents[d as usize].path,
            node: documents[d as usize].node.expect("story members have text"),
            data: ctx.data.map(|data| data[d as usize].as_slice()),
            cold: ctx.cold,
            sketched: sketched(d),
        })
        .collect();
    let sp = if wanted {
        passages::story_passages(&members, ctx.stock, ctx.cfg, ctx.shingle_seed)
    } else {
        passages::StoryPassages {
            shared_words: vec![0; members.len()],
            ..passages::StoryPassages::default()
        }
    };
    let story_members = docs
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            let n = documents[d as usize].node.expect("text");
            let mut links = ctx.node_weight[n as usize] as u32 - 1;
            let mut strength = links as f64;
            for &m in nodes {
                if m == n {
                    continue;
                }
                if let Some(&s) = ctx.edges.get(&(n.min(m), n.max(m))) {
                    links += ctx.node_weight[m as usize] as u32;
                    strength += s * ctx.node_weight[m as usize] as f64;
                }
            }
            StoryMember {
                doc: d,
                links,
                strength: if links == 0 {
                    0.0
                } else {
                    strength / links as f64
                },
                shared_words: sp.shared_words[i],
            }
        })
        .collect();
    let id = nodes
        .iter()
        .map(|&n| ctx.node_content[n as usize])
        .min()
        .unwrap_or(0);
    (
        Story {
            id: format!("{id:016x}"),
            members: story_members,
            passages: sp.passages,
        },
        sp.errors,
    )
}

/// The records read back from a store, a problem met on the way given to
/// `note` (the records read before it are kept).
fn noted<R>(
    (read, err): (Vec<R>, Option<std::io::Error>),
    note: &impl Fn(std::io::Error),
) -> Vec<R> {
    if let Some(e) = err {
        note(e);
    }
    read
}

/// A sequence read back from the store, or an empty one when it could not
/// be, the problem given to `note`.
fn or_empty<'a>(read: std::io::Result<&'a [u64]>, note: &impl Fn(std::io::Error)) -> &'a [u64] {
    read.unwrap_or_else(|e| {
        note(e);
        &[]
    })
}

fn ms(t: Instant) -> u64 {
    t.elapsed().as_millis() as u64
}

/// Runs the whole pipeline on `paths` (folders and files).
///
/// Problems with single files are collected in [`Outcome::errors`]; the run
/// goes on for the rest. Fails only on an invalid configuration.
pub fn run(paths: &[PathBuf], cfg: &Config) -> Result<Outcome, ConfigError> {
    run_with_progress(paths, cfg, &NoProgress)
}

/// Receives progress reports from a run (from several threads at once).
pub trait Progress: Sync {
    /// A stage of `total` steps begins.
    fn stage(&self, name: &'static str, total: u64);
    /// `n` more steps of the current stage are done.
    fn advance(&self, n: u64);
    /// The run is over.
    fn finish(&self) {}
}

/// A [`Progress`] that reports nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn stage(&self, _: &'static str, _: u64) {}
    fn advance(&self, _: u64) {}
}

/// [`run`], reporting progress: reading, verifying and the passages.
pub fn run_with_progress(
    paths: &[PathBuf],
    cfg: &Config,
    progress: &dyn Progress,
) -> Result<Outcome, ConfigError> {
    let mut outcome = run_streaming(paths, cfg, progress)?;
    outcome.complete();
    Ok(outcome)
}

/// [`run_with_progress`], leaving the passages to be computed as the
/// stories are visited with [`Outcome::for_each_story`] (or
/// [`Outcome::complete`]): a run over a million articles then never holds
/// every passage at once. Until then, stories have their members and links
/// but no passages, and `shared_words` is 0.
pub fn run_streaming(
    paths: &[PathBuf],
    cfg: &Config,
    progress: &dyn Progress,
) -> Result<Outcome, ConfigError> {
    cfg.validate()?;
    let t = Instant::now();
    let (files, errors) = load::discover(paths, &cfg.extensions);
    let discover = ms(t);
    let inputs: Vec<Input> = files.into_iter().map(Input::File).collect();
    let (mut outcome, _) = pipeline(
        inputs,
        errors,
        cfg,
        &KnownStock::default(),
        false,
        Passages::Later,
        progress,
    );
    outcome.stats.timings_ms.discover = discover;
    outcome.stats.timings_ms.total += discover;
    Ok(outcome)
}

/// What an index knows of its archive: stock phrases, and the verified
/// edges between archive texts.
#[derive(Clone, Debug, Default)]
pub(crate) struct KnownStock {
    /// Shingles over the document-frequency cap (sorted, distinct).
    pub over_df: Vec<u64>,
    /// Shingles found to be boilerplate (sorted, distinct).
    pub boilerplate: Vec<u64>,
    /// Text hashes of archive texts whose verified edges among themselves
    /// are all in `edges`: those pairs are taken, not verified again.
    pub archive: std::collections::HashSet<u64>,
    /// Verified edges between archive texts, by text hashes (smaller
    /// first): as first verified (strength, strong), and as kept after the
    /// boilerplate pass (`None`: dropped).
    pub edges: std::collections::HashMap<(u64, u64), KnownEdge>,
}

/// An edge as an index keeps it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KnownEdge {
    /// Strength and strong, as first verified.
    pub first: (f64, bool),
    /// The same after the boilerplate pass; `None` when it was dropped.
    pub last: Option<(f64, bool)>,
}

/// What a run computed on the way, kept for an index.
pub(crate) struct Internals {
    /// Text hash of each node.
    pub node_content: Vec<u64>,
    /// Words of each node.
    pub node_words: Vec<u32>,
    /// Distinct fingerprints of each node (sorted).
    pub fingerprints: Vec<Vec<u64>>,
    /// LSH band keys of each node (one per band).
    pub bands: Vec<Vec<u64>>,
    /// Verified edges between nodes.
    pub edges: Vec<cluster::Edge>,
    /// The edges as first verified, before the boilerplate pass.
    pub first_edges: Vec<cluster::Edge>,
    /// Shingle sequence of each node.
    pub seqs: Vec<Vec<u64>>,
    /// Shingles over the document-frequency cap in this input (sorted).
    pub over_df: Vec<u64>,
    /// Shingles found to be boilerplate in this input (sorted).
    pub boilerplate: Vec<u64>,
}

/// Which stories get their passages in [`pipeline`].
pub(crate) enum Passages<'a> {
    /// All, now.
    All,
    /// Only stories holding one of these paths (the others keep none), now.
    For(&'a std::collections::HashSet<PathBuf>),
    /// All, later, as they are written ([`Outcome::for_each_story`]).
    Later,
}

/// The pipeline after discovery. `known` adds stock phrases from outside the
/// input; with `keep`, the node-level data an index keeps is returned too;
/// `passages` says which stories get their passages, and when.
pub(crate) fn pipeline(
    inputs: Vec<Input>,
    mut errors: Vec<LoadError>,
    cfg: &Config,
    known: &KnownStock,
    keep: bool,
    passages: Passages<'_>,
    progress: &dyn Progress,
) -> (Outcome, Option<Internals>) {
    let t_all = Instant::now();
    let seeds = hash::Seeds::new(cfg.seed);
    let bands_rows = cfg.bands_rows();
    let mut stats = Stats {
        files: inputs.len() as u64,
        ..Stats::default()
    };

    // Read, tokenize, shingle, sketch: in batches (parallel inside, order
    // kept), each article's results appended to the run's stores, so that
    // what stays in memory is per article, not per byte of text.
    let t = Instant::now();
    progress.stage("reading", inputs.len() as u64);
    let n_inputs = inputs.len();
    let mut disk = store::Disk::new(store::spill_options());
    let mut seqs = store::Sequences::new();
    // One posting per distinct shingle of each article; those that are
    // also its fingerprints carry `FINGERPRINT` in their id, so the
    // document frequencies and the passage index come from one store.
    let mut df_postings = store::OrderedPostings::new(PARTITION_BITS);
    let mut documents: Vec<Document> = Vec::with_capacity(n_inputs);
    let mut doc_distinct: Vec<u32> = Vec::with_capacity(n_inputs);
    let mut text_hash: Vec<Option<u64>> = Vec::with_capacity(n_inputs);
    let mut doc_bands: Vec<u64> = Vec::new();
    let mut doc_band_at: Vec<u32> = Vec::with_capacity(n_inputs + 1);
    let mut contents: Vec<(u64, u32)> = Vec::new();
    let mut known_boilerplate: Vec<u64> = Vec::new();
    let batch = (rayon::current_num_threads() * 256).max(1024);
    let mut inputs = inputs.into_iter();
    // Files not in memory are read ahead from the batch after the one that
    // met enough of them (see `load::Prefetch`).
    let mut prefetch = load::Prefetch::new();
    let cold = load::Cold::default();
    let paths_of = |chunk: &[Input]| -> Vec<PathBuf> {
        chunk
            .iter()
            .filter_map(|i| match i {
                Input::File(p) => Some(p.clone()),
                Input::Stored(_) => None,
            })
            .collect()
    };
    let sketch_batch = |chunk: Vec<Input>| -> Vec<Result<Sketch, LoadError>> {
        chunk
            .into_par_iter()
            .map(|input| {
                let r = match input {
                    Input::File(p) => sketch_file(&p, cfg, Some(&cold)),
                    Input::Stored(s) => Ok(s),
                };
                progress.advance(1);
                r.map(|s| Sketch::new(s, cfg, &seeds, bands_rows, known))
            })
            .collect()
    };
    // One batch is appended (one thread) while the next is sketched, and
    // the one after is known, to be read ahead.
    let mut done: Vec<Result<Sketch, LoadError>> = Vec::new();
    let mut after: Vec<Input> = inputs.by_ref().take(batch).collect();
    loop {
        let chunk = std::mem::replace(&mut after, inputs.by_ref().take(batch).collect());
        if chunk.is_empty() && done.is_empty() {
            break;
        }
        prefetch.keep_ahead(&cold, || paths_of(&chunk), || paths_of(&after));
        let append = || {
            for r in done {
                match r {
                    Ok(s) => {
                        let d = documents.len() as u32;
                        if s.document.words > 0 {
                            contents.push((s.content, d));
                        }
                        seqs.push(&mut disk, &s.seq);
                        // (The partitions are sorted when read: the
                        // order of an article's postings does not matter.)
                        for (&h, &f) in s.set.iter().zip(&s.fingerprint) {
                            let flag = if f { FINGERPRINT } else { 0 };
                            df_postings.push(&mut disk, h, d | flag);
                        }
                        doc_band_at.push(doc_bands.len() as u32);
                        doc_bands.extend_from_slice(&s.bands);
                        doc_distinct.push(s.set.len() as u32);
                        text_hash.push(s.text_hash);
                        known_boilerplate.extend_from_slice(&s.boilerplate);
                        documents.push(s.document);
                    }
                    Err(e) => errors.push(e),
                }
            }
        };
        done = rayon::join(append, || sketch_batch(chunk)).1;
    }
    // (Waits for the reading ahead to stop: at most the batch left.)
    drop(prefetch);
    doc_band_at.push(doc_bands.len() as u32);
    seqs.finish();
    known_boilerplate.sort_unstable();
    known_boilerplate.dedup();
    stats.documents = documents.len() as u64;
    stats.bytes = documents.iter().map(|d| d.bytes).sum();

    // Identical texts become one node, numbered in the order of their text
    // hash: every later tie is broken by node number, so stories do not
    // depend on the order of the files.
    contents.sort_unstable();
    let mut node_rep: Vec<u32> = Vec::new(); // node -> representative doc
    let mut node_weight: Vec<u64> = Vec::new();
    let mut node_content: Vec<u64> = Vec::new();
    // Doc -> its node if it is the node's representative (postings of the
    // other copies of a text are left out: a node counts once).
    let mut rep_node: Vec<u32> = vec![u32::MAX; documents.len()];
    for (n, r) in candidates::equal_runs(&contents, |c| c.0).enumerate() {
        let docs = &contents[r];
        for &(_, d) in docs {
            documents[d as usize].node = Some(n as u32);
        }
        rep_node[docs[0].1 as usize] = n as u32;
        node_rep.push(docs[0].1);
        node_weight.push(docs.len() as u64);
        node_content.push(docs[0].0);
    }
    drop(contents);
    stats.distinct_texts = node_rep.len() as u64;
    let node_side = |n: u32, seq: &'_ [u64]| -> (u32, u32) {
        let rep = node_rep[n as usize] as usize;
        // (A sequence that could not be read back is empty.)
        debug_assert!(seq.is_empty() || seqs.len_of(rep as u32) == seq.len());
        (documents[rep].words, doc_distinct[rep])
    };
    let read_error: std::sync::Mutex<Option<std::io::Error>> = std::sync::Mutex::new(None);
    let note_read_error = |e: std::io::Error| {
        read_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert(e);
    };
    // Partition `p` of a store (a problem reading it back is noted).
    let read_part = |disk: &store::Disk, postings: &store::Postings, p: usize| {
        noted(postings.read(disk, p), &note_read_error)
    };
    // A partition of a store of (hash, doc) postings as (hash, node)
    // postings, sorted by hash (the nodes of a hash in no order); the other
    // copies of a text are left out (a node counts once). The `FINGERPRINT`
    // mark is kept. Most shingles held by one node only are left out too,
    // and given as how many of them are fingerprints.
    let node_part = |reader: &store::Reader, part: &store::Partition<store::Ordered>| {
        let v = noted(part.read(reader), &note_read_error);
        // (`Ordered` wraps a posting: the vector is reused in place.)
        let mut v: Vec<store::Posting> = v
            .into_iter()
            .filter_map(|store::Ordered((h, d))| {
                let n = rep_node[(d & !FINGERPRINT) as usize];
                (n != u32::MAX).then_some((h, n | (d & FINGERPRINT)))
            })
            .collect();
        // (A shingle of one text only is left out, its fingerprints counted.)
        let mut single_fingerprints = 0u64;
        store::sort_postings(&mut v, PARTITION_BITS, |p| {
            single_fingerprints += u64::from(p.1 & FINGERPRINT != 0);
        });
        (v, single_fingerprints)
    };

    // Document frequency of every shingle, over distinct texts, one hash
    // partition at a time. Shingles over the cap are stock; those in more
    // texts than `max_stories` may be boilerplate, which is decided after a
    // first clustering: their postings are kept for it.
    //
    // The same partition's fingerprints (the marked postings) are the
    // passage index: the pairs of nodes sharing one are candidates. The pairs
    // grow with the square of the corpus (a million articles: about a
    // hundred million, most proposed once), so they go to a store, by ranges
    // of their first node, and are counted one range at a time.
    let mut stock: Vec<u64> = Vec::new();
    let mut widespread = store::Postings::new(PARTITION_BITS);
    let mut wide_hashes: Vec<u64> = Vec::new();
    let mut cstats = candidates::CandidateStats::default();
    let mut pair_store: store::Store<u64> = store::Store::new(PARTITION_BITS);
    let pair_parts = pair_store.partitions() as u64;
    let n_nodes = node_rep.len().max(1) as u64;
    let parts: Vec<usize> = (0..df_postings.partitions()).collect();
    let mut groups = parts.chunks(rayon::current_num_threads().max(1) * 2);
    // One group's results are written to the stores (one thread) while the
    // next group is counted.
    let mut done: Vec<PartitionCounts> = Vec::new();
    loop {
        // Taken out of the store, a partition's memory is freed once read:
        // the stores written here take its place.
        let taken: Vec<store::Partition<store::Ordered>> = groups
            .next()
            .unwrap_or_default()
            .iter()
            .map(|&p| df_postings.take(&mut disk, p))
            .collect();
        if taken.is_empty() && done.is_empty() {
            break;
        }
        let reader = disk.reader();
        let merge = || {
            for c in done {
                stock.extend(c.stock);
                for (h, n) in c.wide {
                    if wide_hashes.last() != Some(&h) {
                        wide_hashes.push(h);
                    }
                    widespread.push(&mut disk, h, n);
                }
                cstats.fingerprints += c.fingerprints;
                cstats.fingerprints_over_df_cap += c.over_cap;
                for pair in c.pairs {
                    let part = ((pair >> 32) * pair_parts / n_nodes) as usize;
                    pair_store.push_to(&mut disk, part, pair);
                }
            }
        };
        let count = || {
            taken
                .into_par_iter()
                .map(|part| {
                    let (all, mut fingerprints) = node_part(&reader, &part);
                    drop(part);
                    let mut stock = Vec::new();
                    let mut wide = Vec::new();
                    let (mut pairs, mut over_cap) = (Vec::new(), 0u64);
                    let mut nodes: Vec<u32> = Vec::new();
                    for r in candidates::equal_runs(&all, |p| p.0) {
                        let run = &all[r];
                        if run.len() > cfg.max_df {
                            stock.push(run[0].0);
                        } else if cfg.max_stories > 0 && run.len() > cfg.max_stories {
                            wide.extend(run.iter().map(|&(h, n)| (h, n & !FINGERPRINT)));
                        }
                        // The nodes holding it as a fingerprint (the marked
                        // postings): the passage index.
                        nodes.clear();
                        nodes.extend(
                            run.iter()
                                .filter(|p| p.1 & FINGERPRINT != 0)
                                .map(|p| p.1 & !FINGERPRINT),
                        );
                        if !nodes.is_empty() {
                            fingerprints += 1;
                            over_cap +=
                                candidates::fingerprint_pairs(&mut nodes, cfg.max_df, &mut pairs)
                                    as u64;
                        }
                    }
                    drop(all);
                    PartitionCounts {
                        stock,
                        wide,
                        pairs,
                        fingerprints,
                        over_cap,
                    }
                })
                .collect()
        };
        done = rayon::join(merge, count).1;
    }
    drop(df_postings);
    // The widespread shingles: only an edge whose evidence holds one can
    // change in the boilerplate pass.
    let wide_set = verify::Stock::new(wide_hashes);
    // This input's own stock, kept for an index (and to tell whether it
    // adds to the archive's).
    let local_over_df = if keep || !known.archive.is_empty() {
        stock.clone()
    } else {
        Vec::new()
    };
    if !known.over_df.is_empty() {
        stock.extend_from_slice(&known.over_df);
        stock.sort_unstable();
        stock.dedup();
    }
    stats.timings_ms.sketch = ms(t);

    // Candidates: the pairs of the passage index counted, then LSH band by
    // band.
    let t = Instant::now();
    let counted: Vec<(u64, u32)> = (0..pair_store.partitions())
        .into_par_iter()
        .map(|p| {
            let mut pairs = noted(pair_store.read(&disk, p), &note_read_error);
            candidates::count_pairs(&mut pairs, cfg.min_fingerprints)
        })
        .collect::<Vec<_>>()
        .concat();
    drop(pair_store);
    cstats.fingerprint_pairs = counted.len() as u64;
    let doc_bands_of =
        |d: usize| -> &[u64] { &doc_bands[doc_band_at[d] as usize..doc_band_at[d + 1] as usize] };
    let node_bands = |n: u32| doc_bands_of(node_rep[n as usize] as usize);
    // (The nodes' keys read in the order they were stored: by document.)
    let stored: Vec<(u32, &[u64])> = rep_node
        .iter()
        .enumerate()
        .filter(|&(_, &n)| n != u32::MAX)
        .map(|(d, &n)| (n, doc_bands_of(d)))
        .collect();
    let lsh = candidates::lsh_pairs(&stored, bands_rows.bands);
    drop(stored);
    cstats.lsh_pairs = lsh.len() as u64;
    let cands = candidates::merge(&counted, &lsh);
    drop(counted);
    drop(lsh);
    cstats.candidates = cands.len() as u64;
    stats.candidates = cstats;
    stats.timings_ms.candidates = ms(t);

    // Verify, cluster. The longer text of each pair is loaded (its shingles
    // into a table, once for all its partners) and the shorter walked
    // through it.
    let t = Instant::now();
    // With `reuse`, pairs of two archive texts take their stored edge:
    // `Some(false)` as first verified, `Some(true)` after the boilerplate pass.
    // With `wide`, each edge comes with whether its evidence holds one of
    // those shingles (an edge taken from an index: always), and with `keep`
    // the evidence of those that do is kept for the boilerplate pass.
    // The evidence kept takes at most a quarter of the spill budget; an
    // edge whose evidence finds it full is verified again in full instead
    // (which edges those are may vary with the threads; the result does not).
    let evidence_cap = (store::spill_options().budget / 4).min(usize::MAX as u64) as usize;
    let kept_bytes = std::sync::atomic::AtomicUsize::new(0);
    let verify_all = |pairs: &[(u32, u32)],
                      stock: &verify::Stock,
                      reuse: Option<bool>,
                      wide: Option<&verify::Stock>,
                      keep: bool|
     -> Verified {
        progress.stage("verifying", pairs.len() as u64);
        let len = |n: u32| seqs.len_of(node_rep[n as usize]);
        let mut order: Vec<(u32, u32)> = (0..pairs.len() as u32)
            .map(|i| {
                let (a, b) = pairs[i as usize];
                (if len(a) >= len(b) { a } else { b }, i)
            })
            .collect();
        order.par_sort_unstable();
        // A text with thousands of partners (a long post quoted all over a
        // newsgroup) is split into runs of at most `MOST` partners, each
        // loading it again, so that one thread does not finish the stage
        // alone.
        const MOST: usize = 256;
        let groups: Vec<std::ops::Range<usize>> = candidates::equal_runs(&order, |o| o.0)
            .flat_map(|r| {
                (r.start..r.end)
                    .step_by(MOST)
                    .map(move |s| s..(s + MOST).min(r.end))
            })
            .collect();
        // The groups are verified longest first (the loaded text once, and
        // every partner walked through it), so that the stage does not end
        // with one thread on a long group while the other waits.
        let mut schedule: Vec<(std::cmp::Reverse<u64>, usize)> = groups
            .iter()
            .enumerate()
            .map(|(g, r)| {
                let l = order[r.start].0;
                let partners: u64 = order[r.clone()]
                    .iter()
                    .map(|&(_, i)| {
                        let (a, b) = pairs[i as usize];
                        len(if a == l { b } else { a }) as u64
                    })
                    .sum();
                (std::cmp::Reverse(len(l) as u64 + partners), g)
            })
            .collect();
        schedule.par_sort_unstable();
        // Per group: its edges, with the place of their evidence in its runs.
        type Found = (u32, cluster::Edge, bool, verify::Evidence, usize);
        type GroupOut = (Vec<Found>, Vec<u8>);
        let mut per_group: Vec<(usize, GroupOut)> = schedule
            .par_iter()
            .map(|&(_, g)| (g, groups[g].clone()))
            .map_init(
                || (verify::PairVerifier::new(), Vec::new(), Vec::new()),
                |(verifier, seq_l, seq_o), (g, r)| {
                    progress.advance(r.len() as u64);
                    let l = order[r.start].0;
                    let mut loaded = false;
                    let mut out = Vec::new();
                    let mut runs = Vec::new();
                    for &(_, i) in &order[r.clone()] {
                        let (a, b) = pairs[i as usize];
                        let (ca, cb) = (node_content[a as usize], node_content[b as usize]);
                        if let Some(last) = reuse
                            && known.archive.contains(&ca)
                            && known.archive.contains(&cb)
                        {
                            out.extend(
                                known
                                    .edges
                                    .get(&(ca.min(cb), ca.max(cb)))
                                    .and_then(|k| if last { k.last } else { Some(k.first) })
                                    .map(|(strength, strong)| {
                                        (
                                            i,
                                            cluster::Edge {
                                                a,
                                                b,
                                                strength,
                                                strong,
                                            },
                                            true,
                                            verify::Evidence::default(),
                                            0,
                                        )
                                    }),
                            );
                            continue;
                        }
                        if !loaded {
                            let seq = or_empty(
                                seqs.view(&disk, node_rep[l as usize], seq_l),
                                &note_read_error,
                            );
                            let (tokens, distinct) = node_side(l, seq);
                            verifier.load(verify::SeqSide {
                                seq,
                                tokens,
                                distinct,
                            });
                            loaded = true;
                        }
                        let other = if l == a { b } else { a };
                        let seq_o = match seqs.view(&disk, node_rep[other as usize], seq_o) {
                            Ok(seq) => seq,
                            Err(e) => {
                                note_read_error(e);
                                continue;
                            }
                        };
                        let (tokens, distinct) = node_side(other, seq_o);
                        let o = verifier.measure_as(
                            verify::SeqSide {
                                seq: seq_o,
                                tokens,
                                distinct,
                            },
                            stock,
                            cfg.shingle,
                            l == b,
                        );
                        out.extend(edge_from(&o, cfg, a, b).map(|e| {
                            let flag =
                                wide.is_none_or(|w| verifier.evidence_any(|h| w.contains(h)));
                            let (mut ev, mut at) = (verify::Evidence::default(), NOT_KEPT);
                            if keep && flag {
                                at = runs.len();
                                ev = verifier.keep_evidence(l == b, &mut runs);
                                let n = ev.len();
                                if kept_bytes.fetch_add(n, Relaxed) + n > evidence_cap {
                                    kept_bytes.fetch_sub(n, Relaxed);
                                    runs.truncate(at);
                                    (ev, at) = (verify::Evidence::default(), NOT_KEPT);
                                }
                            }
                            (i, e, flag, ev, at)
                        }));
                    }
                    runs.shrink_to_fit();
                    (g, (out, runs))
                },
            )
            .collect();
        // Back in the order of the groups: what follows does not depend on
        // the schedule.
        per_group.sort_unstable_by_key(|p| p.0);
        let per_group: Vec<GroupOut> = per_group.into_iter().map(|p| p.1).collect();
        // The edges in the order of their pairs, by (pair, group, place).
        let mut found: Vec<(u32, u32, u32)> = per_group
            .iter()
            .enumerate()
            .flat_map(|(g, (out, _))| {
                (0..out.len() as u32).map(move |k| (out[k as usize].0, g as u32, k))
            })
            .collect();
        found.sort_unstable_by_key(|f| f.0);
        let mut v = Verified {
            edges: Vec::with_capacity(found.len()),
            evidence: Vec::with_capacity(if keep { found.len() } else { 0 }),
            runs: Vec::new(),
        };
        for (_, g, k) in found {
            let (_, e, flag, ev, at) = per_group[g as usize].0[k as usize];
            v.edges.push((e, flag));
            if keep {
                v.evidence.push((ev, g, at));
            }
        }
        if keep {
            v.runs = per_group.into_iter().map(|(_, runs)| runs).collect();
        }
        v
    };
    let pairs: Vec<(u32, u32)> = cands.iter().map(|c| (c.a, c.b)).collect();
    drop(cands);
    let stock_set = verify::Stock::new(std::mem::take(&mut stock));
    // Alone (no index), an edge's evidence is kept for the boilerplate pass.
    let alone = known.archive.is_empty() && known_boilerplate.is_empty();
    let first = verify_all(&pairs, &stock_set, Some(false), Some(&wide_set), alone);
    drop(wide_set);
    let may_change: Vec<bool> = first.edges.iter().map(|e| e.1).collect();
    let mut edges: Vec<cluster::Edge> = first.edges.into_iter().map(|e| e.0).collect();
    let (evidence, evidence_runs) = (first.evidence, first.runs);
    let mut stock = stock_set.into_sorted();
    drop(pairs);
    stats.timings_ms.verify = ms(t);
    let first_edges = if keep { edges.clone() } else { Vec::new() };
    let t = Instant::now();
    let mut groups = cluster::cluster(&node_weight, &edges, cfg.cluster_params());
    stats.timings_ms.cluster = ms(t);

    // Boilerplate: text held by more than `max_stories` different stories (a
    // singleton counts as its own story) is template, not reused copy. It is
    // added to the stock phrases and the pairs are verified and clustered again.
    let mut local_boilerplate: Vec<u64> = Vec::new();
    if widespread.len() > 0 || !known_boilerplate.is_empty() {
        let t = Instant::now();
        let mut story_of: Vec<u32> = (0..node_rep.len() as u32)
            .map(|n| groups.len() as u32 + n)
            .collect();
        for (g, nodes) in groups.iter().enumerate() {
            for &n in nodes {
                story_of[n as usize] = g as u32;
            }
        }
        // Per partition: the boilerplate shingles, and the nodes holding them.
        let per_part: Vec<(Vec<u64>, Vec<u32>)> = (0..widespread.partitions())
            .into_par_iter()
            .map(|p| {
                let wide = read_part(&disk, &widespread, p);
                let mut stories: Vec<u32> = Vec::new();
                let mut found = Vec::new();
                let mut holders = Vec::new();
                for r in candidates::equal_runs(&wide, |w| w.0) {
                    stories.clear();
                    stories.extend(wide[r.clone()].iter().map(|w| story_of[w.1 as usize]));
                    stories.sort_unstable();
                    stories.dedup();
                    if stories.len() > cfg.max_stories {
                        found.push(wide[r.start].0);
                        holders.extend(wide[r].iter().map(|w| w.1));
                    }
                }
                (found, holders)
            })
            .collect();
        drop(widespread);
        // Nodes holding some boilerplate of this input's own.
        let mut touched = vec![false; node_rep.len()];
        for (found, holders) in per_part {
            local_boilerplate.extend(found);
            for n in holders {
                touched[n as usize] = true;
            }
        }
        local_boilerplate.sort_unstable();
        let mut boilerplate = local_boilerplate.clone();
        boilerplate.extend_from_slice(&known_boilerplate);
        boilerplate.sort_unstable();
        boilerplate.dedup();
        stats.boilerplate_shingles = boilerplate.len() as u64;
        if !boilerplate.is_empty() {
            stock.extend(boilerplate);
            stock.sort_unstable();
            stock.dedup();
            // More stock only removes evidence: only the edges can change,
            // and only those whose evidence holds a widespread shingle and
            // whose two nodes both hold boilerplate (a shared shingle is held
            // by both). With an index's stock and stored edges in play,
            // every edge is verified again.
            let recheck = |i: usize, e: &cluster::Edge| {
                !alone || (may_change[i] && touched[e.a as usize] && touched[e.b as usize])
            };
            let stock_set = verify::Stock::new(std::mem::take(&mut stock));
            // An edge with kept evidence (only alone is any kept) is measured
            // again from it; the others are verified again in full.
            let kept = |i: usize| evidence.get(i).is_some_and(|ev| ev.2 != NOT_KEPT);
            let pairs: Vec<(u32, u32)> = edges
                .iter()
                .enumerate()
                .filter(|(i, e)| recheck(*i, e) && !kept(*i))
                .map(|(_, e)| (e.a, e.b))
                .collect();
            // Stored archive edges already left out the archive's stock;
            // they change only if this run finds stock the archive lacks.
            let fresh = local_boilerplate.iter().chain(&local_over_df).any(|h| {
                !verify::contains(&known.boilerplate, *h) && !verify::contains(&known.over_df, *h)
            });
            let rechecked = if pairs.is_empty() {
                Vec::new()
            } else {
                verify_all(&pairs, &stock_set, (!fresh).then_some(true), None, false).edges
            };
            // Each node of an edge measured again from its evidence, as
            // one bit a position (set where its shingle is not stock): its
            // shingles are read once, in order, not once for each of its
            // edges at the places of the evidence (mostly cache misses, and
            // reads of the temporary file when the store spilled).
            let mut slot: Vec<u32> = vec![u32::MAX; node_rep.len()];
            let mut needed: Vec<u32> = Vec::new();
            for (i, e) in edges.iter().enumerate() {
                if recheck(i, e) && kept(i) {
                    for n in [e.a, e.b] {
                        if slot[n as usize] == u32::MAX {
                            slot[n as usize] = needed.len() as u32;
                            needed.push(n);
                        }
                    }
                }
            }
            let node_bits: Vec<Vec<u64>> = needed
                .par_iter()
                .map_init(Vec::new, |buf, &n| {
                    let seq = or_empty(
                        seqs.view(&disk, node_rep[n as usize], buf),
                        &note_read_error,
                    );
                    let mut bits = Vec::with_capacity(seq.len().div_ceil(64));
                    verify::kept_bits(seq, &stock_set, &mut bits);
                    bits
                })
                .collect();
            drop(needed);
            let remeasured: Vec<Option<cluster::Edge>> = edges
                .par_iter()
                .enumerate()
                .map_init(Vec::new, |buf, (i, e)| {
                    if !recheck(i, e) || !kept(i) {
                        return None;
                    }
                    let (ev, g, at) = evidence[i];
                    let side = |n: u32| {
                        let (tokens, distinct) = node_side(n, &[]);
                        (
                            tokens,
                            distinct,
                            node_bits[slot[n as usize] as usize].as_slice(),
                        )
                    };
                    let o = ev.remeasure(
                        &evidence_runs[g as usize][at..at + ev.len()],
                        side(e.a),
                        side(e.b),
                        cfg.shingle,
                        buf,
                    );
                    edge_from(&o, cfg, e.a, e.b)
                })
                .collect();
            drop(node_bits);
            // The three lists follow the edges' order: merge them.
            let mut again = rechecked.into_iter().map(|r| r.0).peekable();
            edges = edges
                .into_iter()
                .zip(remeasured)
                .enumerate()
                .filter_map(|(i, (e, r))| {
                    if !recheck(i, &e) {
                        Some(e)
                    } else if kept(i) {
                        r
                    } else {
                        again.next_if(|r| (r.a, r.b) == (e.a, e.b))
                    }
                })
                .collect();
            stock = stock_set.into_sorted();
            groups = cluster::cluster(&node_weight, &edges, cfg.cluster_params());
        }
        stats.timings_ms.boilerplate = ms(t);
    }
    stats.stock_shingles = stock.len() as u64;
    // An index keeps each node's shingles and fingerprints.
    let kept = keep.then(|| {
        let mut seq_of = Vec::with_capacity(node_rep.len());
        let mut fingerprints = Vec::with_capacity(node_rep.len());
        let mut bands = Vec::with_capacity(node_rep.len());
        for n in 0..node_rep.len() as u32 {
            let mut seq = Vec::new();
            if let Err(e) = seqs.get(&disk, node_rep[n as usize], &mut seq) {
                note_read_error(e);
            }
            let s = verify::Shingled::new(documents[node_rep[n as usize] as usize].words, seq);
            fingerprints.push(fingerprints_of(&s, cfg, &known.over_df));
            bands.push(node_bands(n).to_vec());
            seq_of.push(s.seq);
        }
        (fingerprints, bands, seq_of)
    });
    // The sequences stay for the passage stage when none went to the
    // temporary file. A run that large frees them here: its stories would
    // otherwise pile up on top of them, and most would have to be read back.
    let seqs = (disk.spilled == 0).then_some(seqs);
    stats.spilled_bytes = disk.spilled;
    if let Some((dir, e)) = disk.error.take() {
        errors.push(LoadError::Spill {
            path: dir,
            message: format!("temporary file: {e}; intermediate data kept in memory"),
        });
    }
    if let Some(e) = read_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        errors.push(LoadError::Spill {
            path: spill_dir(),
            message: format!(
                "temporary file could not be read back ({e}); results may be incomplete"
            ),
        });
    }
    stats.edges = edges.len() as u64;
    let t = Instant::now();
    let mut node_docs: Vec<Vec<u32>> = vec![Vec::new(); node_rep.len()];
    for (d, doc) in documents.iter().enumerate() {
        if let Some(n) = doc.node {
            node_docs[n as usize].push(d as u32);
        }
    }
    let mut story_docs: Vec<(Vec<u32>, Vec<u32>)> = groups
        .into_iter()
        .map(|g| {
            let mut docs: Vec<u32> = g
                .iter()
                .flat_map(|&n| node_docs[n as usize].iter().copied())
                .collect();
            docs.sort_unstable();
            (g, docs)
        })
        .collect();
    story_docs.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.1[0].cmp(&b.1[0])));
    stats.timings_ms.cluster += ms(t);

    // Passages (members are read again, stories in parallel).
    let t = Instant::now();
    let mut edge_map: std::collections::HashMap<(u32, u32), f64> = std::collections::HashMap::new();
    for e in &edges {
        edge_map.insert((e.a.min(e.b), e.a.max(e.b)), e.strength);
    }
    let stock = verify::Stock::new(stock);
    let mut pending = None;
    let stories: Vec<Story> = {
        // Members' files not in memory are read ahead, a batch of stories
        // ahead, as when passages are made while writing.
        let cold = load::Cold::default();
        let ctx = StoryContext {
            documents: &documents,
            node_weight: &node_weight,
            node_content: &node_content,
            edges: &edge_map,
            stock: &stock,
            data: None,
            cold: Some(&cold),
            sketched: seqs.as_ref().map(|seqs| SketchedStore {
                seqs,
                text_hash: &text_hash,
            }),
            cfg,
            shingle_seed: seeds.shingle,
        };
        let later = matches!(passages, Passages::Later);
        if !later {
            progress.stage("passages", story_docs.len() as u64);
        }
        let wanted = |docs: &[u32]| match passages {
            Passages::All => true,
            Passages::For(r) => docs
                .iter()
                .any(|&d| r.contains(&documents[d as usize].path)),
            Passages::Later => false,
        };
        // The files of a range of stories that read theirs now.
        let paths_of = |r: std::ops::Range<usize>| -> Vec<PathBuf> {
            story_docs[r]
                .iter()
                .filter(|(_, docs)| wanted(docs))
                .flat_map(|(_, docs)| docs.iter().map(|&d| documents[d as usize].path.clone()))
                .collect()
        };
        let results = stories_in_batches(story_docs.len(), &cold, paths_of, |i| {
            let (nodes, docs) = &story_docs[i];
            if !later {
                progress.advance(1);
            }
            make_story(&ctx, nodes, docs, wanted(docs))
        });
        let mut stories = Vec::with_capacity(results.len());
        for (s, errs) in results {
            stories.push(s);
            errors.extend(errs);
        }
        stories
    };
    if matches!(passages, Passages::Later) {
        pending = Some(Pending {
            node_weight: node_weight.clone(),
            node_content: node_content.clone(),
            edges: edge_map,
            stock,
            nodes: story_docs.into_iter().map(|(n, _)| n).collect(),
            shingle_seed: seeds.shingle,
            late: std::sync::Mutex::new(Vec::new()),
            ms: std::sync::atomic::AtomicU64::new(0),
            progress: ProgressSlot::default(),
            sketched: seqs.map(|seqs| KeptSketches { seqs, text_hash }),
            cold: load::Cold::default(),
        });
    }
    stats.timings_ms.passages = ms(t);

    stats.stories = stories.len() as u64;
    stats.documents_in_stories = stories.iter().map(|s| s.members.len() as u64).sum();
    stats.singletons = stats.documents - stats.documents_in_stories;
    stats.errors = errors.len() as u64;
    stats.timings_ms.total = ms(t_all);
    if pending.is_none() {
        progress.finish();
    }
    let internals = kept.map(|(fingerprints, bands, kept_seqs)| Internals {
        node_words: node_rep
            .iter()
            .map(|&d| documents[d as usize].words)
            .collect(),
        node_content,
        fingerprints,
        bands,
        edges,
        first_edges,
        seqs: kept_seqs,
        over_df: local_over_df,
        boilerplate: local_boilerplate,
    });
    (
        Outcome {
            config: cfg.clone(),
            bands_rows,
            documents,
            stories,
            errors,
            stats,
            evaluation: None,
            pending,
        },
        internals,
    )
}

/// Two articles compared directly: their measured overlap and shared passages.
#[derive(Debug)]
pub struct Comparison {
    /// The overlap measured from the shingles (no corpus: no stock phrases).
    pub overlap: verify::Overlap,
    /// Whether the pair would be linked in a run.
    pub linked: bool,
    /// The two articles as a one-story outcome (the story is absent when they
    /// share no passage), for the ordinary renderers.
    pub outcome: Outcome,
}

/// Compares two articles: exact overlap and the passages they share.
pub fn compare(
    a: &std::path::Path,
    b: &std::path::Path,
    cfg: &Config,
) -> Result<Comparison, CompareError> {
    cfg.validate()?;
    let t_all = Instant::now();
    let seeds = hash::Seeds::new(cfg.seed);
    let mut documents = Vec::with_capacity(2);
    let mut shingled = Vec::with_capacity(2);
    let mut contents = Vec::with_capacity(2);
    for p in [a, b] {
        let s = sketch_file(p, cfg, None)?;
        shingled.push(verify::Shingled::new(s.document.words, s.seq));
        contents.push(s.content);
        documents.push(s.document);
    }
    let same = contents[0] == contents[1] && documents[0].words > 0;
    documents[0].node = Some(0);
    documents[1].node = Some(if same { 0 } else { 1 });
    let overlap = verify::overlap(
        &shingled[0],
        &shingled[1],
        &verify::Stock::default(),
        cfg.shingle,
    );
    let linked = same || overlap.is_edge(&cfg.verify_params());
    let members = [
        passages::Member {
            path: a,
            node: 0,
            data: None,
            cold: None,
            sketched: None,
        },
        passages::Member {
            path: b,
            node: if same { 0 } else { 1 },
            data: None,
            cold: None,
            sketched: None,
        },
    ];
    let sp = passages::story_passages(&members, &verify::Stock::default(), cfg, seeds.shingle);
    let mut stories = Vec::new();
    if !sp.passages.is_empty() {
        stories.push(Story {
            id: format!("{:016x}", contents[0].min(contents[1])),
            members: (0..2)
                .map(|d| StoryMember {
                    doc: d as u32,
                    links: u32::from(linked),
                    strength: overlap.strength(),
                    shared_words: sp.shared_words[d],
                })
                .collect(),
            passages: sp.passages,
        });
    }
    let mut stats = Stats {
        files: 2,
        documents: 2,
        bytes: documents.iter().map(|d| d.bytes).sum(),
        distinct_texts: if same { 1 } else { 2 },
        edges: u64::from(linked),
        stories: stories.len() as u64,
        documents_in_stories: if stories.is_empty() { 0 } else { 2 },
        singletons: if stories.is_empty() { 2 } else { 0 },
        errors: sp.errors.len() as u64,
        ..Stats::default()
    };
    stats.timings_ms.total = ms(t_all);
    Ok(Comparison {
        overlap,
        linked,
        outcome: Outcome {
            config: cfg.clone(),
            bands_rows: cfg.bands_rows(),
            documents,
            stories,
            errors: sp.errors,
            stats,
            evaluation: None,
            pending: None,
        },
    })
}
