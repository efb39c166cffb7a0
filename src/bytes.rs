//! Byte strings from audit records, and the one escaping scheme used to show
//! them as text.
//!
//! Audit data is not UTF-8: file names, `comm`, `cwd` and `proctitle` carry
//! whatever bytes the process used. This crate keeps them as bytes and only
//! escapes when text is needed.
//!
//! # The escaping scheme
//! One scheme, lossless, for JSON and every other text output of bytes:
//! - Valid UTF-8 is written unchanged, except the backslash.
//! - A backslash is written as two: `\\`.
//! - Each byte that is not part of a valid UTF-8 sequence is written as the
//!   four characters `\xHH` (backslash, `x`, two lowercase hex digits).
//!
//! [`escape`] applies it. For text meant to stay on one line
//! ([`escape_text`], and `Bytes`' [`Display`](std::fmt::Display)), the ASCII
//! control characters (0x00 to 0x1f and 0x7f) are written `\xHH` too.
//!
//! Since a backslash in the bytes always comes out doubled, a single
//! backslash always starts an escape, and [`unescape`] recovers the exact
//! bytes from either form: `caf\xE9` (Latin-1 `café`) is the text `caf\xe9`,
//! the valid name `caf\xe9` (with a real backslash) is the text `caf\\xe9`,
//! and each reads back as what it was.
//!
//! ```
//! use auparse::bytes::{escape, escape_text, unescape};
//!
//! let name = b"caf\xe9 \\ \n";
//! assert_eq!(escape(name), "caf\\xe9 \\\\ \n");
//! assert_eq!(escape_text(name), "caf\\xe9 \\\\ \\x0a");
//! assert_eq!(unescape(&escape(name)).unwrap(), name);
//! assert_eq!(unescape(&escape_text(name)).unwrap(), name);
//! ```
//!
//! In JSON the escaped text is then a JSON string as usual (the JSON writer
//! of [`format::json`](crate::format::json) and `Bytes`' `Serialize` give
//! the same bytes as `serde_json` does for the escaped text), so a JSON
//! parser gives the escaped text, and [`unescape`] the bytes.

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};
use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::ops::Deref;

/// An owned byte string from an audit record. Derefs to `[u8]`; serializes
/// with the [escaping scheme](self).
///
/// Short strings (up to 22 bytes: field names, numbers, most values) are kept
/// inline, without a heap allocation: an event holds hundreds of them.
///
/// ```
/// use auparse::Bytes;
///
/// let name = Bytes::from(&b"caf\xe9\n.txt"[..]); // Latin-1, with a newline
/// assert_eq!(&name[..], b"caf\xe9\n.txt"); // the bytes, as the kernel logged them
/// assert_eq!(name.as_str(), None); // not UTF-8
/// assert_eq!(name.to_string(), "caf\\xe9\\x0a.txt"); // one line, lossless
/// assert_eq!(serde_json::to_string(&name).unwrap(), r#""caf\\xe9\n.txt""#);
/// let back: Bytes = serde_json::from_str(r#""caf\\xe9\n.txt""#).unwrap();
/// assert_eq!(back, name);
/// ```
#[derive(Clone)]
pub struct Bytes(Repr);

const INLINE: usize = 22;

#[derive(Clone)]
enum Repr {
    Inline { len: u8, buf: [u8; INLINE] },
    Heap(Box<[u8]>),
}

impl Bytes {
    /// The bytes as text in the lossless [escaping scheme](self): borrowed
    /// when nothing needs escaping.
    pub fn to_str_escaped(&self) -> Cow<'_, str> {
        escape(self)
    }

    /// The bytes as `&str` if they are valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(self).ok()
    }

    /// The bytes as a vector.
    pub fn into_vec(self) -> Vec<u8> {
        match self.0 {
            Repr::Heap(b) => b.into_vec(),
            Repr::Inline { len, buf } => buf[..usize::from(len)].to_vec(),
        }
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, buf } => &buf[..usize::from(*len)],
            Repr::Heap(b) => b,
        }
    }
}

impl Default for Bytes {
    fn default() -> Self {
        Bytes(Repr::Inline {
            len: 0,
            buf: [0; INLINE],
        })
    }
}

impl Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl std::borrow::Borrow<[u8]> for Bytes {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl From<&[u8]> for Bytes {
    fn from(b: &[u8]) -> Self {
        if b.len() <= INLINE {
            let mut buf = [0; INLINE];
            buf[..b.len()].copy_from_slice(b);
            Bytes(Repr::Inline {
                len: b.len() as u8,
                buf,
            })
        } else {
            Bytes(Repr::Heap(b.into()))
        }
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(b: Vec<u8>) -> Self {
        if b.len() <= INLINE {
            Bytes::from(&b[..])
        } else {
            Bytes(Repr::Heap(b.into_boxed_slice()))
        }
    }
}

impl From<&str> for Bytes {
    fn from(s: &str) -> Self {
        Bytes::from(s.as_bytes())
    }
}

impl PartialEq for Bytes {
    fn eq(&self, other: &Bytes) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Bytes {}

impl std::hash::Hash for Bytes {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.as_bytes().hash(h)
    }
}

impl PartialOrd for Bytes {
    fn partial_cmp(&self, other: &Bytes) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Bytes {
    fn cmp(&self, other: &Bytes) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl PartialEq<str> for Bytes {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for Bytes {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*escape(self), f)
    }
}

/// The bytes as one line of text: [`escape_text`] (control characters,
/// backslashes and invalid UTF-8 escaped, so a value never breaks a line).
impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape_text(self))
    }
}

