//! The checksum of a migration file: blake3 over its text with line endings
//! normalized, so a checkout on Windows and one on Linux agree.

use std::fmt;

/// `blake3:<hex>`, the form stored in the database and shown to users.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(into = "String")]
pub struct Checksum(blake3::Hash);

impl Checksum {
    /// The checksum of text whose line endings are already `\n`.
    pub fn of_normalized(text: &str) -> Self {
        Self(blake3::hash(text.as_bytes()))
    }

    /// The checksum of these 32 bytes of blake3 output (as
    /// `braid::embed!()` computed it at compile time).
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(blake3::Hash::from_bytes(bytes))
    }

    /// The 32 bytes of blake3 output.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// Whether `stored` is this checksum's stored form, without building
    /// a string.
    pub fn is_stored_as(&self, stored: &str) -> bool {
        stored
            .strip_prefix("blake3:")
            .is_some_and(|hex| hex == self.0.to_hex().as_str())
    }

    /// Parses the stored form, `blake3:<64 hex digits>`.
    pub fn parse(stored: &str) -> Option<Self> {
        let hex = stored.strip_prefix("blake3:")?;
        blake3::Hash::from_hex(hex).ok().map(Self)
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "blake3:{}", self.0.to_hex())
    }
}

impl From<Checksum> for String {
    fn from(c: Checksum) -> String {
        c.to_string()
    }
}

/// Replaces `\r\n` (and a lone `\r`) by `\n`.
pub(crate) fn normalize_line_endings(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('\r') {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_endings_do_not_change_the_checksum() {
        let unix = normalize_line_endings("a\nb\n");
        let dos = normalize_line_endings("a\r\nb\r\n");
        assert_eq!(
            Checksum::of_normalized(&unix),
            Checksum::of_normalized(&dos)
        );
        assert_ne!(
            Checksum::of_normalized("a\nb\n"),
            Checksum::of_normalized("a\nc\n")
        );
    }

    #[test]
    fn stored_form_round_trips() {
        let c = Checksum::of_normalized("x");
        let s = c.to_string();
        assert!(s.starts_with("blake3:") && s.len() == 7 + 64);
        assert_eq!(Checksum::parse(&s), Some(c.clone()));
        assert_eq!(Checksum::parse("md5:00"), None);
        assert!(c.is_stored_as(&s));
        assert!(!c.is_stored_as(&s[7..]));
        assert!(!Checksum::of_normalized("y").is_stored_as(&s));
        assert_eq!(Checksum::from_bytes(*c.as_bytes()), c);
    }
}
