//! Property tests of the pipeline's invariants.

use std::fs;
use std::path::Path;

use proptest::prelude::*;
use storyclust::{Config, hash, load, minhash, shingle, tokenize};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Token spans lie on char boundaries, ascend without overlap, and their
    /// hash is the hash of the normalised slice.
    #[test]
    fn token_spans_are_char_boundaries(text in "\\PC{0,200}|[a-zé’' \\u{301}\\u{4e00}-\\u{4e10}\\u{5d0}-\\u{5ea}\\u{1f600}\\u{202e}\\u{200b}]{0,200}") {
        let toks = tokenize::tokenize(&text, 7);
        let mut prev_end = 0;
        for t in &toks {
            let (s, e) = (t.start as usize, t.end as usize);
            prop_assert!(text.is_char_boundary(s) && text.is_char_boundary(e));
            prop_assert!(s >= prev_end && e > s);
            prev_end = e;
            let word = &text[s..e];
            prop_assert_eq!(t.hash, hash::bytes(tokenize::normalize(word).as_bytes(), 7));
        }
    }

    /// Spans map back to the file's bytes, whatever the encoding.
    #[test]
    fn spans_round_trip_to_file_bytes(bytes in proptest::collection::vec(1u8..=255, 0..300), bom in any::<bool>()) {
        let mut raw = if bom { b"\xEF\xBB\xBF".to_vec() } else { Vec::new() };
        raw.extend(&bytes);
        let text = load::decode(Path::new("p.txt"), raw.clone()).unwrap();
        for t in tokenize::tokenize(&text.text, 1) {
            let (s, e) = (t.start as usize, t.end as usize);
            let (fs_, fe) = (text.file_offset(s), text.file_offset(e));
            prop_assert!(fs_ < fe && fe <= raw.len());
            match text.encoding {
                load::Encoding::Windows1252 => {
                    // One character per file byte.
                    prop_assert_eq!(text.text[s..e].chars().count(), fe - fs_);
                }
                _ => prop_assert_eq!(&raw[fs_..fe], &text.text.as_bytes()[s..e]),
            }
        }
    }

    /// The MinHash estimate is within 0.25 of the exact Jaccard (more than
    /// five standard deviations at 128 permutations).
    #[test]
    fn minhash_estimates_jaccard(common in 0usize..200, only_a in 0usize..200, only_b in 0usize..200, seed in any::<u64>()) {
        prop_assume!(common + only_a + only_b >= 20);
        let make = |tag: u64, n: usize| (0..n as u64).map(move |i| hash::splitmix64(tag ^ (i << 8)));
        let a: Vec<u64> = make(1, common).chain(make(2, only_a)).collect();
        let b: Vec<u64> = make(1, common).chain(make(3, only_b)).collect();
        let exact = common as f64 / (common + only_a + only_b) as f64;
        let est = minhash::estimate_jaccard(&minhash::signature(&a, 128, seed), &minhash::signature(&b, 128, seed));
        prop_assert!((est - exact).abs() <= 0.25, "exact {} estimate {}", exact, est);
    }

    /// Winnowing guarantee: a shared run of window + shingle - 1 tokens gives a shared fingerprint.
    #[test]
    fn winnowing_guarantee(prefix in proptest::collection::vec("[a-z]{1,6}", 0..20),
                           shared in proptest::collection::vec("[a-z]{1,6}", 8..30),
                           suffix in proptest::collection::vec("[a-z]{1,6}", 0..20)) {
        let a = format!("{} {}", prefix.join(" "), shared.join(" "));
        let b = format!("{} {}", shared.join(" "), suffix.join(" "));
        let fp = |t: &str| {
            let s = shingle::shingles(&tokenize::tokenize(t, 1), 5, 2);
            shingle::winnow(&s, 4).into_iter().map(|p| s[p as usize]).collect::<Vec<_>>()
        };
        let (fa, fb) = (fp(&a), fp(&b));
        prop_assert!(fa.iter().any(|h| fb.contains(h)));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Identical documents always land in one story, with a third unrelated one left alone.
    #[test]
    fn identical_documents_share_a_story(words in proptest::collection::vec("[a-z]{2,8}", 1..80), other in proptest::collection::vec("[A-Z]{2,8}", 5..40)) {
        let dir = tempfile::tempdir().unwrap();
        let text = words.join(" ");
        fs::write(dir.path().join("1_a.txt"), &text).unwrap();
        fs::write(dir.path().join("2_b.txt"), format!("{text}\n")).unwrap();
        fs::write(dir.path().join("3_c.txt"), other.join(" ") + " 0 1 2 3 4 5").unwrap();
        let o = storyclust::run(&[dir.path().to_path_buf()], &Config::default()).unwrap();
        let in_story_with_0 = o.stories.iter().find(|s| s.members.iter().any(|m| m.doc == 0));
        prop_assert!(in_story_with_0.is_some());
        let s = in_story_with_0.unwrap();
        prop_assert!(s.members.iter().any(|m| m.doc == 1));
        // Every document is in at most one story.
        let mut seen = std::collections::HashSet::new();
        for s in &o.stories {
            for m in &s.members {
                prop_assert!(seen.insert(m.doc));
            }
        }
    }
}