/// A string in the lossless [escaping scheme](self).
impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&escape(self))
    }
}

/// A string in the [escaping scheme](self) (either form), unescaped.
impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Bytes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string of escaped bytes")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Bytes, E> {
                unescape(s).map(Bytes::from).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

/// Characters the one-line form escapes: control characters (C0, DEL and
/// C1, which terminals may obey: U+009B is CSI, U+0085 a line break) and
/// the invisible ones that change how text around them shows or breaks
/// (bidirectional overrides and isolates, zero-width characters, line and
/// paragraph separators, the byte-order mark).
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

fn escape_with(bytes: &[u8], text: bool) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(bytes) {
        // ASCII apart from controls and the backslash is always plain.
        let plain = |c: char| c != '\\' && !(text && hidden(c));
        if s.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'\\') || s.chars().all(plain) {
            return Cow::Borrowed(s);
        }
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\\' {
                out.push_str("\\\\");
            } else if text && hidden(c) {
                // Each byte of its UTF-8 form: unescaping gives the bytes.
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    let _ = write!(out, "\\x{b:02x}");
                }
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    Cow::Owned(out)
}

/// The lossless [escaping scheme](self): backslash doubled, each byte of
/// invalid UTF-8 as `\xHH`, the rest unchanged (borrowed when nothing
/// needs escaping). [`unescape`] reverses it.
pub fn escape(bytes: &[u8]) -> Cow<'_, str> {
    escape_with(bytes, false)
}

/// [`escape`], and the ASCII control characters (0x00 to 0x1f, 0x7f) as
/// `\xHH` too: text that stays on one line. [`unescape`] reverses it.
pub fn escape_text(bytes: &[u8]) -> Cow<'_, str> {
    escape_with(bytes, true)
}

/// Text that is not in the [escaping scheme](self): a backslash followed by
/// something other than a backslash or `x` and two hex digits.
///
/// ```
/// let err = auparse::bytes::unescape("a\\qb").unwrap_err();
/// assert_eq!(err.offset, 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad escape at byte {offset}: a backslash must be followed by a backslash or xHH")]
pub struct UnescapeError {
    /// Where the bad escape starts in the text.
    pub offset: usize,
}

/// The bytes of text written in the [escaping scheme](self) (by [`escape`]
/// or [`escape_text`]): `\\` is one backslash, `\xHH` the byte 0xHH, every
/// other character its UTF-8 bytes.
pub fn unescape(text: &str) -> Result<Vec<u8>, UnescapeError> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(off) = memchr::memchr(b'\\', &b[i..]) {
        let at = i + off;
        out.extend_from_slice(&b[i..at]);
        match b.get(at + 1) {
            Some(b'\\') => {
                out.push(b'\\');
                i = at + 2;
            }
            Some(b'x') => {
                let hex = b.get(at + 2..at + 4).and_then(decode_hex);
                match hex {
                    Some(v) => out.extend_from_slice(&v),
                    None => return Err(UnescapeError { offset: at }),
                }
                i = at + 4;
            }
            _ => return Err(UnescapeError { offset: at }),
        }
    }
    out.extend_from_slice(&b[i..]);
    Ok(out)
}

/// Decodes an even-length string of hex digits; `None` if it is not one.
pub fn decode_hex(hex: &[u8]) -> Option<Vec<u8>> {
    if hex.is_empty() || hex.len() % 2 != 0 {
        return None;
    }
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    hex.chunks_exact(2)
        .map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?))
        .collect()
}

/// Decodes an audit string value as the kernel writes it: `"quoted text"`,
/// hex-encoded bytes, or `(null)` (returns `None`).
pub fn decode_audit_string(raw: &[u8]) -> Option<Vec<u8>> {
    if raw == b"(null)" {
        return None;
    }
    if raw.len() >= 2 && raw[0] == b'"' && raw[raw.len() - 1] == b'"' {
        return Some(raw[1..raw.len() - 1].to_vec());
    }
    Some(decode_hex(raw).unwrap_or_else(|| raw.to_vec()))
}

