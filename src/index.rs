//! CI mode: a persistent index that each new batch of articles is checked
//! against, without processing the archive again.
//!
//! The index is one SQLite file (format version [`FORMAT_VERSION`]) that can
//! be opened with any SQLite tool and backed up by copying it while no add
//! is running (or with `sqlite3 IDX ".backup COPY"` at any time):
//!
//! | table | holds |
//! |---|---|
//! | `meta` | `format_version`, `params` (JSON, the parameters of every hash and threshold), `storyclust` version |
//! | `texts` | one row per distinct text: `content` (text hash), `words`, `story`, `batch`, `seq` (its shingle hashes, little-endian u64) |
//! | `articles` | one row per file: `path` as given, `text`, `bytes`, `title`, `encoding`, `batch` |
//! | `fingerprints` | winnowed fingerprints → text (stock phrases left out) |
//! | `bands` | LSH band keys of each text's MinHash signature → text |
//! | `edges` | verified pairs of texts: strength as first verified, and after the boilerplate pass (`last_*`, NULL when dropped there) |
//! | `stock` | stock phrases (`kind` 0: over the document-frequency cap, 1: boilerplate) |
//! | `stories` | every story id ever given, when it was made, and what it was merged into |
//! | `batches` | one row per build or add |
//!
//! Hashes are stored as SQLite's signed 64-bit integers (the u64 bits).
//!
//! ## How a batch is checked
//!
//! 1. Each new article is sketched; its text hash, fingerprints (at most
//!    `max_df` archive texts each) and band keys are looked up in the index.
//! 2. Each proposed archive text is verified against the article from its
//!    stored shingle sequence, exactly as the main command verifies a pair.
//!    Those that pass (and identical texts) are the *seeds*.
//! 3. The *neighbourhood* is the seeds and every text of their stories.
//! 4. The ordinary pipeline runs on batch + neighbourhood from the stored
//!    sequences, with the archive's stock phrases added to its own; pairs
//!    of two archive texts take their stored edges instead of being verified
//!    again (the edge as first verified, and as the boilerplate pass left
//!    it, are both kept, so the run goes as one run would). Its
//!    stories and edges replace the neighbourhood's. Files are read again
//!    only for the passages of stories that hold batch articles.
//!
//! Cost follows the batch and the stories it joins, not the archive. The
//! result equals one run over archive + batch except where the batch changes
//! what counts as a stock phrase or boilerplate elsewhere in the archive
//! (document frequency and the story-count cap are global): on the reprint
//! benchmark corpora, identical for 300 stories, 1–4 stories of ~2,900 (seeds 1, 2)
//! differ for 3,000.
//!
//! ## Story ids
//!
//! A story keeps its id for ever. When the pipeline regroups the
//! neighbourhood, groups are taken largest first (ties: smallest text hash);
//! each takes, among the live ids of its archive members not yet taken, the
//! one made in the earliest batch (ties: the id with most members in the
//! group, then the smallest id). Every other old id of the group is recorded
//! as merged into it. A group with no id left gets a new one: 16 hex digits
//! of the smallest text hash among its members, as the main command gives.
//! An old id none of whose texts is in a story any more is recorded as
//! dissolved.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::{Config, ConfigError, KnownStock, LoadError, Outcome, Progress};

/// Version of the index's layout. An index of another version is refused.
pub const FORMAT_VERSION: i64 = 1;

/// How long a writer waits for another writer before giving up.
pub const BUSY_TIMEOUT_MS: u64 = 120_000;

/// Environment variable that makes `add` pause before committing (tests
/// kill the process there).
pub const HOLD_ENV: &str = "STORYCLUST_TEST_HOLD_BEFORE_COMMIT";

/// Why an index operation failed.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// SQLite reported an error.
    #[error("{}: {source}", path.display())]
    Db {
        /// The index.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// The file system refused.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// `build` on an existing index.
    #[error(
        "{}: already exists (add batches with `storyclust index add`, or remove it to build anew)",
        path.display()
    )]
    Exists {
        /// The index.
        path: PathBuf,
    },
    /// No index at that path.
    #[error("{}: no such index (make one with `storyclust index build`)", path.display())]
    Missing {
        /// The path.
        path: PathBuf,
    },
    /// The file is not a storyclust index.
    #[error("{}: not a storyclust index ({why})", path.display())]
    NotAnIndex {
        /// The path.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// The index has another layout version.
    #[error(
        "{}: index format version {found}, but storyclust {ours} reads format version {expected}; build the index again with `storyclust index build`",
        path.display()
    )]
    Format {
        /// The index.
        path: PathBuf,
        /// Its version.
        found: i64,
        /// The version this build reads.
        expected: i64,
        /// This build's version.
        ours: &'static str,
    },
    /// The run asks for other parameters than the index was built with.
    #[error(
        "{}: the index was built with {index}, but this run asks for {asked}; drop those options or build another index",
        path.display()
    )]
    Params {
        /// The index.
        path: PathBuf,
        /// The index's values of the parameters that differ.
        index: String,
        /// The asked values.
        asked: String,
    },
    /// No story of that id.
    #[error("{}: no story {id}", path.display())]
    NoStory {
        /// The index.
        path: PathBuf,
        /// The id asked for.
        id: String,
    },
    /// Invalid parameters.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// What became of a batch article.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// It joins a story that holds archive articles.
    Joins,
    /// It starts a story with other articles of the batch only.
    NewStory,
    /// It is in no story.
    New,
    /// The same path with the same text is already in the index.
    Indexed,
    /// It has no words.
    Empty,
}

/// One article of a batch.
#[derive(Clone, Debug)]
pub struct BatchArticle {
    /// Index into the outcome's documents (`None` when already indexed or unread).
    pub doc: Option<u32>,
    /// Its path.
    pub path: PathBuf,
    /// What became of it.
    pub status: Status,
    /// Index into the outcome's stories.
    pub story: Option<usize>,
    /// Its story id (also for already indexed articles).
    pub story_id: Option<String>,
}

/// A story id merged into another.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Merge {
    /// The id that ends.
    pub id: String,
    /// The id that goes on.
    pub into: String,
}

/// What checking or adding a batch found.
#[derive(Debug)]
pub struct BatchOutcome {
    /// The run over batch + neighbourhood: documents of both; stories that
    /// hold batch articles, with their index ids.
    pub outcome: Outcome,
    /// Per outcome document: it is an archive article.
    pub archive: Vec<bool>,
    /// The batch's articles, by path.
    pub articles: Vec<BatchArticle>,
    /// Ids merged into others.
    pub merged: Vec<Merge>,
    /// Ids whose texts are in no story any more.
    pub dissolved: Vec<String>,
    /// Archive articles grouped again with the batch.
    pub neighbourhood: u64,
    /// The batch number given, when the batch was added.
    pub batch: Option<i64>,
    /// The index's counts after the batch (as they would be, for a check).
    pub index: IndexSummary,
}

