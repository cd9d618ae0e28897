//! The pipeline's stage boundaries, for distributed runs.
//!
//! A distributed run (the PySpark job in `spark/`) keeps this crate as the
//! one implementation of reading, tokenizing, shingling, sketching,
//! verifying, clustering and finding passages: it ships shards of rows to
//! `storyclust stage NAME` on its executors and does the grouping, joins and
//! connected components itself. This module is those commands. Each reads
//! JSON Lines on stdin and writes JSON Lines on stdout; rows are independent,
//! so any partitioning of the input gives the same rows out.
//!
//! # Exchange format, version 1
//!
//! Every 64-bit hash (text, shingle, fingerprint, band key, document id) is
//! written as a **signed** 64-bit integer, the two's complement of the
//! unsigned value, because Spark's `LongType` is signed (it reads unsigned
//! 64-bit values as decimals). Where an order of hashes matters (node
//! numbering, which breaks every tie), these commands sort by the unsigned
//! value themselves; the caller's order never matters.
//!
//! * `stage params [TUNING]` writes one [`Params`] row: the whole
//!   configuration, validated, with the LSH bands × rows derived from it.
//!   Every other command takes that row back as `--params JSON` and refuses
//!   another format or version, so thresholds are computed once, here.
//! * `stage sketch`: [`SketchIn`] → [`SketchOut`], one row per file. A file
//!   that cannot be used gives a row with `error` set and nothing else.
//! * `stage verify`: [`VerifyIn`] → [`EdgeRow`], one row per pair that is a
//!   verified edge (none for the others).
//! * `stage cluster`: [`ClusterIn`] (one connected component of the edge
//!   graph, or one lone node standing for identical copies) → one
//!   [`ClusterOut`] per story found in it.
//! * `stage passages`: [`PassagesIn`] (one story) → one [`PassagesOut`],
//!   whose `line` is the story exactly as `storyclust --format jsonl` writes it.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{Config, Document, Outcome, Stats, cluster, hash, load, minhash, report, verify};

/// Name of the exchange format, in every [`Params`] row.
pub const EXCHANGE_FORMAT: &str = "storyclust-exchange";
/// Version of the exchange format.
pub const EXCHANGE_VERSION: u32 = 1;

/// Rows processed at once (in parallel) before their output is written.
const CHUNK: usize = 256;

/// Problems of a stage command: these stop it (a file that cannot be read
/// is not one of them; it is reported in the output row).
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// `--params` is not a parameters row of this format and version.
    #[error("--params: {0}")]
    Params(String),
    /// An input row is not what the stage expects.
    #[error("input line {line}: {message}")]
    Row {
        /// 1-based line number on stdin.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// Reading stdin or writing stdout failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The parameters row every stage takes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// Always [`EXCHANGE_FORMAT`].
    pub format: String,
    /// Always [`EXCHANGE_VERSION`].
    pub version: u32,
    /// The configuration.
    pub config: Config,
    /// LSH bands × rows, derived from `config`.
    pub lsh: minhash::BandsRows,
    /// Seed of document ids: `doc = xxh3-64(path UTF-8 bytes, doc_seed)`.
    pub doc_seed: i64,
}

impl Params {
    /// The parameters row of a configuration.
    pub fn new(config: Config) -> Params {
        Params {
            format: EXCHANGE_FORMAT.into(),
            version: EXCHANGE_VERSION,
            lsh: config.bands_rows(),
            doc_seed: doc_seed(config.seed) as i64,
            config,
        }
    }

    /// Reads a parameters row, refusing another format, version or an
    /// invalid configuration.
    pub fn parse(json: &str) -> Result<Params, StageError> {
        let v: serde_json::Value =
            serde_json::from_str(json).map_err(|e| StageError::Params(e.to_string()))?;
        let format = v.get("format").and_then(|f| f.as_str()).unwrap_or("");
        let version = v.get("version").and_then(|f| f.as_u64());
        if format != EXCHANGE_FORMAT || version != Some(EXCHANGE_VERSION as u64) {
            return Err(StageError::Params(format!(
                "format {format:?} version {} is not {EXCHANGE_FORMAT:?} version {EXCHANGE_VERSION} \
                 (make it again with this binary's `storyclust stage params`)",
                version.map_or("none".into(), |v| v.to_string())
            )));
        }
        let p: Params = serde_json::from_value(v).map_err(|e| StageError::Params(e.to_string()))?;
        p.config
            .validate()
            .map_err(|e| StageError::Params(e.to_string()))?;
        if p != Params::new(p.config.clone()) {
            return Err(StageError::Params(
                "lsh or doc_seed do not follow from the configuration".into(),
            ));
        }
        Ok(p)
    }
}

