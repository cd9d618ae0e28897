//! `--explain`: the parameters in force and what they imply.

use std::io::{self, Write};

use crate::Config;
use crate::minhash::candidate_probability;

/// Writes the explanation of `cfg`.
pub fn write_explain(w: &mut dyn Write, cfg: &Config) -> io::Result<()> {
    let br = cfg.bands_rows();
    let k = cfg.shingle;
    writeln!(
        w,
        "Tokens: UAX#29 words, quotes/dashes folded, NFKC, lower case{}; shingles of {k} words.",
        if cfg.ocr_fold {
            ", OCR-confusable letters folded (c/e b/h 1/i/l 0/a/o rn/m 5/s f/t u/n)"
        } else {
            ""
        }
    )?;
    writeln!(w)?;
    writeln!(
        w,
        "Near-copy path: MinHash with {} permutations, LSH {} bands x {} rows (chosen for Jaccard threshold {}).",
        cfg.num_perm, br.bands, br.rows, cfg.threshold
    )?;
    writeln!(
        w,
        "Probability that a pair at Jaccard J becomes a candidate:"
    )?;
    for i in 1..=10 {
        let j = i as f64 / 10.0;
        let p = candidate_probability(j, br);
        let bar = "#".repeat((p * 40.0).round() as usize);
        writeln!(w, "  J={j:.1}  {p:6.3}  {bar}")?;
    }
    writeln!(w)?;
    let guaranteed_one = cfg.window + k - 1;
    let guaranteed_min = cfg.min_fingerprints as usize * cfg.window + k - 1;
    writeln!(
        w,
        "Partial-reuse path: winnowed fingerprints (window {} shingles). A shared run of {} words is sure to share \
         a fingerprint; pairs need {} shared fingerprints, sure for a shared run of {} words.",
        cfg.window, guaranteed_one, cfg.min_fingerprints, guaranteed_min
    )?;
    writeln!(
        w,
        "Document-frequency cap: text held by more than {} articles is a stock phrase; it proposes no pair and counts as no passage.",
        cfg.max_df
    )?;
    if cfg.max_stories > 0 {
        writeln!(
            w,
            "Boilerplate cap: after a first clustering, text held by more than {} different stories (a lone article \
             counts as its own story) is template, not reused copy; it is added to the stock phrases and pairs are \
             verified and clustered again.",
            cfg.max_stories
        )?;
    }
    writeln!(w)?;
    writeln!(
        w,
        "Verification (exact, from the shingles): a pair is linked when"
    )?;
    writeln!(w, "  Jaccard >= {}, or", cfg.threshold)?;
    writeln!(
        w,
        "  shared passages cover >= {} words of each article and >= {:.0}% of the shorter.",
        cfg.min_shared_words,
        cfg.min_coverage * 100.0
    )?;
    writeln!(
        w,
        "A link is strong (a story on its own) with Jaccard >= {}, a verbatim passage of >= {} words, or coverage >= {:.0}%.",
        cfg.threshold,
        cfg.strong_words,
        cfg.strong_coverage * 100.0
    )?;
    writeln!(w)?;
    writeln!(
        w,
        "Clustering: average linkage; groups merge when > {:.0}% of their article pairs are linked and their links are \
         >= {} x as strong as those inside the tighter group; a story needs a strong link or identical copies.",
        cfg.min_linkage * 100.0,
        cfg.coherence
    )?;
    Ok(())
}
