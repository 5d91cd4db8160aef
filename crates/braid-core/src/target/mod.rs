//! Targets, Alembic's grammar: `head`, `heads`, `base`, ids and unique
//! prefixes, `LABEL@head|heads|base|REV`, and relative steps `+N`, `-N`,
//! `REV+N`, `REV-N`, `LABEL@+N`, `LABEL@-N`.
//!
//! Parsing turns a string into a [`Target`] (errors carry a column);
//! resolving turns it into revisions of a graph, given the database's
//! current heads. Nothing here knows of files or databases.

mod resolve;

use std::fmt;

pub use resolve::{
    DowngradeTarget, resolve_downgrade, resolve_label, resolve_revision, resolve_stamp,
    resolve_upgrade,
};

/// What a target names, before the graph is consulted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum What {
    /// `base`: before the first revision.
    Base,
    /// `head`: the one head.
    Head,
    /// `heads`: every head.
    Heads,
    /// A full revision id or a prefix of one.
    Rev(String),
    /// `+N` / `-N` from the current heads (`anchor` is `None`) or from a
    /// named revision (`head`, `base` or an id).
    Relative {
        /// The revision counted from (`head`, `base`, an id); `None` for the current heads.
        anchor: Option<String>,
        /// How many steps, up (positive) or down (negative).
        steps: i64,
    },
}

/// A parsed target: an optional `LABEL@` and what follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The target as written.
    pub text: String,
    /// The `LABEL@` part.
    pub label: Option<String>,
    /// What follows it.
    pub what: What,
}

impl Target {
    /// `heads`: every head of the graph.
    pub fn heads() -> Target {
        Target::named("heads", What::Heads)
    }

    /// `head`: the one head (an error when the graph has several).
    pub fn head() -> Target {
        Target::named("head", What::Head)
    }

    /// `base`: before the first revision.
    pub fn base() -> Target {
        Target::named("base", What::Base)
    }

    /// `LABEL@head`: the head of one branch.
    pub fn branch_head(label: &str) -> Target {
        Target {
            text: format!("{label}@head"),
            label: Some(label.to_owned()),
            what: What::Head,
        }
    }

    /// A target in the CLI's grammar (`billing@head`, `ae10`, `+1`).
    ///
    /// # Errors
    ///
    /// [`TargetError::Syntax`] with the column of the first bad character.
    pub fn parse(input: &str) -> Result<Target, TargetError> {
        parse(input)
    }

    fn named(text: &str, what: What) -> Target {
        Target {
            text: text.to_owned(),
            label: None,
            what,
        }
    }
}

