//! Stage 3: word shingles (k consecutive tokens) and their fingerprints.
//!
//! A shingle's hash is XXH3-64, with the shingle seed, of its k token hashes as
//! little-endian u64s. A document with fewer than k tokens (but at least one)
//! has one shingle made of all its tokens; an empty document has none.
//! Shingle `i` covers tokens `i .. i + k`.
//!
//! Fingerprints are chosen by winnowing (Schleimer, Wilkerson & Aiken,
//! SIGMOD 2003): in every window of `w` consecutive shingle hashes the
//! smallest is selected (the rightmost on ties), and each selected position is
//! recorded once. This is min-hashing per window: any run of at least `w + k - 1` tokens
//! shared by two documents yields at least one fingerprint shared by both,
//! while only about `2 / (w + 1)` of the shingles are kept.

use crate::hash;
use crate::tokenize::Token;

/// Shingle hashes of a token sequence, in document order.
pub fn shingles(tokens: &[Token], k: usize, seed: u64) -> Vec<u64> {
    let hashes: Vec<u64> = tokens.iter().map(|t| t.hash).collect();
    shingles_of_hashes(&hashes, k, seed)
}

/// Shingle hashes of a sequence of token hashes, in document order.
pub fn shingles_of_hashes(hashes: &[u64], k: usize, seed: u64) -> Vec<u64> {
    shingles_of_le_bytes(hash::le_bytes(hashes).as_flattened(), k, seed)
}

/// [`shingles_of_hashes`] of the token hashes' little-endian bytes (8 a
/// token): shingle i is `hash::words(&hashes[i..i + k])`, XXH3 of bytes
/// 8i..8(i+k), so the copy is made once rather than per window.
pub fn shingles_of_le_bytes(le: &[u8], k: usize, seed: u64) -> Vec<u64> {
    let k = k.max(1);
    if le.is_empty() {
        return Vec::new();
    }
    if le.len() < 8 * k {
        return vec![hash::bytes(le, seed)];
    }
    le.windows(8 * k)
        .step_by(8)
        .map(|w| hash::bytes(w, seed))
        .collect()
}

/// The number of shingles of a document of `n_tokens` tokens.
pub fn count(n_tokens: usize, k: usize) -> usize {
    match n_tokens {
        0 => 0,
        n => n.saturating_sub(k.max(1)) + 1,
    }
}

/// The number of tokens shingle `i` of a document of `n_tokens` covers.
pub fn tokens_covered(n_tokens: usize, k: usize) -> usize {
    n_tokens.min(k.max(1))
}

/// Winnowing: the positions of the selected fingerprints, ascending.
pub fn winnow(shingles: &[u64], w: usize) -> Vec<u32> {
    let w = w.max(1);
    let n = shingles.len();
    if n == 0 {
        return Vec::new();
    }
    if n <= w {
        // One window: its minimum (rightmost on ties).
        let mut best = 0;
        for i in 0..n {
            if shingles[i] <= shingles[best] {
                best = i;
            }
        }
        return vec![best as u32];
    }
    let mut out: Vec<u32> = Vec::with_capacity(2 * n / (w + 1) + 2);
    // The rightmost minimum of the window, carried from one window to the
    // next: the entering shingle replaces it if not larger; the window is
    // scanned again only when it leaves.
    let rescan = |lo: usize| -> usize {
        let mut best = lo;
        for j in lo + 1..lo + w {
            if shingles[j] <= shingles[best] {
                best = j;
            }
        }
        best
    };
    let mut best = rescan(0);
    out.push(best as u32);
    for lo in 1..=n - w {
        let i = lo + w - 1;
        if best < lo {
            best = rescan(lo);
        } else if shingles[i] <= shingles[best] {
            best = i;
        }
        if out.last() != Some(&(best as u32)) {
            out.push(best as u32);
        }
    }
    out
}

/// The distinct hashes of `seq` in the order they first occur, and for
/// each position of `seq` the index of its hash among them.
///
/// This is a hash table's work, linear in the length: the pipeline needs
/// the set of an article's shingles (for its postings and its MinHash
/// signature, where order does not matter), and sorting it to find the
/// duplicates cost several times more.
pub fn distinct(seq: &[u64]) -> (Vec<u64>, Vec<u32>) {
    DISTINCT.with_borrow_mut(|t| t.distinct(seq))
}

