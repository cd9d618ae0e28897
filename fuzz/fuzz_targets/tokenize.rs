//! Fuzzes `storyclust::tokenize::Tokenizer`.
//!
//! Input: the first byte holds the flags (bit 0: `ocr_fold`; bits 1..8 pick
//! the seed), the rest is the text (inputs that are not UTF-8 are dropped).
//!
//! Checked for every token:
//! * `start < end <= text.len()`, both on char boundaries;
//! * tokens ascend without overlapping;
//! * the word alone re-tokenises to exactly one token spanning all of it,
//!   with the same hash (UAX #29 decides a break from a bounded context, and a
//!   word's ends are breaks, so cutting the word out changes no break inside
//!   it);
//! * its normal form is non-empty and the hash is XXH3 of that normal form;
//! and for the text as a whole:
//! * every alphanumeric character lies inside some token (nothing is lost);
//! * `tokenize_into` on a reused buffer gives the same tokens as `tokenize`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use storyclust::hash;
use storyclust::tokenize::{Token, Tokenizer};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let tokenizer = Tokenizer {
        seed: hash::splitmix64(u64::from(flags >> 1)),
        ocr_fold: flags & 1 == 1,
    };
    let tokens = tokenizer.tokenize(text);

    let mut reused = vec![Token {
        start: 7,
        end: 9,
        hash: 11,
    }];
    tokenizer.tokenize_into(text, &mut reused);
    assert_eq!(tokens, reused, "tokenize_into differs from tokenize");

    let mut prev_end = 0usize;
    for t in &tokens {
        let (s, e) = (t.start as usize, t.end as usize);
        assert!(s < e, "empty span {s}..{e} in {text:?}");
        assert!(e <= text.len(), "span {s}..{e} past the end ({}) of {text:?}", text.len());
        assert!(
            text.is_char_boundary(s) && text.is_char_boundary(e),
            "span {s}..{e} not on char boundaries in {text:?}"
        );
        assert!(prev_end <= s, "span {s}..{e} overlaps the previous one (ending at {prev_end}) in {text:?}");
        prev_end = e;

        let word = &text[s..e];
        let norm = tokenizer.normalize(word);
        assert!(!norm.is_empty(), "word {word:?} normalises to nothing");
        assert_eq!(
            t.hash,
            hash::bytes(norm.as_bytes(), tokenizer.seed),
            "hash of {word:?} is not XXH3 of its normal form {norm:?}"
        );
        let alone = tokenizer.tokenize(word);
        assert_eq!(
            alone,
            [Token {
                start: 0,
                end: word.len() as u32,
                hash: t.hash
            }],
            "word {word:?} (bytes {s}..{e} of {text:?}) re-tokenises differently alone"
        );
    }

    // Every alphanumeric character is inside a token.
    let mut it = tokens.iter().peekable();
    for (i, c) in text.char_indices() {
        while it.peek().is_some_and(|t| (t.end as usize) <= i) {
            it.next();
        }
        if c.is_alphanumeric() {
            assert!(
                it.peek().is_some_and(|t| (t.start as usize) <= i),
                "alphanumeric {c:?} at byte {i} of {text:?} is in no token"
            );
        }
    }
});