/// Counts of an index.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct IndexSummary {
    /// Articles (files).
    pub articles: u64,
    /// Distinct texts.
    pub texts: u64,
    /// Live stories.
    pub stories: u64,
    /// Batches (the build is batch 1).
    pub batches: u64,
    /// Format version.
    pub format_version: i64,
}

/// A story as the index holds it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct IndexedStory {
    /// Its id.
    pub id: String,
    /// Batch that made it.
    pub created_batch: i64,
    /// Id it was merged into, if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<String>,
    /// Batch that merged or dissolved it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_batch: Option<i64>,
    /// Its articles' paths (empty for merged or dissolved stories).
    pub paths: Vec<String>,
    /// Title of its first article.
    pub title: String,
}

/// An open index.
pub struct Index {
    conn: Connection,
    path: PathBuf,
    config: Config,
}

const SCHEMA: &str = "
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE texts(
    id INTEGER PRIMARY KEY,
    content INTEGER NOT NULL UNIQUE,
    words INTEGER NOT NULL,
    story TEXT,
    batch INTEGER NOT NULL,
    seq BLOB NOT NULL);
CREATE INDEX texts_story ON texts(story);
CREATE TABLE articles(
    path TEXT PRIMARY KEY,
    text INTEGER NOT NULL REFERENCES texts(id),
    bytes INTEGER NOT NULL,
    title TEXT NOT NULL,
    encoding TEXT NOT NULL,
    batch INTEGER NOT NULL);
CREATE INDEX articles_text ON articles(text);
CREATE TABLE fingerprints(hash INTEGER NOT NULL, text INTEGER NOT NULL,
    PRIMARY KEY(hash, text)) WITHOUT ROWID;
CREATE TABLE bands(band INTEGER NOT NULL, key INTEGER NOT NULL, text INTEGER NOT NULL,
    PRIMARY KEY(band, key, text)) WITHOUT ROWID;
CREATE TABLE edges(a INTEGER NOT NULL, b INTEGER NOT NULL, strength REAL NOT NULL,
    strong INTEGER NOT NULL, last_strength REAL, last_strong INTEGER,
    PRIMARY KEY(a, b)) WITHOUT ROWID;
