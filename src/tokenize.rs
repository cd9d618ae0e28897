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

/// OCR folding of lower-case ASCII bytes: `c`→`e`, `i`/`1`→`l`, `a`/`0`→`o`,
/// `b`→`h`, `5`→`s`, `f`→`t`, `u`→`n` (`rn`→`m` is done by the callers).
const FOLD: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = i as u8;
        i += 1;
    }
    t[b'c' as usize] = b'e';
    t[b'1' as usize] = b'l';
    t[b'i' as usize] = b'l';
    t[b'0' as usize] = b'o';
    t[b'a' as usize] = b'o';
    t[b'b' as usize] = b'h';
    t[b'5' as usize] = b's';
    t[b'f' as usize] = b't';
    t[b'u' as usize] = b'n';
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
/// be segmented alone: chunks of ASCII and [`typographic`] punctuation by the
/// rules above, the others (with the whitespace before them) by
/// `unicode-segmentation`. The text is read once: words are segmented, and
/// `ascii(start, end, seen)` called, as the bytes go by; any other non-ASCII
/// character turns up in only a few chunks, and then the chunk's items are
/// dropped again and its words redone by UAX #29, each passed to
/// `unicode(start, word)` (an item only if it returns one).
#[inline]
fn scan<T>(
    text: &str,
    out: &mut Vec<T>,
    mut ascii: impl FnMut(usize, usize, Seen) -> T,
    mut unicode: impl FnMut(usize, &str) -> Option<T>,
) {
    // Marks a word holding a `‘` or `’`; never in `CLASS`.
    const QUOTE: u8 = 128;
    let bytes = text.as_bytes();
    let n = bytes.len();
    let class = |i: usize| CLASS[bytes[i] as usize];
    let mut i = 0;
    let mut gap = 0; // start of the whitespace before the chunk
    let mut chunk_items = out.len(); // items before the chunk
    while i < n {
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
                    None => redo_chunk(text, i, gap, chunk_items, out, &mut unicode),
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
            i = redo_chunk(text, j, gap, chunk_items, out, &mut unicode);
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
    let mut words = Vec::new();
    scan(
        text,
        &mut words,
        |s, e, _| (s, e),
        |s, w| Some((s, s + w.len())),
    );
    for (s, e) in words {
        f(s, e);
    }
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
                        let n = normalize_ascii(word, self.ocr_fold, &mut small);
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
    fn seed_changes_hashes() {
        assert_ne!(tokenize("word", 1)[0].hash, tokenize("word", 2)[0].hash);
    }
}
