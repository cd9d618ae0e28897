//! Stage 6: exact verification of candidate pairs from their shingles.
//!
//! For a pair the verifier measures, from the full shingle sequences:
//! shared distinct shingles, Jaccard, containment both ways, and the shared
//! *passages*: maximal runs of consecutive shingles of one document that the
//! other also holds, leaving out stock shingles (those over the
//! document-frequency cap). A run of `n` shingles covers `n + k − 1` tokens.
//!
//! A pair is kept as an edge when either
//! * its Jaccard similarity is at least the LSH threshold (a near-identical
//!   copy; stock shingles count here, so a heavily reprinted article is not
//!   lost to its own frequency), or
//! * its shared passages cover at least `min_shared_words` tokens of each
//!   document and at least `min_coverage` of the shorter one (partial reuse:
//!   a brief, an abridged copy, copy embedded in a longer article).
//!
//! LSH and fingerprint false positives never pass: the test is on exact sets.

/// What verification needs of one document (node).
#[derive(Debug, Default, Clone)]
pub struct Shingled {
    /// Number of tokens.
    pub tokens: u32,
    /// Shingle hashes in document order.
    pub seq: Vec<u64>,
    /// Distinct shingle hashes, ascending.
    pub set: Vec<u64>,
}

impl Shingled {
    /// Builds the verification view of a shingle sequence.
    pub fn new(tokens: u32, seq: Vec<u64>) -> Shingled {
        let mut set = seq.clone();
        set.sort_unstable();
        set.dedup();
        Shingled { tokens, seq, set }
    }
}

/// The thresholds of verification.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct VerifyParams {
    /// Shingle size in tokens.
    pub shingle: usize,
    /// Jaccard at or above which a pair is a near-identical copy.
    pub jaccard: f64,
    /// Minimum shared tokens (in each document) for a partial-reuse edge.
    pub min_shared_words: u32,
    /// Minimum share of the shorter document covered by shared passages.
    pub min_coverage: f64,
}

/// The measured overlap of a pair.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Overlap {
    /// Distinct shingles in both.
    pub shared_shingles: u32,
    /// Jaccard similarity of the shingle sets.
    pub jaccard: f64,
    /// Share of A's distinct shingles found in B.
    pub a_in_b: f64,
    /// Share of B's distinct shingles found in A.
    pub b_in_a: f64,
    /// Tokens of A covered by shared, non-stock passages.
    pub a_words: u32,
    /// Tokens of B covered by shared, non-stock passages.
    pub b_words: u32,
    /// Shared passages (runs) in A.
    pub passages: u32,
    /// Words of the longest shared passage in A.
    pub longest: u32,
    /// Share of the shorter document covered by shared passages.
    pub coverage: f64,
}

impl Overlap {
    /// Whether the overlap makes an edge under `p`.
    pub fn is_edge(&self, p: &VerifyParams) -> bool {
        self.jaccard >= p.jaccard
            || (self.a_words.min(self.b_words) >= p.min_shared_words
                && self.coverage >= p.min_coverage)
    }

    /// A single strength figure in 0..=1, used to order merges and in output.
    pub fn strength(&self) -> f64 {
        self.coverage.max(self.jaccard)
    }
}

/// Whether the ascending list `set` holds `h`.
pub(crate) fn contains(set: &[u64], h: u64) -> bool {
    set.binary_search(&h).is_ok()
}

/// Stock shingles: a sorted list behind a bit filter on the top 20 bits of
/// the hash, so that most lookups (shingles that are not stock) cost one
/// memory access instead of a binary search over the whole list.
#[derive(Clone, Debug, Default)]
pub struct Stock {
    sorted: Vec<u64>,
    bits: Vec<u64>,
}

impl Stock {
    const SHIFT: u32 = 64 - 20;

    /// The stock of these shingle hashes.
    pub fn new(mut hashes: Vec<u64>) -> Stock {
        hashes.sort_unstable();
        hashes.dedup();
        let mut bits = vec![0u64; (1 << 20) / 64];
        for &h in &hashes {
            let i = (h >> Self::SHIFT) as usize;
            bits[i / 64] |= 1 << (i % 64);
        }
        Stock {
            sorted: hashes,
            bits,
        }
    }

    /// Whether `h` is stock.
    #[inline]
    pub fn contains(&self, h: u64) -> bool {
        if self.sorted.is_empty() {
            return false;
        }
        let i = (h >> Self::SHIFT) as usize;
        self.bits[i / 64] & (1 << (i % 64)) != 0 && self.sorted.binary_search(&h).is_ok()
    }

    /// The stock hashes, ascending.
    pub fn into_sorted(self) -> Vec<u64> {
        self.sorted
    }

    /// Whether there is no stock.
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }
}

