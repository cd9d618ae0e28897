//! Stage 5: candidate pairs, from two min-hash indexes.
//!
//! * **Passage index** (partial reuse): every document's winnowed fingerprints
//!   go into an inverted index. Two documents that share at least
//!   `min_shared_fingerprints` fingerprints become a candidate pair, counting
//!   only fingerprints held by at most `max_df` documents: stock phrases
//!   ("could not independently verify these battlefield reports") are left out
//!   by this document-frequency cap, as passim and textreuse do.
//! * **LSH** (near-identical copies, whatever their frequency): documents whose
//!   whole-document MinHash signatures agree on any band. A bucket of `n > 64`
//!   documents yields `n − 1` pairs (each with the bucket's first member and
//!   with its predecessor), not `n²/2`, so 10,000 near-copies stay linear.
//!
//! Both produce pairs of node ids `(a, b)` with `a < b`, sorted and distinct.
//! Candidates are only proposals: every one is verified exactly afterwards.

use rayon::prelude::*;

/// Where a candidate pair came from (a pair can come from both).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sources {
    /// Shared fingerprints under the DF cap.
    pub fingerprints: u32,
    /// The pair met in an LSH bucket.
    pub lsh: bool,
}

/// A candidate pair of nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The smaller node id.
    pub a: u32,
    /// The larger node id.
    pub b: u32,
    /// What proposed it.
    pub sources: Sources,
}

/// Counts of what the candidate stage did, for the summary.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct CandidateStats {
    /// Distinct fingerprints in the index.
    pub fingerprints: u64,
    /// Fingerprints left out because more than `max_df` documents hold them.
    pub fingerprints_over_df_cap: u64,
    /// Pairs proposed by the passage index.
    pub fingerprint_pairs: u64,
    /// Pairs proposed by LSH.
    pub lsh_pairs: u64,
    /// Distinct candidate pairs.
    pub candidates: u64,
}

/// The runs of consecutive elements of `v` with equal keys, as index ranges.
pub fn equal_runs<'a, T, K: PartialEq>(
    v: &'a [T],
    key: impl Fn(&T) -> K + 'a,
) -> impl Iterator<Item = std::ops::Range<usize>> + 'a {
    let mut i = 0;
    std::iter::from_fn(move || {
        if i >= v.len() {
            return None;
        }
        let k = key(&v[i]);
        let mut j = i + 1;
        while j < v.len() && key(&v[j]) == k {
            j += 1;
        }
        let r = i..j;
        i = j;
        Some(r)
    })
}

/// The candidate pairs of one set of passage-index postings `(fingerprint,
/// node)`: all pairs of nodes sharing a fingerprint held by `2..=max_df`
/// nodes, as `a << 32 | b` with `a < b`, one per shared fingerprint.
/// `postings` must be sorted by fingerprint (the nodes of one in any
/// order). Also returns the distinct fingerprints and those over the cap.
pub fn pairs_in_postings(postings: &[(u64, u32)], max_df: usize) -> (Vec<u64>, u64, u64) {
    debug_assert!(postings.is_sorted_by_key(|p| p.0));
    let mut pairs = Vec::new();
    let mut distinct = 0u64;
    let mut over = 0u64;
    let mut run: Vec<u32> = Vec::new();
    for r in equal_runs(postings, |p| p.0) {
        run.clear();
        run.extend(postings[r].iter().map(|p| p.1));
        distinct += 1;
        over += fingerprint_pairs(&mut run, max_df, &mut pairs) as u64;
    }
    (pairs, distinct, over)
}

/// The pairs one fingerprint proposes, appended to `pairs` as `a << 32 |
/// b` with `a < b`: `nodes` holds the nodes that hold it, in any order
/// (put in order here; a node repeated counts once). Returns whether more
/// than `max_df` (at least 2) nodes hold it, which proposes nothing.
pub fn fingerprint_pairs(nodes: &mut Vec<u32>, max_df: usize, pairs: &mut Vec<u64>) -> bool {
    if nodes.len() < 2 {
        return false;
    }
    nodes.sort_unstable();
    nodes.dedup();
    if nodes.len() > max_df.max(2) {
        return true;
    }
    for x in 0..nodes.len() {
        for y in x + 1..nodes.len() {
            pairs.push(((nodes[x] as u64) << 32) | nodes[y] as u64);
        }
    }
    false
}

