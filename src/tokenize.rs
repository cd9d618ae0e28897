//! Stage 2: split text into word tokens, normalise them, hash them, and keep
//! each token's byte span.
//!
//! Words are found with Unicode word segmentation (UAX #29, through
//! `unicode-segmentation`): runs that contain a letter or digit. Each word is
//! normalised before hashing:
//!
//! 1. typographic apostrophes and quotes fold to ASCII (`’ ‘ ‛ ʼ ′ ´ \``
//!    → `'`; `“ ” „ ‟ ″` → `"`), dashes and hyphens to `-`;
//! 2. Unicode NFKC;
//! 3. lower case (Unicode simple lower-case mapping, per character).
//!
//! So "Bakhmut’s" and "BAKHMUT's" are the same token. A token's span is the
//! byte range of the word in the decoded text, always on character boundaries.

use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

use crate::hash;

/// One word of an article.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    /// Start byte of the word in the text (inclusive).
    pub start: u32,
    /// End byte of the word in the text (exclusive).
    pub end: u32,
    /// XXH3-64 of the normalised word with the token seed.
    pub hash: u64,
}

fn fold_char(c: char) -> char {
    match c {
        '\u{2019}' | '\u{2018}' | '\u{201B}' | '\u{02BC}' | '\u{2032}' | '\u{00B4}' | '`' => '\'',
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' => '"',
        '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2015}'
        | '\u{2212}' => '-',
        _ => c,
    }
}

/// Folds, in place, the letters OCR most often confuses into one class each:
/// `rn`→`m`, `c`→`e`, `i`/`1`→`l`, `a`/`0`→`o`, `b`→`h`, `5`→`s`, `f`→`t`,
/// `u`→`n` (lower-case ASCII, in words holding a letter; numbers are left
/// alone). "Apri1 tbe" and "April the" then match.
pub fn ocr_fold(word: &mut String) {
    let mut bytes = std::mem::take(word).into_bytes();
    ocr_fold_bytes(&mut bytes);
    *word = String::from_utf8(bytes).expect("ASCII-only changes keep UTF-8");
}

/// The OCR classes of lower-case ASCII bytes, as (byte, the byte it folds
/// to): `c`→`e`, `i`/`1`→`l`, `a`/`0`→`o`, `b`→`h`, `5`→`s`, `f`→`t`,
/// `u`→`n` (`rn`→`m` is done by the callers). No byte folds to one that
/// folds again.
const FOLD_PAIRS: [(u8, u8); 9] = [
    (b'c', b'e'),
    (b'1', b'l'),
    (b'i', b'l'),
    (b'0', b'o'),
    (b'a', b'o'),
    (b'b', b'h'),
    (b'5', b's'),
    (b'f', b't'),
    (b'u', b'n'),
];

/// OCR folding of lower-case ASCII bytes by [`FOLD_PAIRS`].
const FOLD: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = i as u8;
        i += 1;
    }
    let mut k = 0;
    while k < FOLD_PAIRS.len() {
        t[FOLD_PAIRS[k].0 as usize] = FOLD_PAIRS[k].1;
        k += 1;
    }
    t
};

/// [`FOLD`] after ASCII lower-casing, so an ASCII word is normalised and
/// folded in one look-up per byte.
const LOWER_FOLD: [u8; 256] = {
    let mut t = FOLD;
    let mut c = b'A';
    while c <= b'Z' {
        t[c as usize] = FOLD[c.to_ascii_lowercase() as usize];
        c += 1;
    }
    t
};

/// [`ocr_fold`] on the UTF-8 bytes of a word: only ASCII bytes change and
/// `rn` shrinks to `m`, so valid UTF-8 stays valid.
fn ocr_fold_bytes(bytes: &mut Vec<u8>) {
    if !bytes.iter().any(|b| b.is_ascii_alphabetic()) {
        return;
    }
    let mut w = 0;
    let mut r = 0;
    while r < bytes.len() {
        let (out, step) = if bytes[r] == b'r' && bytes.get(r + 1) == Some(&b'n') {
            (b'm', 2)
        } else {
            (FOLD[bytes[r] as usize], 1)
        };
        bytes[w] = out;
        w += 1;
        r += step;
    }
    bytes.truncate(w);
}

