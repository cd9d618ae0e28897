//! Stage 4: whole-document MinHash signatures and their LSH band keys.
//!
//! Signatures use one-permutation hashing with optimal densification
//! (Li, Owen & Zhang 2012; Shrivastava 2017): each shingle hash is mixed once
//! with SplitMix64 (seeded), its high bits choose one of `num_perm` bins and
//! the bin keeps the smallest mixed value. Empty bins borrow the value of the
//! first non-empty bin met along a seeded probe sequence of their own. The
//! probability that two signatures agree in a bin is the Jaccard similarity
//! of the two shingle sets, as with `num_perm` independent permutations, at
//! the cost of one hash per shingle instead of `num_perm`.
//!
//! LSH splits the signature into `bands` bands of `rows` values; two documents
//! become candidates when any band is equal. `bands × rows` is chosen for a
//! Jaccard threshold `t` the way datasketch does: minimise the sum of the
//! false-positive area `∫₀ᵗ P(s) ds` and the false-negative area
//! `∫ₜ¹ (1 − P(s)) ds`, where `P(s) = 1 − (1 − sʳ)ᵇ`, over `b·r ≤ num_perm`.

use crate::hash;

/// A MinHash signature: `num_perm` values, or empty for a document without shingles.
pub type Signature = Vec<u64>;

/// The first probes of each bin's densification sequence, kept per thread
/// for the last (seed, number of bins): the sequences do not depend on the
/// document, and short articles leave most bins empty.
const PROBES_KEPT: usize = 16;

/// Bin probed by empty bin `i` at `attempt` (1, 2, …).
fn probe(seed: u64, i: usize, attempt: u64, num_perm: usize) -> usize {
    let p = hash::splitmix64(seed ^ ((i as u64) << 32) ^ attempt.wrapping_mul(0x2545_F491));
    (((p >> 32) * num_perm as u64) >> 32) as usize
}

thread_local! {
    static PROBE_TABLE: std::cell::RefCell<(u64, usize, Vec<u32>)> =
        const { std::cell::RefCell::new((0, 0, Vec::new())) };
}

/// Computes the signature of a set of shingle hashes (duplicates are harmless).
pub fn signature(shingles: &[u64], num_perm: usize, seed: u64) -> Signature {
    if shingles.is_empty() || num_perm == 0 {
        return Vec::new();
    }
    let mut sig = vec![u64::MAX; num_perm];
    let mut filled = vec![false; num_perm];
    let mut n_filled = 0usize;
    for &x in shingles {
        let h = hash::splitmix64(x ^ seed);
        let bin = (((h >> 32) * num_perm as u64) >> 32) as usize;
        sig[bin] = sig[bin].min(h);
        n_filled += usize::from(!filled[bin]);
        filled[bin] = true;
    }
    if n_filled == num_perm {
        return sig;
    }
    PROBE_TABLE.with_borrow_mut(|(t_seed, t_bins, table)| {
        if (*t_seed, *t_bins) != (seed, num_perm) {
            table.clear();
            for i in 0..num_perm {
                table.extend((1..=PROBES_KEPT as u64).map(|a| probe(seed, i, a, num_perm) as u32));
            }
            (*t_seed, *t_bins) = (seed, num_perm);
        }
        for i in 0..num_perm {
            if filled[i] {
                continue;
            }
            let kept = &table[i * PROBES_KEPT..(i + 1) * PROBES_KEPT];
            let j = match kept.iter().find(|&&j| filled[j as usize]) {
                Some(&j) => j as usize,
                None => (PROBES_KEPT as u64 + 1..)
                    .map(|a| probe(seed, i, a, num_perm))
                    .find(|&j| filled[j])
                    .expect("a bin is filled"),
            };
            // Filled bins keep their own values, so this is the value
            // bin j had before densification.
            sig[i] = sig[j];
        }
    });
    sig
}

/// The fraction of equal positions of two signatures: an estimate of Jaccard.
pub fn estimate_jaccard(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() || a.len() != b.len() {
        return 0.0;
    }
    a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / a.len() as f64
}

/// The number of bands and rows used by LSH.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BandsRows {
    /// Number of bands.
    pub bands: usize,
    /// Rows (signature values) per band.
    pub rows: usize,
}

fn ipow(x: f64, n: usize) -> f64 {
    // Repeated multiplication: bit-identical on every IEEE-754 platform.
    let mut r = 1.0;
    for _ in 0..n {
        r *= x;
    }
    r
}

/// Probability that a pair at Jaccard `s` becomes an LSH candidate.
pub fn candidate_probability(s: f64, p: BandsRows) -> f64 {
    1.0 - ipow(1.0 - ipow(s, p.rows), p.bands)
}

/// Intervals of the composite Simpson rule; 200 are ample for these smooth
/// curves.
const SIMPSON_INTERVALS: usize = 200;