/// Sorts pairs `a << 32 | b` ascending.
///
/// The pairs of one range of first nodes span few bits once `a` is taken
/// from the smallest first node and `b` kept to the bits of the largest
/// second node (22 bits for 20 Newsgroups, 32 at a million articles), so
/// two or three passes of an 11-bit radix sort them, several times faster
/// than comparisons. Wider spans, and short lists, are sorted by
/// comparison.
pub fn sort_pairs(pairs: &mut [u64]) {
    const DIGIT: u32 = 11;
    const MASK: u64 = (1 << DIGIT) - 1;
    let n = pairs.len();
    if n < 1024 {
        pairs.sort_unstable();
        return;
    }
    let (mut a_min, mut a_max, mut b_max) = (u32::MAX, 0u32, 0u32);
    for &p in pairs.iter() {
        let (a, b) = ((p >> 32) as u32, p as u32);
        a_min = a_min.min(a);
        a_max = a_max.max(a);
        b_max = b_max.max(b);
    }
    let b_bits = 32 - b_max.leading_zeros();
    let bits = 32 - (a_max - a_min).leading_zeros() + b_bits;
    let passes = bits.div_ceil(DIGIT);
    if passes > 4 {
        pairs.par_sort_unstable();
        return;
    }
    // The key keeps the order of the pairs: `b` is below 2^b_bits.
    let key = move |p: u64| ((((p >> 32) as u32 - a_min) as u64) << b_bits) | (p & 0xFFFF_FFFF);
    let scatter = |src: &[u64], dst: &mut [u64], shift: u32| {
        let mut at = [0usize; 1 << DIGIT];
        for &p in src {
            at[((key(p) >> shift) & MASK) as usize] += 1;
        }
        let mut sum = 0;
        for c in at.iter_mut() {
            (*c, sum) = (sum, sum + *c);
        }
        for &p in src {
            let d = ((key(p) >> shift) & MASK) as usize;
            dst[at[d]] = p;
            at[d] += 1;
        }
    };
    let mut buf = vec![0u64; n];
    for pass in 0..passes {
        if pass % 2 == 0 {
            scatter(pairs, &mut buf, pass * DIGIT);
        } else {
            scatter(&buf, pairs, pass * DIGIT);
        }
    }
    if passes % 2 == 1 {
        pairs.copy_from_slice(&buf);
    }
}

/// Pairs proposed at least `min_shared` times (by as many shared
/// fingerprints), with their count, ascending. Sorts `pairs`.
pub fn count_pairs(pairs: &mut [u64], min_shared: u32) -> Vec<(u64, u32)> {
    sort_pairs(pairs);
    equal_runs(pairs, |&p| p)
        .map(|r| (pairs[r.start], r.len() as u32))
        .filter(|&(_, c)| c >= min_shared.max(1))
        .collect()
}

/// The LSH pairs of `nodes`, given as `(node, band keys)` (one key per
/// band, or fewer: a node without a key in a band is in no bucket of it;
/// each node once, in any order), as `a << 32 | b` with `a < b`, sorted and
/// distinct.
///
/// The bands are bucketed in parallel, one band per task, each task reading
/// its key of every node in the order given (the caller gives the nodes in
/// the order their keys sit in memory) into a buffer it keeps for its next
/// band. A band's entries are ordered by key and node, so that a bucket of
/// more than 64 lists its nodes ascending.
pub fn lsh_pairs(nodes: &[(u32, &[u64])], bands: usize) -> Vec<u64> {
    let mut lsh_pairs: Vec<u64> = (0..bands)
        .into_par_iter()
        .map_init(
            || (Vec::new(), Vec::new(), Vec::new()),
            |(keyed, scratch, at), band| {
                keyed.clear();
                keyed.extend(
                    nodes
                        .iter()
                        .filter_map(|&(n, keys)| keys.get(band).map(|&k| (k, n))),
                );
                sort_keyed(keyed, scratch, at);
                let mut out = Vec::new();
                bucket_pairs(keyed, &mut out);
                out
            },
        )
        .collect::<Vec<Vec<u64>>>()
        .concat();
    sort_pairs(&mut lsh_pairs);
    lsh_pairs.dedup();
    lsh_pairs
}