/// Writes the normalised form of an ASCII word to the front of `out` (at
/// least as long as the word) and returns its length: lower case, and with
/// `fold` (OCR folding, for a word holding a letter) the [`LOWER_FOLD`]
/// classes and `rn`→`m`, straight from the text's bytes with no intermediate
/// buffer. `RN` folds too, as lower-casing before folding would have it.
#[inline]
fn normalize_ascii(word: &[u8], fold: bool, out: &mut [u8]) -> usize {
    if !fold {
        for (o, &b) in out.iter_mut().zip(word) {
            *o = b.to_ascii_lowercase();
        }
        return word.len();
    }
    // Fold byte by byte with no branch, noting whether an `r` is followed by
    // an `n` (the folded byte is `r` only for `r`/`R`; `| 0x20` lower-cases
    // exactly `N` among the bytes that can equal `n`); only then, in a few
    // percent of words, go again with `rn`→`m`.
    let (mut prev_r, mut rn) = (false, false);
    for (o, &b) in out.iter_mut().zip(word) {
        let f = LOWER_FOLD[b as usize];
        *o = f;
        rn |= prev_r & (b | 0x20 == b'n');
        prev_r = f == b'r';
    }
    if !rn {
        return word.len();
    }
    let (mut r, mut w) = (0, 0);
    while r < word.len() {
        let b = word[r];
        if b | 0x20 == b'r' && word.get(r + 1).is_some_and(|&n| n | 0x20 == b'n') {
            out[w] = b'm';
            r += 2;
        } else {
            out[w] = LOWER_FOLD[b as usize];
            r += 1;
        }
        w += 1;
    }
    w
}

/// [`normalize_ascii`] of the ASCII word `bytes[..len]` (`len <= 16`),
/// without a loop over its bytes: all 16 bytes are lower-cased and folded
/// at once. `None` when the word holds `rn` with folding on (then
/// [`normalize_ascii`] does it).
#[cfg(target_arch = "x86_64")]
#[inline]
fn normalize16(bytes: &[u8; 16], len: usize, fold: bool, out: &mut [u8]) -> Option<usize> {
    use std::arch::x86_64::*;
    debug_assert!(len <= 16 && out.len() >= 16);
    // SAFETY: SSE2 is in the x86-64 baseline; the load reads `bytes` and
    // the store writes the first 16 bytes of `out`, which has them.
    unsafe {
        let v = _mm_loadu_si128(bytes.as_ptr().cast());
        let set = |c: u8| _mm_set1_epi8(c as i8);
        let moved = _mm_add_epi8(v, set(128u8.wrapping_sub(b'A')));
        let upper = _mm_cmplt_epi8(moved, _mm_set1_epi8((26i8).wrapping_sub(-128i8)));
        let mut w = _mm_or_si128(v, _mm_and_si128(upper, set(0x20)));
        if fold {
            let lowered = _mm_or_si128(v, set(0x20));
            let r = _mm_movemask_epi8(_mm_cmpeq_epi8(lowered, set(b'r')));
            let n = _mm_movemask_epi8(_mm_cmpeq_epi8(lowered, set(b'n')));
            if (r << 1) & n & ((1 << len) - 1) != 0 {
                return None;
            }
            // A byte is at most one pair's `from`, and no folded byte is
            // folded again, so the table look-up of `LOWER_FOLD` is `w`
            // XOR the `from ^ to` of the pair it matches: every compare is
            // against the same `w`, none waits on the one before.
            let mut delta = _mm_setzero_si128();
            for (from, to) in FOLD_PAIRS {
                let hit = _mm_cmpeq_epi8(w, set(from));
                delta = _mm_or_si128(delta, _mm_and_si128(hit, set(from ^ to)));
            }
            w = _mm_xor_si128(w, delta);
        }
        _mm_storeu_si128(out.as_mut_ptr().cast(), w);
    }
    Some(len)
}

/// [`normalize_ascii`] itself where SSE2 is not at hand.
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn normalize16(bytes: &[u8; 16], len: usize, fold: bool, out: &mut [u8]) -> Option<usize> {
    Some(normalize_ascii(&bytes[..len], fold, out))
}

/// Writes a word of ASCII and `‘`/`’` to the front of `out` with the quotes
/// folded to `'`, as [`fold_char`] would (NFKC and lower case then act on
/// ASCII alone); returns its length.
fn unquote(word: &[u8], out: &mut [u8]) -> usize {
    let (mut r, mut w) = (0, 0);
    while r < word.len() {
        if word[r].is_ascii() {
            out[w] = word[r];
            r += 1;
        } else {
            out[w] = b'\'';
            r += 3;
        }
        w += 1;
    }
    w
}

