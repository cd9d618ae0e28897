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
    if !word.bytes().any(|b| b.is_ascii_alphabetic()) {
        return;
    }
    // Only ASCII bytes change, and `rn` shrinks to `m`: the bytes stay UTF-8.
    let mut bytes = std::mem::take(word).into_bytes();
    let mut w = 0;
    let mut r = 0;
    while r < bytes.len() {
        let b = bytes[r];
        let (out, step) = match b {
            b'r' if bytes.get(r + 1) == Some(&b'n') => (b'm', 2),
            b'c' => (b'e', 1),
            b'1' | b'i' => (b'l', 1),
            b'0' | b'a' => (b'o', 1),
            b'b' => (b'h', 1),
            b'5' => (b's', 1),
            b'f' => (b't', 1),
            b'u' => (b'n', 1),
            _ => (b, 1),
        };
        bytes[w] = out;
        w += 1;
        r += step;
    }
    bytes.truncate(w);
    *word = String::from_utf8(bytes).expect("ASCII-only changes keep UTF-8");
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
    /// Writes the normalised form of `word` into `out` (cleared first).
    pub fn normalize_into(&self, word: &str, out: &mut String) {
        out.clear();
        if word.is_ascii() {
            out.extend(word.bytes().map(|b| b.to_ascii_lowercase() as char));
        } else {
            for c in word.chars().map(fold_char).nfkc() {
                out.extend(c.to_lowercase());
            }
        }
        if self.ocr_fold {
            ocr_fold(out);
        }
    }

    /// The normalised form of a word.
    pub fn normalize(&self, word: &str) -> String {
        let mut s = String::new();
        self.normalize_into(word, &mut s);
        s
    }

    /// Tokenises `text`, appending to `out` (which is cleared first).
    pub fn tokenize_into(&self, text: &str, out: &mut Vec<Token>) {
        out.clear();
        let mut buf = String::new();
        for (start, word) in text.unicode_word_indices() {
            self.normalize_into(word, &mut buf);
            if buf.is_empty() {
                continue;
            }
            out.push(Token {
                start: start as u32,
                end: (start + word.len()) as u32,
                hash: hash::bytes(buf.as_bytes(), self.seed),
            });
        }
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
    fn seed_changes_hashes() {
        assert_ne!(tokenize("word", 1)[0].hash, tokenize("word", 2)[0].hash);
    }
}
