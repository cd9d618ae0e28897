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

/// [`ocr_fold`] on the UTF-8 bytes of a word: only ASCII bytes change and
/// `rn` shrinks to `m`, so valid UTF-8 stays valid.
fn ocr_fold_bytes(bytes: &mut Vec<u8>) {
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
    if !bytes.iter().any(|b| b.is_ascii_alphabetic()) {
        return;
    }
    if !bytes.windows(2).any(|w| w == b"rn") {
        for b in bytes.iter_mut() {
            *b = FOLD[*b as usize];
        }
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

/// Word-break class of an ASCII byte (UAX #29, restricted to ASCII).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wb {
    Letter,
    Numeric,
    ExtendNumLet,
    MidLetter,
    MidNumLet,
    MidNum,
    Other,
}

fn wb(b: u8) -> Wb {
    match b {
        b'a'..=b'z' | b'A'..=b'Z' => Wb::Letter,
        b'0'..=b'9' => Wb::Numeric,
        b'_' => Wb::ExtendNumLet,
        b':' => Wb::MidLetter,
        b'.' | b'\'' => Wb::MidNumLet,
        b',' | b';' => Wb::MidNum,
        _ => Wb::Other,
    }
}

/// The words of an ASCII chunk, as `unicode_word_indices` finds them: runs of
/// letters, digits and `_` (WB5, WB8–WB10, WB13a/b), joined across one `:`,
/// `.` or `'` between letters (WB6/7) and one `,`, `;`, `.` or `'` between
/// digits (WB11/12); a run without a letter or digit is not a word.
fn ascii_words(chunk: &[u8], base: usize, mut f: impl FnMut(usize, usize)) {
    let n = chunk.len();
    let mut i = 0;
    while i < n {
        let c = wb(chunk[i]);
        if !matches!(c, Wb::Letter | Wb::Numeric | Wb::ExtendNumLet) {
            i += 1;
            continue;
        }
        let start = i;
        let mut alnum = c != Wb::ExtendNumLet;
        let mut j = i;
        loop {
            let cur = wb(chunk[j]);
            let Some(&next) = chunk.get(j + 1) else { break };
            let nc = wb(next);
            if matches!(nc, Wb::Letter | Wb::Numeric | Wb::ExtendNumLet) {
                alnum |= nc != Wb::ExtendNumLet;
                j += 1;
                continue;
            }
            let after = chunk.get(j + 2).map(|&b| wb(b));
            let joins = matches!(
                (cur, nc, after),
                (Wb::Letter, Wb::MidLetter | Wb::MidNumLet, Some(Wb::Letter))
                    | (Wb::Numeric, Wb::MidNum | Wb::MidNumLet, Some(Wb::Numeric))
            );
            if joins {
                j += 2;
                continue;
            }
            break;
        }
        if alnum {
            f(base + start, base + j + 1);
        }
        i = j + 1;
    }
}

/// Calls `f(start, end)` for every word of `text`, exactly as
/// `unicode_word_indices` would: a word never spans ASCII whitespace except
/// that a combining mark may attach to the whitespace before it, so each
/// whitespace-delimited chunk is segmented alone, pure-ASCII chunks by a fast
/// path and the others (with the whitespace before them) by
/// `unicode-segmentation`. A property test compares the two.
pub fn for_each_word(text: &str, mut f: impl FnMut(usize, usize)) {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut gap = 0; // start of the whitespace before the chunk
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let mut j = i;
        let mut ascii = true;
        while j < bytes.len() && !bytes[j].is_ascii_whitespace() {
            ascii &= bytes[j].is_ascii();
            j += 1;
        }
        if ascii {
            ascii_words(&bytes[i..j], i, &mut f);
        } else {
            // A combining mark right after whitespace attaches to it (WB4), so
            // the whitespace before a non-ASCII chunk is segmented with it.
            for (s, w) in text[gap..j].unicode_word_indices() {
                f(gap + s, gap + s + w.len());
            }
        }
        i = j;
        gap = j;
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
            out.extend(word.bytes().map(|b| b.to_ascii_lowercase()));
        } else {
            let mut utf8 = [0u8; 4];
            for c in word.chars().map(fold_char).nfkc() {
                for l in c.to_lowercase() {
                    out.extend_from_slice(l.encode_utf8(&mut utf8).as_bytes());
                }
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
        out.clear();
        let mut buf = Vec::with_capacity(32);
        for_each_word(text, |start, end| {
            self.normalize_into(&text[start..end], &mut buf);
            if buf.is_empty() {
                return;
            }
            out.push(Token {
                start: start as u32,
                end: end as u32,
                hash: hash::bytes(&buf, self.seed),
            });
        });
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