/// The pairs of one band's buckets, appended to `out`: `keyed` holds its
/// `(key, node)` entries sorted. A bucket of `n > 64` nodes yields `n − 1`
/// pairs or so (each node with the bucket's first and with its
/// predecessor), not `n²/2`.
fn bucket_pairs(keyed: &[(u64, u32)], out: &mut Vec<u64>) {
    let pair = |x: u32, y: u32| ((x.min(y) as u64) << 32) | x.max(y) as u64;
    for r in equal_runs(keyed, |k| k.0) {
        let run = &keyed[r];
        if run.len() <= 64 {
            for x in 0..run.len() {
                for y in x + 1..run.len() {
                    out.push(pair(run[x].1, run[y].1));
                }
            }
        } else {
            for x in 1..run.len() {
                out.push(pair(run[0].1, run[x].1));
                if x > 1 {
                    out.push(pair(run[x - 1].1, run[x].1));
                }
            }
        }
    }
}

/// Sorts `(key, node)` entries as `sort_unstable` does, for keys that are
/// hashes (uniform in their top bits): a counting pass puts them in
/// buckets by the top bits of the key, about eight entries to a bucket, and
/// each bucket is then sorted alone, in the cache; several times faster
/// than a comparison sort of the whole. `scratch` and `at` are working
/// space, kept by the caller for the next call.
fn sort_keyed(v: &mut Vec<(u64, u32)>, scratch: &mut Vec<(u64, u32)>, at: &mut Vec<u32>) {
    let n = v.len();
    if n < 256 {
        v.sort_unstable();
        return;
    }
    let bits = (n / 8).ilog2().min(20);
    let (shift, buckets) = (64 - bits, 1usize << bits);
    at.clear();
    at.resize(buckets + 1, 0);
    for &(k, _) in v.iter() {
        at[(k >> shift) as usize + 1] += 1;
    }
    for b in 0..buckets {
        at[b + 1] += at[b];
    }
    scratch.clear();
    scratch.resize(n, (0, 0));
    for &e in v.iter() {
        let b = (e.0 >> shift) as usize;
        scratch[at[b] as usize] = e;
        at[b] += 1;
    }
    // (`at[b]` is now where bucket `b + 1` starts.)
    let mut from = 0;
    for &to in &at[..buckets] {
        scratch[from..to as usize].sort_unstable();
        from = to as usize;
    }
    std::mem::swap(v, scratch);
}

/// Merges the counted fingerprint pairs and the LSH pairs (both ascending)
/// into the candidates.
pub fn merge(counted: &[(u64, u32)], lsh_pairs: &[u64]) -> Vec<Candidate> {
    let mut out = Vec::with_capacity(counted.len() + lsh_pairs.len());
    let (mut x, mut y) = (0, 0);
    let split = |p: u64| ((p >> 32) as u32, p as u32);
    while x < counted.len() || y < lsh_pairs.len() {
        let take_fp = y >= lsh_pairs.len() || (x < counted.len() && counted[x].0 <= lsh_pairs[y]);
        let take_lsh = x >= counted.len() || (y < lsh_pairs.len() && lsh_pairs[y] <= counted[x].0);
        let p = if take_fp { counted[x].0 } else { lsh_pairs[y] };
        let (a, b) = split(p);
        out.push(Candidate {
            a,
            b,
            sources: Sources {
                fingerprints: if take_fp { counted[x].1 } else { 0 },
                lsh: take_lsh,
            },
        });
        if take_fp {
            x += 1;
        }
        if take_lsh {
            y += 1;
        }
    }
    out
}