// Word-break classes of bytes (UAX #29 restricted to ASCII) as bits, so one
// table look-up classifies a byte. A joiner's bit is the bit of the class it
// joins shifted left by 3: `cur & (mid >> 3) & after & (LETTER | DIGIT)` is
// non-zero exactly when a letter–MidLetter/MidNumLet–letter or
// digit–MidNum/MidNumLet–digit sequence holds together (WB6/7, WB11/12).
const LETTER: u8 = 1;
const DIGIT: u8 = 2;
const EXTEND_NUM_LET: u8 = 4; // `_`
const WORD: u8 = LETTER | DIGIT | EXTEND_NUM_LET;
const JOINS_LETTERS: u8 = LETTER << 3; // `:` `.` `'`
const JOINS_DIGITS: u8 = DIGIT << 3; // `,` `;` `.` `'`
const SPACE: u8 = 32; // `u8::is_ascii_whitespace`
const NON_ASCII: u8 = 64;

const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = match b {
            b'a'..=b'z' | b'A'..=b'Z' => LETTER,
            b'0'..=b'9' => DIGIT,
            b'_' => EXTEND_NUM_LET,
            b':' => JOINS_LETTERS,
            b'.' | b'\'' => JOINS_LETTERS | JOINS_DIGITS,
            b',' | b';' => JOINS_DIGITS,
            b' ' | b'\t' | b'\n' | b'\x0C' | b'\r' => SPACE,
            0x80..=0xFF => NON_ASCII,
            _ => 0,
        };
        i += 1;
    }
    t
};

/// Typographic punctuation common in news that [`scan`] takes in its stride
/// like ASCII: at a non-ASCII byte, the character's length if it is `‘` or
/// `’` (MidNumLet in UAX #29, which joins letters and digits as `.` and `'`
/// do) with `true`, or `“ ” – — …` or a no-break space (no word-break
/// property: a word never holds one) with `false`. `None` for any other.
#[inline]
fn typographic(bytes: &[u8], at: usize) -> Option<(usize, bool)> {
    match bytes.get(at..at + 2)? {
        [0xC2, 0xA0] => Some((2, false)),
        [0xE2, 0x80] => match bytes.get(at + 2)? {
            0x98 | 0x99 => Some((3, true)),
            0x93 | 0x94 | 0x9C | 0x9D | 0xA6 => Some((3, false)),
            _ => None,
        },
        _ => None,
    }
}

/// What [`scan`] knows of an ASCII-segmented word.
#[derive(Clone, Copy)]
struct Seen {
    /// It holds an ASCII letter.
    letter: bool,
    /// It holds a `‘` or `’` (its only non-ASCII characters).
    quote: bool,
}

/// Finds the words of `text` exactly as `unicode_word_indices` would and
/// pushes one item per word to `out` (after what it holds).
///
/// A word never spans ASCII whitespace except that a combining mark may
/// attach to the whitespace before it, so each whitespace-delimited chunk can
/// be segmented alone. Stretches of pure ASCII text go through
/// [`scan_ascii`], which finds word boundaries 64 bytes at a time from bit
/// masks; the chunks around non-ASCII bytes (from the start of the
/// whitespace before them) go through [`scan_span`], byte by byte. Each word
/// is passed to `ascii(start, end, seen)`, or, in a chunk holding a
/// non-ASCII character other than [`typographic`] punctuation, to
/// `unicode(start, word)` (an item only if it returns one).
#[inline]
fn scan<T>(
    text: &str,
    out: &mut Vec<T>,
    mut ascii: impl FnMut(usize, usize, Seen) -> T,
    mut unicode: impl FnMut(usize, &str) -> Option<T>,
) {
    // Non-ASCII bytes closer than this to the end of the last byte-by-byte
    // span are taken in the same span: switching costs more than it saves.
    const NEAR: usize = 64;
    let bytes = text.as_bytes();
    let n = bytes.len();
    let mut at = 0; // where the text not yet segmented starts
    while at < n {
        let Some(p) = first_non_ascii(&bytes[at..]) else {
            scan_ascii(bytes, at, n, out, &mut ascii);
            return;
        };
        // The span starts at the whitespace run before the chunk holding
        // the byte (`at` itself is 0 or the end of a chunk: whitespace), and
        // ends at the first whitespace after the last non-ASCII byte near
        // the one before it.
        let p = at + p;
        let span_start = match bytes[at..p].iter().rposition(u8::is_ascii_whitespace) {
            None => at,
            Some(w) => bytes[at..=at + w]
                .iter()
                .rposition(|b| !b.is_ascii_whitespace())
                .map_or(at, |q| at + q + 1),
        };
        let mut span_end = p;
        loop {
            span_end = bytes[span_end..]
                .iter()
                .position(u8::is_ascii_whitespace)
                .map_or(n, |q| span_end + q);
            match bytes[span_end..(span_end + NEAR).min(n)]
                .iter()
                .position(|b| !b.is_ascii())
            {
                Some(q) => span_end += q,
                None => break,
            }
        }
        scan_ascii(bytes, at, span_start, out, &mut ascii);
        scan_span(text, span_start, span_end, out, &mut ascii, &mut unicode);
        at = span_end;
    }
}