fn stories_by_key(dir: &Path, names: &[String]) -> Vec<Vec<usize>> {
    let o = storyclust::run(&[dir.to_path_buf()], &Config::default()).unwrap();
    let mut out: Vec<Vec<usize>> = o
        .stories
        .iter()
        .map(|s| {
            let mut v: Vec<usize> = s
                .members
                .iter()
                .map(|m| {
                    let f = o.documents[m.doc as usize]
                        .path
                        .file_name()
                        .unwrap()
                        .to_string_lossy()
                        .into_owned();
                    names.iter().position(|n| *n == f).unwrap()
                })
                .collect();
            v.sort();
            v
        })
        .collect();
    out.sort();
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// Story membership does not depend on the order of the files, and every
    /// document is in at most one story.
    #[test]
    fn membership_does_not_depend_on_file_order(
        sources in proptest::collection::vec(proptest::collection::vec("[a-z]{2,7}", 30..70), 2..6),
        cuts in proptest::collection::vec((0usize..6, 5usize..30, any::<bool>()), 0..12),
        perm_seed in any::<u64>(),
    ) {
        // Texts: each source, plus cut copies (a prefix, or the tail, of a source).
        let mut texts: Vec<String> = sources.iter().map(|w| w.join(" ")).collect();
        for (src, len, tail) in cuts {
            let w = &sources[src % sources.len()];
            let len = len.min(w.len());
            texts.push(if tail { w[w.len() - len..].join(" ") } else { w[..len].join(" ") });
        }
        let n = texts.len();
        // Two numberings: identity and a seeded permutation.
        let mut perm: Vec<usize> = (0..n).collect();
        let mut x = perm_seed | 1;
        for i in (1..n).rev() {
            x = hash::splitmix64(x);
            perm.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let mut results = Vec::new();
        for order in [(0..n).collect::<Vec<_>>(), perm] {
            let dir = tempfile::tempdir().unwrap();
            // names[k] is the file holding text k.
            let names: Vec<String> = (0..n).map(|k| format!("{}_t.txt", order[k])).collect();
            for (k, t) in texts.iter().enumerate() {
                fs::write(dir.path().join(&names[k]), t).unwrap();
            }
            let s = stories_by_key(dir.path(), &names);
            let mut seen = std::collections::HashSet::new();
            for st in &s {
                for &k in st {
                    prop_assert!(seen.insert(k), "text {} in two stories", k);
                }
            }
            results.push(s);
        }
        prop_assert_eq!(&results[0], &results[1]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// The segmentation fast path finds exactly the words UAX #29 finds.
    #[test]
    fn word_segmentation_matches_uax29(text in "[a-zA-Z0-9_.,;:'\" \\t\\n\\r/@#&()\\-]{0,40}|[a-c0-2_.,;:' \\n’“é\\u{301}\\u{200d}\\u{200b}東👍\\u{1f1fa}\\u{1f1e6}]{0,30}|\\PC{0,30}") {
        use unicode_segmentation::UnicodeSegmentation;
        let mut fast = Vec::new();
        tokenize::for_each_word(&text, |s, e| fast.push((s, text[s..e].to_string())));
        let slow: Vec<(usize, String)> = text.unicode_word_indices().map(|(s, w)| (s, w.to_string())).collect();
        prop_assert_eq!(fast, slow);
    }
}

/// The tokenizer as it was before its ASCII fast path was fused with
/// normalisation and hashing, written the plain way: the reference the fast
/// code must match bit for bit (spans and hashes).
mod reference {
    use storyclust::hash;
    use unicode_normalization::UnicodeNormalization;
    use unicode_segmentation::UnicodeSegmentation;

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

    fn ascii_words(chunk: &[u8], base: usize, out: &mut Vec<(usize, usize)>) {
        let word = |c| matches!(c, Wb::Letter | Wb::Numeric | Wb::ExtendNumLet);
        let mut i = 0;
        while i < chunk.len() {
            if !word(wb(chunk[i])) {
                i += 1;
                continue;
            }
            let (start, mut j) = (i, i);
            while let Some(&next) = chunk.get(j + 1) {
                if word(wb(next)) {
                    j += 1;
                    continue;
                }
                let after = chunk.get(j + 2).map(|&b| wb(b));
                let joins = matches!(
                    (wb(chunk[j]), wb(next), after),
                    (Wb::Letter, Wb::MidLetter | Wb::MidNumLet, Some(Wb::Letter))
                        | (Wb::Numeric, Wb::MidNum | Wb::MidNumLet, Some(Wb::Numeric))
                );
                if !joins {
                    break;
                }
                j += 2;
            }
            if chunk[start..=j].iter().any(u8::is_ascii_alphanumeric) {
                out.push((base + start, base + j + 1));
            }
            i = j + 1;
        }
    }

    /// Word spans: whitespace-delimited chunks, ASCII ones by the rules
    /// above, the others (with the whitespace before them) by UAX #29.
    pub fn words(text: &str) -> Vec<(usize, usize)> {
        let b = text.as_bytes();
        let mut out = Vec::new();
        let (mut i, mut gap) = (0, 0);
        while i < b.len() {
            if b[i].is_ascii_whitespace() {
                i += 1;
                continue;
            }
            let mut j = i;
            while j < b.len() && !b[j].is_ascii_whitespace() {
                j += 1;
            }
            if b[i..j].is_ascii() {
                ascii_words(&b[i..j], i, &mut out);
            } else {
                for (s, w) in text[gap..j].unicode_word_indices() {
                    out.push((gap + s, gap + s + w.len()));
                }
            }
            i = j;
            gap = j;
        }
        out
    }

    /// The normalised bytes of a word: quotes and dashes folded, NFKC, lower
    /// case, then (if asked, and the word holds a letter) OCR folding.
    pub fn normalize(word: &str, ocr: bool) -> Vec<u8> {
        let folded = word.chars().map(|c| match c {
            '\u{2019}' | '\u{2018}' | '\u{201B}' | '\u{02BC}' | '\u{2032}' | '\u{00B4}' | '`' => {
                '\''
            }
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' => '"',
            '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2015}'
            | '\u{2212}' => '-',
            _ => c,
        });
        let mut s = String::new();
        if word.is_ascii() {
            s = word.to_ascii_lowercase();
        } else {
            for c in folded.nfkc() {
                s.extend(c.to_lowercase());
            }
        }
        let mut b = s.into_bytes();
        if !ocr || !b.iter().any(u8::is_ascii_alphabetic) {
            return b;
        }
        let mut out = Vec::new();
        let mut r = 0;
        while r < b.len() {
            if b[r..].starts_with(b"rn") {
                out.push(b'm');
                r += 2;
                continue;
            }
            out.push(match b[r] {
                b'c' => b'e',
                b'1' | b'i' => b'l',
                b'0' | b'a' => b'o',
                b'b' => b'h',
                b'5' => b's',
                b'f' => b't',
                b'u' => b'n',
                x => x,
            });
            r += 1;
        }
        b.clear();
        b.extend(out);
        b
    }

    /// (start, end, hash) of every token.
    pub fn tokens(text: &str, seed: u64, ocr: bool) -> Vec<(u32, u32, u64)> {
        words(text)
            .into_iter()
            .filter_map(|(s, e)| {
                let n = normalize(&text[s..e], ocr);
                (!n.is_empty()).then(|| (s as u32, e as u32, hash::bytes(&n, seed)))
            })
            .collect()
    }

    /// Shingle hashes: each window's hashes copied out as little-endian bytes.
    pub fn shingles(hashes: &[u64], k: usize, seed: u64) -> Vec<u64> {
        let le = |w: &[u64]| w.iter().flat_map(|h| h.to_le_bytes()).collect::<Vec<u8>>();
        let k = k.max(1);
        if hashes.is_empty() {
            return Vec::new();
        }
        if hashes.len() < k {
            return vec![hash::bytes(&le(hashes), seed)];
        }
        hashes
            .windows(k)
            .map(|w| hash::bytes(&le(w), seed))
            .collect()
    }
}

/// Up to `most` words, each followed by a separator.
fn words_between(
    word: impl Strategy<Value = String>,
    sep: impl Strategy<Value = String>,
    most: usize,
) -> impl Strategy<Value = String> {
    proptest::collection::vec((word, sep), 0..most)
        .prop_map(|v| v.into_iter().flat_map(|(w, s)| [w, s]).collect::<String>())
}

/// Like [`tricky_text`] in ASCII alone, and longer: many 64-byte blocks of
/// the ASCII fast path, with words and joiners across their edges.
fn tricky_ascii_text() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        8 => "[a-zA-Z0-9_rnRNcibufaCIBUFA15]{1,12}",
        3 => "[a-zA-Z0-9_.,;:'rnRN]{1,20}",
        1 => "[rnRNa-z]{60,140}",
        1 => "[0-9.,;':]{1,10}",
        1 => "_{1,3}",
    ];
    let sep = prop_oneof![
        6 => Just(" ".to_string()),
        2 => "[ \\t\\n\\r\\x0b\\x0c]{1,3}",
        3 => "[.,;:'\"()\\-/@#_]{1,2}",
    ];
    words_between(word, sep, 120)
}

/// ASCII with typographic quotes, dashes, ellipses and no-break spaces, and
/// no other non-ASCII: the chunks holding them go byte by byte, the ASCII
/// between them through the 64-byte masks, so the text switches often;
/// quotes joining letters or digits, or not.
fn tricky_typographic_text() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        6 => "[a-zA-Z0-9_rnRNcibufa15]{1,12}",
        3 => "[a-zA-Z0-9]{1,6}[’‘'.][a-zA-Z0-9]{1,6}([’‘,][a-z0-9]{1,3})?",
        2 => "[a-z0-9’‘“”–—…\\u{a0}.,:;']{1,8}",
        1 => "[a-zRN]{30,70}[’‘][a-zRN]{25,40}",
    ];
    let sep = prop_oneof![
        6 => Just(" ".to_string()),
        2 => "[ \\t\\n\\r]{1,3}",
        3 => "[ ’‘—–“”…\\u{a0}.,;:'\"]{1,3}",
    ];
    words_between(word, sep, 100)
}

