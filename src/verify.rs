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

/// One bit per value of the top `log` bits of a hash, set for the hashes
/// put in: a clear bit says a hash is not among them in one memory access.
#[derive(Clone, Debug, Default)]
struct TopBits {
    words: Vec<u64>,
    shift: u32,
}

impl TopBits {
    /// Empties the filter and sizes it to `2^log` bits (`log` in 6..=32).
    fn reset(&mut self, log: u32) {
        self.shift = 64 - log;
        self.words.clear();
        self.words.resize((1usize << log) / 64, 0);
    }

    #[inline]
    fn insert(&mut self, h: u64) {
        let i = (h >> self.shift) as usize;
        self.words[i / 64] |= 1 << (i % 64);
    }

    #[inline]
    fn may_contain(&self, h: u64) -> bool {
        let i = (h >> self.shift) as usize;
        self.words[i / 64] & (1 << (i % 64)) != 0
    }
}

/// Stock shingles: a sorted list behind a bit filter on the top bits of the
/// hash, so that most lookups (shingles that are not stock) cost one memory
/// access. The filter has at least 16 bits per stock hash (2^20 at least),
/// so it stays sparse however much stock a corpus has: a run over a million
/// articles can have millions. A hash that passes the filter is looked up
/// through an index of the list by its top bits (about four hashes per
/// bucket, the hashes being uniform), not by a binary search over it all.
#[derive(Clone, Debug, Default)]
pub struct Stock {
    sorted: Vec<u64>,
    bits: TopBits,
    /// `sorted[starts[b]..starts[b + 1]]` holds the hashes whose top
    /// `64 - bucket_shift` bits are `b`.
    starts: Vec<u32>,
    bucket_shift: u32,
}

impl Stock {
    /// The stock of these shingle hashes.
    pub fn new(mut hashes: Vec<u64>) -> Stock {
        hashes.sort_unstable();
        hashes.dedup();
        let log = (hashes.len().max(1) * 16)
            .next_power_of_two()
            .trailing_zeros()
            .clamp(20, 32);
        let mut bits = TopBits::default();
        bits.reset(log);
        for &h in &hashes {
            bits.insert(h);
        }
        // About four hashes a bucket: 1 to 2 bytes of index per hash.
        let bucket_log = (hashes.len().max(1).next_power_of_two().trailing_zeros())
            .saturating_sub(2)
            .clamp(1, 32);
        let bucket_shift = 64 - bucket_log;
        let mut starts = vec![0u32; (1usize << bucket_log) + 1];
        for &h in &hashes {
            starts[(h >> bucket_shift) as usize + 1] += 1;
        }
        for b in 1..starts.len() {
            starts[b] += starts[b - 1];
        }
        Stock {
            sorted: hashes,
            bits,
            starts,
            bucket_shift,
        }
    }

    /// Whether `h` is stock.
    #[inline]
    pub fn contains(&self, h: u64) -> bool {
        if self.sorted.is_empty() {
            return false;
        }
        if !self.bits.may_contain(h) {
            return false;
        }
        let b = (h >> self.bucket_shift) as usize;
        self.sorted[self.starts[b] as usize..self.starts[b + 1] as usize].contains(&h)
    }

    /// The stock hashes, ascending.
    pub fn sorted(&self) -> &[u64] {
        &self.sorted
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
    let hits: Vec<u32> = (0..a.seq.len() as u32)
        .filter(|&i| contains(evidence, a.seq[i as usize]))
        .collect();
    covered_at(a.tokens, &hits, k)
}

/// One document's side of [`overlap`] without its sorted set: its shingle
/// sequence, its token count and its number of distinct shingles.
#[derive(Clone, Copy, Debug)]
pub struct SeqSide<'a> {
    /// Shingle hashes in document order.
    pub seq: &'a [u64],
    /// Number of tokens.
    pub tokens: u32,
    /// Number of distinct shingles.
    pub distinct: u32,
}

