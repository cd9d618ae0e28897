//! Fuzzes `storyclust::load::decode` together with the tokenizer, as the
//! pipeline uses them: arbitrary file bytes are decoded, tokenised, and each
//! token's span is mapped back to the file with `Text::file_offset`.
//!
//! Checked:
//! * `decode` fails only on a NUL byte (the error names the first one) or an
//!   oversized input;
//! * on success, UTF-8 input is decoded as is (the BOM, if any, dropped) and
//!   anything else as Windows-1252 with one char per byte;
//! * for every token, `file_offset(start) < file_offset(end) <= bytes.len()`;
//! * UTF-8 / UTF-8 with BOM: the file bytes at the mapped span are exactly the
//!   token's text;
//! * Windows-1252: the token has as many chars as its mapped span has bytes,
//!   and its ASCII chars are the file's bytes at their mapped offsets;
//! * `file_offset(text.len()) == bytes.len()` and `file_offset` never goes
//!   backwards over char boundaries.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use storyclust::LoadError;
use storyclust::load::{Encoding, decode};
use storyclust::tokenize::Tokenizer;

fuzz_target!(|data: &[u8]| {
    let bytes = data.to_vec();
    let text = match decode(Path::new("fuzz.txt"), bytes) {
        Ok(t) => t,
        Err(LoadError::Binary { offset, .. }) => {
            assert_eq!(
                data.iter().position(|&b| b == 0),
                Some(offset as usize),
                "Binary error does not point at the first NUL byte"
            );
            return;
        }
        Err(LoadError::TooLarge { size, .. }) => {
            // libFuzzer inputs are small (-max_len): this never happens here.
            assert_eq!(size as usize, data.len());
            panic!("input of {} bytes refused as too large", data.len());
        }
        Err(e) => panic!("unexpected error {e:?}"),
    };
    assert!(!data.contains(&0), "decoded an input holding a NUL byte");

    let utf8 = std::str::from_utf8(data).is_ok();
    match text.encoding {
        Encoding::Utf8 => {
            assert!(utf8 && !data.starts_with(b"\xEF\xBB\xBF"));
            assert_eq!(text.text.as_bytes(), data);
        }
        Encoding::Utf8Bom => {
            assert!(utf8 && data.starts_with(b"\xEF\xBB\xBF"));
            assert_eq!(text.text.as_bytes(), &data[3..]);
        }
        Encoding::Windows1252 => {
            assert!(!utf8, "valid UTF-8 decoded as Windows-1252");
            assert_eq!(text.text.chars().count(), data.len());
        }
    }
    assert_eq!(text.file_offset(text.text.len()), data.len());
    let mut prev = text.file_offset(0);
    for (i, _) in text.text.char_indices().skip(1) {
        let off = text.file_offset(i);
        assert!(prev < off, "file_offset goes backwards at text byte {i}");
        prev = off;
    }

    for ocr_fold in [false, true] {
        let tokenizer = Tokenizer { seed: 1, ocr_fold };
        for t in tokenizer.tokenize(&text.text) {
            let (s, e) = (t.start as usize, t.end as usize);
            let word = &text.text[s..e];
            let (fs, fe) = (text.file_offset(s), text.file_offset(e));
            assert!(
                fs < fe && fe <= data.len(),
                "token {word:?} at {s}..{e} maps to file bytes {fs}..{fe} (file of {})",
                data.len()
            );
            match text.encoding {
                Encoding::Utf8 | Encoding::Utf8Bom => {
                    assert_eq!(
                        &data[fs..fe],
                        word.as_bytes(),
                        "token {word:?} at {s}..{e} maps to other bytes {fs}..{fe}"
                    );
                }
                Encoding::Windows1252 => {
                    assert_eq!(
                        word.chars().count(),
                        fe - fs,
                        "Windows-1252 token {word:?} at {s}..{e} maps to {fs}..{fe}"
                    );
                    for (i, c) in word.char_indices() {
                        if c.is_ascii() {
                            assert_eq!(data[text.file_offset(s + i)], c as u8);
                        }
                    }
                }
            }
        }
    }
});
