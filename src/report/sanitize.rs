//! Untrusted text (article text, file names) made safe for a terminal.
//!
//! Control characters (C0 except tab, DEL, C1), bidirectional overrides and
//! isolates, and zero-width characters are replaced by a visible `\u{…}`
//! escape, so nothing in an article can move the cursor, change colours,
//! reorder a line or hide text. JSON output is not sanitised: it stays exact.

/// Whether a character must not reach a terminal raw.
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{A}'..='\u{1F}' | '\u{7F}'..='\u{9F}'
        | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}'
        | '\u{061C}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// Returns `s` with unsafe characters escaped; tabs become spaces.
pub fn sanitize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\t' {
            out.push(' ');
        } else if is_unsafe(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Like [`sanitize`] but line breaks become a single space (for one-line fields).
pub fn one_line(s: &str) -> String {
    let joined: String = s
        .split(['\n', '\r'])
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    sanitize(&joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_reach_no_terminal() {
        let s = sanitize("a\u{1b}[31mred\u{202e}txt.exe\u{200b}\u{7}");
        assert!(!s.chars().any(is_unsafe), "{s:?}");
        assert_eq!(s, "a\\u{1b}[31mred\\u{202e}txt.exe\\u{200b}\\u{7}");
        assert_eq!(one_line("a\r\nb\nc"), "a b c");
        assert_eq!(sanitize("Bakhmut’s 東京 مرحبا"), "Bakhmut’s 東京 مرحبا");
    }
}