/// Words of letters, digits and joiners (long ones too, past any stack
/// buffer), with case, `rn`/`RN` and OCR-foldable letters, separated by ASCII
/// whitespace and punctuation; some with typographic quotes, dashes and
/// spaces, inside words or between them, or other non-ASCII characters.
fn tricky_text() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        8 => "[a-zA-Z0-9_rnRNcibufaCIBUFA15]{1,12}",
        2 => "[a-zA-Z0-9_.,;:'rnRN]{1,20}",
        1 => "[rnRNa-z]{60,90}",
        1 => "[0-9.,;']{1,10}",
        2 => "[a-zA-Z0-9]{1,6}[’‘'.][a-zA-Z0-9]{1,6}([’‘,][a-z0-9]{1,3})?",
        1 => "[a-z’é\\u{301}ﬁＦİ東👍\\u{200b}\\u{2014}“]{1,6}",
        1 => "[a-z0-9’‘“”–—…\\u{a0}\\u{ad}\\u{2024}\\u{202f}\\u{301}]{1,6}",
        1 => "[a-zRN]{30,40}[’'][a-zRN]{25,40}",
    ];
    let sep = prop_oneof![
        6 => Just(" ".to_string()),
        2 => "[ \\t\\n\\r\\x0b\\x0c]{1,3}",
        2 => "[.,;:'\"()\\-/@#_]{1,2}",
        2 => "[ ’‘—–“”…\\u{a0}]{1,2}",
        1 => "[ é\\u{301}\\u{200d}\\u{ad}]{1,2}",
    ];
    words_between(word, sep, 40)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// The tokenizer gives exactly the reference's spans and hashes, with and
    /// without OCR folding, on random ASCII and mixed text.
    #[test]
    fn tokenizer_matches_reference(text in prop_oneof![
        3 => tricky_text(),
        2 => tricky_ascii_text(),
        2 => tricky_typographic_text(),
        1 => "[a-zA-Z0-9_.,;:'\" \\t\\n\\r\\x0b/@#&()\\-]{0,60}",
        1 => "\\PC{0,40}",
        1 => "[a-c0-2_.,;:' \\nrn’“é\\u{301}\\u{200d}\\u{200b}東👍\\u{1f1fa}\\u{1f1e6}]{0,30}",
    ], seed in any::<u64>(), k in 1usize..8) {
        for ocr in [false, true] {
            let toks = tokenize::Tokenizer { seed, ocr_fold: ocr }.tokenize(&text);
            let got: Vec<(u32, u32, u64)> = toks.iter().map(|t| (t.start, t.end, t.hash)).collect();
            prop_assert_eq!(&got, &reference::tokens(&text, seed, ocr), "ocr {}", ocr);
            let hashes: Vec<u64> = toks.iter().map(|t| t.hash).collect();
            prop_assert_eq!(
                shingle::shingles_of_hashes(&hashes, k, seed ^ 5),
                reference::shingles(&hashes, k, seed ^ 5)
            );
        }
        let mut spans = Vec::new();
        tokenize::for_each_word(&text, |s, e| spans.push((s, e)));
        prop_assert_eq!(spans, reference::words(&text));
        // The tokens are the words less those whose normal form is empty
        // (so, as many of them, the same spans: what the passage stage
        // relies on when it finds the words alone).
        let words = tokenize::spans(&text);
        let toks = tokenize::Tokenizer { seed, ocr_fold: true }.tokenize(&text);
        let mut w = words.iter();
        prop_assert!(toks.iter().all(|t| w.any(|&x| x == (t.start, t.end))));
    }

    /// `hash::words` is XXH3 of the little-endian bytes, at every length.
    #[test]
    fn hash_words_is_xxh3_of_le_bytes(v in proptest::collection::vec(any::<u64>(), 0..40), seed in any::<u64>()) {
        let le: Vec<u8> = v.iter().flat_map(|h| h.to_le_bytes()).collect();
        prop_assert_eq!(hash::words(&v, seed), hash::bytes(&le, seed));
    }
}
