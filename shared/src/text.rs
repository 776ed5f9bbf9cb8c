//! Free text: the accent-free search key (`fold`) and the cleaning every stored text goes through
//! (trim, NFC, length in characters, no control characters).

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use crate::error::{DomainError, DomainResult};

/// Search key: lowercase, without diacritics (đ → d), whitespace collapsed.
/// `"Nhà nghỉ  Hoa"` → `"nha nghi hoa"`, `"ĐÀ NẴNG"` → `"da nang"`.
pub fn fold(s: &str) -> String {
    let lowered: String = s.chars().flat_map(char::to_lowercase).collect();
    let mut out = String::with_capacity(lowered.len());
    let mut pending_space = false;
    for c in lowered.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        // Đ/đ is a letter of its own, not D with a combining mark, so NFD leaves it alone.
        out.push(if c == 'đ' { 'd' } else { c });
    }
    out
}

/// The text without diacritics, case kept (đ → d, Đ → D): `"Phường Phú Xuân"` → `"Phuong Phu Xuan"`.
pub fn unaccent(s: &str) -> String {
    s.nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| match c {
            'đ' => 'd',
            'Đ' => 'D',
            c => c,
        })
        .collect()
}

/// Cleans a required text that may span several lines: trims, normalises line ends (`\r\n` and
/// `\r` become `\n`, as browsers submit CRLF from text areas) and to NFC, then rejects an empty
/// value, more than `max_chars` characters, and control characters other than `\n` and `\t`.
pub fn clean_text(field: &str, s: &str, max_chars: usize) -> DomainResult<String> {
    clean(field, s, max_chars, true)
}

/// Like [`clean_text`] but empty or whitespace-only input (or `None`) gives `None`.
pub fn clean_optional_text(
    field: &str,
    s: Option<&str>,
    max_chars: usize,
) -> DomainResult<Option<String>> {
    match s {
        Some(s) if !s.trim().is_empty() => clean_text(field, s, max_chars).map(Some),
        _ => Ok(None),
    }
}

/// Cleans a required one-line text (a name, an address, a number): like [`clean_text`] but any
/// control character, including line breaks and tabs, is rejected.
pub fn clean_line(field: &str, s: &str, max_chars: usize) -> DomainResult<String> {
    clean(field, s, max_chars, false)
}

/// Like [`clean_line`] but empty or whitespace-only input (or `None`) gives `None`.
pub fn clean_optional_line(
    field: &str,
    s: Option<&str>,
    max_chars: usize,
) -> DomainResult<Option<String>> {
    match s {
        Some(s) if !s.trim().is_empty() => clean_line(field, s, max_chars).map(Some),
        _ => Ok(None),
    }
}

fn clean(field: &str, s: &str, max_chars: usize, multiline: bool) -> DomainResult<String> {
    let unified = s.replace("\r\n", "\n").replace('\r', "\n");
    let cleaned: String = unified.trim().nfc().collect();
    if cleaned.is_empty() {
        return Err(DomainError::required(field));
    }
    if cleaned.chars().count() > max_chars {
        return Err(DomainError::too_long(field, max_chars));
    }
    let allowed = |c: char| multiline && (c == '\n' || c == '\t');
    if let Some(bad) = cleaned.chars().find(|&c| c.is_control() && !allowed(c)) {
        return Err(DomainError::invalid(
            field,
            format!(
                "must not contain the control character U+{:04X}",
                u32::from(bad)
            ),
        ));
    }
    Ok(cleaned)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn fold_strips_diacritics_and_case() {
        assert_eq!(fold("Nhà nghỉ Hoa"), "nha nghi hoa");
        assert_eq!(fold("ĐÀ NẴNG"), "da nang");
        assert_eq!(fold("đường Lê Lợi"), "duong le loi");
        assert_eq!(fold("Thừa Thiên Huế"), "thua thien hue");
        assert_eq!(fold("Quảng Trị"), "quang tri");
    }

    #[test]
    fn fold_handles_decomposed_input() {
        let nfd: String = "Huế".nfd().collect();
        assert_ne!(nfd, "Huế");
        assert_eq!(fold(&nfd), "hue");
    }

    #[test]
    fn fold_collapses_and_trims_whitespace() {
        assert_eq!(fold("  Karaoke \t\n  Hoa   Mai  "), "karaoke hoa mai");
        assert_eq!(fold(""), "");
        assert_eq!(fold("   "), "");
    }

    #[test]
    fn fold_keeps_digits_and_punctuation() {
        assert_eq!(
            fold("Số 12/3 Lê Lợi, P. Phú Hội"),
            "so 12/3 le loi, p. phu hoi"
        );
    }

    #[test]
    fn clean_text_trims_and_normalises_to_nfc() {
        let nfd: String = "  Nhà nghỉ Hoa  ".nfd().collect();
        assert_eq!(clean_text("name", &nfd, 100).unwrap(), "Nhà nghỉ Hoa");
    }

    #[test]
    fn clean_text_rejects_empty() {
        let e = clean_text("name", "  \n ", 10).unwrap_err();
        assert_eq!((e.field.as_str(), e.code.as_str()), ("name", "required"));
    }

    #[test]
    fn clean_text_counts_characters_not_bytes() {
        // 5 characters, 13 bytes in NFC, more in NFD.
        let nfd: String = "Nguyễ".nfd().collect();
        assert_eq!(clean_text("name", &nfd, 5).unwrap(), "Nguyễ");
        let e = clean_text("name", "Nguyễn", 5).unwrap_err();
        assert_eq!((e.field.as_str(), e.code.as_str()), ("name", "too_long"));
    }

    #[test]
    fn clean_text_allows_newline_and_tab_only() {
        assert_eq!(clean_text("notes", "a\nb\tc", 10).unwrap(), "a\nb\tc");
        let e = clean_text("notes", "a\u{0}b", 10).unwrap_err();
        assert_eq!((e.field.as_str(), e.code.as_str()), ("notes", "invalid"));
        assert!(clean_text("notes", "a\u{1b}[31mb", 20).is_err());
        assert!(clean_text("notes", "a\u{7f}b", 20).is_err());
    }

    #[test]
    fn clean_text_turns_crlf_into_lf() {
        assert_eq!(clean_text("notes", "a\r\nb\rc", 10).unwrap(), "a\nb\nc");
    }

    #[test]
    fn clean_optional_text_maps_blank_to_none() {
        assert_eq!(clean_optional_text("n", None, 5).unwrap(), None);
        assert_eq!(clean_optional_text("n", Some(""), 5).unwrap(), None);
        assert_eq!(clean_optional_text("n", Some(" \t "), 5).unwrap(), None);
        assert_eq!(
            clean_optional_text("n", Some(" ab "), 5).unwrap(),
            Some("ab".to_owned())
        );
        assert_eq!(
            clean_optional_text("n", Some("abcdef"), 5)
                .unwrap_err()
                .code,
            "too_long"
        );
    }

    #[test]
    fn clean_line_rejects_line_breaks_and_tabs() {
        assert_eq!(clean_line("name", " Hoa Mai ", 10).unwrap(), "Hoa Mai");
        assert_eq!(clean_line("name", "a\nb", 10).unwrap_err().code, "invalid");
        assert_eq!(clean_line("name", "a\tb", 10).unwrap_err().code, "invalid");
        assert_eq!(clean_line("name", "", 10).unwrap_err().code, "required");
        assert_eq!(
            clean_optional_line("name", Some("a\rb"), 10)
                .unwrap_err()
                .code,
            "invalid"
        );
        assert_eq!(clean_optional_line("name", Some("  "), 10).unwrap(), None);
    }
}