/// Seed of document ids, derived from the user's seed like the others.
fn doc_seed(seed: u64) -> u64 {
    hash::splitmix64(seed ^ 0x646f_6369_6400_0005)
}

/// The id of a document: a seeded hash of its path as written in the output.
pub fn doc_id(path: &str, seed: u64) -> i64 {
    hash::bytes(path.as_bytes(), doc_seed(seed)) as i64
}

/// A file to sketch.
#[derive(Debug, Deserialize)]
pub struct SketchIn {
    /// The path, as the output shall name it.
    pub path: String,
    /// The file's bytes, base64 (standard alphabet, padded; line breaks are
    /// ignored); absent: the command reads `path` itself.
    #[serde(default)]
    pub data: Option<String>,
}

/// A sketched file.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct SketchOut {
    /// The path.
    pub path: String,
    /// Document id (see [`doc_id`]).
    pub doc: i64,
    /// Why the file cannot be used (the other fields are then absent).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    /// Hash of its normalised words: equal texts have equal hashes.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub text: Option<i64>,
    /// First non-empty line.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub title: Option<String>,
    /// Words (0: no text; such a file is never in a story).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub words: Option<u32>,
    /// Size in bytes.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub bytes: Option<u64>,
    /// How the bytes were decoded.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub encoding: Option<load::Encoding>,
    /// Shingle hashes in text order.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub seq: Option<Vec<i64>>,
    /// Distinct winnowed fingerprints.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub fingerprints: Option<Vec<i64>>,
    /// LSH band keys, band 0 first.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub bands: Option<Vec<i64>>,
}

/// A candidate pair to verify, with both texts' shingles.
#[derive(Debug, Deserialize)]
pub struct VerifyIn {
    /// Text hash of one.
    pub a: i64,
    /// Text hash of the other.
    pub b: i64,
    /// Words of `a`.
    pub a_words: u32,
    /// Words of `b`.
    pub b_words: u32,
    /// Shingle hashes of `a`, in text order.
    pub a_seq: Vec<i64>,
    /// Shingle hashes of `b`, in text order.
    pub b_seq: Vec<i64>,
    /// Stock phrases the two share (more may be given; others are ignored).
    #[serde(default)]
    pub stock: Vec<i64>,
}

/// A verified edge between two texts; `a` is the smaller as unsigned.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct EdgeRow {
    /// Text hash of one end.
    pub a: i64,
    /// Text hash of the other.
    pub b: i64,
    /// Strength in 0..=1.
    pub strength: f64,
    /// Evidence of a story on its own.
    #[serde(default)]
    pub strong: bool,
}

/// A distinct text and the articles it stands for.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct NodeRow {
    /// Text hash.
    pub text: i64,
    /// Articles with this text.
    pub weight: u64,
}

/// One connected component of the verified-edge graph.
#[derive(Debug, Deserialize)]
pub struct ClusterIn {
    /// Its texts.
    pub nodes: Vec<NodeRow>,
    /// Its edges.
    pub edges: Vec<EdgeRow>,
}

/// One story found in a component.
#[derive(Debug, Serialize, Deserialize)]
pub struct ClusterOut {
    /// Its texts, ascending as unsigned.
    pub texts: Vec<i64>,
}

/// One member article of a story.
#[derive(Debug, Deserialize)]
pub struct MemberIn {
    /// Its path.
    pub path: String,
    /// Its text hash.
    pub text: i64,
    /// First non-empty line.
    pub title: String,
    /// Words.
    pub words: u32,
    /// Size in bytes.
    pub bytes: u64,
    /// How its bytes were decoded.
    pub encoding: load::Encoding,
    /// Its bytes, base64; absent: the command reads `path`.
    #[serde(default)]
    pub data: Option<String>,
}

/// One story, for its passages.
#[derive(Debug, Deserialize)]
pub struct PassagesIn {
    /// Every article whose text is in the story.
    pub members: Vec<MemberIn>,
    /// The verified edges between its texts.
    #[serde(default)]
    pub edges: Vec<EdgeRow>,
    /// Stock phrases its texts hold (more may be given).
    #[serde(default)]
    pub stock: Vec<i64>,
}

/// A problem with one file met while finding passages.
#[derive(Debug, Serialize, Deserialize)]
pub struct FileError {
    /// The file.
    pub path: String,
    /// The message.
    pub message: String,
}