/// Proposes candidate pairs.
///
/// `fingerprints[n]` holds node `n`'s distinct fingerprint hashes, `bands[n]`
/// its LSH band keys (one per band, or none).
pub fn candidates(
    fingerprints: &[Vec<u64>],
    bands: &[Vec<u64>],
    max_df: usize,
    min_shared_fingerprints: u32,
) -> (Vec<Candidate>, CandidateStats) {
    let mut stats = CandidateStats::default();
    let mut postings: Vec<(u64, u32)> = fingerprints
        .iter()
        .enumerate()
        .flat_map(|(n, fps)| fps.iter().map(move |&h| (h, n as u32)))
        .collect();
    postings.sort_unstable();
    let (mut fp_pairs, distinct, over) = pairs_in_postings(&postings, max_df);
    drop(postings);
    stats.fingerprints = distinct;
    stats.fingerprints_over_df_cap = over;
    let counted = count_pairs(&mut fp_pairs, min_shared_fingerprints);
    drop(fp_pairs);
    stats.fingerprint_pairs = counted.len() as u64;
    let n_bands = bands.iter().map(Vec::len).max().unwrap_or(0);
    let nodes: Vec<(u32, &[u64])> = bands
        .iter()
        .enumerate()
        .map(|(n, b)| (n as u32, b.as_slice()))
        .collect();
    let lsh = lsh_pairs(&nodes, n_bands);
    stats.lsh_pairs = lsh.len() as u64;
    let out = merge(&counted, &lsh);
    stats.candidates = out.len() as u64;
    (out, stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_sort_sorts_like_sort_unstable() {
        let mut x = 7u64;
        let mut next = || {
            x = crate::hash::splitmix64(x);
            x
        };
        // (length, span of first nodes, span of second nodes): short lists,
        // one node range as the pair store makes them, ranges from one to
        // four passes, and one too wide for the radix.
        for (len, a_span, b_span) in [
            (0, 1, 1),
            (1000, 50, 1 << 15),
            (6000, 74, 18_844),
            (20_000, 1, 3),
            (20_000, 4000, 1 << 20),
            (50_000, 1 << 12, u32::MAX as u64),
            (50_000, 1 << 31, u32::MAX as u64),
        ] {
            let base = next() % (1 << 20);
            let mut v: Vec<u64> = (0..len)
                .map(|_| ((base + next() % a_span) << 32) | (next() % b_span))
                .collect();
            let mut want = v.clone();
            want.sort_unstable();
            sort_pairs(&mut v);
            assert_eq!(v, want, "{len} pairs, spans {a_span} and {b_span}");
        }
    }

    #[test]
    fn shared_fingerprints_under_the_cap_make_candidates() {
        let fps = vec![vec![1, 2, 9], vec![1, 2, 8], vec![9, 7], vec![1, 2]];
        let (c, s) = candidates(&fps, &[vec![], vec![], vec![], vec![]], 3, 2);
        let got: Vec<(u32, u32, u32)> = c
            .iter()
            .map(|c| (c.a, c.b, c.sources.fingerprints))
            .collect();
        // Fingerprints 1 and 2 are in 3 docs (at the cap): pairs 0-1, 0-3, 1-3 share two.
        assert_eq!(got, [(0, 1, 2), (0, 3, 2), (1, 3, 2)]);
        let (c, s2) = candidates(&fps, &[vec![], vec![], vec![], vec![]], 2, 2);
        assert!(c.is_empty(), "over the cap: {c:?}");
        assert_eq!(s2.fingerprints_over_df_cap, 2);
        assert_eq!(s.fingerprints_over_df_cap, 0);
    }

    #[test]
    fn pairs_do_not_depend_on_the_order_of_a_fingerprints_nodes() {
        // Grouped by fingerprint, the nodes of each in any order (as the
        // document-frequency pass leaves them), a node repeated.
        let grouped = [(1, 9), (1, 2), (1, 5), (1, 2), (4, 7), (4, 3), (6, 1)];
        let mut sorted = grouped;
        sorted.sort_unstable();
        let (mut got, distinct, over) = pairs_in_postings(&grouped, 10);
        let (mut want, ..) = pairs_in_postings(&sorted, 10);
        assert!(got.iter().all(|p| (p >> 32) < (p & 0xFFFF_FFFF)), "a < b");
        got.sort_unstable();
        want.sort_unstable();
        let pair = |a: u64, b: u64| (a << 32) | b;
        assert_eq!(want, [pair(2, 5), pair(2, 9), pair(3, 7), pair(5, 9)]);
        assert_eq!(got, want);
        assert_eq!((distinct, over), (3, 0));
    }

    #[test]
    fn lsh_buckets_make_candidates_and_merge_with_fingerprints() {
        let bands = vec![vec![5, 6], vec![5, 7], vec![8, 6]];
        let fps = vec![vec![1, 2], vec![], vec![1, 2]];
        let (c, _) = candidates(&fps, &bands, 10, 2);
        let got: Vec<(u32, u32, u32, bool)> = c
            .iter()
            .map(|c| (c.a, c.b, c.sources.fingerprints, c.sources.lsh))
            .collect();
        assert_eq!(got, [(0, 1, 0, true), (0, 2, 2, true)]);
    }

    #[test]
    fn huge_buckets_stay_linear() {
        let n = 1000;
        let bands: Vec<Vec<u64>> = (0..n).map(|_| vec![42]).collect();
        let fps: Vec<Vec<u64>> = vec![vec![]; n];
        let (c, _) = candidates(&fps, &bands, 10, 2);
        assert!(c.len() < 2 * n, "{}", c.len());
        assert!(c.len() >= n - 1);
    }

    /// The LSH pairs as first written: each band's entries sorted whole.
    fn lsh_pairs_by_comparison(nodes: &[(u32, &[u64])], bands: usize) -> Vec<u64> {
        let mut pairs = Vec::new();
        for band in 0..bands {
            let mut keyed: Vec<(u64, u32)> = nodes
                .iter()
                .filter_map(|&(n, k)| k.get(band).map(|&k| (k, n)))
                .collect();
            keyed.sort_unstable();
            bucket_pairs(&keyed, &mut pairs);
        }
        pairs.sort_unstable();
        pairs.dedup();
        pairs
    }

    #[test]
    fn bucketed_key_sort_sorts_like_sort_unstable() {
        let mut x = 3u64;
        let mut next = || {
            x = crate::hash::splitmix64(x);
            x
        };
        // Uniform keys; keys all in the lowest bucket; few distinct keys
        // (equal keys ordered by node); lengths around the cut-off.
        for (len, mask) in [
            (255, u64::MAX),
            (256, u64::MAX),
            (5000, u64::MAX),
            (3000, 0xFFFF),
            (3000, 0x7 << 61),
            (70_000, u64::MAX),
        ] {
            let mut v: Vec<(u64, u32)> = (0..len)
                .map(|_| (next() & mask, next() as u32 % 997))
                .collect();
            let mut want = v.clone();
            want.sort_unstable();
            let (mut scratch, mut at) = (Vec::new(), Vec::new());
            sort_keyed(&mut v, &mut scratch, &mut at);
            assert_eq!(v, want, "{len} entries, mask {mask:x}");
        }
    }

    #[test]
    fn lsh_pairs_do_not_depend_on_node_order_and_match_a_whole_sort() {
        let mut x = 11u64;
        let mut next = || {
            x = crate::hash::splitmix64(x);
            x
        };
        // 3,000 nodes, 6 bands, keys from a few hundred values (buckets of
        // every size, some over 64) or unique, and some nodes with fewer
        // bands than the others.
        let keys: Vec<Vec<u64>> = (0..3000)
            .map(|i| {
                let bands = if i % 97 == 0 { 2 } else { 6 };
                (0..bands)
                    .map(|b| match next() % 4 {
                        0 => next(),
                        1 => (7 << 60) | (b as u64),
                        _ => (next() % 300) << 40,
                    })
                    .collect()
            })
            .collect();
        let mut nodes: Vec<(u32, &[u64])> = keys
            .iter()
            .enumerate()
            .map(|(n, k)| (n as u32, k.as_slice()))
            .collect();
        let want = lsh_pairs_by_comparison(&nodes, 6);
        assert!(want.len() > 3000, "{} pairs", want.len());
        assert_eq!(lsh_pairs(&nodes, 6), want);
        nodes.reverse();
        nodes.swap(5, 2000);
        assert_eq!(lsh_pairs(&nodes, 6), want);
    }
}