CREATE INDEX edges_b ON edges(b);
CREATE TABLE stock(hash INTEGER PRIMARY KEY, kind INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE stories(
    id TEXT PRIMARY KEY,
    created_batch INTEGER NOT NULL,
    merged_into TEXT,
    ended_batch INTEGER);
CREATE TABLE batches(id INTEGER PRIMARY KEY, articles INTEGER NOT NULL,
    new_texts INTEGER NOT NULL, at_unix INTEGER NOT NULL);
";

fn signed(h: u64) -> i64 {
    h as i64
}

fn unsigned(h: i64) -> u64 {
    h as u64
}

/// The parameters an index is bound to: every field of [`Config`] that
/// changes a hash, a threshold or a grouping (file selection is left out).
pub fn index_params(cfg: &Config) -> serde_json::Map<String, serde_json::Value> {
    let mut m = match serde_json::to_value(cfg) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    m.remove("extensions");
    m.remove("max_file_bytes");
    m
}

fn config_from_params(
    m: &serde_json::Map<String, serde_json::Value>,
    base: &Config,
) -> Result<Config, String> {
    let mut v = serde_json::to_value(base).map_err(|e| e.to_string())?;
    if let Some(obj) = v.as_object_mut() {
        for (k, x) in m {
            if !obj.contains_key(k) {
                return Err(format!("unknown parameter {k}"));
            }
            obj.insert(k.clone(), x.clone());
        }
    }
    serde_json::from_value(v).map_err(|e| e.to_string())
}

/// A shingle sequence as stored: little-endian u64s.
fn seq_to_blob(seq: &[u64]) -> Vec<u8> {
    seq.iter().flat_map(|h| h.to_le_bytes()).collect()
}

fn seq_from_blob(blob: &[u8]) -> Vec<u64> {
    blob.chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect()
}

fn encoding_name(e: crate::load::Encoding) -> String {
    serde_json::to_value(e)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn encoding_from(name: &str) -> crate::load::Encoding {
    serde_json::from_value(serde_json::Value::String(name.to_string()))
        .unwrap_or(crate::load::Encoding::Utf8)
}

fn db(path: &Path) -> impl Fn(rusqlite::Error) -> IndexError + '_ {
    move |source| IndexError::Db {
        path: path.to_path_buf(),
        source,
    }
}

fn path_string(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn hold_before_commit() {
    if let Some(secs) = std::env::var(HOLD_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        eprintln!("storyclust: holding before commit");
        std::thread::sleep(std::time::Duration::from_secs(secs));
    }
}

/// What a build wrote.
#[derive(Debug)]
pub struct Built {
    /// The run over the archive (stories have their index ids).
    pub outcome: Outcome,
    /// The index's counts.
    pub index: IndexSummary,
}

impl Index {
    /// Builds a new index at `path` from the articles under `paths`.
    ///
    /// The index is written to a temporary file beside `path` and renamed
    /// into place at the end: an interrupted build leaves no index.
    pub fn build(
        path: &Path,
        paths: &[PathBuf],
        cfg: &Config,
        progress: &dyn Progress,
    ) -> Result<Built, IndexError> {
        cfg.validate()?;
        if path.exists() {
            return Err(IndexError::Exists {
                path: path.to_path_buf(),
            });
        }
        let (files, errors) = crate::load::discover(paths, &cfg.extensions);
        let (mut outcome, internals) = crate::pipeline(
            files.into_iter().map(crate::Input::File).collect(),
            errors,
            cfg,
            &KnownStock::default(),
            true,
            crate::Passages::All,
            progress,
        );
        let internals = internals.expect("kept");
        let mut tmp_name = path.as_os_str().to_owned();
        tmp_name.push(format!(".tmp-{}", std::process::id()));
        let tmp = PathBuf::from(tmp_name);
        let _ = std::fs::remove_file(&tmp);
        let result = (|| -> Result<IndexSummary, IndexError> {
            let e = db(path);
            let mut conn = Connection::open(&tmp).map_err(&e)?;
            conn.execute_batch("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;")
                .map_err(&e)?;
            let tx = conn.transaction().map_err(&e)?;
            tx.execute_batch(SCHEMA).map_err(&e)?;
            write_meta(&tx, cfg).map_err(&e)?;
            // Texts are numbered 1.. in text-hash order (the nodes' order).
            let n_nodes = internals.node_content.len();
            let stories: Vec<Option<String>> = story_of_nodes(&outcome, n_nodes)
                .into_iter()
                .map(|s| s.map(|s| outcome.stories[s].id.clone()))
                .collect();
            let text_ids: Vec<i64> = (1..=n_nodes as i64).collect();
            let fresh = vec![true; n_nodes];
            let archive = vec![false; outcome.documents.len()];
            let ids = Ids {
                text: &text_ids,
                fresh: &fresh,
                batch: 1,
            };
            write_texts(&tx, &outcome, &internals, &ids, &stories, &archive).map_err(&e)?;
            {
                let mut st = tx
                    .prepare("INSERT INTO stories(id, created_batch) VALUES (?1, 1)")
                    .map_err(&e)?;
                for s in &outcome.stories {
                    st.execute(params![s.id]).map_err(&e)?;
                }
            }
            write_postings(&tx, &internals, &ids).map_err(&e)?;
            write_edges(&tx, &internals.first_edges, &internals.edges, &text_ids).map_err(&e)?;
            write_stock(&tx, &internals).map_err(&e)?;
            tx.execute(
                "INSERT INTO batches(id, articles, new_texts, at_unix) VALUES (1, ?1, ?2, ?3)",
                params![
                    outcome.documents.len() as i64,
                    internals.node_content.len() as i64,
                    now_unix()
                ],
            )
            .map_err(&e)?;
            tx.commit().map_err(&e)?;
            conn.execute_batch("PRAGMA journal_mode=WAL;").map_err(&e)?;
            let summary = summary(&conn).map_err(&e)?;
            drop(conn);
            std::fs::rename(&tmp, path).map_err(|source| IndexError::Io {
                path: path.to_path_buf(),
                source,
            })?;
            Ok(summary)
        })();
        match result {
            Ok(index) => {
                outcome.stats.timings_ms.total = outcome.stats.timings_ms.total.max(1);
                Ok(Built { outcome, index })
            }
            Err(err) => {
                let _ = std::fs::remove_file(&tmp);
                Err(err)
            }
        }
    }

    /// Opens an existing index. `base` gives the file selection
    /// (extensions, size limit); every other parameter comes from the index.
    pub fn open(path: &Path, base: &Config) -> Result<Index, IndexError> {
        if !path.is_file() {
            return Err(IndexError::Missing {
                path: path.to_path_buf(),
            });
        }
        let e = db(path);
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)
            .map_err(&e)?;
        conn.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS))
            .map_err(&e)?;
        let not_index = |why: String| IndexError::NotAnIndex {
            path: path.to_path_buf(),
            why,
        };
        let meta = |key: &str| -> Result<Option<String>, IndexError> {
            conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()
                .map_err(|err| match err {
                    rusqlite::Error::SqliteFailure(f, _)
                        if f.code == rusqlite::ErrorCode::NotADatabase =>
                    {
                        not_index("the file is not an SQLite database".into())
                    }
                    rusqlite::Error::SqliteFailure(_, Some(m)) if m.contains("no such table") => {
                        not_index("it has no meta table".into())
                    }
                    other => e(other),
                })
        };
        let version =
            meta("format_version")?.ok_or_else(|| not_index("no format_version".into()))?;
        let found: i64 = version
            .parse()
            .map_err(|_| not_index(format!("format_version {version:?}")))?;
        if found != FORMAT_VERSION {
            return Err(IndexError::Format {
                path: path.to_path_buf(),
                found,
                expected: FORMAT_VERSION,
                ours: env!("CARGO_PKG_VERSION"),
            });
        }
        let params = meta("params")?.ok_or_else(|| not_index("no params".into()))?;
        let map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&params).map_err(|err| not_index(format!("params: {err}")))?;
        let config = config_from_params(&map, base).map_err(not_index)?;
        conn.execute_batch("PRAGMA journal_mode=WAL;").map_err(&e)?;
        Ok(Index {
            conn,
            path: path.to_path_buf(),
            config,
        })
    }

    /// The parameters in force (the index's, with the caller's file selection).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The index's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Refuses `asked` when it differs from the index's parameters, naming both.
    pub fn ensure_params(&self, asked: &Config) -> Result<(), IndexError> {
        let ours = index_params(&self.config);
        let theirs = index_params(asked);
        let mut a = Vec::new();
        let mut b = Vec::new();
        for (k, v) in &ours {
            let w = theirs.get(k).cloned().unwrap_or(serde_json::Value::Null);
            if *v != w {
                a.push(format!("{k}={v}"));
                b.push(format!("{k}={w}"));
            }
        }
        if a.is_empty() {
            Ok(())
        } else {
            Err(IndexError::Params {
                path: self.path.clone(),
                index: a.join(", "),
                asked: b.join(", "),
            })
        }
    }

    /// The index's counts.
    pub fn summary(&self) -> Result<IndexSummary, IndexError> {
        summary(&self.conn).map_err(db(&self.path))
    }

    /// Every live story, largest first (ties: smallest id).
    pub fn stories(&self) -> Result<Vec<IndexedStory>, IndexError> {
        let e = db(&self.path);
        let mut st = self
            .conn
            .prepare(
                "SELECT s.id, s.created_batch, a.path, a.title FROM stories s
                 JOIN texts t ON t.story = s.id JOIN articles a ON a.text = t.id
                 WHERE s.merged_into IS NULL AND s.ended_batch IS NULL
                 ORDER BY s.id, a.path",
            )
            .map_err(&e)?;
        let mut out: Vec<IndexedStory> = Vec::new();
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .map_err(&e)?;
        for row in rows {
            let (id, created, path, title) = row.map_err(&e)?;
            match out.last_mut() {
                Some(s) if s.id == id => s.paths.push(path),
                _ => out.push(IndexedStory {
                    id,
                    created_batch: created,
                    merged_into: None,
                    ended_batch: None,
                    paths: vec![path],
                    title,
                }),
            }
        }
        out.sort_by(|a, b| b.paths.len().cmp(&a.paths.len()).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    /// One story by id, following merges: the chain of ids from `id` to the
    /// live story, and that story.
    pub fn story(&self, id: &str) -> Result<(Vec<IndexedStory>, IndexedStory), IndexError> {
        let e = db(&self.path);
        let mut chain = Vec::new();
        let mut cur = id.to_ascii_lowercase();
        loop {
            let row: Option<(i64, Option<String>, Option<i64>)> = self
                .conn
                .query_row(
                    "SELECT created_batch, merged_into, ended_batch FROM stories WHERE id = ?1",
                    [&cur],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(&e)?;
            let Some((created, merged_into, ended)) = row else {
                return Err(IndexError::NoStory {
                    path: self.path.clone(),
                    id: id.to_string(),
                });
            };
            let mut st = self
                .conn
                .prepare(
                    "SELECT a.path, a.title FROM texts t JOIN articles a ON a.text = t.id
                     WHERE t.story = ?1 ORDER BY a.path",
                )
                .map_err(&e)?;
            let rows: Vec<(String, String)> = st
                .query_map([&cur], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(&e)?
                .collect::<Result<_, _>>()
                .map_err(&e)?;
            let story = IndexedStory {
                id: cur.clone(),
                created_batch: created,
                merged_into: merged_into.clone(),
                ended_batch: ended,
                title: rows.first().map(|r| r.1.clone()).unwrap_or_default(),
                paths: rows.into_iter().map(|r| r.0).collect(),
            };
            match merged_into {
                Some(next) if chain.len() < 10_000 => {
                    chain.push(story);
                    cur = next;
                }
                _ => return Ok((chain, story)),
            }
        }
    }

    /// Checks a batch against the index; with `write`, adds it (all of it or
    /// nothing, in one transaction).
    pub fn update(
        &mut self,
        paths: &[PathBuf],
        write: bool,
        progress: &dyn Progress,
    ) -> Result<BatchOutcome, IndexError> {
        let path = self.path.clone();
        let e = db(&path);
        let cfg = self.config.clone();
        let tx = self
            .conn
            .transaction_with_behavior(if write {
                TransactionBehavior::Immediate
            } else {
                TransactionBehavior::Deferred
            })
            .map_err(&e)?;

        let mut known = read_stock(&tx).map_err(&e)?;
        let before = summary(&tx).map_err(&e)?;
        let (files, mut errors) = crate::load::discover(paths, &cfg.extensions);

        // 1. Sketch the batch; skip what the index already has.
        progress.stage("probing", files.len() as u64);
        let bands_rows = cfg.bands_rows();
        let probes: Vec<Result<crate::Probe, LoadError>> = {
            use rayon::prelude::*;
            files
                .par_iter()
                .map(|p| {
                    let r = crate::probe_file(p, &cfg, bands_rows, &known.over_df);
                    progress.advance(1);
                    r
                })
                .collect()
        };
        let mut articles: Vec<BatchArticle> = Vec::new();
        let mut batch_files: Vec<PathBuf> = Vec::new();
        let mut batch: Vec<crate::Probe> = Vec::new();
        // Per batch article: archive texts proposed by the index.
        let mut proposed: Vec<(usize, i64)> = Vec::new();
        let mut seeds: BTreeSet<i64> = BTreeSet::new();
        {
            let mut by_path = tx
                .prepare_cached(
                    "SELECT t.content, t.story FROM articles a JOIN texts t ON t.id = a.text WHERE a.path = ?1",
                )
                .map_err(&e)?;
            let mut by_content = tx
                .prepare_cached("SELECT id FROM texts WHERE content = ?1")
                .map_err(&e)?;
            let mut by_fp = tx
                .prepare_cached("SELECT text FROM fingerprints WHERE hash = ?1 LIMIT ?2")
                .map_err(&e)?;
            let mut by_band = tx
                .prepare_cached("SELECT text FROM bands WHERE band = ?1 AND key = ?2 LIMIT 65")
                .map_err(&e)?;
            for (file, probe) in files.iter().zip(probes) {
                let probe = match probe {
                    Ok(p) => p,
                    Err(err) => {
                        errors.push(err);
                        continue;
                    }
                };
                let known_path: Option<(i64, Option<String>)> = by_path
                    .query_row([path_string(file)], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
                    .map_err(&e)?;
                if let Some((content, story)) = known_path {
                    if unsigned(content) == probe.content {
                        articles.push(BatchArticle {
                            doc: None,
                            path: file.clone(),
                            status: Status::Indexed,
                            story: None,
                            story_id: story,
                        });
                    } else {
                        errors.push(LoadError::Walk {
                            path: file.clone(),
                            message: "already in the index with other text (changed since it was added), skipped".into(),
                        });
                    }
                    continue;
                }
                batch_files.push(file.clone());
                let b = batch.len();
                let words = probe.document.words;
                batch.push(probe);
                if words == 0 {
                    continue;
                }
                let probe = &batch[b];
                // An identical archive text is always in.
                if let Some(id) = by_content
                    .query_row([signed(probe.content)], |r| r.get::<_, i64>(0))
                    .optional()
                    .map_err(&e)?
                {
                    seeds.insert(id);
                }
                let mut counts: HashMap<i64, u32> = HashMap::new();
                for &h in &probe.fingerprints {
                    let texts: Vec<i64> = by_fp
                        .query_map(params![signed(h), cfg.max_df as i64 + 1], |r| r.get(0))
                        .map_err(&e)?
                        .collect::<Result<_, _>>()
                        .map_err(&e)?;
                    if texts.len() > cfg.max_df {
                        continue;
                    }
                    for t in texts {
                        *counts.entry(t).or_default() += 1;
                    }
                }
                let mut mine: BTreeSet<i64> = counts
                    .into_iter()
                    .filter(|&(_, c)| c >= cfg.min_fingerprints)
                    .map(|(t, _)| t)
                    .collect();
                for (band, &k) in probe.bands.iter().enumerate() {
                    let texts: Vec<i64> = by_band
                        .query_map(params![band as i64, signed(k)], |r| r.get(0))
                        .map_err(&e)?
                        .collect::<Result<_, _>>()
                        .map_err(&e)?;
                    mine.extend(texts);
                }
                proposed.extend(mine.into_iter().map(|t| (b, t)));
            }
        }

        // 2. Verify the proposed pairs against the stored shingle sequences:
        //    only archive texts the batch really shares copy with are seeds.
        progress.stage("verifying", proposed.len() as u64);
        let mut stored: HashMap<i64, crate::verify::Shingled> = HashMap::new();
        {
            let mut seq_of = tx
                .prepare_cached("SELECT words, seq FROM texts WHERE id = ?1")
                .map_err(&e)?;
            let wanted: BTreeSet<i64> = proposed.iter().map(|p| p.1).collect();
            for t in wanted {
                let (words, blob): (u32, Vec<u8>) = seq_of
                    .query_row([t], |r| Ok((r.get(0)?, r.get(1)?)))
                    .map_err(&e)?;
                stored.insert(t, crate::verify::Shingled::new(words, seq_from_blob(&blob)));
            }
        }
        let batch_shingled: Vec<crate::verify::Shingled> = batch
            .iter()
            .map(|p| crate::verify::Shingled::new(p.document.words, p.seq.clone()))
            .collect();
        let over_df = crate::verify::Stock::new(known.over_df.clone());
        let vp = cfg.verify_params();
        {
            use rayon::prelude::*;
            let verified: Vec<i64> = proposed
                .par_iter()
                .filter_map(|&(b, t)| {
                    progress.advance(1);
                    let o = crate::verify::overlap(
                        &batch_shingled[b],
                        &stored[&t],
                        &over_df,
                        cfg.shingle,
                    );
                    o.is_edge(&vp).then_some(t)
                })
                .collect();
            seeds.extend(verified);
        }
        drop(stored);
        drop(batch_shingled);

        // 3. The neighbourhood: the seeds, their stored edges, their stories.
        let hood = neighbourhood(&tx, &seeds).map_err(&e)?;
        let mut inputs: Vec<crate::Input> = Vec::new();
        let mut archive_paths: std::collections::HashSet<PathBuf> = Default::default();
        let mut text_of_content: HashMap<u64, (i64, Option<String>)> = HashMap::new();
        {
            let mut text = tx
                .prepare_cached("SELECT content, story, words, seq FROM texts WHERE id = ?1")
                .map_err(&e)?;
            let mut arts = tx
                .prepare_cached(
                    "SELECT path, bytes, title, encoding FROM articles WHERE text = ?1 ORDER BY path",
                )
                .map_err(&e)?;
            for &t in &hood {
                let (content, story, words, blob): (i64, Option<String>, u32, Vec<u8>) = text
                    .query_row([t], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                    .map_err(&e)?;
                let content = unsigned(content);
                text_of_content.insert(content, (t, story));
                let seq = seq_from_blob(&blob);
                let rows: Vec<(String, i64, String, String)> = arts
                    .query_map([t], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                    .map_err(&e)?
                    .collect::<Result<_, _>>()
                    .map_err(&e)?;
                for (p, bytes, title, encoding) in rows {
                    let path = PathBuf::from(p);
                    archive_paths.insert(path.clone());
                    inputs.push(crate::Input::Stored(crate::Sketched {
                        document: crate::Document {
                            path,
                            title,
                            words,
                            bytes: bytes as u64,
                            encoding: encoding_from(&encoding),
                            node: None,
                        },
                        content,
                        seq: seq.clone(),
                        // (An archive text was not read now: its file is
                        // tokenized again if its passages are wanted.)
                        text_hash: None,
                    }));
                }
            }
        }
        let neighbourhood = inputs.len() as u64;
        // The stored edges among the neighbourhood, taken instead of
        // verifying those pairs again.
        {
            let content_of: HashMap<i64, u64> =
                text_of_content.iter().map(|(&c, t)| (t.0, c)).collect();
            let mut out_a = tx
                .prepare_cached(
                    "SELECT b, strength, strong, last_strength, last_strong FROM edges WHERE a = ?1",
                )
                .map_err(&e)?;
            for &a in &hood {
                type Row = (i64, f64, bool, Option<f64>, Option<bool>);
                let rows: Vec<Row> = out_a
                    .query_map([a], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                    })
                    .map_err(&e)?
                    .collect::<Result<_, _>>()
                    .map_err(&e)?;
                for (b, strength, strong, last_strength, last_strong) in rows {
                    if let (Some(&ca), Some(&cb)) = (content_of.get(&a), content_of.get(&b)) {
                        known.edges.insert(
                            (ca.min(cb), ca.max(cb)),
                            crate::KnownEdge {
                                first: (strength, strong),
                                last: last_strength.zip(last_strong),
                            },
                        );
                    }
                }
            }
            known.archive = content_of.into_values().collect();
        }

        // 4. The pipeline over batch + neighbourhood; passages only for the
        //    stories that hold batch articles.
        let report: std::collections::HashSet<PathBuf> = batch_files.iter().cloned().collect();
        inputs.extend(batch.into_iter().map(|p| {
            crate::Input::Stored(crate::Sketched {
                document: p.document,
                content: p.content,
                seq: p.seq,
                text_hash: p.text_hash,
            })
        }));
        let (mut outcome, internals) = crate::pipeline(
            inputs,
            Vec::new(),
            &cfg,
            &known,
            true,
            crate::Passages::For(&report),
            progress,
        );
        let internals = internals.expect("kept");
        let archive: Vec<bool> = outcome
            .documents
            .iter()
            .map(|d| archive_paths.contains(&d.path))
            .collect();
        errors.append(&mut outcome.errors);

        // 5. Story ids.
        let batch_no: i64 = tx
            .query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM batches", [], |r| {
                r.get(0)
            })
            .map_err(&e)?;
        let n_nodes = internals.node_content.len();
        let story_of_node = story_of_nodes(&outcome, n_nodes);
        let created: HashMap<String, i64> = {
            let mut st = tx
                .prepare_cached("SELECT created_batch FROM stories WHERE id = ?1")
                .map_err(&e)?;
            let mut m = HashMap::new();
            for (_, story) in text_of_content.values() {
                if let Some(s) = story
                    && !m.contains_key(s)
                {
                    let b: i64 = st.query_row([s], |r| r.get(0)).map_err(&e)?;
                    m.insert(s.clone(), b);
                }
            }
            m
        };
        let old_of_node: Vec<Option<String>> = internals
            .node_content
            .iter()
            .map(|c| text_of_content.get(c).and_then(|t| t.1.clone()))
            .collect();
        let mut groups: Vec<Regrouped> = outcome
            .stories
            .iter()
            .map(|st| Regrouped {
                size: st.members.len(),
                min_content: st
                    .members
                    .iter()
                    .filter_map(|m| outcome.documents[m.doc as usize].node)
                    .map(|n| internals.node_content[n as usize])
                    .min()
                    .unwrap_or(0),
                olds: BTreeMap::new(),
            })
            .collect();
        let mut orphans: BTreeSet<String> = BTreeSet::new();
        for n in 0..n_nodes {
            if let Some(o) = &old_of_node[n] {
                match story_of_node[n] {
                    Some(s) => *groups[s].olds.entry(o.clone()).or_default() += 1,
                    None => {
                        orphans.insert(o.clone());
                    }
                }
            }
        }
        let Assigned {
            ids: new_ids,
            made,
            mut merged,
            dissolved,
        } = {
            let mut exists = tx
                .prepare_cached("SELECT 1 FROM stories WHERE id = ?1")
                .map_err(&e)?;
            assign_ids(
                &groups,
                &orphans,
                &created,
                crate::hash::splitmix64(batch_no as u64 ^ cfg.seed),
                |id| exists.exists([id]),
            )
            .map_err(&e)?
        };
        for (s, id) in new_ids.iter().enumerate() {
            outcome.stories[s].id = id.clone();
        }

        // 6. Write.
        let text_ids: Vec<i64> = {
            let mut next: i64 = tx
                .query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM texts", [], |r| {
                    r.get(0)
                })
                .map_err(&e)?;
            let mut fresh: Vec<(u64, usize)> = Vec::new();
            let mut ids = vec![0i64; n_nodes];
            let mut by_content = tx
                .prepare_cached("SELECT id FROM texts WHERE content = ?1")
                .map_err(&e)?;
            for (n, &c) in internals.node_content.iter().enumerate() {
                if let Some(t) = text_of_content.get(&c) {
                    ids[n] = t.0;
                } else if let Some(t) = by_content
                    .query_row([signed(c)], |r| r.get::<_, i64>(0))
                    .optional()
                    .map_err(&e)?
                {
                    // An identical copy of a text outside the neighbourhood
                    // cannot happen (its text hash is a seed); kept safe.
                    ids[n] = t;
                } else {
                    fresh.push((c, n));
                }
            }
            fresh.sort_unstable();
            for (_, n) in &fresh {
                ids[*n] = next;
                next += 1;
            }
            ids
        };
        let existing_texts: BTreeSet<i64> = hood.iter().copied().collect();
        let fresh: Vec<bool> = text_ids
            .iter()
            .map(|t| !existing_texts.contains(t))
            .collect();
        let new_texts = fresh.iter().filter(|&&f| f).count() as i64;
        let new_articles = outcome
            .documents
            .iter()
            .enumerate()
            .filter(|(d, doc)| !archive[*d] && doc.node.is_some())
            .count() as u64;
        let index = if !write {
            tx.rollback().map_err(&e)?;
            IndexSummary {
                articles: before.articles + new_articles,
                texts: before.texts + new_texts as u64,
                stories: (before.stories + made.len() as u64)
                    .saturating_sub((merged.len() + dissolved.len()) as u64),
                batches: before.batches + 1,
                format_version: FORMAT_VERSION,
            }
        } else {
            let ids = Ids {
                text: &text_ids,
                fresh: &fresh,
                batch: batch_no,
            };
            let stories: Vec<Option<String>> = story_of_node
                .iter()
                .map(|s| s.map(|s| new_ids[s].clone()))
                .collect();
            write_texts(&tx, &outcome, &internals, &ids, &stories, &archive).map_err(&e)?;
            delete_inner_edges(&tx, &hood).map_err(&e)?;
            write_postings(&tx, &internals, &ids).map_err(&e)?;
            write_edges(&tx, &internals.first_edges, &internals.edges, &text_ids).map_err(&e)?;
            write_stock(&tx, &internals).map_err(&e)?;
            {
                let mut ins = tx
                    .prepare_cached("INSERT INTO stories(id, created_batch) VALUES (?1, ?2)")
                    .map_err(&e)?;
                for id in &made {
                    ins.execute(params![id, batch_no]).map_err(&e)?;
                }
                let mut end = tx
                    .prepare_cached(
                        "UPDATE stories SET merged_into = ?2, ended_batch = ?3 WHERE id = ?1",
                    )
                    .map_err(&e)?;
                for m in &merged {
                    end.execute(params![m.id, m.into, batch_no]).map_err(&e)?;
                }
                for d in &dissolved {
                    end.execute(params![d, Option::<String>::None, batch_no])
                        .map_err(&e)?;
                }
            }
            tx.execute(
                "INSERT INTO batches(id, articles, new_texts, at_unix) VALUES (?1, ?2, ?3, ?4)",
                params![batch_no, batch_files.len() as i64, new_texts, now_unix()],
            )
            .map_err(&e)?;
            let index = summary(&tx).map_err(&e)?;
            hold_before_commit();
            tx.commit().map_err(&e)?;
            index
        };

        // 7. The report: batch articles and the stories that hold them.
        let mut doc_of_path: HashMap<&Path, u32> = HashMap::new();
        for (d, doc) in outcome.documents.iter().enumerate() {
            if !archive[d] {
                doc_of_path.insert(&doc.path, d as u32);
            }
        }
        let mut story_of_doc: Vec<Option<usize>> = vec![None; outcome.documents.len()];
        for (s, story) in outcome.stories.iter().enumerate() {
            for m in &story.members {
                story_of_doc[m.doc as usize] = Some(s);
            }
        }
        let mut keep = vec![false; outcome.stories.len()];
        for f in &batch_files {
            let Some(&d) = doc_of_path.get(f.as_path()) else {
                continue;
            };
            let doc = &outcome.documents[d as usize];
            let s = story_of_doc[d as usize];
            let status = match s {
                _ if doc.node.is_none() => Status::Empty,
                None => Status::New,
                Some(s) => {
                    keep[s] = true;
                    if outcome.stories[s]
                        .members
                        .iter()
                        .any(|m| archive[m.doc as usize])
                    {
                        Status::Joins
                    } else {
                        Status::NewStory
                    }
                }
            };
            articles.push(BatchArticle {
                doc: Some(d),
                path: f.clone(),
                status,
                story: s,
                story_id: s.map(|s| new_ids[s].clone()),
            });
        }
        let mut renumber = vec![None; outcome.stories.len()];
        let stories = std::mem::take(&mut outcome.stories);
        for (s, story) in stories.into_iter().enumerate() {
            if keep[s] {
                renumber[s] = Some(outcome.stories.len());
                outcome.stories.push(story);
            }
        }
        for a in &mut articles {
            a.story = a.story.and_then(|s| renumber[s]);
        }
        articles.sort_by(|a, b| a.path.cmp(&b.path));
        merged.sort_by(|a, b| a.id.cmp(&b.id));
        outcome.stats.stories = outcome.stories.len() as u64;
        outcome.stats.documents_in_stories =
            outcome.stories.iter().map(|s| s.members.len() as u64).sum();
        outcome.stats.singletons = outcome.stats.documents - outcome.stats.documents_in_stories;
        outcome.errors = errors;
        outcome.stats.errors = outcome.errors.len() as u64;
        Ok(BatchOutcome {
            outcome,
            archive,
            articles,
            merged,
            dissolved,
            neighbourhood,
            batch: write.then_some(batch_no),
            index,
        })
    }
}

/// One group of a regrouped neighbourhood, as the id rule sees it.
#[derive(Clone, Debug, Default)]
struct Regrouped {
    /// Articles in it.
    size: usize,
    /// Smallest text hash among its members.
    min_content: u64,
    /// Old story ids of its texts, with how many of its texts had each.
    olds: BTreeMap<String, usize>,
}

/// The ids the rule gives.
#[derive(Debug, PartialEq)]
struct Assigned {
    /// Per group.
    ids: Vec<String>,
    /// Ids made new.
    made: Vec<String>,
    /// Old ids merged into others.
    merged: Vec<Merge>,
    /// Old ids left with no story.
    dissolved: Vec<String>,
}

/// The story-id rule (module documentation). `orphans` are old ids of texts
/// now in no group; `used` says whether an id was ever given; `salt` varies
/// a new id that collides with a used one.
fn assign_ids<E>(
    groups: &[Regrouped],
    orphans: &BTreeSet<String>,
    created: &HashMap<String, i64>,
    salt: u64,
    mut used: impl FnMut(&str) -> Result<bool, E>,
) -> Result<Assigned, E> {
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by_key(|&g| (std::cmp::Reverse(groups[g].size), groups[g].min_content));
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut ids = vec![String::new(); groups.len()];
    let mut made = Vec::new();
    for &g in &order {
        let pick = groups[g]
            .olds
            .iter()
            .filter(|(id, _)| !taken.contains(*id))
            .min_by_key(|(id, count)| {
                (
                    created.get(*id).copied().unwrap_or(i64::MAX),
                    std::cmp::Reverse(**count),
                    (*id).clone(),
                )
            })
            .map(|(id, _)| id.clone());
        let id = match pick {
            Some(id) => id,
            None => {
                let mut h = groups[g].min_content;
                let mut id = format!("{h:016x}");
                while taken.contains(&id) || used(&id)? {
                    h = crate::hash::splitmix64(h ^ salt);
                    id = format!("{h:016x}");
                }
                made.push(id.clone());
                id
            }
        };
        taken.insert(id.clone());
        ids[g] = id;
    }
    // Old ids not taken: merged into the group holding most of their texts
    // (ties: the smallest id), or dissolved.
    let mut into: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    for (g, group) in groups.iter().enumerate() {
        for (old, &count) in &group.olds {
            *into
                .entry(old.as_str())
                .or_default()
                .entry(ids[g].as_str())
                .or_default() += count;
        }
    }
    let mut merged = Vec::new();
    for (old, targets) in &into {
        if taken.contains(*old) {
            continue;
        }
        if let Some((to, _)) = targets
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        {
            merged.push(Merge {
                id: old.to_string(),
                into: to.to_string(),
            });
        }
    }
    let dissolved = orphans
        .iter()
        .filter(|o| !taken.contains(*o) && !into.contains_key(o.as_str()))
        .cloned()
        .collect();
    Ok(Assigned {
        ids,
        made,
        merged,
        dissolved,
    })
}

/// For each node of a run, the index of its story.
fn story_of_nodes(o: &Outcome, nodes: usize) -> Vec<Option<usize>> {
    let mut out = vec![None; nodes];
    for (s, story) in o.stories.iter().enumerate() {
        for m in &story.members {
            if let Some(n) = o.documents[m.doc as usize].node {
                out[n as usize] = Some(s);
            }
        }
    }
    out
}

fn write_meta(conn: &Connection, cfg: &Config) -> rusqlite::Result<()> {
    let params_json = serde_json::to_string(&index_params(cfg))
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    let mut st = conn.prepare("INSERT INTO meta(key, value) VALUES (?1, ?2)")?;
    st.execute(["format_version", &FORMAT_VERSION.to_string()])?;
    st.execute(["params", &params_json])?;
    st.execute(["storyclust", env!("CARGO_PKG_VERSION")])?;
    st.execute([
        "hashing",
        "XXH3-64 seeded from params.seed through SplitMix64; stored as signed 64-bit integers",
    ])?;
    Ok(())
}

/// How a run's nodes map onto the index.
struct Ids<'a> {
    /// Text id of each node.
    text: &'a [i64],
    /// Whether each node is a text new to the index.
    fresh: &'a [bool],
    /// The batch being written.
    batch: i64,
}