/// One finished story.
#[derive(Debug, Serialize, Deserialize)]
pub struct PassagesOut {
    /// Articles in it.
    pub size: usize,
    /// Sort key of its first article: stories are listed by `size`
    /// descending, then `order` ascending (byte order).
    pub order: String,
    /// The story as `storyclust --format jsonl` writes it, without newline.
    pub line: String,
    /// Files that could not be read again.
    pub errors: Vec<FileError>,
}

/// The stages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Read and sketch files.
    Sketch,
    /// Verify candidate pairs.
    Verify,
    /// Cluster components.
    Cluster,
    /// Find a story's passages.
    Passages,
}

/// Runs one stage from `input` to `output`; returns the rows read.
pub fn run(
    stage: Stage,
    params: &Params,
    input: &mut dyn BufRead,
    output: &mut dyn Write,
) -> Result<u64, StageError> {
    let mut line_no = 0u64;
    let mut chunk: Vec<(u64, String)> = Vec::with_capacity(CHUNK);
    let mut lines = input.lines();
    loop {
        chunk.clear();
        for l in lines.by_ref() {
            line_no += 1;
            let l = l?;
            if l.trim().is_empty() {
                continue;
            }
            chunk.push((line_no, l));
            if chunk.len() == CHUNK {
                break;
            }
        }
        if chunk.is_empty() {
            break;
        }
        let out: Vec<Result<Vec<String>, StageError>> = chunk
            .par_iter()
            .map(|(n, l)| {
                one_row(stage, params, l).map_err(|message| StageError::Row { line: *n, message })
            })
            .collect();
        for rows in out {
            for r in rows? {
                output.write_all(r.as_bytes())?;
                output.write_all(b"\n")?;
            }
        }
    }
    output.flush()?;
    Ok(line_no)
}

fn parse<'a, T: Deserialize<'a>>(line: &'a str) -> Result<T, String> {
    serde_json::from_str(line).map_err(|e| e.to_string())
}

fn to_line<T: Serialize>(row: &T) -> String {
    serde_json::to_string(row).expect("rows serialise")
}

fn one_row(stage: Stage, params: &Params, line: &str) -> Result<Vec<String>, String> {
    let cfg = &params.config;
    Ok(match stage {
        Stage::Sketch => vec![to_line(&sketch(cfg, params.lsh, parse(line)?)?)],
        Stage::Verify => verify_pair(cfg, parse(line)?)?
            .map(|e| to_line(&e))
            .into_iter()
            .collect(),
        Stage::Cluster => cluster_component(cfg, parse(line)?)?
            .iter()
            .map(to_line)
            .collect(),
        Stage::Passages => vec![to_line(&passages(cfg, params.lsh, parse(line)?)?)],
    })
}

fn decode_data(data: &str) -> Result<Vec<u8>, String> {
    use base64::Engine;
    // MIME-style line breaks (Spark's `base64` makes them) are allowed.
    let packed: Vec<u8> = data.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(packed)
        .map_err(|e| format!("data is not base64: {e}"))
}

fn signed(v: Vec<u64>) -> Vec<i64> {
    v.into_iter().map(|h| h as i64).collect()
}

fn unsigned(v: &[i64]) -> Vec<u64> {
    v.iter().map(|&h| h as u64).collect()
}

/// Sketches one file: the same reading, tokenizing, shingling, winnowing and
/// MinHash as a local run (`lsh` is `cfg.bands_rows()`, computed once).
pub fn sketch(cfg: &Config, lsh: minhash::BandsRows, row: SketchIn) -> Result<SketchOut, String> {
    let path = PathBuf::from(&row.path);
    let doc = doc_id(&row.path, cfg.seed);
    let text = match &row.data {
        Some(d) => load::from_bytes(&path, decode_data(d)?, cfg.max_file_bytes),
        None => load::read(&path, cfg.max_file_bytes),
    };
    let s = match text.map(|t| crate::sketch_text(&path, &t, cfg)) {
        Ok(s) => s,
        Err(e) => {
            return Ok(SketchOut {
                path: row.path,
                doc,
                error: Some(e.to_string()),
                ..SketchOut::default()
            });
        }
    };
    let shingled = verify::Shingled::new(s.document.words, s.seq);
    let seeds = hash::Seeds::new(cfg.seed);
    let fingerprints = crate::fingerprints_of(&shingled, cfg, &[]);
    let bands = crate::bands_of(&shingled.set, cfg, &seeds, lsh);
    Ok(SketchOut {
        path: row.path,
        doc,
        error: None,
        text: Some(s.content as i64),
        title: Some(s.document.title),
        words: Some(s.document.words),
        bytes: Some(s.document.bytes),
        encoding: Some(s.document.encoding),
        seq: Some(signed(shingled.seq)),
        fingerprints: Some(signed(fingerprints)),
        bands: Some(signed(bands)),
    })
}

