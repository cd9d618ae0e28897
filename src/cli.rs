//! Command-line definitions. The doc comments are the help text.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

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
    /// Print a completion script for a shell.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), generated from the same definitions as --help.
    Man,
}

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

    /// Extensions of the files taken from folders (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', default_value = "txt", value_name = "EXT")]
    pub ext: Vec<String>,

    /// Skip (with a message) files larger than this many bytes; suffixes K, M, G.
    #[arg(long, default_value = "64M", value_parser = parse_size, value_name = "SIZE")]
    pub max_file_size: u64,

    /// Worker threads (default: one per core). Output does not depend on it.
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,

    /// When to use colours.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Show the parameters in force and per-stage counts and timings.
    #[arg(long, short)]
    pub verbose: bool,

    /// Leave timings out of the output, so equal inputs give equal bytes.
    #[arg(long)]
    pub no_timings: bool,

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

    /// Match letters exactly: do not fold the letters OCR often confuses
    /// (c/e, b/h, 1/l, 0/o, rn/m, 5/s, f/t, u/n) before hashing.
    #[arg(long, help_heading = "Tuning")]
    pub no_ocr_fold: bool,

    /// Shingle size in words.
    #[arg(long, default_value_t = 5, help_heading = "Tuning")]
    pub shingle: usize,

    /// Winnowing window in shingles: any shared run of WINDOW+SHINGLE-1 words
    /// is sure to yield a shared fingerprint.
    #[arg(long, default_value_t = 4, help_heading = "Tuning")]
    pub window: usize,

    /// MinHash permutations.
    #[arg(long, default_value_t = 128, help_heading = "Tuning")]
    pub num_perm: usize,

    /// Jaccard threshold of the near-duplicate path; LSH bands x rows are derived from it.
    #[arg(long, default_value_t = 0.5, help_heading = "Tuning")]
    pub threshold: f64,

    /// Seed of all hashing.
    #[arg(long, default_value_t = 0, help_heading = "Tuning")]
    pub seed: u64,

    /// Document-frequency cap: text in more articles than this is a stock phrase.
    #[arg(long, default_value_t = 100, help_heading = "Tuning")]
    pub max_df: usize,

    /// Boilerplate cap: text held by more than this many different stories is
    /// template, not reused copy (0: off).
    #[arg(long, default_value_t = 2, help_heading = "Tuning")]
    pub max_stories: usize,

    /// Shared fingerprints needed to propose a pair.
    #[arg(long, default_value_t = 2, help_heading = "Tuning")]
    pub min_fingerprints: u32,

    /// Words of shared passages (in each article) needed for a partial-reuse link.
    #[arg(long, default_value_t = 15, help_heading = "Tuning")]
    pub min_shared_words: u32,

    /// Share of the shorter article that shared passages must cover.
    #[arg(long, default_value_t = 0.05, help_heading = "Tuning")]
    pub min_coverage: f64,

    /// Groups merge while more than this share of their article pairs are linked.
    #[arg(long, default_value_t = 0.5, help_heading = "Tuning")]
    pub min_linkage: f64,

    /// Groups merge only if their cross pairs are at least this strong relative
    /// to the pairs inside the tighter group.
    #[arg(long, default_value_t = 0.4, help_heading = "Tuning")]
    pub coherence: f64,

    /// Words of a verbatim shared passage that make two articles a story on
    /// their own; weaker links only attach articles to a story.
    #[arg(long, default_value_t = 20, help_heading = "Tuning")]
    pub strong_words: u32,

    /// Share of the shorter article covered by shared passages that makes two
    /// articles a story on their own.
    #[arg(long, default_value_t = 0.5, help_heading = "Tuning")]
    pub strong_coverage: f64,
}

impl Cli {
    /// The library configuration these options describe.
    pub fn config(&self) -> storyclust::Config {
        storyclust::Config {
            extensions: self.ext.clone(),
            ocr_fold: !self.no_ocr_fold,
            max_file_bytes: self.max_file_size,
            shingle: self.shingle,
            window: self.window,
            num_perm: self.num_perm,
            threshold: self.threshold,
            seed: self.seed,
            max_df: self.max_df,
            max_stories: self.max_stories,
            min_fingerprints: self.min_fingerprints,
            min_shared_words: self.min_shared_words,
            min_coverage: self.min_coverage,
            min_linkage: self.min_linkage,
            coherence: self.coherence,
            strong_words: self.strong_words,
            strong_coverage: self.strong_coverage,
        }
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
