//! Command-line definitions. The doc comments are the help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable report.
    Text,
    /// One JSON document.
    Json,
    /// JSON Lines: begin, one record per story, summary.
    Jsonl,
}

/// Tasks besides finding stories.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the passages two articles share, with their spans and the measured overlap.
    Compare {
        /// The first article.
        a: PathBuf,
        /// The second article.
        b: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// When to use colours.
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
        color: ColorChoice,
    },
    /// CI mode: keep an index of the archive and check each new batch against it.
    #[command(after_help = INDEX_HELP)]
    Index {
        /// What to do with the index.
        #[command(subcommand)]
        command: IndexCommand,
    },
    /// A stage of the pipeline on JSON Lines (stdin to stdout), for
    /// distributed runs such as the Spark job in spark/.
    #[command(after_help = STAGE_HELP)]
    Stage {
        /// Which stage.
        #[command(subcommand)]
        command: StageCommand,
    },
    /// Print a completion script for a shell.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), generated from the same definitions as --help.
    Man,
}

/// The stage commands.
#[derive(Debug, Subcommand)]
pub enum StageCommand {
    /// Print the parameters row the other stages take (one JSON line).
    Params {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        tuning: Tuning,
    },
    /// Files to sketches: {path, data?} -> {path, doc, text, words, seq, fingerprints, bands, ...}.
    Sketch(StageArgs),
    /// Candidate pairs to verified edges: {a, b, a_seq, b_seq, ...} -> {a, b, strength, strong}.
    Verify(StageArgs),
    /// Connected components to stories: {nodes, edges} -> {texts}.
    Cluster(StageArgs),
    /// Stories to their passages and JSON Lines: {members, edges, stock} -> {size, order, line}.
    Passages(StageArgs),
}

/// Options of a stage.
#[derive(Debug, Args)]
pub struct StageArgs {
    /// The row printed by `storyclust stage params`.
    #[arg(long, value_name = "JSON")]
    pub params: String,
    /// Worker threads (default: one per core). Output does not depend on it.
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
}

const STAGE_HELP: &str = "\
The exchange format (version 1) is documented in the library's `stage`
module and in spark/README.md. Hashes are signed 64-bit integers.

Exit codes:
  0  every row was processed (files that cannot be read give error rows)
  2  bad --params (another format or version) or a malformed input row";

