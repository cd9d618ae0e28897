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