const NO_SLOT: u32 = u32::MAX;

/// Sorts `v`, whose values are distinct, ascending. When they are dense
/// in their range (at most four 64-bit words of it a value) they are set
/// as bits of a map over the range and read back in order, in time linear
/// in their number: a long text's evidence positions, thousands for one
/// pair, were most of a comparison sort's time in verification. Sparse or
/// few values are sorted as usual.
fn sort_distinct(v: &mut Vec<u32>, bits: &mut Vec<u64>) {
    if v.len() < 32 {
        v.sort_unstable();
        return;
    }
    let (lo, hi) = v
        .iter()
        .fold((u32::MAX, 0), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    let words = (hi - lo) as usize / 64 + 1;
    if words > 4 * v.len() {
        v.sort_unstable();
        return;
    }
    bits.clear();
    bits.resize(words, 0);
    for &x in v.iter() {
        let i = (x - lo) as usize;
        bits[i / 64] |= 1 << (i % 64);
    }
    v.clear();
    for (w, &word) in bits.iter().enumerate() {
        let mut rest = word;
        while rest != 0 {
            v.push(lo + (w * 64) as u32 + rest.trailing_zeros());
            rest &= rest - 1;
        }
    }
}

/// Tokens covered by the shingles at `positions` (ascending, distinct) in
/// a document of `tokens` tokens and shingles of `k`, the number of runs
/// (of consecutive positions) and the words of the longest run.
fn covered_at(tokens: u32, positions: &[u32], k: usize) -> (u32, u32, u32) {
    let span = (tokens as usize).min(k.max(1));
    let mut words = 0usize;
    let mut runs = 0u32;
    let mut covered_until = 0usize;
    let mut run_start = 0usize;
    let mut longest = 0usize;
    let mut prev: Option<usize> = None;
    for &i in positions {
        let i = i as usize;
        if prev != Some(i.wrapping_sub(1)) || i == 0 {
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
        prev = Some(i);
    }
    (words as u32, runs, longest as u32)
}

/// Measures the overlap of one document with many others, from shingle
/// sequences alone: the loaded document's distinct shingles go into a hash
/// table once, with the positions each holds, and each partner is walked
/// through it once. Gives exactly what [`overlap`] gives for the same pair
/// (a unit test compares them), whichever side is loaded.
#[derive(Default)]
pub struct PairVerifier {
    /// The loaded document's distinct shingles, one slot each.
    table: crate::hash::SlotTable,
    /// Slot of each position of the loaded document.
    slot_of: Vec<u32>,
    positions_ready: bool,
    fill: Vec<u32>,
    shared_mark: Vec<u32>,
    evidence_mark: Vec<u32>,
    /// Positions of the loaded document by slot: `pos[start[s]..start[s + 1]]`.
    start: Vec<u32>,
    pos: Vec<u32>,
    /// Per pair: the partner's positions found in the table, with their slot.
    hits: Vec<(u32, u32)>,
    evidence_slots: Vec<u32>,
    loaded_pos: Vec<u32>,
    /// The bit map [`sort_distinct`] sorts `loaded_pos` with.
    pos_bits: Vec<u64>,
    partner_pos: Vec<u32>,
    /// One bit per value of a hash's high bits, set for the loaded
    /// document's shingles: most shingles of a partner are not in the
    /// table, and one bit in this small map says so without a probe.
    filter: TopBits,
    tokens: u32,
    distinct: u32,
    mark: u32,
    /// Distinct shingles shared in the last measured pair.
    shared: u32,
}

impl PairVerifier {
    /// A verifier with no document loaded.
    pub fn new() -> PairVerifier {
        PairVerifier::default()
    }

    /// Loads the document every following [`PairVerifier::measure`] compares with.
    pub fn load(&mut self, a: SeqSide<'_>) {
        // A new load needs no clearing: the table's slots are taken by
        // generation, and the marks of earlier loads are all older than the
        // next mark.
        crate::store::prefetch(a.seq);
        let cap = self.table.reset(a.seq.len());
        if self.shared_mark.len() < cap {
            self.shared_mark.resize(cap, 0);
            self.evidence_mark.resize(cap, 0);
        }
        self.tokens = a.tokens;
        self.distinct = a.distinct;
        // About 16 bits per shingle: one partner shingle in 16 that is not
        // in the table gets past the filter to a probe.
        self.filter.reset(
            (a.seq.len() * 16)
                .next_power_of_two()
                .max(512)
                .trailing_zeros(),
        );
        self.slot_of.clear();
        for &h in a.seq {
            self.filter.insert(h);
            self.slot_of.push(self.table.insert(h).0 as u32);
        }
        self.positions_ready = false;
    }

    /// Groups the loaded document's positions by slot (`pos`, `start`):
    /// needed only for a pair with evidence, so built on the first one.
    fn build_positions(&mut self) {
        let cap = self.table.slots();
        self.start.clear();
        self.start.resize(cap + 1, 0);
        for &s in &self.slot_of {
            self.start[s as usize + 1] += 1;
        }
        // (The running sum in a register: adding each count to the one
        // stored before waits on that store.)
        let mut sum = 0;
        for n in &mut self.start {
            sum += *n;
            *n = sum;
        }
        self.pos.clear();
        self.pos.resize(self.slot_of.len(), 0);
        self.fill.clear();
        self.fill.extend_from_slice(&self.start[..cap]);
        for (i, &s) in self.slot_of.iter().enumerate() {
            self.pos[self.fill[s as usize] as usize] = i as u32;
            self.fill[s as usize] += 1;
        }
        self.positions_ready = true;
    }

    #[inline]
    fn slot(&self, h: u64) -> u32 {
        self.table.find(h).map_or(NO_SLOT, |s| s as u32)
    }

    /// Whether a shingle of the last measured pair's evidence (its shared,
    /// non-stock shingles) satisfies `f`.
    pub fn evidence_any(&self, f: impl Fn(u64) -> bool) -> bool {
        self.evidence_slots
            .iter()
            .any(|&s| f(self.table.key(s as usize)))
    }

    /// The overlap of the loaded document (as `a`) with `b`.
    pub fn measure(&mut self, b: SeqSide<'_>, stock: &Stock, k: usize) -> Overlap {
        self.measure_as(b, stock, k, false)
    }

    /// The overlap of the loaded document with `other`: as `a` with `b =
    /// other`, or, with `loaded_is_b`, as `b` with `a = other`.
    pub fn measure_as(
        &mut self,
        other: SeqSide<'_>,
        stock: &Stock,
        k: usize,
        loaded_is_b: bool,
    ) -> Overlap {
        self.mark = self.mark.wrapping_add(1);
        if self.mark == 0 {
            self.shared_mark.iter_mut().for_each(|m| *m = 0);
            self.evidence_mark.iter_mut().for_each(|m| *m = 0);
            self.mark = 1;
        }
        let mark = self.mark;
        crate::store::prefetch(other.seq);
        let mut shared = 0u32;
        self.shared = 0;
        self.hits.clear();
        self.evidence_slots.clear();
        for (j, &h) in other.seq.iter().enumerate() {
            if !self.filter.may_contain(h) {
                continue;
            }
            let s = self.slot(h);
            if s == NO_SLOT {
                continue;
            }
            self.hits.push((j as u32, s));
            if self.shared_mark[s as usize] != mark {
                self.shared_mark[s as usize] = mark;
                shared += 1;
                if stock.is_empty() || !stock.contains(h) {
                    self.evidence_mark[s as usize] = mark;
                    self.evidence_slots.push(s);
                }
            }
        }
        self.shared = shared;
        let (loaded_cov, other_cov) = if self.evidence_slots.is_empty() {
            ((0, 0, 0), (0, 0, 0))
        } else {
            if !self.positions_ready {
                self.build_positions();
            }
            self.loaded_pos.clear();
            for &s in &self.evidence_slots {
                let (from, to) = (
                    self.start[s as usize] as usize,
                    self.start[s as usize + 1] as usize,
                );
                // Most shingles are at one position: a push, not a copy
                // of unknown length (a call to `memcpy`).
                if to == from + 1 {
                    self.loaded_pos.push(self.pos[from]);
                } else {
                    self.loaded_pos.extend_from_slice(&self.pos[from..to]);
                }
            }
            sort_distinct(&mut self.loaded_pos, &mut self.pos_bits);
            self.partner_pos.clear();
            let em = &self.evidence_mark;
            self.partner_pos.extend(
                self.hits
                    .iter()
                    .filter(|&&(_, s)| em[s as usize] == mark)
                    .map(|&(j, _)| j),
            );
            (
                covered_at(self.tokens, &self.loaded_pos, k),
                covered_at(other.tokens, &self.partner_pos, k),
            )
        };
        let (a_cov, b_cov, a, b) = if loaded_is_b {
            (other_cov, loaded_cov, other, self.side())
        } else {
            (loaded_cov, other_cov, self.side(), other)
        };
        overlap_of(
            shared,
            a_cov,
            b_cov,
            (a.tokens, a.distinct),
            (b.tokens, b.distinct),
        )
    }

    /// The loaded document's token and distinct shingle counts.
    fn side(&self) -> SeqSide<'static> {
        SeqSide {
            seq: &[],
            tokens: self.tokens,
            distinct: self.distinct,
        }
    }

    /// Keeps the evidence of the last measured pair, so that it can be
    /// measured again with more stock by [`Evidence::remeasure`]: appends to
    /// `runs` the runs of evidence positions of side `a`, then of side `b`
    /// (`loaded_is_b` as given to [`PairVerifier::measure_as`]), encoded by
    /// [`push_runs`].
    pub fn keep_evidence(&self, loaded_is_b: bool, runs: &mut Vec<u8>) -> Evidence {
        let (a, b) = if loaded_is_b {
            (&self.partner_pos, &self.loaded_pos)
        } else {
            (&self.loaded_pos, &self.partner_pos)
        };
        if self.evidence_slots.is_empty() {
            return Evidence {
                shared: self.shared,
                a_bytes: 0,
                b_bytes: 0,
            };
        }
        // A side's bytes fit in a u32: files are at most 1 GiB, so a side
        // has fewer than 2^29 runs of at most 10 bytes.
        let at = runs.len();
        push_runs(a, runs);
        let mid = runs.len();
        push_runs(b, runs);
        Evidence {
            shared: self.shared,
            a_bytes: (mid - at) as u32,
            b_bytes: (runs.len() - mid) as u32,
        }
    }
}

/// Appends the runs of consecutive values of `positions` (ascending,
/// distinct) to `out`: for each, the gap from the end of the one before (0
/// at first) and its length less one, as LEB128 varints. Runs of shared
/// shingles are mostly short and close together, so a run mostly takes two
/// bytes.
fn push_runs(positions: &[u32], out: &mut Vec<u8>) {
    let mut varint = |mut v: u32| {
        while v >= 0x80 {
            out.push(v as u8 | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    };
    let (mut i, mut prev_end) = (0, 0u32);
    while i < positions.len() {
        let start = positions[i];
        let mut end = start + 1;
        i += 1;
        while i < positions.len() && positions[i] == end {
            end += 1;
            i += 1;
        }
        varint(start - prev_end);
        varint(end - start - 1);
        prev_end = end;
    }
}

/// Calls `f` with each position of runs written by [`push_runs`], in order.
/// Bytes cut short end the walk.
fn for_each_position(mut bytes: &[u8], mut f: impl FnMut(u32)) {
    let mut varint = || -> Option<u32> {
        let mut v = 0u32;
        for shift in (0..35).step_by(7) {
            let (&b, rest) = bytes.split_first()?;
            bytes = rest;
            v |= u32::from(b & 0x7F).checked_shl(shift).unwrap_or(0);
            if b < 0x80 {
                return Some(v);
            }
        }
        Some(v)
    };
    let mut prev_end = 0u32;
    while let (Some(gap), Some(len)) = (varint(), varint()) {
        let start = prev_end.saturating_add(gap);
        let end = start.saturating_add(len).saturating_add(1);
        (start..end).for_each(&mut f);
        prev_end = end;
    }
}

/// The overlap made of a pair's shared count and the coverage (words,
/// runs, longest run) of each side, with each side's tokens and distinct
/// shingles: the one place its ratios are computed.
fn overlap_of(
    shared: u32,
    (a_words, passages, longest): (u32, u32, u32),
    (b_words, _, _): (u32, u32, u32),
    (a_tokens, a_distinct): (u32, u32),
    (b_tokens, b_distinct): (u32, u32),
) -> Overlap {
    let union = a_distinct as usize + b_distinct as usize - shared as usize;
    let frac = |w: u32, n: u32| if n == 0 { 0.0 } else { w as f64 / n as f64 };
    Overlap {
        shared_shingles: shared,
        jaccard: if union == 0 {
            0.0
        } else {
            shared as f64 / union as f64
        },
        a_in_b: frac(shared, a_distinct),
        b_in_a: frac(shared, b_distinct),
        a_words,
        b_words,
        passages,
        longest,
        coverage: frac(a_words, a_tokens).max(frac(b_words, b_tokens)),
    }
}

/// The evidence of a measured pair, kept by [`PairVerifier::keep_evidence`]:
/// its shared shingle count, and the bytes each side's runs of evidence
/// positions take in the list they were written to.
///
/// More stock only takes shingles out of the evidence (the shared count,
/// and so Jaccard, counts stock too), so the pair's overlap under a larger
/// stock is its evidence positions whose shingle is not stock, with no hash
/// table and no walk through the partner.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Evidence {
    /// Distinct shingles in both.
    pub shared: u32,
    /// Bytes of side `a`'s runs.
    pub a_bytes: u32,
    /// Bytes of side `b`'s runs (after those of `a`).
    pub b_bytes: u32,
}

impl Evidence {
    /// Bytes its runs take.
    pub fn len(&self) -> usize {
        self.a_bytes as usize + self.b_bytes as usize
    }

    /// Whether it has no runs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The pair's overlap under a larger stock (holding at least the stock
    /// it was measured with): `runs` is its part of the runs list; each
    /// side is given as its token and distinct shingle counts and its
    /// [`kept_bits`] under that stock, so that a text in many pairs is
    /// looked up once, not once a pair, and its evidence tested against a
    /// few cache lines instead of its sequence's. A position past the end
    /// of its side's bits (a sequence that could not be read back) is left
    /// out.
    pub fn remeasure(
        &self,
        runs: &[u8],
        (a_tokens, a_distinct, a_bits): (u32, u32, &[u64]),
        (b_tokens, b_distinct, b_bits): (u32, u32, &[u64]),
        k: usize,
        buf: &mut Vec<u32>,
    ) -> Overlap {
        let mut side = |runs: &[u8], tokens: u32, bits: &[u64]| {
            buf.clear();
            for_each_position(runs, |p| {
                if bits
                    .get(p as usize / 64)
                    .is_some_and(|w| w >> (p % 64) & 1 != 0)
                {
                    buf.push(p);
                }
            });
            covered_at(tokens, buf, k)
        };
        let (a_runs, b_runs) = runs.split_at((self.a_bytes as usize).min(runs.len()));
        let a_cov = side(a_runs, a_tokens, a_bits);
        let b_cov = side(b_runs, b_tokens, b_bits);
        overlap_of(
            self.shared,
            a_cov,
            b_cov,
            (a_tokens, a_distinct),
            (b_tokens, b_distinct),
        )
    }
}

/// Appends to `out` one bit a position of `seq`, set where its shingle is
/// not in `stock` (`ceil(len / 64)` words, position `p` at bit `p % 64` of
/// word `p / 64`): what [`Evidence::remeasure`] reads of a side.
pub fn kept_bits(seq: &[u64], stock: &Stock, out: &mut Vec<u64>) {
    for chunk in seq.chunks(64) {
        let mut w = 0u64;
        for (i, &h) in chunk.iter().enumerate() {
            if !stock.contains(h) {
                w |= 1 << i;
            }
        }
        out.push(w);
    }
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

    /// `sort_distinct` is a sort, on few values, on values dense and sparse
    /// in their range, and at the ends of `u32`.
    #[test]
    fn sort_distinct_sorts() {
        let mut bits = Vec::new();
        let mut x = 3u64;
        for case in 0..600u64 {
            let n = (case % 200) as usize;
            // Ranges from about n (dense: the bit map) to 2^32 (the sort).
            let span = (n as u64 + 1) << (case % 33);
            let base = if case % 5 == 0 {
                u32::MAX as u64 + 1 - span.min(1 << 32)
            } else {
                0
            };
            let mut v: Vec<u32> = Vec::new();
            let mut seen = std::collections::HashSet::new();
            while v.len() < n && (seen.len() as u64) < span {
                x = crate::hash::splitmix64(x);
                let val = (base + x % span.min(1 << 32)) as u32;
                if seen.insert(val) {
                    v.push(val);
                }
            }
            let mut want = v.clone();
            want.sort_unstable();
            sort_distinct(&mut v, &mut bits);
            assert_eq!(v, want, "case {case}");
        }
    }

    /// Random shingle sequences over small alphabets, so that repeats,
    /// shared runs and stock shingles are common.
    struct SmallAlphabet(u64);

    impl SmallAlphabet {
        fn next(&mut self, m: u64) -> u64 {
            self.0 = crate::hash::splitmix64(self.0);
            self.0 % m
        }

        fn seq(&mut self, n: u64, alphabet: u64) -> Vec<u64> {
            (0..n)
                .map(|_| self.next(alphabet).wrapping_mul(0x9E37_79B9_7F4A_7C15))
                .collect()
        }
    }

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
        // Same top bits as a stock hash but not stock: the list decides.
        let twin = held[0] ^ 1;
        assert!(!stock.contains(twin));
        assert!(!Stock::default().contains(held[0]));
    }

    #[test]
    fn pair_verifier_survives_its_counters_wrapping() {
        // Load generations and pair marks wrap after 2^32 uses; the first
        // use after a wrap must not see slots or marks of earlier ones.
        let a: Vec<u64> = (0..40u64)
            .map(|i| (i % 13).wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .collect();
        let b: Vec<u64> = (0..30u64)
            .map(|i| (i % 7 + 3).wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .collect();
        let c: Vec<u64> = (0..25u64)
            .map(|i| (i + 20).wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .collect();
        fn side(s: &Shingled) -> SeqSide<'_> {
            SeqSide {
                seq: &s.seq,
                tokens: s.tokens,
                distinct: s.set.len() as u32,
            }
        }
        let (sa, sb, sc) = (
            Shingled::new(44, a),
            Shingled::new(34, b),
            Shingled::new(29, c),
        );
        let stock = Stock::default();
        let mut v = PairVerifier::new();
        // Slots and marks of generation 1 and mark 1, left behind ...
        v.load(side(&sa));
        assert_eq!(
            v.measure(side(&sb), &stock, 5),
            overlap(&sa, &sb, &stock, 5)
        );
        // ... until both counters wrap to 1 again, at the next load and
        // the next pair.
        v.table.generation = u32::MAX;
        v.mark = u32::MAX;
        for (loaded, other) in [(&sb, &sa), (&sc, &sa), (&sb, &sc), (&sa, &sc), (&sa, &sb)] {
            v.load(side(loaded));
            let taken = v
                .table
                .used
                .iter()
                .filter(|&&g| g == v.table.generation)
                .count();
            assert_eq!(taken, loaded.set.len(), "slots of this load only");
            let got = v.measure(side(other), &stock, 5);
            assert_eq!(got, overlap(loaded, other, &stock, 5));
        }
    }

    #[test]
    fn pair_verifier_measures_what_overlap_measures() {
        // Sequences over a small alphabet, so that repeats, shared runs and
        // stock shingles are common; one verifier reused across partners.
        let mut r = SmallAlphabet(7);
        let mut v = PairVerifier::new();
        for round in 0..200 {
            let alphabet = 2 + r.next(60);
            let a = r.seq(1 + round % 50, alphabet);
            let partners: Vec<Vec<u64>> = (0..5)
                .map(|i| r.seq(1 + (round * 7 + i) % 60, alphabet))
                .collect();
            let stock = Stock::new(a.iter().copied().filter(|h| h % 5 == 0).collect());
            let sa = Shingled::new(a.len() as u32 + 4, a.clone());
            v.load(SeqSide {
                seq: &a,
                tokens: sa.tokens,
                distinct: sa.set.len() as u32,
            });
            for b in &partners {
                let sb = Shingled::new(b.len() as u32 + 4, b.clone());
                for st in [&stock, &Stock::default()] {
                    let want = overlap(&sa, &sb, st, 5);
                    let got = v.measure(
                        SeqSide {
                            seq: b,
                            tokens: sb.tokens,
                            distinct: sb.set.len() as u32,
                        },
                        st,
                        5,
                    );
                    assert_eq!(got, want, "round {round}");
                    // Evidence is there exactly when a passage is.
                    assert_eq!(v.evidence_any(|_| true), got.passages > 0);
                    assert!(!v.evidence_any(|_| false));
                    // The same pair with the partner loaded instead.
                    let mut w = PairVerifier::new();
                    w.load(SeqSide {
                        seq: b,
                        tokens: sb.tokens,
                        distinct: sb.set.len() as u32,
                    });
                    let swapped = w.measure_as(
                        SeqSide {
                            seq: &a,
                            tokens: sa.tokens,
                            distinct: sa.set.len() as u32,
                        },
                        st,
                        5,
                        true,
                    );
                    assert_eq!(swapped, want, "round {round}, swapped");
                }
            }
        }
    }

    #[test]
    fn kept_evidence_measures_again_what_a_new_measure_gives() {
        // A pair measured with some stock, then measured again from its kept
        // evidence with more stock, gives what measuring it anew gives, with
        // either side loaded.
        let mut r = SmallAlphabet(11);
        let mut v = PairVerifier::new();
        let mut buf = Vec::new();
        let mut checked_change = 0;
        for round in 0..300u64 {
            let alphabet = 2 + r.next(60);
            let a = r.seq(1 + round % 50, alphabet);
            let b = r.seq(1 + (round * 7) % 60, alphabet);
            fn side(s: &[u64]) -> SeqSide<'_> {
                SeqSide {
                    seq: s,
                    tokens: s.len() as u32 + 4,
                    distinct: Shingled::new(0, s.to_vec()).set.len() as u32,
                }
            }
            let before = Stock::new(a.iter().copied().filter(|h| h % 7 == 0).collect());
            let after = Stock::new(
                a.iter()
                    .chain(&b)
                    .copied()
                    .filter(|h| h % 7 == 0 || h % 3 == round % 3)
                    .collect(),
            );
            for loaded_is_b in [false, true] {
                let (loaded, other) = if loaded_is_b { (&b, &a) } else { (&a, &b) };
                v.load(side(loaded));
                let first = v.measure_as(side(other), &before, 5, loaded_is_b);
                let mut runs = vec![0xFF; 3];
                let ev = v.keep_evidence(loaded_is_b, &mut runs);
                assert_eq!(ev.len(), runs.len() - 3, "round {round}");
                assert_eq!(ev.shared, first.shared_shingles);
                // Each side as the bits of its positions still evidence.
                let remeasure = |stock: &Stock, buf: &mut Vec<u32>| {
                    let (mut a_bits, mut b_bits) = (Vec::new(), Vec::new());
                    kept_bits(&a, stock, &mut a_bits);
                    kept_bits(&b, stock, &mut b_bits);
                    ev.remeasure(
                        &runs[3..],
                        (side(&a).tokens, side(&a).distinct, &a_bits),
                        (side(&b).tokens, side(&b).distinct, &b_bits),
                        5,
                        buf,
                    )
                };
                let again = remeasure(&after, &mut buf);
                v.load(side(loaded));
                let want = v.measure_as(side(other), &after, 5, loaded_is_b);
                assert_eq!(again, want, "round {round}, loaded_is_b {loaded_is_b}");
                checked_change += usize::from(want != first);
                // With the same stock, the evidence gives the first measure back.
                let same = remeasure(&before, &mut buf);
                assert_eq!(same, first, "round {round}");
            }
        }
        // More stock changed the overlap of many of these pairs.
        assert!(checked_change > 50, "{checked_change}");
    }

    #[test]
    fn runs_read_back_as_written() {
        let mut x = 5u64;
        for round in 0..500u64 {
            let mut positions = Vec::new();
            let mut p = 0u32;
            for _ in 0..round % 40 {
                x = crate::hash::splitmix64(x);
                // Gaps from 1 to past 2^21, so varints take 1 to 4 bytes.
                p += 1 + match x % 4 {
                    0 | 1 => 0,
                    2 => (x >> 8) as u32 % 200,
                    _ => (x >> 8) as u32 % 3_000_000,
                };
                positions.push(p);
            }
            if round % 3 == 0 {
                positions.insert(0, 0);
                positions.dedup();
            }
            let mut bytes = vec![7u8];
            push_runs(&positions, &mut bytes);
            let mut back = Vec::new();
            for_each_position(&bytes[1..], |p| back.push(p));
            assert_eq!(back, positions, "round {round}");
            // Cut short, the bytes give a prefix of the positions.
            for cut in 1..bytes.len() {
                let mut part = Vec::new();
                for_each_position(&bytes[1..cut], |p| part.push(p));
                assert!(part.len() <= positions.len());
            }
        }
        // Garbage decodes without a panic.
        for_each_position(&[0xFF; 12], |_| {});
    }

    #[test]
    fn evidence_past_a_short_sequence_is_left_out() {
        // A side read back short (an I/O error gives an empty sequence)
        // loses the positions past its end rather than panicking.
        let a: Vec<u64> = (1..=30u64)
            .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .collect();
        let mut v = PairVerifier::new();
        fn side(s: &[u64]) -> SeqSide<'_> {
            SeqSide {
                seq: s,
                tokens: 34,
                distinct: 30,
            }
        }
        v.load(side(&a));
        let first = v.measure(side(&a), &Stock::default(), 5);
        assert_eq!(first.a_words, 34);
        let mut runs = Vec::new();
        let ev = v.keep_evidence(false, &mut runs);
        let mut buf = Vec::new();
        let mut short = Vec::new();
        kept_bits(&a[..10], &Stock::default(), &mut short);
        let o = ev.remeasure(&runs, (34, 30, &short), (34, 30, &[]), 5, &mut buf);
        assert_eq!((o.a_words, o.b_words), (14, 0));
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