/// The index commands.
#[derive(Debug, Subcommand)]
pub enum IndexCommand {
    /// Make a new index (an SQLite file) from an archive of articles.
    Build {
        /// The index file to create.
        index: PathBuf,
        /// Folders and files of the archive.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        tuning: Tuning,
    },
    /// Check a batch against the index and add it (all of it or nothing).
    #[command(after_help = INDEX_HELP)]
    Add(BatchArgs),
    /// Check a batch against the index without adding it.
    #[command(after_help = INDEX_HELP)]
    Check(BatchArgs),
    /// List the index's stories, largest first.
    Stories {
        /// The index file.
        index: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Show one story by id; an id merged into another leads to it.
    Show {
        /// The index file.
        index: PathBuf,
        /// The story id (16 hex digits).
        id: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

/// Options of `index add` and `index check`.
#[derive(Debug, Args)]
pub struct BatchArgs {
    /// The index file.
    pub index: PathBuf,
    /// Folders and files of the batch.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit with 1 when an article of the batch reuses archive copy (joins a
    /// story that holds archive articles).
    #[arg(long)]
    pub fail_on_reuse: bool,
    /// Passages shown per article in text output (0: all). JSON always has all.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub passages: usize,
    #[command(flatten)]
    pub common: Common,
    /// Tuning options must match the index's (they are read from it); a
    /// different value is refused.
    #[command(flatten)]
    pub tuning: Tuning,
}

const INDEX_HELP: &str = "\
Examples:
  storyclust index build archive.db ./archive     index the archive once
  storyclust index check archive.db ./incoming    which new articles reuse archive copy
  storyclust index add --fail-on-reuse archive.db ./incoming
  storyclust index add --format jsonl archive.db ./incoming | jq -c 'select(.type==\"article\")'
  storyclust index stories archive.db

Exit codes (check and add):
  0  no article of the batch joins a story that holds archive articles
     (or --fail-on-reuse was not given)
  1  --fail-on-reuse was given and some article reuses archive copy
  2  an error: no index, an index of another format or other parameters,
     a file that could not be read (the rest is still checked and reported)";

/// When to colour the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// When stdout is a terminal, NO_COLOR is unset and TERM is not "dumb".
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

const AFTER_HELP: &str = "\
Examples:
  storyclust ./docs                          stories on the terminal
  storyclust --format json ./docs | jq '.stories[].documents[].path'
  storyclust --format jsonl ./docs | jq -c 'select(.type==\"story\") | .data.documents | map(.path)'
  storyclust --fail-on-stories ./batch       CI gate: exit 1 when any story is found

Exit codes:
  0  ran fine (and, with --fail-on-stories, found no story)
  1  --fail-on-stories was given and a story of two or more articles was found
  2  an error: bad option, missing path, or a file that could not be read
     (the rest of the input is still processed and reported)";

/// Find the stories in a folder of news articles: groups of articles that reuse
/// the same wire copy, with the passages they share and where each sits.
#[derive(Debug, Parser)]
#[command(
    name = "storyclust",
    version,
    about,
    after_help = AFTER_HELP,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    /// Other tasks (a path named like one of them can be given as ./NAME).
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Folders (walked recursively) and files to read.
    #[arg(required_unless_present = "explain", value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Also write a self-contained HTML report to FILE: the stories, members
    /// side by side with shared passages highlighted, a similarity matrix.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// List singletons (articles in no story) too.
    #[arg(long)]
    pub all: bool,

    /// Passages shown per story in text output (0: all). JSON always has all.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub passages: usize,

    #[command(flatten)]
    pub common: Common,

    /// Show the parameters in force and per-stage counts and timings.
    #[arg(long, short)]
    pub verbose: bool,

    /// Score the stories against gold labels (JSON: file name -> story id):
    /// ARI, pairwise precision, recall, F1; with --verbose the worst offenders.
    #[arg(long, value_name = "GOLD.json")]
    pub labels: Option<PathBuf>,

    /// Print the parameters in force and what they imply, then exit.
    #[arg(long)]
    pub explain: bool,

    /// Exit with 1 when a story of two or more articles is found (a CI gate).
    #[arg(long)]
    pub fail_on_stories: bool,

    #[command(flatten)]
    pub tuning: Tuning,
}

impl Cli {
    /// The library configuration these options describe.
    pub fn config(&self) -> storyclust::Config {
        let mut cfg = storyclust::Config::default();
        self.common.apply(&mut cfg);
        self.tuning.apply(&mut cfg);
        cfg
    }
}

/// Options shared by the main command and the index commands.
#[derive(Debug, Args)]
pub struct Common {
    /// Extensions of the files taken from folders (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', default_value = "txt", value_name = "EXT")]
    pub ext: Vec<String>,

    /// Skip (with a message) files larger than this many bytes; suffixes K, M, G.
    #[arg(long, default_value = "64M", value_parser = parse_size, value_name = "SIZE")]
    pub max_file_size: u64,

    /// Worker threads (default: one per core). Output does not depend on it.
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,

    /// Keep at most this much intermediate data (shingle sequences and
    /// postings) in memory, and the rest in a temporary file; suffixes K, M,
    /// G. Results do not depend on it.
    #[arg(long, default_value = "1G", value_parser = parse_size, value_name = "SIZE")]
    pub spill_after: u64,

    /// Folder of that temporary file (default: $TMPDIR or the system's).
    #[arg(long, value_name = "DIR")]
    pub temp_dir: Option<PathBuf>,

    /// When to use colours.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Leave timings out of the output, so equal inputs give equal bytes.
    #[arg(long)]
    pub no_timings: bool,
}

impl Common {
    /// Sets the file selection (and, for the process, where intermediate
    /// data spills).
    pub fn apply(&self, cfg: &mut storyclust::Config) {
        cfg.extensions = self.ext.clone();
        cfg.max_file_bytes = self.max_file_size;
        storyclust::store::set_spill_options(storyclust::store::SpillOptions {
            budget: self.spill_after,
            dir: self.temp_dir.clone(),
        });
    }
}

/// The parameters of hashing, verification and grouping.
#[derive(Debug, Args)]
#[command(next_help_heading = "Tuning")]
pub struct Tuning {
    /// Match letters exactly: do not fold the letters OCR often confuses
    /// (c/e, b/h, 1/l, 0/o, rn/m, 5/s, f/t, u/n) before hashing.
    #[arg(long)]
    pub no_ocr_fold: bool,

    /// Shingle size in words.
    #[arg(long, default_value_t = 5)]
    pub shingle: usize,

    /// Winnowing window in shingles: any shared run of WINDOW+SHINGLE-1 words
    /// is sure to yield a shared fingerprint.
    #[arg(long, default_value_t = 4)]
    pub window: usize,

    /// MinHash permutations.
    #[arg(long, default_value_t = 128)]
    pub num_perm: usize,

    /// Jaccard threshold of the near-duplicate path; LSH bands x rows are derived from it.
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f64,

    /// Seed of all hashing.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Document-frequency cap: text in more articles than this is a stock phrase.
    #[arg(long, default_value_t = 100)]
    pub max_df: usize,

    /// Boilerplate cap: text held by more than this many different stories is
    /// template, not reused copy (0: off).
    #[arg(long, default_value_t = 2)]
    pub max_stories: usize,

    /// Shared fingerprints needed to propose a pair.
    #[arg(long, default_value_t = 2)]
    pub min_fingerprints: u32,

    /// Words of shared passages (in each article) needed for a partial-reuse link.
    #[arg(long, default_value_t = 15)]
    pub min_shared_words: u32,

    /// Share of the shorter article that shared passages must cover.
    #[arg(long, default_value_t = 0.05)]
    pub min_coverage: f64,

    /// Groups merge while more than this share of their article pairs are linked.
    #[arg(long, default_value_t = 0.5)]
    pub min_linkage: f64,

    /// Groups merge only if their cross pairs are at least this strong relative
    /// to the pairs inside the tighter group.
    #[arg(long, default_value_t = 0.4)]
    pub coherence: f64,

    /// Words of a verbatim shared passage that make two articles a story on
    /// their own; weaker links only attach articles to a story.
    #[arg(long, default_value_t = 20)]
    pub strong_words: u32,

    /// Share of the shorter article covered by shared passages that makes two
    /// articles a story on their own.
    #[arg(long, default_value_t = 0.5)]
    pub strong_coverage: f64,
}

impl Tuning {
    /// Sets the tuning parameters.
    pub fn apply(&self, cfg: &mut storyclust::Config) {
        cfg.ocr_fold = !self.no_ocr_fold;
        cfg.shingle = self.shingle;
        cfg.window = self.window;
        cfg.num_perm = self.num_perm;
        cfg.threshold = self.threshold;
        cfg.seed = self.seed;
        cfg.max_df = self.max_df;
        cfg.max_stories = self.max_stories;
        cfg.min_fingerprints = self.min_fingerprints;
        cfg.min_shared_words = self.min_shared_words;
        cfg.min_coverage = self.min_coverage;
        cfg.min_linkage = self.min_linkage;
        cfg.coherence = self.coherence;
        cfg.strong_words = self.strong_words;
        cfg.strong_coverage = self.strong_coverage;
    }

    /// The configuration keys of the options given on the command line.
    pub fn given(matches: &clap::ArgMatches) -> Vec<&'static str> {
        const IDS: [(&str, &str); 15] = [
            ("no_ocr_fold", "ocr_fold"),
            ("shingle", "shingle"),
            ("window", "window"),
            ("num_perm", "num_perm"),
            ("threshold", "threshold"),
            ("seed", "seed"),
            ("max_df", "max_df"),
            ("max_stories", "max_stories"),
            ("min_fingerprints", "min_fingerprints"),
            ("min_shared_words", "min_shared_words"),
            ("min_coverage", "min_coverage"),
            ("min_linkage", "min_linkage"),
            ("coherence", "coherence"),
            ("strong_words", "strong_words"),
            ("strong_coverage", "strong_coverage"),
        ];
        IDS.iter()
            .filter(|(id, _)| {
                matches.try_get_raw(id).is_ok()
                    && matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine)
            })
            .map(|(_, key)| *key)
            .collect()
    }
}

/// Parses a size such as `4096`, `512K`, `64M` or `1G` (powers of 1024).
fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m = match c.to_ascii_uppercase() {
                'K' => 1u64 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                _ => return Err(format!("unknown size suffix {c:?} (use K, M or G)")),
            };
            (&s[..i], m)
        }
        _ => (s, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("{s:?} is not a size"))
}