/// Adds the rule keys of one raw `key` value (decoded, split at the 0x01
/// separators of a multi-key rule) that `keys` does not hold yet.
pub(crate) fn push_keys(keys: &mut Vec<Bytes>, raw: &[u8]) {
    let Some(decoded) = decode_audit_string(raw) else {
        return;
    };
    for k in decoded.split(|&b| b == 0x01).filter(|k| !k.is_empty()) {
        if !keys.iter().any(|have| have[..] == *k) {
            keys.push(k.into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_utf8_is_borrowed_unchanged() {
        assert!(matches!(
            escape("café x\n".as_bytes()),
            Cow::Borrowed("café x\n")
        ));
        assert!(matches!(
            escape_text("café x".as_bytes()),
            Cow::Borrowed("café x")
        ));
    }

    #[test]
    fn invalid_bytes_become_backslash_x() {
        assert_eq!(escape(b"caf\xe9/\xff\xfe"), "caf\\xe9/\\xff\\xfe");
        let json = serde_json::to_string(&Bytes::from(&b"a\xe9\n"[..])).unwrap();
        assert_eq!(json, r#""a\\xe9\n""#);
    }

    #[test]
    fn backslash_x_text_and_invalid_byte_differ() {
        // The four characters `\xe9` in a valid name and the invalid byte
        // 0xE9 used to be written the same.
        let text = escape(b"\\xe9");
        let byte = escape(b"\xe9");
        assert_ne!(text, byte);
        assert_eq!(unescape(&text).unwrap(), b"\\xe9");
        assert_eq!(unescape(&byte).unwrap(), b"\xe9");
    }

    #[test]
    fn c1_and_bidi_are_shown_escaped() {
        let b = Bytes::from("a\u{9b}2J\u{85}\u{202e}b".as_bytes());
        assert_eq!(b.to_string(), "a\\xc2\\x9b2J\\xc2\\x85\\xe2\\x80\\xaeb");
        assert_eq!(unescape(&b.to_string()).unwrap(), &b[..]);
    }

    #[test]
    fn display_is_one_line() {
        let b = Bytes::from(&b"a\nb\r\x1b[1m\x7f\\\xff"[..]);
        assert_eq!(b.to_string(), "a\\x0ab\\x0d\\x1b[1m\\x7f\\\\\\xff");
        assert_eq!(unescape(&b.to_string()).unwrap(), &b[..]);
    }

    #[test]
    fn bad_escapes_are_refused() {
        assert_eq!(unescape("a\\").unwrap_err().offset, 1);
        assert_eq!(unescape("\\n").unwrap_err().offset, 0);
        assert_eq!(unescape("ab\\xg0").unwrap_err().offset, 2);
        assert_eq!(unescape("\\x4").unwrap_err().offset, 0);
        assert_eq!(unescape("\\x41\\\\é").unwrap(), "A\\é".as_bytes());
    }

    #[test]
    fn round_trip_random_bytes() {
        // Any bytes -> escape / escape_text -> JSON -> unescape: the same
        // bytes. Random strings biased towards the bytes that matter.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        const PICK: &[u8] =
            b"\xc2\x85\xe2\x80\xae\\x0a9fF\"\n\r\t\x00\x1b\x7f\x80\xc3\xa9\xe2\x82\xac\xf0\x9f\xff";
        for _ in 0..20_000 {
            let len = (next() % 24) as usize;
            let v: Vec<u8> = (0..len)
                .map(|_| {
                    let r = next();
                    if r % 3 == 0 {
                        (r >> 8) as u8
                    } else {
                        PICK[(r >> 8) as usize % PICK.len()]
                    }
                })
                .collect();
            for text in [escape(&v), escape_text(&v)] {
                assert_eq!(unescape(&text).unwrap(), v, "{v:?} as {text:?}");
                let json = serde_json::to_string(&*text).unwrap();
                let back: Bytes = serde_json::from_str(&json).unwrap();
                assert_eq!(&back[..], &v[..]);
            }
            assert!(!escape_text(&v).chars().any(hidden));
        }
    }

    #[test]
    fn inline_and_heap_compare_by_content() {
        let short = Bytes::from("key");
        let long = Bytes::from("/a/path/that/is/longer/than/the/inline/buffer");
        assert_eq!(short, "key");
        assert_eq!(&long[..], b"/a/path/that/is/longer/than/the/inline/buffer");
        assert_eq!(Bytes::from(long.clone().into_vec()), long);
        assert_eq!(Bytes::from(vec![1u8; 22]).len(), 22);
        assert_eq!(Bytes::from(vec![1u8; 23]).len(), 23);
        assert!(Bytes::default().is_empty());
    }

    #[test]
    fn audit_strings() {
        assert_eq!(decode_audit_string(b"\"bash\"").unwrap(), b"bash");
        assert_eq!(decode_audit_string(b"6D792066696C65").unwrap(), b"my file");
        assert_eq!(decode_audit_string(b"(null)"), None);
        assert_eq!(decode_audit_string(b"123").unwrap(), b"123".to_vec());
        assert_eq!(decode_hex(b"0"), None);
        assert_eq!(decode_hex(b"zz"), None);
    }
}