impl std::str::FromStr for Target {
    type Err = TargetError;
    fn from_str(s: &str) -> Result<Target, TargetError> {
        parse(s)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Why a target could not be parsed or resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// The text does not parse; `column` is 1-based.
    #[error("invalid target `{input}` at column {column}: {message}")]
    Syntax {
        /// The target as given.
        input: String,
        /// The 1-based column of the problem.
        column: usize,
        /// What is wrong there.
        message: String,
    },
    /// `head` with several heads.
    #[error("`{target}` is ambiguous: there are {} heads ({})", heads.len(), heads.join(", "))]
    MultipleHeads {
        /// The target as given.
        target: String,
        /// The heads.
        heads: Vec<String>,
    },
    /// A prefix that several revision ids start with.
    #[error("revision prefix `{prefix}` is ambiguous: it matches {}", candidates.join(", "))]
    AmbiguousPrefix {
        /// The prefix.
        prefix: String,
        /// The ids starting with it.
        candidates: Vec<String>,
    },
    /// No revision id starts with it.
    #[error("no revision `{0}` (no revision id starts with it)")]
    UnknownRevision(String),
    /// No such branch label; `known` lists those there are.
    #[error("no branch label `{label}`{}", known_list(known))]
    UnknownLabel {
        /// The label.
        label: String,
        /// The labels the history declares.
        known: Vec<String>,
    },
    /// `LABEL@REV` with a revision off that branch.
    #[error("revision `{revision}` is not on branch `{label}`")]
    NotOnBranch {
        /// The revision.
        revision: String,
        /// The branch label.
        label: String,
    },
    /// `LABEL@head` for a branch with no revision.
    #[error("`{target}` has no head: no revision is on branch `{label}`")]
    NoHead {
        /// The target as given.
        target: String,
        /// The branch label.
        label: String,
    },
    /// A relative step walks past the base or a head.
    #[error("`{target}` goes past the {end}: {walked} of {wanted} steps are possible from {from}")]
    PastEnd {
        /// The target as given.
        target: String,
        /// `base` or `head`.
        end: &'static str,
        /// Where the walk started.
        from: String,
        /// Steps possible.
        walked: i64,
        /// Steps asked for.
        wanted: i64,
    },
    /// A relative step reaches a branch or merge point with several ways on.
    #[error("`{target}` is ambiguous: `{from}` has several {what} ({})", candidates.join(", "))]
    AmbiguousWalk {
        /// The target as given.
        target: String,
        /// Where the walk could not go on.
        from: String,
        /// `children` or `parents`.
        what: &'static str,
        /// The ways on.
        candidates: Vec<String>,
    },
    /// A relative step from the current revision, with several current heads.
    #[error("`{target}` is ambiguous: the database has several current heads ({})", heads.join(", "))]
    AmbiguousCurrent {
        /// The target as given.
        target: String,
        /// The current heads.
        heads: Vec<String>,
    },
    /// A relative step from the current revision, with nothing applied.
    #[error("`{target}` counts from the current revision, but nothing is applied")]
    NothingApplied {
        /// The target as given.
        target: String,
    },
    /// A target the command cannot go to in its direction.
    #[error("`{target}` {message}")]
    WrongDirection {
        /// The target as given.
        target: String,
        /// Why it goes the wrong way.
        message: String,
    },
    /// A downgrade target that is not a current head nor below one.
    #[error("`{target}` is not a valid downgrade target from the current heads ({}): {why}", if heads.is_empty() { "none, the database is at base".to_owned() } else { heads.join(", ") })]
    NotDowngradeTarget {
        /// The target as given.
        target: String,
        /// The current heads.
        heads: Vec<String>,
        /// Why it is not one.
        why: &'static str,
    },
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        " (the history declares no branch labels)".into()
    } else {
        format!(" (labels: {})", known.join(", "))
    }
}

impl TargetError {
    /// What the user could type instead, where it is known.
    pub fn hints(&self) -> Vec<String> {
        match self {
            TargetError::MultipleHeads { target, heads } => {
                let mut h = vec![format!(
                    "use `heads` for all of them, or `LABEL@head` / a revision id for one ({})",
                    heads.join(", ")
                )];
                if target.ends_with("@head") {
                    h = vec![format!("name one of the heads: {}", heads.join(", "))];
                }
                h
            }
            TargetError::AmbiguousPrefix { .. } => {
                vec!["type more characters of the revision id".into()]
            }
            TargetError::AmbiguousCurrent { target, heads } => {
                let bare = target.trim_start_matches(|c: char| c != '+' && c != '-');
                vec![format!(
                    "say which branch: `LABEL@{bare}`, or `REV{bare}` with one of {}",
                    heads.join(", ")
                )]
            }
            TargetError::AmbiguousWalk { candidates, .. } => {
                vec![format!(
                    "name the revision instead: one of {}",
                    candidates.join(", ")
                )]
            }
            _ => Vec::new(),
        }
    }
}