/// The nodes of the composite Simpson rule on `a..b` and their weights
/// (before the factor `h / 3`), in the order the sum takes them: both ends
/// first, then the inner nodes from `a`.
fn simpson_nodes(a: f64, b: f64) -> (Vec<(f64, f64)>, f64) {
    let n = SIMPSON_INTERVALS;
    let h = (b - a) / n as f64;
    let mut nodes = vec![(a, 1.0), (b, 1.0)];
    nodes.extend((1..n).map(|i| (a + h * i as f64, if i % 2 == 1 { 4.0 } else { 2.0 })));
    (nodes, h)
}

/// The false-positive and false-negative areas of every `bands × rows` at
/// `threshold`, indexed `[rows][bands - 1]`.
///
/// The candidate probability at a node `s` is `1 − xᵇ` with `x = 1 − sʳ`,
/// and the powers `sʳ` and `xᵇ` are `sʳ⁻¹ · s` and `xᵇ⁻¹ · x`, exactly as
/// the repeated multiplication of [`candidate_probability`] computes them.
/// So the powers are carried from one number of rows, and of bands, to the
/// next, and every pair keeps its own Simpson sum, taken in the order of
/// the nodes: the areas are bit-identical to integrating
/// [`candidate_probability`] for each pair alone, at a fraction of the cost
/// (this runs at the start of every run, before anything else can).
fn error_areas(threshold: f64, num_perm: usize) -> Vec<Vec<(f64, f64)>> {
    // One side's areas for `rows`: `f(p)` of the power `p = xᵇ` at each
    // node, `s_pow` holding each node's `sʳ⁻¹` (updated to `sʳ`).
    let areas =
        |(nodes, h): &(Vec<(f64, f64)>, f64), s_pow: &mut [f64], rows: usize, f: fn(f64) -> f64| {
            let mut sums = vec![0.0; num_perm / rows];
            for (i, (&(s, w), sr)) in nodes.iter().zip(s_pow).enumerate() {
                *sr *= s;
                let x = 1.0 - *sr;
                let mut p = 1.0;
                for sum in sums.iter_mut() {
                    p *= x;
                    *sum = match i {
                        0 => f(p),
                        1 => *sum + f(p),
                        _ => *sum + w * f(p),
                    };
                }
            }
            sums.into_iter().map(|s| s * h / 3.0).collect::<Vec<f64>>()
        };
    let low = simpson_nodes(0.0, threshold);
    let high = simpson_nodes(threshold, 1.0);
    let (mut low_pow, mut high_pow) = (vec![1.0; low.0.len()], vec![1.0; high.0.len()]);
    let mut out = vec![Vec::new(); num_perm + 1];
    for (rows, row) in out.iter_mut().enumerate().skip(1) {
        let fp = areas(&low, &mut low_pow, rows, |p| 1.0 - p);
        let fneg = areas(&high, &mut high_pow, rows, |p| 1.0 - (1.0 - p));
        let zero_if = |empty: bool, v: Vec<f64>| if empty { vec![0.0; v.len()] } else { v };
        *row = zero_if(threshold <= 0.0, fp)
            .into_iter()
            .zip(zero_if(threshold >= 1.0, fneg))
            .collect();
    }
    out
}

/// Bands × rows minimising false-positive plus false-negative area at `threshold`.
pub fn optimal_bands_rows(threshold: f64, num_perm: usize) -> BandsRows {
    let num_perm = num_perm.max(1);
    let areas = error_areas(threshold, num_perm);
    let mut best = BandsRows { bands: 1, rows: 1 };
    let mut best_err = f64::INFINITY;
    // Bands first, then rows: the first of equal errors wins, as always.
    for bands in 1..=num_perm {
        for (rows, row) in areas.iter().enumerate().take(num_perm / bands + 1).skip(1) {
            let (fp, fneg) = row[bands - 1];
            let err = 0.5 * fp + 0.5 * fneg;
            if err < best_err {
                best_err = err;
                best = BandsRows { bands, rows };
            }
        }
    }
    best
}