/// The place of the first byte of `bytes` that is not ASCII: eight bytes
/// at a time (a byte-by-byte search cost [`scan`] about four instructions
/// a byte of text, as much as the rest of finding its words' spans).
#[inline]
fn first_non_ascii(bytes: &[u8]) -> Option<usize> {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut words = bytes.chunks_exact(8);
    for (k, w) in words.by_ref().enumerate() {
        let high = u64::from_le_bytes(w.try_into().expect("8 bytes")) & HIGH;
        if high != 0 {
            return Some(8 * k + high.trailing_zeros() as usize / 8);
        }
    }
    let tail = words.remainder();
    let at = bytes.len() - tail.len();
    tail.iter().position(|b| !b.is_ascii()).map(|p| at + p)
}

/// Bit masks of 64 bytes of ASCII text, bit `i` for byte `i`.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
struct Masks {
    letter: u64,
    digit: u64,
    /// `_` (ExtendNumLet).
    under: u64,
    /// Joiners of letters: `:` `.` `'`.
    joins_letters: u64,
    /// Joiners of digits: `,` `;` `.` `'`.
    joins_digits: u64,
}

/// [`Masks`] of a block, byte by byte through [`CLASS`].
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn masks_by_table(block: &[u8; 64]) -> Masks {
    let mut m = Masks::default();
    for (i, &b) in block.iter().enumerate() {
        let c = CLASS[b as usize];
        let bit = |x: u8| u64::from(c & x != 0) << i;
        m.letter |= bit(LETTER);
        m.digit |= bit(DIGIT);
        m.under |= bit(EXTEND_NUM_LET);
        m.joins_letters |= bit(JOINS_LETTERS);
        m.joins_digits |= bit(JOINS_DIGITS);
    }
    m
}

/// [`Masks`] of a block, 16 bytes per SSE2 instruction (SSE2 is part of
/// every x86-64 processor).
#[cfg(target_arch = "x86_64")]
fn masks(block: &[u8; 64]) -> Masks {
    use std::arch::x86_64::*;
    let mut m = Masks::default();
    for q in 0..4 {
        // SAFETY: SSE2 is in the x86-64 baseline; the load reads 16 bytes
        // inside `block` and needs no alignment.
        let bits = unsafe {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * q).cast());
            let eq = |c: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8));
            // `x - lo` in `0..len`, unsigned, as a signed comparison after
            // moving 0 to -128.
            let within = |x: __m128i, lo: u8, len: u8| {
                let moved = _mm_add_epi8(x, _mm_set1_epi8(128u8.wrapping_sub(lo) as i8));
                _mm_cmplt_epi8(moved, _mm_set1_epi8((len as i8).wrapping_sub(-128i8)))
            };
            let bits = |x: __m128i| _mm_movemask_epi8(x) as u16 as u64;
            let letter = within(_mm_or_si128(v, _mm_set1_epi8(0x20)), b'a', 26);
            let digit = within(v, b'0', 10);
            let both = _mm_or_si128(eq(b'.'), eq(b'\''));
            [
                bits(letter),
                bits(digit),
                bits(eq(b'_')),
                bits(_mm_or_si128(both, eq(b':'))),
                bits(_mm_or_si128(both, _mm_or_si128(eq(b','), eq(b';')))),
            ]
        };
        let at = 16 * q;
        m.letter |= bits[0] << at;
        m.digit |= bits[1] << at;
        m.under |= bits[2] << at;
        m.joins_letters |= bits[3] << at;
        m.joins_digits |= bits[4] << at;
    }
    m
}

#[cfg(not(target_arch = "x86_64"))]
fn masks(block: &[u8; 64]) -> Masks {
    masks_by_table(block)
}