/// Parses a target as users type it.
pub fn parse(input: &str) -> Result<Target, TargetError> {
    let syntax = |column: usize, message: &str| TargetError::Syntax {
        input: input.to_owned(),
        column,
        message: message.to_owned(),
    };
    if input.is_empty() {
        return Err(syntax(1, "expected a target, found nothing"));
    }
    if let Some(c) = input.find(char::is_whitespace) {
        return Err(syntax(c + 1, "expected no white space"));
    }
    let (label, rest, offset) = match input.split_once('@') {
        Some((label, rest)) => {
            if label.is_empty() {
                return Err(syntax(1, "expected a branch label before `@`"));
            }
            (Some(label.to_owned()), rest, label.len() + 1)
        }
        None => (None, input, 0),
    };
    if let Some(at) = rest.find('@') {
        return Err(syntax(offset + at + 1, "expected one `@` at most"));
    }
    if rest.contains(':') {
        let at = rest.find(':').expect("contains");
        return Err(syntax(
            offset + at + 1,
            "`FROM:TO` ranges are only for `--sql`",
        ));
    }
    let what = if let Some(sign_at) = rest.find(['+', '-']) {
        let anchor = &rest[..sign_at];
        let digits = &rest[sign_at + 1..];
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(syntax(
                offset + sign_at + 2,
                "expected a number of steps after the sign, such as `+1` or `-2`",
            ));
        }
        let n: i64 = digits
            .parse()
            .map_err(|_| syntax(offset + sign_at + 2, "the number of steps is too large"))?;
        let steps = if rest.as_bytes()[sign_at] == b'-' {
            -n
        } else {
            n
        };
        What::Relative {
            anchor: (!anchor.is_empty()).then(|| anchor.to_owned()),
            steps,
        }
    } else {
        match rest {
            "" => {
                return Err(syntax(
                    offset + 1,
                    "expected `head`, `heads`, `base` or a revision after `@`",
                ));
            }
            "base" => What::Base,
            "head" => What::Head,
            "heads" => What::Heads,
            rev => What::Rev(rev.to_owned()),
        }
    };
    Ok(Target {
        text: input.to_owned(),
        label,
        what,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn what(s: &str) -> (Option<String>, What) {
        let t = parse(s).unwrap();
        (t.label, t.what)
    }

    #[test]
    fn the_whole_grammar() {
        assert_eq!(what("head"), (None, What::Head));
        assert_eq!(what("heads"), (None, What::Heads));
        assert_eq!(what("base"), (None, What::Base));
        assert_eq!(what("ae10"), (None, What::Rev("ae10".into())));
        assert_eq!(what("auth@head"), (Some("auth".into()), What::Head));
        assert_eq!(what("auth@base"), (Some("auth".into()), What::Base));
        assert_eq!(
            what("auth@ae1"),
            (Some("auth".into()), What::Rev("ae1".into()))
        );
        assert_eq!(
            what("+2"),
            (
                None,
                What::Relative {
                    anchor: None,
                    steps: 2
                }
            )
        );
        assert_eq!(
            what("-1"),
            (
                None,
                What::Relative {
                    anchor: None,
                    steps: -1
                }
            )
        );
        assert_eq!(
            what("ae1+3"),
            (
                None,
                What::Relative {
                    anchor: Some("ae1".into()),
                    steps: 3
                }
            )
        );
        assert_eq!(
            what("ae1-3"),
            (
                None,
                What::Relative {
                    anchor: Some("ae1".into()),
                    steps: -3
                }
            )
        );
        assert_eq!(
            what("auth@-1"),
            (
                Some("auth".into()),
                What::Relative {
                    anchor: None,
                    steps: -1
                }
            )
        );
        assert_eq!(
            what("auth@+2"),
            (
                Some("auth".into()),
                What::Relative {
                    anchor: None,
                    steps: 2
                }
            )
        );
    }

    #[test]
    fn syntax_errors_carry_a_column() {
        let col = |s: &str| match parse(s).unwrap_err() {
            TargetError::Syntax { column, .. } => column,
            other => panic!("{other}"),
        };
        assert_eq!(col(""), 1);
        assert_eq!(col("@head"), 1);
        assert_eq!(col("auth@"), 6);
        assert_eq!(col("ab+"), 4);
        assert_eq!(col("ab+x"), 4);
        assert_eq!(col("a@b@c"), 4);
        assert_eq!(col("a:b"), 2);
        assert_eq!(col("a b"), 2);
    }
}

#[cfg(test)]
mod typed_tests {
    use super::*;

    #[test]
    fn typed_targets_equal_their_parsed_text() {
        assert_eq!(Target::heads(), parse("heads").unwrap());
        assert_eq!(Target::head(), parse("head").unwrap());
        assert_eq!(Target::base(), parse("base").unwrap());
        assert_eq!(
            Target::branch_head("billing"),
            parse("billing@head").unwrap()
        );
        assert_eq!(
            "ae10+2".parse::<Target>().unwrap(),
            Target::parse("ae10+2").unwrap()
        );
    }
}