/// Tokens of `a` covered by its shingles in `evidence` (ascending: the shared,
/// non-stock shingles), the number of runs and the words of the longest run.
fn covered(a: &Shingled, evidence: &[u64], k: usize) -> (u32, u32, u32) {
    let k = k.max(1);
    let span = (a.tokens as usize).min(k);
    let mut words = 0usize;
    let mut runs = 0u32;
    let mut covered_until = 0usize;
    let mut prev = false;
    let mut run_start = 0usize;
    let mut longest = 0usize;
    for (i, &h) in a.seq.iter().enumerate() {
        let hit = contains(evidence, h);
        if hit {
            if !prev {
                runs += 1;
                run_start = i;
            }
            longest = longest.max(i - run_start + span);
            let start = i.max(covered_until);
            let end = i + span;
            if end > start {
                words += end - start;
                covered_until = end;
            }
        }
        prev = hit;
    }
    (words as u32, runs, longest as u32)
}

/// Measures the overlap of two documents. `stock` is the ascending list of
/// shingle hashes over the document-frequency cap.
pub fn overlap(a: &Shingled, b: &Shingled, stock: &Stock, k: usize) -> Overlap {
    // The shared shingles by one merge of the two sorted sets; the evidence
    // is those that are not stock. Runs are then found by looking each
    // position up in this (usually small) list.
    let mut evidence = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.set.len() && j < b.set.len() {
        match a.set[i].cmp(&b.set[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                evidence.push(a.set[i]);
                i += 1;
                j += 1;
            }
        }
    }
    let shared = evidence.len();
    if !stock.is_empty() {
        evidence.retain(|h| !stock.contains(*h));
    }
    let union = a.set.len() + b.set.len() - shared;
    let (a_words, passages, longest) = covered(a, &evidence, k);
    let (b_words, _, _) = covered(b, &evidence, k);
    let frac = |w: u32, n: u32| if n == 0 { 0.0 } else { w as f64 / n as f64 };
    Overlap {
        shared_shingles: shared as u32,
        jaccard: if union == 0 {
            0.0
        } else {
            shared as f64 / union as f64
        },
        a_in_b: frac(shared as u32, a.set.len() as u32),
        b_in_a: frac(shared as u32, b.set.len() as u32),
        a_words,
        b_words,
        passages,
        longest,
        coverage: frac(a_words, a.tokens).max(frac(b_words, b.tokens)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shingle::shingles;
    use crate::tokenize::tokenize;

    fn doc(text: &str) -> Shingled {
        let t = tokenize(text, 1);
        Shingled::new(t.len() as u32, shingles(&t, 5, 2))
    }

    const PARAMS: VerifyParams = VerifyParams {
        shingle: 5,
        jaccard: 0.5,
        min_shared_words: 10,
        min_coverage: 0.1,
    };

    #[test]
    fn stock_filter_answers_like_the_sorted_list() {
        let all: Vec<u64> = (0..20_000u64).map(crate::hash::splitmix64).collect();
        let (held, others) = all.split_at(5_000);
        let stock = Stock::new(held.to_vec());
        assert!(held.iter().all(|&h| stock.contains(h)));
        let mut sorted = held.to_vec();
        sorted.sort_unstable();
        for &h in others {
            assert_eq!(stock.contains(h), sorted.binary_search(&h).is_ok(), "{h}");
        }
        // Same top 20 bits as a stock hash but not stock: the list decides.
        let twin = held[0] ^ 1;
        assert!(!stock.contains(twin));
        assert!(!Stock::default().contains(held[0]));
    }

    #[test]
    fn identical_documents_have_jaccard_one() {
        let a = doc("one two three four five six seven eight nine ten eleven");
        let o = overlap(&a, &a, &Stock::default(), 5);
        assert_eq!(o.jaccard, 1.0);
        assert_eq!(o.a_words, 11);
        assert_eq!(o.passages, 1);
        assert!(o.is_edge(&PARAMS));
    }

    #[test]
    fn embedded_copy_is_found_both_ways() {
        let wire = "the city is a fortress every position and every street there almost every building is a fortress";
        let a = doc(wire);
        let b = doc(&format!(
            "local news first then {wire} and then a long tail of local copy that has nothing to do with it at all really nothing"
        ));
        let o = overlap(&a, &b, &Stock::default(), 5);
        assert_eq!(o.a_words, 17);
        assert_eq!(o.b_words, 17);
        assert_eq!(o.a_in_b, 1.0);
        assert!(o.b_in_a < 0.5);
        assert!(o.coverage > 0.99);
        assert!(o.is_edge(&PARAMS));
    }

    #[test]
    fn stock_shingles_do_not_count_as_passages() {
        let a = doc("alpha beta gamma delta epsilon zeta eta theta iota kappa");
        let stock = a.set.clone();
        let o = overlap(&a, &a, &Stock::new(stock.clone()), 5);
        assert_eq!(o.a_words, 0);
        assert_eq!(o.jaccard, 1.0, "near-duplicate test still sees them");
    }

    #[test]
    fn unrelated_documents_are_not_an_edge() {
        let a = doc("one two three four five six seven eight nine ten");
        let b = doc("eleven twelve thirteen fourteen fifteen sixteen seventeen");
        let o = overlap(&a, &b, &Stock::default(), 5);
        assert_eq!(o.shared_shingles, 0);
        assert!(!o.is_edge(&PARAMS));
    }
}