/// Writes the run's texts and articles: new texts with their story, texts
/// already indexed get their story updated; the articles of `archive`
/// documents are already there.
fn write_texts(
    conn: &Connection,
    outcome: &Outcome,
    internals: &crate::Internals,
    ids: &Ids<'_>,
    stories: &[Option<String>],
    archive: &[bool],
) -> rusqlite::Result<()> {
    let mut ins_text = conn.prepare_cached(
        "INSERT INTO texts(id, content, words, story, batch, seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut set_story = conn.prepare_cached("UPDATE texts SET story = ?2 WHERE id = ?1")?;
    for (n, story) in stories.iter().enumerate() {
        if ids.fresh[n] {
            ins_text.execute(params![
                ids.text[n],
                signed(internals.node_content[n]),
                internals.node_words[n],
                story,
                ids.batch,
                seq_to_blob(&internals.seqs[n])
            ])?;
        } else {
            set_story.execute(params![ids.text[n], story])?;
        }
    }
    let mut ins_article = conn.prepare_cached(
        "INSERT OR IGNORE INTO articles(path, text, bytes, title, encoding, batch)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (doc, _) in outcome.documents.iter().zip(archive).filter(|d| !d.1) {
        if let Some(n) = doc.node {
            ins_article.execute(params![
                path_string(&doc.path),
                ids.text[n as usize],
                doc.bytes as i64,
                doc.title,
                encoding_name(doc.encoding),
                ids.batch
            ])?;
        }
    }
    Ok(())
}

/// Writes the fingerprints and band keys of the texts new to the index.
fn write_postings(
    conn: &Connection,
    internals: &crate::Internals,
    ids: &Ids<'_>,
) -> rusqlite::Result<()> {
    let text_ids = ids.text;
    let fresh = |n: &usize| ids.fresh[*n];
    // Sorted, so the B-trees are filled in order.
    let mut fps: Vec<(i64, i64)> = internals
        .fingerprints
        .iter()
        .enumerate()
        .filter(|(n, _)| fresh(n))
        .flat_map(|(n, f)| f.iter().map(move |&h| (signed(h), text_ids[n])))
        .filter(|&(h, _)| internals.over_df.binary_search(&unsigned(h)).is_err())
        .collect();
    fps.sort_unstable();
    let mut st =
        conn.prepare_cached("INSERT OR IGNORE INTO fingerprints(hash, text) VALUES (?1, ?2)")?;
    for (h, t) in fps {
        st.execute([h, t])?;
    }
    let mut bands: Vec<(i64, i64, i64)> = internals
        .bands
        .iter()
        .enumerate()
        .filter(|(n, _)| fresh(n))
        .flat_map(|(n, keys)| {
            keys.iter()
                .enumerate()
                .map(move |(b, &k)| (b as i64, signed(k), text_ids[n]))
        })
        .collect();
    bands.sort_unstable();
    let mut st =
        conn.prepare_cached("INSERT OR IGNORE INTO bands(band, key, text) VALUES (?1, ?2, ?3)")?;
    for (b, k, t) in bands {
        st.execute([b, k, t])?;
    }
    Ok(())
}

/// Writes the edges as first verified, each with what the boilerplate pass
/// left of it.
fn write_edges(
    conn: &Connection,
    first: &[crate::cluster::Edge],
    last: &[crate::cluster::Edge],
    text_ids: &[i64],
) -> rusqlite::Result<()> {
    let pair = |e: &crate::cluster::Edge| {
        let (a, b) = (text_ids[e.a as usize], text_ids[e.b as usize]);
        (a.min(b), a.max(b))
    };
    let kept: HashMap<(i64, i64), (f64, bool)> = last
        .iter()
        .map(|e| (pair(e), (e.strength, e.strong)))
        .collect();
    let mut st = conn.prepare_cached(
        "INSERT OR REPLACE INTO edges(a, b, strength, strong, last_strength, last_strong)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for e in first {
        let (a, b) = pair(e);
        let k = kept.get(&(a, b));
        st.execute(params![
            a,
            b,
            e.strength,
            e.strong,
            k.map(|k| k.0),
            k.map(|k| k.1)
        ])?;
    }
    Ok(())
}

fn write_stock(conn: &Connection, internals: &crate::Internals) -> rusqlite::Result<()> {
    let mut st = conn.prepare_cached("INSERT OR IGNORE INTO stock(hash, kind) VALUES (?1, ?2)")?;
    for &h in &internals.over_df {
        st.execute([signed(h), 0])?;
    }
    for &h in &internals.boilerplate {
        st.execute([signed(h), 1])?;
    }
    Ok(())
}

fn read_stock(conn: &Connection) -> rusqlite::Result<KnownStock> {
    let mut st = conn.prepare("SELECT hash, kind FROM stock")?;
    let mut known = KnownStock::default();
    let rows = st.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
    for row in rows {
        let (h, kind) = row?;
        if kind == 0 {
            known.over_df.push(unsigned(h));
        } else {
            known.boilerplate.push(unsigned(h));
        }
    }
    known.over_df.sort_unstable();
    known.boilerplate.sort_unstable();
    Ok(known)
}

/// The neighbourhood of the seeds (sorted): the seeds and every text of
/// their stories.
fn neighbourhood(conn: &Connection, seeds: &BTreeSet<i64>) -> rusqlite::Result<Vec<i64>> {
    let mut texts: BTreeSet<i64> = seeds.clone();
    let mut story_of = conn.prepare_cached("SELECT story FROM texts WHERE id = ?1")?;
    let mut stories: BTreeSet<String> = BTreeSet::new();
    for &t in &texts {
        if let Some(s) = story_of
            .query_row([t], |r| r.get::<_, Option<String>>(0))
            .optional()?
            .flatten()
        {
            stories.insert(s);
        }
    }
    let mut members = conn.prepare_cached("SELECT id FROM texts WHERE story = ?1")?;
    for s in &stories {
        let ids: Vec<i64> = members
            .query_map([s], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        texts.extend(ids);
    }
    Ok(texts.into_iter().collect())
}

/// Deletes the stored edges between two texts of `hood` (sorted): the run
/// over the neighbourhood gives them anew. Edges to texts outside stay.
fn delete_inner_edges(conn: &Connection, hood: &[i64]) -> rusqlite::Result<()> {
    let mut out_a = conn.prepare_cached("SELECT b FROM edges WHERE a = ?1")?;
    let mut del = conn.prepare_cached("DELETE FROM edges WHERE a = ?1 AND b = ?2")?;
    for &a in hood {
        let bs: Vec<i64> = out_a
            .query_map([a], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for b in bs {
            if hood.binary_search(&b).is_ok() {
                del.execute([a, b])?;
            }
        }
    }
    Ok(())
}

fn summary(conn: &Connection) -> rusqlite::Result<IndexSummary> {
    let count = |sql: &str| {
        conn.query_row(sql, [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
    };
    Ok(IndexSummary {
        articles: count("SELECT COUNT(*) FROM articles")?,
        texts: count("SELECT COUNT(*) FROM texts")?,
        stories: count(
            "SELECT COUNT(*) FROM stories WHERE merged_into IS NULL AND ended_batch IS NULL",
        )?,
        batches: count("SELECT COUNT(*) FROM batches")?,
        format_version: FORMAT_VERSION,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_leave_out_file_selection_and_round_trip() {
        let mut cfg = Config {
            shingle: 4,
            ..Config::default()
        };
        let m = index_params(&cfg);
        assert!(!m.contains_key("extensions") && !m.contains_key("max_file_bytes"));
        assert_eq!(m["shingle"], 4);
        cfg.extensions = vec!["md".into()];
        let back = config_from_params(&m, &cfg).unwrap();
        assert_eq!(back, cfg);
        let mut bad = m.clone();
        bad.insert("nonsense".into(), 1.into());
        assert!(config_from_params(&bad, &cfg).is_err());
    }

    fn group(size: usize, min_content: u64, olds: &[(&str, usize)]) -> Regrouped {
        Regrouped {
            size,
            min_content,
            olds: olds.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        }
    }

    fn assign(groups: &[Regrouped], orphans: &[&str], created: &[(&str, i64)]) -> Assigned {
        let created = created.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        let orphans = orphans.iter().map(|s| s.to_string()).collect();
        assign_ids::<()>(groups, &orphans, &created, 7, |id| {
            Ok(id == "00000000000000aa")
        })
        .unwrap()
    }

    #[test]
    fn the_oldest_id_survives_a_merge_and_the_other_is_recorded() {
        let a = assign(
            &[group(5, 9, &[("b", 2), ("a", 2)])],
            &[],
            &[("a", 3), ("b", 1)],
        );
        assert_eq!(a.ids, ["b"]);
        assert_eq!(
            a.merged,
            [Merge {
                id: "a".into(),
                into: "b".into()
            }]
        );
        assert!(a.made.is_empty() && a.dissolved.is_empty());
        // Same batch: the id with more members wins, then the smaller id.
        let a = assign(
            &[group(5, 9, &[("b", 1), ("a", 3)])],
            &[],
            &[("a", 2), ("b", 2)],
        );
        assert_eq!(a.ids, ["a"]);
        let a = assign(
            &[group(5, 9, &[("b", 2), ("a", 2)])],
            &[],
            &[("a", 2), ("b", 2)],
        );
        assert_eq!(a.ids, ["a"]);
    }

    #[test]
    fn a_split_keeps_the_id_in_the_larger_part_and_new_groups_get_text_hashes() {
        let a = assign(
            &[
                group(2, 0xbb, &[("s", 1)]),
                group(4, 0xcc, &[("s", 3)]),
                group(2, 0xdd, &[]),
            ],
            &[],
            &[("s", 1)],
        );
        assert_eq!(a.ids[1], "s");
        assert_eq!(a.ids[0], "00000000000000bb");
        assert_eq!(a.ids[2], "00000000000000dd");
        assert_eq!(a.made.len(), 2);
        assert!(a.merged.is_empty());
    }

    #[test]
    fn used_ids_are_not_given_again_and_lost_stories_dissolve() {
        let a = assign(&[group(2, 0xaa, &[])], &["gone", "kept"], &[("kept", 1)]);
        assert_ne!(a.ids[0], "00000000000000aa");
        assert_eq!(a.ids[0].len(), 16);
        assert_eq!(a.dissolved, ["gone", "kept"]);
        let a = assign(&[group(2, 0xab, &[("kept", 1)])], &["kept"], &[("kept", 1)]);
        assert_eq!(a.ids, ["kept"]);
        assert!(a.dissolved.is_empty());
    }

    #[test]
    fn hashes_survive_the_signed_column() {
        for h in [0u64, 1, u64::MAX, 1 << 63, 0x0123_4567_89ab_cdef] {
            assert_eq!(unsigned(signed(h)), h);
        }
    }
}
