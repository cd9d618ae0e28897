//! The hash functions whose values reach an index or the output.
//!
//! Everything is built on two documented, platform-independent functions:
//!
//! * **XXH3-64** (`xxhash-rust`, the reference algorithm by Yann Collet) with
//!   an explicit 64-bit seed, applied to UTF-8 bytes or to little-endian
//!   integers, so values do not depend on the platform's endianness.
//! * **SplitMix64** (Steele, Lea & Flood 2014) to derive independent seeds
//!   and per-permutation constants from the one user seed.
//!
//! No `DefaultHasher`, `RandomState` or `StdRng` is used for anything persisted
//! or printed: values are identical on every platform, release and thread count.

use xxhash_rust::xxh3::xxh3_64_with_seed;

/// One step of SplitMix64: returns the mixed value of `x + 0x9E3779B97F4A7C15`.
#[inline]
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Seeds for the separate uses of hashing, derived from the user's seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seeds {
    /// Seed of XXH3 over a normalised token's UTF-8 bytes.
    pub token: u64,
    /// Seed of XXH3 over a shingle's token hashes (little-endian u64s).
    pub shingle: u64,
    /// Seed of the MinHash bin and densification hashes.
    pub minhash: u64,
    /// Seed of the LSH band keys.
    pub band: u64,
}

impl Seeds {
    /// Derives the seeds from one user seed with SplitMix64.
    pub fn new(seed: u64) -> Seeds {
        Seeds {
            token: splitmix64(seed ^ 0x746f_6b65_6e00_0001),
            shingle: splitmix64(seed ^ 0x7368_696e_676c_0002),
            minhash: splitmix64(seed ^ 0x6d69_6e68_6173_0003),
            band: splitmix64(seed ^ 0x6261_6e64_6b65_0004),
        }
    }
}

/// XXH3-64 of bytes with a seed.
#[inline]
pub fn bytes(data: &[u8], seed: u64) -> u64 {
    xxh3_64_with_seed(data, seed)
}

/// XXH3-64 (seed 0) of a decoded text: tells the passage stage that a file
/// read again holds the text the sketch stage read. Never output or stored.
#[inline]
pub fn text(text: &str) -> u64 {
    xxh3_64_with_seed(text.as_bytes(), 0)
}

/// XXH3-64 of a sequence of u64s taken as little-endian bytes.
#[inline]
pub fn words(data: &[u64], seed: u64) -> u64 {
    if data.len() <= 16 {
        let mut buf = [0u8; 8 * 16];
        for (b, w) in buf.chunks_exact_mut(8).zip(data) {
            b.copy_from_slice(&w.to_le_bytes());
        }
        xxh3_64_with_seed(&buf[..8 * data.len()], seed)
    } else {
        xxh3_64_with_seed(le_bytes(data).as_flattened(), seed)
    }
}

/// The little-endian bytes of a sequence of u64s (`as_flattened` gives them
/// as one slice): `words` of any run of the u64s is `bytes` of the matching
/// slice of these, so overlapping runs (shingles) are hashed without copying
/// each one out again.
pub fn le_bytes(data: &[u64]) -> Vec<[u8; 8]> {
    data.iter().map(|w| w.to_le_bytes()).collect()
}

use std::hash::{BuildHasherDefault, Hasher};

/// Hashes in-memory map keys that are already uniform hashes (shingle
/// hashes) or small counters with one multiplication. Only for maps private
/// to one computation, whose iteration order never reaches the output:
/// nothing hashed with it is persisted or printed. SipHash was a tenth of
/// the passage stage's time.
#[derive(Default)]
pub(crate) struct Mix(u64);

impl Hasher for Mix {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0 ^ x).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn write_u32(&mut self, x: u32) {
        self.write_u64(x as u64);
    }
}

pub(crate) type MixMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<Mix>>;

/// An open-addressing set of uniform hashes (shingle hashes), reused from
/// one document to the next: a slot is taken in the current generation or
/// free, so emptying it costs nothing. Callers keep what they need per key
/// in arrays indexed by slot.
#[derive(Default)]
pub(crate) struct SlotTable {
    keys: Vec<u64>,
    /// The generation that took each slot.
    pub(crate) used: Vec<u32>,
    pub(crate) generation: u32,
    mask: usize,
}

impl SlotTable {
    /// Empties the table for up to `n` keys (it stays at most half full)
    /// and returns its number of slots.
    pub fn reset(&mut self, n: usize) -> usize {
        let cap = (n * 2).next_power_of_two().max(16);
        self.mask = cap - 1;
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.used.iter_mut().for_each(|g| *g = 0);
            self.generation = 1;
        }
        if self.used.len() < cap {
            self.keys.resize(cap, 0);
            self.used.resize(cap, 0);
        }
        cap
    }

    /// The slot of `h`, taken for it if it had none, and whether it was
    /// taken now.
    #[inline]
    pub fn insert(&mut self, h: u64) -> (usize, bool) {
        // The hashes are uniform: their low bits are the slot.
        let mut s = (h as usize) & self.mask;
        loop {
            if self.used[s] != self.generation {
                self.used[s] = self.generation;
                self.keys[s] = h;
                return (s, true);
            }
            if self.keys[s] == h {
                return (s, false);
            }
            s = (s + 1) & self.mask;
        }
    }

    /// The slot of `h`, if it is in the table.
    #[inline]
    pub fn find(&self, h: u64) -> Option<usize> {
        let mut s = (h as usize) & self.mask;
        while self.used[s] == self.generation {
            if self.keys[s] == h {
                return Some(s);
            }
            s = (s + 1) & self.mask;
        }
        None
    }

    /// The key in slot `s` (taken in this generation).
    #[inline]
    pub fn key(&self, s: usize) -> u64 {
        self.keys[s]
    }

    /// Number of slots since the last [`SlotTable::reset`].
    pub fn slots(&self) -> usize {
        self.mask + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_pinned() {
        // Known-answer values: a change here changes every index and output.
        assert_eq!(splitmix64(0), 0xE220_A839_7B1D_CDAF);
        assert_eq!(bytes(b"", 0), 0x2D06_8005_38D3_94C2);
        assert_eq!(words(&[1, 2], 7), words(&[1, 2], 7));
        assert_ne!(words(&[1, 2], 7), words(&[2, 1], 7));
        assert_ne!(Seeds::new(0), Seeds::new(1));
    }

    #[test]
    fn long_word_sequences_hash_like_short_ones_would() {
        let v: Vec<u64> = (0..40).collect();
        let b: Vec<u8> = v.iter().flat_map(|w| w.to_le_bytes()).collect();
        assert_eq!(words(&v, 3), bytes(&b, 3));
        let s: Vec<u64> = (0..5).collect();
        let b: Vec<u8> = s.iter().flat_map(|w| w.to_le_bytes()).collect();
        assert_eq!(words(&s, 3), bytes(&b, 3));
    }
}