/// The segmentation of `bytes[lo..hi]`, pure ASCII text that starts at the
/// text's start or at whitespace, and ends at the text's end or at
/// whitespace: the words [`scan_span`] would find there, from bit masks.
/// A byte is in a word when it is a letter, digit or `_`, or a joiner
/// between two letters (`:` `.` `'`) or two digits (`,` `;` `.` `'`); a
/// maximal run of such bytes holding a letter or digit is a word.
fn scan_ascii<T>(
    bytes: &[u8],
    lo: usize,
    hi: usize,
    out: &mut Vec<T>,
    ascii: &mut impl FnMut(usize, usize, Seen) -> T,
) {
    if lo >= hi {
        return;
    }
    let block = |k: usize| -> Masks {
        let from = lo + 64 * k;
        match bytes.get(from..from + 64) {
            Some(b) if from + 64 <= hi => masks(b.try_into().expect("64 bytes")),
            _ => {
                // The last, short block, padded with spaces (no class).
                let mut b = [b' '; 64];
                b[..hi - from].copy_from_slice(&bytes[from..hi]);
                masks(&b)
            }
        }
    };
    let blocks = (hi - lo).div_ceil(64);
    let (mut prev, mut cur) = (Masks::default(), block(0));
    let mut prev_in_word = 0u64; // the top bit of the previous block's word mask
    // The word being read, when in one: its start, its first bit in this
    // block (0 if it began in an earlier one), and whether its bytes in
    // earlier blocks held a letter, or a letter or digit.
    let (mut start, mut from) = (lo, 0u32);
    let (mut had_letter, mut had_alnum) = (false, false);
    for k in 0..blocks {
        let next = if k + 1 < blocks {
            block(k + 1)
        } else {
            Masks::default()
        };
        // The classes of each byte's neighbours, across block edges.
        let before = |x: u64, p: u64| (x << 1) | (p >> 63);
        let after = |x: u64, n: u64| (x >> 1) | (n << 63);
        let joined =
            (before(cur.letter, prev.letter) & cur.joins_letters & after(cur.letter, next.letter))
                | (before(cur.digit, prev.digit) & cur.joins_digits & after(cur.digit, next.digit));
        let in_word = cur.letter | cur.digit | cur.under | joined;
        let alnum = cur.letter | cur.digit;
        // Bits where a word starts or the byte after one is.
        let mut edges = in_word ^ ((in_word << 1) | prev_in_word);
        while edges != 0 {
            let bit = edges.trailing_zeros();
            edges &= edges - 1;
            if (in_word >> bit) & 1 == 1 {
                (start, from) = (lo + 64 * k + bit as usize, bit);
                (had_letter, had_alnum) = (false, false);
            } else {
                // Bits `from..bit` of this block.
                let span = (u64::MAX << from) & !(u64::MAX << bit);
                if had_alnum || alnum & span != 0 {
                    let seen = Seen {
                        letter: had_letter || cur.letter & span != 0,
                        quote: false,
                    };
                    out.push(ascii(start, lo + 64 * k + bit as usize, seen));
                }
            }
        }
        prev_in_word = in_word >> 63;
        if prev_in_word == 1 {
            let rest = u64::MAX << from;
            had_letter |= cur.letter & rest != 0;
            had_alnum |= alnum & rest != 0;
            from = 0;
        }
        (prev, cur) = (cur, next);
    }
    if prev_in_word == 1 && had_alnum {
        // The text ends in a word, at the end of a whole block.
        let seen = Seen {
            letter: had_letter,
            quote: false,
        };
        out.push(ascii(start, hi, seen));
    }
}

