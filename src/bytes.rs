//! Byte strings from audit records, and the one escaping scheme used to show
//! them as text.
//!
//! Audit data is not UTF-8: file names, `comm`, `cwd` and `proctitle` carry
//! whatever bytes the process used. This crate keeps them as bytes and only
//! escapes when text is needed.
//!
//! # The escaping scheme (JSON and other text output)
//! - Valid UTF-8 is written unchanged.
//! - Each byte that is not part of a valid UTF-8 sequence is written as the
//!   four characters `\xHH` (backslash, `x`, two lowercase hex digits).
//!
//! So `caf\xE9` (Latin-1 `café`) becomes the JSON string `"caf\\xe9"`. The
//! original bytes can always be recovered exactly from the raw value of the
//! field, which the kernel hex-encodes whenever a name holds such bytes.

use serde::{Serialize, Serializer};
use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::ops::Deref;

/// An owned byte string from an audit record. Derefs to `[u8]`; serializes
/// with the [escaping scheme](self).
///
/// Short strings (up to 22 bytes: field names, numbers, most values) are kept
/// inline, without a heap allocation: an event holds hundreds of them.
#[derive(Clone)]
pub struct Bytes(Repr);

const INLINE: usize = 22;

#[derive(Clone)]
enum Repr {
    Inline { len: u8, buf: [u8; INLINE] },
    Heap(Box<[u8]>),
}

impl Bytes {
    /// The bytes as text: borrowed when valid UTF-8, otherwise [escaped](self).
    pub fn to_str_escaped(&self) -> Cow<'_, str> {
        escape_invalid_utf8(self)
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
        fmt::Debug::fmt(&*escape_invalid_utf8(self), f)
    }
}

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape_invalid_utf8(self))
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&escape_invalid_utf8(self))
    }
}

/// Valid UTF-8 unchanged (borrowed); each invalid byte as `\xHH`.
pub fn escape_invalid_utf8(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => {
            let mut out = String::with_capacity(bytes.len() + 8);
            for chunk in bytes.utf8_chunks() {
                out.push_str(chunk.valid());
                for b in chunk.invalid() {
                    let _ = write!(out, "\\x{b:02x}");
                }
            }
            Cow::Owned(out)
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_utf8_is_borrowed_unchanged() {
        assert!(matches!(
            escape_invalid_utf8("café \\x".as_bytes()),
            Cow::Borrowed("café \\x")
        ));
    }

    #[test]
    fn invalid_bytes_become_backslash_x() {
        assert_eq!(
            escape_invalid_utf8(b"caf\xe9/\xff\xfe"),
            "caf\\xe9/\\xff\\xfe"
        );
        let json = serde_json::to_string(&Bytes::from(&b"a\xe9\n"[..])).unwrap();
        assert_eq!(json, r#""a\\xe9\n""#);
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