/// Verifies one pair exactly as a local run does; `None` when it is no edge.
pub fn verify_pair(cfg: &Config, row: VerifyIn) -> Result<Option<EdgeRow>, String> {
    let (mut a, mut b) = (
        (row.a, row.a_words, row.a_seq),
        (row.b, row.b_words, row.b_seq),
    );
    if (a.0 as u64) > (b.0 as u64) {
        std::mem::swap(&mut a, &mut b);
    }
    if a.0 == b.0 {
        return Err(format!("a pair of one text ({})", a.0));
    }
    let sa = verify::Shingled::new(a.1, unsigned(&a.2));
    let sb = verify::Shingled::new(b.1, unsigned(&b.2));
    let stock = verify::Stock::new(unsigned(&row.stock));
    Ok(
        crate::verified_edge(&sa, &sb, &stock, cfg, 0, 1).map(|e| EdgeRow {
            a: a.0,
            b: b.0,
            strength: e.strength,
            strong: e.strong,
        }),
    )
}

/// Numbers texts as a local run does: in ascending order of their hash.
fn number(texts: impl Iterator<Item = i64>) -> (Vec<u64>, HashMap<u64, u32>) {
    let mut sorted: Vec<u64> = texts.map(|t| t as u64).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let index = sorted
        .iter()
        .enumerate()
        .map(|(i, &t)| (t, i as u32))
        .collect();
    (sorted, index)
}

fn local_edges(edges: &[EdgeRow], index: &HashMap<u64, u32>) -> Result<Vec<cluster::Edge>, String> {
    edges
        .iter()
        .map(|e| {
            let end = |t: i64| {
                index
                    .get(&(t as u64))
                    .copied()
                    .ok_or_else(|| format!("edge names text {t}, which is not among the nodes"))
            };
            let (a, b) = (end(e.a)?, end(e.b)?);
            Ok(cluster::Edge {
                a: a.min(b),
                b: a.max(b),
                strength: e.strength,
                strong: e.strong,
            })
        })
        .collect()
}

/// Clusters one component exactly as a local run does.
pub fn cluster_component(cfg: &Config, row: ClusterIn) -> Result<Vec<ClusterOut>, String> {
    let (texts, index) = number(row.nodes.iter().map(|n| n.text));
    if texts.len() != row.nodes.len() {
        return Err("a text is given twice among the nodes".into());
    }
    let mut weight = vec![0u64; texts.len()];
    for n in &row.nodes {
        weight[index[&(n.text as u64)] as usize] = n.weight.max(1);
    }
    let edges = local_edges(&row.edges, &index)?;
    Ok(cluster::cluster(&weight, &edges, cfg.cluster_params())
        .into_iter()
        .map(|g| ClusterOut {
            texts: g.iter().map(|&n| texts[n as usize] as i64).collect(),
        })
        .collect())
}

/// The sort key of a story by its first article, as a string whose byte
/// order is the natural order of a local run.
fn order_string(path: &Path) -> String {
    let (unnumbered, number, name, path) = load::order_key(path);
    let mut s = String::new();
    s.push(if unnumbered { '1' } else { '0' });
    s.push_str(&format!("{number:039}"));
    s.push_str(&name);
    for c in path.components() {
        s.push('\0');
        s.push_str(&c.as_os_str().to_string_lossy());
    }
    s
}