/// The byte-by-byte segmentation of `text[lo..hi]`, where `lo` is 0 or the
/// start of a whitespace run and `hi` the text's end or whitespace: chunks
/// of ASCII and [`typographic`] punctuation by the rules above, the others
/// (with the whitespace before them) by `unicode-segmentation`. The text is
/// read once: words are segmented, and `ascii(start, end, seen)` called, as
/// the bytes go by; any other non-ASCII character turns up in only a few
/// chunks, and then the chunk's items are dropped again and its words
/// redone by UAX #29, each passed to `unicode(start, word)` (an item only
/// if it returns one).
fn scan_span<T>(
    text: &str,
    lo: usize,
    hi: usize,
    out: &mut Vec<T>,
    ascii: &mut impl FnMut(usize, usize, Seen) -> T,
    unicode: &mut impl FnMut(usize, &str) -> Option<T>,
) {
    // Marks a word holding a `‘` or `’`; never in `CLASS`.
    const QUOTE: u8 = 128;
    let bytes = text.as_bytes();
    let n = bytes.len();
    let class = |i: usize| CLASS[bytes[i] as usize];
    let mut i = lo;
    let mut gap = lo; // start of the whitespace before the chunk
    let mut chunk_items = out.len(); // items before the chunk
    while i < hi {
        let c = class(i);
        if c & WORD == 0 {
            if c & SPACE != 0 {
                gap = i;
                chunk_items = out.len();
                i += 1;
                while i < n && class(i) & SPACE != 0 {
                    i += 1;
                }
            } else if c & NON_ASCII != 0 {
                i = match typographic(bytes, i) {
                    Some((len, _)) => i + len,
                    None => redo_chunk(text, i, gap, chunk_items, out, unicode),
                };
            } else {
                i += 1;
            }
            continue;
        }
        // A word: runs of letters, digits and `_`, joined across one joiner;
        // `seen` gathers the classes of its bytes.
        let start = i;
        let (mut cur, mut seen) = (c, c);
        let mut j = i + 1;
        let stop = loop {
            if j == n {
                break SPACE;
            }
            let next = class(j);
            if next & WORD != 0 {
                (cur, seen) = (next, seen | next);
                j += 1;
                continue;
            }
            if j + 1 < n {
                let after = class(j + 1);
                if cur & (next >> 3) & after & (LETTER | DIGIT) != 0 {
                    (cur, seen) = (after, seen | after);
                    j += 2;
                    continue;
                }
            }
            if next & NON_ASCII != 0
                && typographic(bytes, j) == Some((3, true))
                && j + 3 < n
                && cur & class(j + 3) & (LETTER | DIGIT) != 0
            {
                let after = class(j + 3);
                (cur, seen) = (after, seen | after | QUOTE);
                j += 4;
                continue;
            }
            break next;
        };
        if stop & NON_ASCII != 0 && typographic(bytes, j).is_none() {
            // The chunk goes on with other non-ASCII text: no word of it is ours.
            i = redo_chunk(text, j, gap, chunk_items, out, unicode);
            continue;
        }
        if seen & (LETTER | DIGIT) != 0 {
            let seen = Seen {
                letter: seen & LETTER != 0,
                quote: seen & QUOTE != 0,
            };
            out.push(ascii(start, j, seen));
        }
        i = j;
    }
}

/// The slow path of [`scan`] for a chunk found to hold a non-ASCII byte at
/// `at`: drops the chunk's items (those after the first `chunk_items`) and
/// segments the chunk, with the whitespace before it from `gap` (a combining
/// mark there attaches to it, WB4), by UAX #29. Returns the chunk's end.
#[cold]
#[inline(never)]
fn redo_chunk<T>(
    text: &str,
    at: usize,
    gap: usize,
    chunk_items: usize,
    out: &mut Vec<T>,
    unicode: &mut impl FnMut(usize, &str) -> Option<T>,
) -> usize {
    let bytes = text.as_bytes();
    let end = bytes[at..]
        .iter()
        .position(u8::is_ascii_whitespace)
        .map_or(bytes.len(), |p| at + p);
    out.truncate(chunk_items);
    for (s, w) in text[gap..end].unicode_word_indices() {
        if let Some(item) = unicode(gap + s, w) {
            out.push(item);
        }
    }
    end
}

/// Calls `f(start, end)` for every word of `text`, exactly as
/// `unicode_word_indices` would (see [`scan`]). A property test compares the
/// two.
pub fn for_each_word(text: &str, mut f: impl FnMut(usize, usize)) {
    for (s, e) in spans(text) {
        f(s as usize, e as usize);
    }
}

/// The byte spans of the words of `text`, as [`for_each_word`] finds them:
/// the tokens' spans without their normalisation and hashing, which take
/// more than half of tokenizing. A [`Tokenizer`] gives these spans, less any
/// word whose normal form is empty.
pub fn spans(text: &str) -> Vec<(u32, u32)> {
    let mut words = Vec::with_capacity(text.len() / 5 + 1);
    scan(
        text,
        &mut words,
        #[inline(always)]
        |s, e, _| (s as u32, e as u32),
        |s, w| Some((s as u32, (s + w.len()) as u32)),
    );
    words
}

/// How words are normalised and hashed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tokenizer {
    /// Seed of XXH3 over the normalised word.
    pub seed: u64,
    /// Fold OCR-confusable letters (see [`ocr_fold`]).
    pub ocr_fold: bool,
}