/// The LSH band keys of a signature (`bands` values; empty for an empty signature).
pub fn band_keys(sig: &[u64], p: BandsRows, seed: u64) -> Vec<u64> {
    if sig.len() < p.bands * p.rows {
        return Vec::new();
    }
    (0..p.bands)
        .map(|b| {
            hash::words(
                &sig[b * p.rows..(b + 1) * p.rows],
                seed.wrapping_add(b as u64),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_sets_identical_signatures() {
        let a: Vec<u64> = (0..50).map(hash::splitmix64).collect();
        let mut b = a.clone();
        b.reverse();
        assert_eq!(signature(&a, 128, 9), signature(&b, 128, 9));
    }

    /// The signature as first written: every probe hashed.
    fn plain_signature(shingles: &[u64], num_perm: usize, seed: u64) -> Signature {
        if shingles.is_empty() || num_perm == 0 {
            return Vec::new();
        }
        let mut sig = vec![u64::MAX; num_perm];
        let mut filled = vec![false; num_perm];
        for &x in shingles {
            let h = hash::splitmix64(x ^ seed);
            let bin = (((h >> 32) * num_perm as u64) >> 32) as usize;
            sig[bin] = sig[bin].min(h);
            filled[bin] = true;
        }
        let base = sig.clone();
        for i in 0..num_perm {
            if filled[i] {
                continue;
            }
            let mut attempt = 0u64;
            loop {
                attempt += 1;
                let probe =
                    hash::splitmix64(seed ^ ((i as u64) << 32) ^ attempt.wrapping_mul(0x2545_F491));
                let j = (((probe >> 32) * num_perm as u64) >> 32) as usize;
                if filled[j] {
                    sig[i] = base[j];
                    break;
                }
            }
        }
        sig
    }

    #[test]
    fn kept_probes_give_the_plain_signature() {
        // One shingle leaves one bin filled: most empty bins go past the
        // kept probes. Seeds and sizes alternate, so the kept table is
        // rebuilt between calls.
        for round in 0..300u64 {
            let n = [1, 2, 5, 40, 127, 128, 600][(round % 7) as usize];
            let set: Vec<u64> = (0..n).map(|i| hash::splitmix64(round * 1000 + i)).collect();
            let (num_perm, seed) = [(128, 0), (64, 7), (128, round), (3, 1)][(round % 4) as usize];
            assert_eq!(
                signature(&set, num_perm, seed),
                plain_signature(&set, num_perm, seed),
                "round {round}"
            );
        }
    }

    #[test]
    fn densified_signature_has_no_empty_bin() {
        let a = [1u64, 2, 3];
        let s = signature(&a, 128, 1);
        assert_eq!(s.len(), 128);
        assert!(s.iter().all(|&v| v != u64::MAX));
    }

    /// An area as first written: one curve integrated alone.
    fn plain_integrate(f: impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
        let n = 200;
        if b <= a {
            return 0.0;
        }
        let h = (b - a) / n as f64;
        let mut s = f(a) + f(b);
        for i in 1..n {
            let x = a + h * i as f64;
            s += if i % 2 == 1 { 4.0 } else { 2.0 } * f(x);
        }
        s * h / 3.0
    }

    /// Both areas of one pair, as first written.
    fn plain_areas(threshold: f64, p: BandsRows) -> (f64, f64) {
        (
            plain_integrate(|s| candidate_probability(s, p), 0.0, threshold),
            plain_integrate(|s| 1.0 - candidate_probability(s, p), threshold, 1.0),
        )
    }

    #[test]
    fn carried_powers_give_the_plain_areas_bit_for_bit() {
        for num_perm in [1, 7, 128] {
            for t in [0.0, 0.3, 0.5, 0.71, 1.0] {
                let areas = error_areas(t, num_perm);
                for bands in 1..=num_perm {
                    for (rows, row) in areas.iter().enumerate().take(num_perm / bands + 1).skip(1) {
                        let (fp, fneg) = row[bands - 1];
                        let (want_fp, want_fneg) = plain_areas(t, BandsRows { bands, rows });
                        assert_eq!(
                            (fp.to_bits(), fneg.to_bits()),
                            (want_fp.to_bits(), want_fneg.to_bits()),
                            "t={t} bands={bands} rows={rows}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn carried_powers_give_the_plain_choice() {
        // The search as first written, over thresholds across the range
        // and sizes: the first of equal errors wins.
        for num_perm in [2, 64, 256] {
            for t in (0..=10).map(|i| i as f64 / 10.0).chain([0.333]) {
                let mut want = BandsRows { bands: 1, rows: 1 };
                let mut want_err = f64::INFINITY;
                for bands in 1..=num_perm {
                    for rows in 1..=num_perm / bands {
                        let (fp, fneg) = plain_areas(t, BandsRows { bands, rows });
                        let err = 0.5 * fp + 0.5 * fneg;
                        if err < want_err {
                            (want, want_err) = (BandsRows { bands, rows }, err);
                        }
                    }
                }
                assert_eq!(
                    optimal_bands_rows(t, num_perm),
                    want,
                    "t={t} num_perm={num_perm}"
                );
            }
        }
    }

    #[test]
    fn bands_rows_match_datasketch() {
        // datasketch 2.0 `_optimal_param(t, 128, 0.5, 0.5)` gives these.
        for (t, bands, rows) in [(0.3, 37, 3), (0.5, 25, 5), (0.8, 9, 13)] {
            assert_eq!(
                optimal_bands_rows(t, 128),
                BandsRows { bands, rows },
                "t={t}"
            );
        }
    }

    #[test]
    fn bands_rows_follow_the_threshold() {
        let lo = optimal_bands_rows(0.3, 128);
        let hi = optimal_bands_rows(0.8, 128);
        assert!(lo.bands * lo.rows <= 128 && hi.bands * hi.rows <= 128);
        assert!(lo.rows < hi.rows, "{lo:?} {hi:?}");
        // The candidate curve crosses one half near the threshold.
        let p = optimal_bands_rows(0.5, 128);
        assert!(candidate_probability(0.3, p) < 0.2);
        assert!(candidate_probability(0.7, p) > 0.8);
    }
}
