//! libauparse's interpretation of a file name (`AUPARSE_TYPE_ESCAPED_FILE`)
//! without the cwd: what `auparse_interpret_field` and `ausearch -i` give.
//!
//! libauparse 3.0.x keeps one interpretation per field, shared by
//! `auparse_interpret_field` and `auparse_interpret_realpath`: whichever is
//! asked first decides what both return. This crate asks libauparse for the
//! realpath only, and works out the bare interpretation here, from the raw
//! value alone, by the rules of libauparse 3.0.9's `print_escaped` and
//! `au_unescape` (interpret.c), then its escaping for the parser's mode.
//! The crate's tests check it against libauparse on every file name of the
//! fixtures and corpus, in every escape mode.

use crate::types::EscapeMode;
use std::borrow::Cow;

/// The interpretation libauparse gives a file-name field with this raw
/// value when it does not join it to the cwd, escaped for `mode`.
pub(crate) fn file_interpretation(raw: &[u8], mode: EscapeMode) -> Cow<'_, [u8]> {
    let bare = print_escaped(raw);
    match escape(&bare, mode) {
        Some(escaped) => Cow::Owned(escaped),
        None => bare,
    }
}

/// `print_escaped`: a quoted value without its quotes (up to the next
/// quote; a single space when there is none), else the hex decoded (a
/// leading `00`, an abstract socket name, skipped), else the value as is.
fn print_escaped(val: &[u8]) -> Cow<'_, [u8]> {
    if let Some(rest) = val.strip_prefix(b"\"") {
        return Cow::Borrowed(match memchr::memchr(b'"', rest) {
            Some(end) => &rest[..end],
            None => b" ",
        });
    }
    let hex = if val.starts_with(b"00") {
        &val[2..]
    } else {
        val
    };
    match au_unescape(hex) {
        Some(out) => out,
        None => Cow::Borrowed(val),
    }
}

/// `au_unescape`: `(...)` up to its `)` (the kernel's `(null)`), or the
/// leading hex digits decoded in pairs (an odd last digit is the high
/// nibble), cut at the first NUL as the C string is. `None` where
/// libauparse returns NULL: no `)`, or fewer than two hex digits.
fn au_unescape(buf: &[u8]) -> Option<Cow<'_, [u8]>> {
    if buf.first() == Some(&b'(') {
        let close = memchr::memchr(b')', buf)?;
        return Some(Cow::Borrowed(&buf[..=close]));
    }
    let end = buf
        .iter()
        .position(|c| !c.is_ascii_hexdigit())
        .unwrap_or(buf.len());
    let hex = &buf[..end];
    if hex.len() < 2 {
        return None;
    }
    let nibble = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
    let mut out = Vec::with_capacity(hex.len().div_ceil(2));
    for pair in hex.chunks(2) {
        let lo = pair.get(1).map_or(0, |&c| nibble(c));
        let byte = (nibble(pair[0]) << 4) | lo;
        if byte == 0 {
            break;
        }
        out.push(byte);
    }
    Some(Cow::Owned(out))
}

/// libauparse's escaping of an interpretation (`need_escaping`/`escape`):
/// control characters as `\ooo`, and in the shell modes the characters of
/// their set behind a backslash. `None` when nothing needs escaping.
fn escape(s: &[u8], mode: EscapeMode) -> Option<Vec<u8>> {
    const SHELL: &[u8] = b"\"'`$\\!()| ";
    const QUOTE: &[u8] = b"\"'`$\\!()| ;#&*?[]<>{}";
    let set: &[u8] = match mode {
        EscapeMode::Raw => return None,
        EscapeMode::Tty => b"",
        EscapeMode::Shell => SHELL,
        EscapeMode::ShellQuote => QUOTE,
    };
    if !s.iter().any(|&c| c < 32 || set.contains(&c)) {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() + 8);
    for &c in s {
        if c < 32 {
            out.extend_from_slice(&[
                b'\\',
                b'0' + (c >> 6),
                b'0' + ((c >> 3) & 7),
                b'0' + (c & 7),
            ]);
        } else if set.contains(&c) {
            out.extend_from_slice(&[b'\\', c]);
        } else {
            out.push(c);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(v: &[u8]) -> Vec<u8> {
        file_interpretation(v, EscapeMode::Raw).into_owned()
    }

    #[test]
    fn the_cases_of_print_escaped() {
        assert_eq!(raw(b"\"/tmp/a b\""), b"/tmp/a b");
        assert_eq!(raw(b"\"unterminated"), b" ");
        assert_eq!(raw(b"2F746D70"), b"/tmp");
        assert_eq!(raw(b"(null)"), b"(null)");
        assert_eq!(raw(b"(null"), b"(null");
        assert_eq!(raw(b"x"), b"x");
        assert_eq!(raw(b""), b"");
        assert_eq!(raw(b"2F0041"), b"/");
        assert_eq!(raw(b"002F61"), b"/a");
        assert_eq!(raw(b"2F6"), b"/`");
    }

    #[test]
    fn escaping_by_mode() {
        let v = b"\"a b\"";
        assert_eq!(&*file_interpretation(v, EscapeMode::Tty), b"a b");
        assert_eq!(&*file_interpretation(v, EscapeMode::Shell), b"a\\ b");
        let v = b"610A3B";
        assert_eq!(&*file_interpretation(v, EscapeMode::Tty), b"a\\012;");
        assert_eq!(&*file_interpretation(v, EscapeMode::Shell), b"a\\012;");
        assert_eq!(
            &*file_interpretation(v, EscapeMode::ShellQuote),
            b"a\\012\\;"
        );
    }
}
