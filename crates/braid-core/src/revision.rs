//! Validated names: revision ids, branch labels and the direction of a step.
//!
//! This module knows nothing of files, graphs or databases; it only says
//! which strings may name a revision or a branch.

use std::fmt;

/// Characters that the target grammar gives a meaning to (`LABEL@REV`,
/// `REV+N`, `REV-N`, `FROM:TO`), so they can never be part of a name.
/// Alembic forbids the same four.
const RESERVED_CHARS: [char; 4] = ['@', '-', '+', ':'];

/// Words the target grammar keeps for itself.
const RESERVED_WORDS: [&str; 3] = ["head", "heads", "base"];

/// Why a string is not a valid revision id or branch label.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// An empty id or label.
    #[error("{what} is empty")]
    Empty {
        /// `revision id` or `branch label`.
        what: &'static str,
    },
    #[error(
        "{what} `{name}` contains `{ch}`, which targets use (`@ - + :` and white space are not allowed)"
    )]
    /// A character ids and labels may not hold.
    BadChar {
        /// `revision id` or `branch label`.
        what: &'static str,
        /// The name as given.
        name: String,
        /// The character it may not hold.
        ch: char,
    },
    /// A word of the target grammar (`head`, `base`, …).
    #[error("{what} `{name}` is a reserved word (`head`, `heads` and `base` are targets)")]
    Reserved {
        /// `revision id` or `branch label`.
        what: &'static str,
        /// The reserved word.
        name: String,
    },
}

fn check(what: &'static str, name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty { what });
    }
    // The usual name (letters, digits, `_`) needs no search per character.
    let plain = name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !plain
        && let Some(ch) = name
            .chars()
            .find(|c| RESERVED_CHARS.contains(c) || c.is_whitespace() || c.is_control())
    {
        return Err(NameError::BadChar {
            what,
            name: name.to_owned(),
            ch,
        });
    }
    if RESERVED_WORDS.contains(&name) {
        return Err(NameError::Reserved {
            what,
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// A revision id, as declared by `revision = "…"` in a migration file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct RevisionId(String);

impl RevisionId {
    /// Checks and wraps a revision id.
    pub fn new(id: impl Into<String>) -> Result<Self, NameError> {
        let id = id.into();
        check("revision id", &id)?;
        Ok(Self(id))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RevisionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// Hash, Eq and Ord are those of the inner string, so maps keyed by ids can
// be searched with a `&str`.
impl std::borrow::Borrow<str> for RevisionId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for BranchLabel {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for RevisionId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A branch label, as declared by `branch_labels = ["…"]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct BranchLabel(String);

impl BranchLabel {
    /// Checks and wraps a branch label.
    pub fn new(label: impl Into<String>) -> Result<Self, NameError> {
        let label = label.into();
        check("branch label", &label)?;
        Ok(Self(label))
    }

    /// The label.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BranchLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which way a step goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Applying.
    Up,
    /// Reverting.
    Down,
}

impl Direction {
    /// `up` or `down`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_hex_and_words() {
        assert!(RevisionId::new("859efdfc3f9f").is_ok());
        assert!(RevisionId::new("auth_0001").is_ok());
        assert!(BranchLabel::new("auth").is_ok());
    }

    #[test]
    fn rejects_grammar_characters_and_reserved_words() {
        for bad in [
            "a-b", "a+b", "a@b", "a:b", "a b", "", "head", "heads", "base",
        ] {
            assert!(RevisionId::new(bad).is_err(), "{bad:?} was accepted");
            assert!(BranchLabel::new(bad).is_err(), "{bad:?} was accepted");
        }
        let err = RevisionId::new("a-b").unwrap_err().to_string();
        assert!(err.contains("`a-b` contains `-`"), "{err}");
    }
}