impl Tokenizer {
    /// Writes the UTF-8 bytes of the normalised form of `word` into `out`
    /// (cleared first).
    pub fn normalize_into(&self, word: &str, out: &mut Vec<u8>) {
        out.clear();
        if word.is_ascii() {
            let fold = self.ocr_fold && word.bytes().any(|b| b.is_ascii_alphabetic());
            out.resize(word.len(), 0);
            let n = normalize_ascii(word.as_bytes(), fold, out);
            out.truncate(n);
            return;
        }
        let mut utf8 = [0u8; 4];
        for c in word.chars().map(fold_char).nfkc() {
            for l in c.to_lowercase() {
                out.extend_from_slice(l.encode_utf8(&mut utf8).as_bytes());
            }
        }
        if self.ocr_fold {
            ocr_fold_bytes(out);
        }
    }

    /// The normalised form of a word.
    pub fn normalize(&self, word: &str) -> String {
        let mut v = Vec::new();
        self.normalize_into(word, &mut v);
        String::from_utf8(v).expect("normalisation keeps UTF-8")
    }

    /// Tokenises `text`, appending to `out` (which is cleared first).
    pub fn tokenize_into(&self, text: &str, out: &mut Vec<Token>) {
        // Words found by `scan` up to this long are normalised on the stack;
        // the few longer ones go through `normalize_into`.
        const STACK: usize = 64;
        out.clear();
        // News text averages about six bytes a word; room for one per five
        // bytes saves the doublings of a growing vector for most articles.
        out.reserve(text.len() / 5 + 1);
        let bytes = text.as_bytes();
        let (mut small, mut plain) = ([0u8; STACK], [0u8; STACK]);
        let (mut long, mut buf) = (Vec::new(), Vec::new());
        let token = |start: usize, end: usize, hash| Token {
            start: start as u32,
            end: end as u32,
            hash,
        };
        scan(
            text,
            out,
            // Inlined into the mask loop: left to the compiler, tokenizing
            // 20 Newsgroups posts ran at 261 MB/s instead of 300.
            #[inline(always)]
            |start, end, seen| {
                let word = &bytes[start..end];
                let hash = if word.len() > STACK {
                    self.normalize_into(&text[start..end], &mut long);
                    hash::bytes(&long, self.seed)
                } else {
                    let word = if seen.quote {
                        let n = unquote(word, &mut plain);
                        &plain[..n]
                    } else {
                        word
                    };
                    if seen.letter {
                        let n = match bytes.get(start..start + 16) {
                            Some(b) if !seen.quote && word.len() <= 16 => {
                                let b: &[u8; 16] = b.try_into().expect("16 bytes");
                                normalize16(b, word.len(), self.ocr_fold, &mut small)
                            }
                            _ => None,
                        }
                        .unwrap_or_else(|| normalize_ascii(word, self.ocr_fold, &mut small));
                        hash::bytes(&small[..n], self.seed)
                    } else {
                        // Digits, `_` and joiners: lower case and OCR folding
                        // leave them as they are.
                        hash::bytes(word, self.seed)
                    }
                };
                token(start, end, hash)
            },
            |start, word| {
                self.normalize_into(word, &mut buf);
                (!buf.is_empty())
                    .then(|| token(start, start + word.len(), hash::bytes(&buf, self.seed)))
            },
        );
    }

    /// Tokenises `text` into a new vector.
    pub fn tokenize(&self, text: &str) -> Vec<Token> {
        let mut v = Vec::new();
        self.tokenize_into(text, &mut v);
        v
    }
}

/// The normalised form of a word, without OCR folding.
pub fn normalize(word: &str) -> String {
    Tokenizer {
        seed: 0,
        ocr_fold: false,
    }
    .normalize(word)
}