/// Finds one story's passages and renders it as a local run does (`lsh` is
/// `cfg.bands_rows()`, computed once).
pub fn passages(
    cfg: &Config,
    lsh: minhash::BandsRows,
    row: PassagesIn,
) -> Result<PassagesOut, String> {
    if row.members.is_empty() {
        return Err("a story without members".into());
    }
    let (texts, index) = number(row.members.iter().map(|m| m.text));
    let mut members: Vec<(PathBuf, MemberIn)> = row
        .members
        .into_iter()
        .map(|m| (PathBuf::from(&m.path), m))
        .collect();
    members.sort_by_cached_key(|(p, _)| load::order_key(p));
    members.dedup_by(|a, b| a.0 == b.0);
    let mut weight = vec![0u64; texts.len()];
    let mut documents = Vec::with_capacity(members.len());
    // Bytes are shipped for every member or for none (then files are read).
    let shipped = members.iter().filter(|(_, m)| m.data.is_some()).count();
    if shipped != 0 && shipped != members.len() {
        return Err("data is given for some members but not all".into());
    }
    let have_data = shipped != 0;
    let mut data = Vec::with_capacity(shipped);
    for (path, m) in members {
        let node = index[&(m.text as u64)];
        weight[node as usize] += 1;
        if let Some(d) = &m.data {
            data.push(decode_data(d)?);
        }
        documents.push(Document {
            path,
            title: m.title,
            words: m.words,
            bytes: m.bytes,
            encoding: m.encoding,
            node: Some(node),
        });
    }
    let edges = local_edges(&row.edges, &index)?;
    let edge_map: HashMap<(u32, u32), f64> =
        edges.iter().map(|e| ((e.a, e.b), e.strength)).collect();
    let stock = verify::Stock::new(unsigned(&row.stock));
    let nodes: Vec<u32> = (0..texts.len() as u32).collect();
    let docs: Vec<u32> = (0..documents.len() as u32).collect();
    let ctx = crate::StoryContext {
        documents: &documents,
        node_weight: &weight,
        node_content: &texts,
        edges: &edge_map,
        stock: &stock,
        data: have_data.then_some(data.as_slice()),
        cold: None,
        sketched: None,
        cfg,
        shingle_seed: hash::Seeds::new(cfg.seed).shingle,
    };
    let (story, errors) = crate::make_story(&ctx, &nodes, &docs, true);
    let order = order_string(&documents[0].path);
    let outcome = Outcome {
        config: cfg.clone(),
        bands_rows: lsh,
        documents,
        stories: vec![story],
        errors: Vec::new(),
        stats: Stats::default(),
        evaluation: None,
        pending: None,
    };
    let mut line = Vec::new();
    report::json::line(
        &mut line,
        "story",
        &report::json::story(&outcome, &outcome.stories[0]),
    )
    .map_err(|e| e.to_string())?;
    line.pop();
    Ok(PassagesOut {
        size: outcome.stories[0].members.len(),
        order,
        line: String::from_utf8(line).expect("JSON is UTF-8"),
        errors: errors
            .iter()
            .map(|e| FileError {
                path: report::json::path_str(e.path()),
                message: e.to_string(),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_round_trip_and_refuse_other_versions() {
        let p = Params::new(Config::default());
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(Params::parse(&json).unwrap(), p);
        let old = json.replace("\"version\":1", "\"version\":0");
        let e = Params::parse(&old).unwrap_err().to_string();
        assert!(e.contains("version 0") && e.contains("version 1"), "{e}");
        let drift = json.replace("\"rows\":", "\"rows\":1");
        assert!(Params::parse(&drift).is_err());
    }

    #[test]
    fn order_strings_sort_like_natural_order() {
        let paths = ["d/2_x.txt", "d/10_x.txt", "d/a.txt", "d-e/a.txt", "d/b.txt"];
        let mut by_key: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
        by_key.sort_by_cached_key(|p| load::order_key(p));
        let mut by_string: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
        by_string.sort_by_cached_key(|p| order_string(p));
        assert_eq!(by_key, by_string);
    }

    #[test]
    fn verify_orients_pairs_by_unsigned_hash() {
        let cfg = Config::default();
        let seq: Vec<i64> = (1..40).collect();
        let row = |a: i64, b: i64| VerifyIn {
            a,
            b,
            a_words: 43,
            b_words: 43,
            a_seq: seq.clone(),
            b_seq: seq.clone(),
            stock: Vec::new(),
        };
        let e = verify_pair(&cfg, row(-5, 7)).unwrap().unwrap();
        assert_eq!((e.a, e.b), (7, -5));
        let f = verify_pair(&cfg, row(7, -5)).unwrap().unwrap();
        assert_eq!((f.a, f.b, f.strength), (7, -5, e.strength));
        assert!(e.strong);
        // A shared passage is an edge unless it is stock.
        let partial = |stock: Vec<i64>| VerifyIn {
            a: 1,
            b: 2,
            a_words: 43,
            b_words: 74,
            a_seq: seq.clone(),
            b_seq: (1..20).chain(200..250).collect(),
            stock,
        };
        assert!(verify_pair(&cfg, partial(Vec::new())).unwrap().is_some());
        assert!(
            verify_pair(&cfg, partial((1..20).collect()))
                .unwrap()
                .is_none()
        );
    }
}