thread_local! {
    static DISTINCT: std::cell::RefCell<DistinctTable> =
        std::cell::RefCell::new(DistinctTable::default());
}

/// The table of [`distinct`]: a slot table and, per slot, the index of its
/// hash among the distinct ones.
#[derive(Default)]
struct DistinctTable {
    slots: hash::SlotTable,
    index: Vec<u32>,
}

impl DistinctTable {
    fn distinct(&mut self, seq: &[u64]) -> (Vec<u64>, Vec<u32>) {
        let cap = self.slots.reset(seq.len());
        if self.index.len() < cap {
            self.index.resize(cap, 0);
        }
        let mut set = Vec::with_capacity(seq.len());
        let mut at = Vec::with_capacity(seq.len());
        for &h in seq {
            let (s, new) = self.slots.insert(h);
            if new {
                self.index[s] = set.len() as u32;
                set.push(h);
            }
            at.push(self.index[s]);
        }
        (set, at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenize::tokenize;

    #[test]
    fn distinct_keeps_first_occurrences_and_maps_every_position() {
        let mut x = 99u64;
        for len in [0usize, 1, 2, 7, 8, 9, 100, 1000] {
            for alphabet in [1u64, 3, 50, u64::MAX] {
                let seq: Vec<u64> = (0..len)
                    .map(|_| {
                        x = hash::splitmix64(x);
                        // Small alphabets give many repeats; 0 is a hash too.
                        if alphabet == u64::MAX {
                            x
                        } else {
                            x % alphabet
                        }
                    })
                    .collect();
                let (set, at) = distinct(&seq);
                let mut want: Vec<u64> = Vec::new();
                for &h in &seq {
                    if !want.contains(&h) {
                        want.push(h);
                    }
                }
                assert_eq!(set, want, "len {len} alphabet {alphabet}");
                assert_eq!(at.len(), seq.len());
                for (i, &h) in seq.iter().enumerate() {
                    assert_eq!(set[at[i] as usize], h);
                }
            }
        }
    }

    #[test]
    fn short_documents_get_one_shingle() {
        let t = tokenize("just three words", 0);
        assert_eq!(shingles(&t, 5, 0).len(), 1);
        assert_eq!(shingles(&[], 5, 0).len(), 0);
        let t = tokenize("one two three four five six", 0);
        assert_eq!(shingles(&t, 5, 0).len(), 2);
        let t = tokenize("one two three four five six seven eight", 0);
        for k in 0..10 {
            for n in 0..=t.len() {
                assert_eq!(count(n, k), shingles(&t[..n], k, 0).len(), "n {n} k {k}");
            }
        }
    }

    fn naive_winnow(h: &[u64], w: usize) -> Vec<u32> {
        let mut out = Vec::new();
        if h.len() <= w {
            let m = (0..h.len()).rev().min_by_key(|&i| h[i]).unwrap();
            return vec![m as u32];
        }
        for s in 0..=h.len() - w {
            let m = (s..s + w).rev().min_by_key(|&i| h[i]).unwrap() as u32;
            if out.last() != Some(&m) {
                out.push(m);
            }
        }
        out
    }

    #[test]
    fn winnowing_matches_the_definition() {
        let mut x = 12345u64;
        for len in 1..60 {
            for w in 1..12 {
                let h: Vec<u64> = (0..len)
                    .map(|_| {
                        x = hash::splitmix64(x);
                        x % 7 // many ties
                    })
                    .collect();
                assert_eq!(winnow(&h, w), naive_winnow(&h, w), "len {len} w {w}");
            }
        }
    }

    #[test]
    fn shared_run_guarantees_a_shared_fingerprint() {
        // Two texts sharing a run of w + k - 1 tokens in different contexts.
        let (k, w) = (5, 4);
        let shared = "alpha beta gamma delta epsilon zeta eta theta";
        let a = format!("one two three four {shared} five six seven");
        let b = format!("uno dos {shared} tres cuatro cinco seis siete ocho");
        let sa = shingles(&tokenize(&a, 1), k, 2);
        let sb = shingles(&tokenize(&b, 1), k, 2);
        let fa: Vec<u64> = winnow(&sa, w).iter().map(|&p| sa[p as usize]).collect();
        let fb: Vec<u64> = winnow(&sb, w).iter().map(|&p| sb[p as usize]).collect();
        assert!(fa.iter().any(|h| fb.contains(h)));
    }
}