/// Tokenises `text` with `seed`, without OCR folding.
pub fn tokenize(text: &str, seed: u64) -> Vec<Token> {
    Tokenizer {
        seed,
        ocr_fold: false,
    }
    .tokenize(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typographic_apostrophes_fold() {
        assert_eq!(normalize("Bakhmut’s"), "bakhmut's");
        assert_eq!(normalize("BAKHMUT's"), "bakhmut's");
        let a = tokenize("Bakhmut’s fall", 1);
        let b = tokenize("bakhmut's FALL", 1);
        assert_eq!(a.len(), 2);
        assert_eq!(
            a.iter().map(|t| t.hash).collect::<Vec<_>>(),
            b.iter().map(|t| t.hash).collect::<Vec<_>>()
        );
    }

    /// The first non-ASCII byte, eight at a time, is the first a byte-by-byte
    /// search finds: every place of one such byte (or of none) in texts of
    /// every length around the word size.
    #[test]
    fn first_non_ascii_is_the_first_such_byte() {
        for len in 0..40 {
            let ascii = vec![b'a'; len];
            assert_eq!(first_non_ascii(&ascii), None, "{len}");
            for at in 0..len {
                for b in [0x80u8, 0xC3, 0xFF] {
                    let mut v = ascii.clone();
                    v[at] = b;
                    // (A second one later must not win.)
                    if at + 3 < len {
                        v[at + 3] = 0x80;
                    }
                    assert_eq!(first_non_ascii(&v), Some(at), "{len} {at} {b:#x}");
                }
            }
        }
    }

    #[test]
    fn nfkc_and_case() {
        assert_eq!(normalize("ﬁre"), "fire");
        assert_eq!(normalize("Ｆｕｌｌ"), "full");
        assert_eq!(normalize("ÉTÉ"), normalize("e\u{301}te\u{301}"));
    }

    #[test]
    fn spans_cut_the_words() {
        let text = "The city is a fortress, every position — “and” street.";
        let toks = tokenize(text, 0);
        let words: Vec<&str> = toks
            .iter()
            .map(|t| &text[t.start as usize..t.end as usize])
            .collect();
        assert_eq!(
            words,
            [
                "The", "city", "is", "a", "fortress", "every", "position", "and", "street"
            ]
        );
    }

    #[test]
    fn ocr_confusions_fold() {
        let t = Tokenizer {
            seed: 3,
            ocr_fold: true,
        };
        for (a, b) in [
            ("Apri1", "April"),
            ("tbe", "the"),
            ("quadruplcd", "quadrupled"),
            ("rnonth", "month"),
            ("a1mo5t", "almost"),
        ] {
            assert_eq!(t.normalize(a), t.normalize(b), "{a} {b}");
        }
        assert_eq!(t.normalize("1987"), "1987");
        assert_ne!(t.normalize("the"), t.normalize("war"));
        assert_eq!(normalize("tbe"), "tbe", "plain normalisation does not fold");
    }

    #[test]
    fn ascii_fast_path_matches_uax29_on_tricky_cases() {
        for text in [
            "U.S. shares, 7,199 dead; 3.5 pct at 12:30 o'clock _x_ __ a_1 rock'n'roll 1.2.3 ab:cd ab::cd 1,,2 'quoted' x.",
            "e-mail 24/7 #tag @user http://a.b/c?d=e&f=g 1e10 0x1F a.b. .a. ,1, 1; ;1",
            "Bakhmut’s “fortress” — naïve café 東京 مرحبا 👍🏽 a\u{301}b x\u{200b}y",
        ] {
            let mut fast = Vec::new();
            for_each_word(text, |s, e| fast.push((s, &text[s..e])));
            let slow: Vec<(usize, &str)> = text.unicode_word_indices().collect();
            assert_eq!(fast, slow, "{text}");
        }
    }

    #[test]
    fn block_masks_match_the_class_table() {
        // Every byte value, at every place in a block.
        for shift in 0..64 {
            for part in 0..4 {
                let mut block = [0u8; 64];
                for (i, b) in block.iter_mut().enumerate() {
                    *b = (part * 64 + (i + shift) % 64) as u8;
                }
                assert_eq!(masks(&block), masks_by_table(&block), "{shift} {part}");
            }
        }
    }

    #[test]
    fn normalize16_is_normalize_ascii() {
        let alphabet = b"aAbBcCfFiIuUrRnNmMzZ0123456789_.,:;'-";
        let mut x = 7u64;
        for _ in 0..20_000 {
            x = hash::splitmix64(x);
            let len = 1 + (x % 16) as usize;
            let mut b = [b' '; 16];
            for (i, c) in b.iter_mut().take(len).enumerate() {
                *c = alphabet[((x >> (4 + 3 * i)) % alphabet.len() as u64) as usize];
            }
            for fold in [false, true] {
                let (mut fast, mut slow) = ([0u8; 64], [0u8; 64]);
                let n = normalize_ascii(&b[..len], fold, &mut slow);
                match normalize16(&b, len, fold, &mut fast) {
                    Some(m) => assert_eq!(fast[..m], slow[..n], "{:?} {fold}", &b[..len]),
                    None => assert!(fold && n < len, "{:?}: `None` only for rn", &b[..len]),
                }
            }
        }
    }

    #[test]
    fn seed_changes_hashes() {
        assert_ne!(tokenize("word", 1)[0].hash, tokenize("word", 2)[0].hash);
    }
}
