//! Parses one migration file: the `-- ` header as TOML, then the
//! `-- braid:up` and `-- braid:down` sections.
//!
//! The header keeps, for every line, where it starts in the TOML document
//! and how many comment characters were stripped, so that a TOML error's
//! byte span maps back to the file's own line and column (as cargo's
//! frontmatter parser does).

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::checksum::{Checksum, normalize_line_endings};
use super::{LoadError, Migration, Section};
use crate::revision::{BranchLabel, RevisionId};

const MARKER_PREFIX: &str = "-- braid:";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    revision: Spanned<String>,
    down_revisions: Vec<Spanned<String>>,
    #[serde(default)]
    branch_labels: Vec<Spanned<String>>,
    #[serde(default)]
    depends_on: Vec<Spanned<String>>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    created: Option<Spanned<String>>,
    #[serde(default = "default_transactional")]
    transactional: bool,
    #[serde(default)]
    lock_timeout: Option<Spanned<String>>,
    #[serde(default)]
    lock_retries: Option<Spanned<i64>>,
    #[serde(default)]
    statement_timeout: Option<Spanned<String>>,
}

fn default_transactional() -> bool {
    true
}

/// One header line: where it starts in the TOML document, and how many
/// bytes of comment prefix were stripped from the file's line.
struct HeaderLine {
    doc_start: usize,
    stripped: usize,
}

struct HeaderMap {
    lines: Vec<HeaderLine>,
}

impl HeaderMap {
    /// File line (1-based) and column (1-based, in bytes) of a byte offset
    /// in the TOML document. The header starts on the file's first line.
    fn locate(&self, offset: usize) -> (usize, usize) {
        let idx = match self.lines.binary_search_by(|l| l.doc_start.cmp(&offset)) {
            Ok(i) => i,
            Err(0) => 0,
            Err(i) => i - 1,
        };
        let line = &self.lines[idx];
        (idx + 1, offset - line.doc_start + line.stripped + 1)
    }
}

/// Parses the bytes of one file. `path` is only used in errors.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Migration, LoadError> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1;
            return Err(LoadError::new(
                path,
                Some(line),
                "file is not valid UTF-8: expected UTF-8 text, found an invalid byte sequence",
            ));
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(LoadError::new(
            path,
            None,
            "file is empty: expected a `-- revision = \"…\"` header and a `-- braid:up` section",
        ));
    }
    let source = normalize_line_endings(text).into_owned();
    let checksum = Checksum::of_normalized(&source);

    // The header: the leading run of `--` lines up to a marker.
    let mut doc = String::new();
    let mut map = HeaderMap { lines: Vec::new() };
    let mut offset = 0;
    for line in source.split_inclusive('\n') {
        if !line.starts_with("--") || line.starts_with(MARKER_PREFIX) {
            break;
        }
        let stripped = if line[2..].starts_with(' ') { 3 } else { 2 };
        map.lines.push(HeaderLine {
            doc_start: doc.len(),
            stripped,
        });
        doc.push_str(&line[stripped..]);
        offset += line.len();
    }
    if map.lines.is_empty() {
        return Err(LoadError::new(
            path,
            Some(1),
            "no header: expected `-- revision = \"…\"` and `-- down_revisions = […]` lines at the top of the file",
        ));
    }

    let toml_error = |e: toml::de::Error| {
        let (line, column) = match e.span() {
            Some(span) if span.start < doc.len() => {
                let (l, c) = map.locate(span.start);
                (l, Some(c))
            }
            _ => (1, None),
        };
        LoadError::new(
            path,
            Some(line),
            format!("invalid header: {}", e.message().trim_end()),
        )
        .at(column)
    };
    let raw: RawHeader = toml::from_str(&doc).map_err(toml_error)?;

    let spanned_error = |span: std::ops::Range<usize>, message: String| {
        let (line, column) = map.locate(span.start);
        LoadError::new(path, Some(line), message).at(Some(column))
    };
    let id = RevisionId::new(raw.revision.get_ref().as_str())
        .map_err(|e| spanned_error(raw.revision.span(), format!("invalid `revision`: {e}")))?;
    let down_revisions = raw
        .down_revisions
        .iter()
        .map(|r| {
            RevisionId::new(r.get_ref().as_str())
                .map_err(|e| spanned_error(r.span(), format!("invalid `down_revisions`: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(dup) = first_duplicate(&raw.down_revisions) {
        return Err(spanned_error(
            dup.span(),
            format!("`down_revisions` names `{}` twice", dup.get_ref()),
        ));
    }
    let branch_labels = raw
        .branch_labels
        .iter()
        .map(|l| {
            BranchLabel::new(l.get_ref().as_str())
                .map_err(|e| spanned_error(l.span(), format!("invalid `branch_labels`: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(dup) = first_duplicate(&raw.branch_labels) {
        return Err(spanned_error(
            dup.span(),
            format!("`branch_labels` names `{}` twice", dup.get_ref()),
        ));
    }
    for dep in &raw.depends_on {
        if dep.get_ref().is_empty() {
            return Err(spanned_error(
                dep.span(),
                "invalid `depends_on`: expected a revision id or branch label, found an empty string"
                    .into(),
            ));
        }
    }
    let created = match raw.created {
        Some(created) => {
            if created.get_ref().parse::<jiff::Timestamp>().is_err() {
                return Err(spanned_error(
                    created.span(),
                    format!(
                        "invalid `created`: expected an RFC 3339 time such as \"2025-09-19T14:00:00Z\", found \"{}\"",
                        created.get_ref()
                    ),
                ));
            }
            Some(created.into_inner())
        }
        None => None,
    };

    let duration = |key: &str, value: Option<Spanned<String>>| match value {
        None => Ok(None),
        Some(v) => super::parse_duration(v.get_ref())
            .map(Some)
            .map_err(|e| spanned_error(v.span(), format!("invalid `{key}`: {e}"))),
    };
    let lock_timeout = duration("lock_timeout", raw.lock_timeout)?;
    let statement_timeout = duration("statement_timeout", raw.statement_timeout)?;
    let lock_retries = match raw.lock_retries {
        None => None,
        Some(n) => Some(u32::try_from(*n.get_ref()).map_err(|_| {
            spanned_error(
                n.span(),
                format!(
                    "invalid `lock_retries`: expected a number of retries from 0 up, found {}",
                    n.get_ref()
                ),
            )
        })?),
    };

    let (up, down, untranslated) = parse_sections(path, &source, offset, map.lines.len() + 1)?;
    Ok(Migration {
        path: path.to_owned(),
        id,
        down_revisions,
        branch_labels,
        depends_on: raw
            .depends_on
            .into_iter()
            .map(Spanned::into_inner)
            .collect(),
        message: raw.message,
        created,
        transactional: raw.transactional,
        lock_timeout,
        lock_retries,
        statement_timeout,
        up,
        down,
        untranslated,
        source: source.into(),
        checksum,
    })
}

fn first_duplicate(items: &[Spanned<String>]) -> Option<&Spanned<String>> {
    let mut seen = std::collections::HashSet::new();
    items.iter().find(|i| !seen.insert(i.get_ref().as_str()))
}

/// Finds the sections after the header. `start` is the byte offset and
/// `first_line` the 1-based line where the body begins.
fn parse_sections(
    path: &Path,
    source: &str,
    start: usize,
    first_line: usize,
) -> Result<(Section, Option<Section>, Option<usize>), LoadError> {
    #[derive(Clone, Copy, PartialEq)]
    enum Part {
        Before,
        Up,
        Down,
    }
    let mut part = Part::Before;
    let mut up: Option<(usize, Section)> = None; // (marker line, section)
    let mut down: Option<(usize, Section)> = None;
    let mut untranslated: Option<usize> = None;
    let mut offset = start;

    for (line_no, line) in (first_line..).zip(source[start..].split_inclusive('\n')) {
        let line_end = offset + line.len();
        let content = line.trim_end();
        if let Some(name) = content.strip_prefix(MARKER_PREFIX) {
            let section = Section {
                range: line_end..line_end,
                first_line: line_no + 1,
            };
            match name {
                "up" => {
                    if let Some((first, _)) = &up {
                        return Err(LoadError::new(
                            path,
                            Some(line_no),
                            format!("`-- braid:up` appears twice (first on line {first})"),
                        ));
                    }
                    if let Some((first, _)) = &down {
                        return Err(LoadError::new(
                            path,
                            Some(line_no),
                            format!(
                                "expected `-- braid:up` before `-- braid:down`, found it after (`-- braid:down` is on line {first})"
                            ),
                        ));
                    }
                    up = Some((line_no, section));
                    part = Part::Up;
                }
                "down" => {
                    if let Some((first, _)) = &down {
                        return Err(LoadError::new(
                            path,
                            Some(line_no),
                            format!("`-- braid:down` appears twice (first on line {first})"),
                        ));
                    }
                    down = Some((line_no, section));
                    part = Part::Down;
                }
                // An imported revision whose SQL could not be produced:
                // refused by upgrade, downgrade and check until written.
                "untranslated" if part == Part::Before => untranslated = Some(line_no),
                // A batch block's mark: checked here, read by the runner.
                other if other.split_whitespace().next() == Some("batch") => {
                    super::Batch::parse(&other["batch".len()..]).map_err(|e| {
                        LoadError::new(
                            path,
                            Some(line_no),
                            format!("invalid `-- braid:batch`: {e}"),
                        )
                    })?;
                }
                // Lint marks: read by `braid lint`, comments to the runner.
                other
                    if matches!(
                        other.split_whitespace().next(),
                        Some("lint-ignore" | "lint-ignore-file")
                    ) => {}
                other => {
                    return Err(LoadError::new(
                        path,
                        Some(line_no),
                        format!(
                            "unknown marker `-- braid:{other}`: expected `-- braid:up`, `-- braid:down`, `-- braid:batch` or `-- braid:lint-ignore`"
                        ),
                    ));
                }
            }
        } else {
            match part {
                Part::Before => {
                    if !content.trim().is_empty() && !content.trim_start().starts_with("--") {
                        return Err(LoadError::new(
                            path,
                            Some(line_no),
                            "SQL before `-- braid:up`: expected the upgrade SQL to follow a `-- braid:up` line",
                        ));
                    }
                }
                Part::Up => up.as_mut().expect("in up").1.range.end = line_end,
                Part::Down => down.as_mut().expect("in down").1.range.end = line_end,
            }
        }
        offset = line_end;
    }
    let Some((_, up)) = up else {
        return Err(LoadError::new(
            path,
            None,
            "missing `-- braid:up`: expected a line `-- braid:up` followed by the upgrade SQL",
        ));
    };
    Ok((up, down.map(|(_, s)| s), untranslated))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"-- revision = "859efdfc3f9f"
-- down_revisions = []
-- branch_labels = ["core"]
-- depends_on = []
-- message = "initial migration setup"
-- created = "2025-09-19T14:00:00Z"
-- transactional = true

-- braid:up
CREATE TABLE users (
    id integer PRIMARY KEY
);

-- braid:down
DROP TABLE users;
"#;

    fn err(text: &str) -> LoadError {
        parse(Path::new("m.sql"), text.as_bytes()).unwrap_err()
    }

    #[test]
    fn timeouts_in_the_header() {
        let text = "-- revision = \"a\"\n-- down_revisions = []\n-- lock_timeout = \"200ms\"\n-- lock_retries = 5\n-- statement_timeout = \"1m 30s\"\n-- braid:up\nSELECT 1;\n";
        let m = parse(Path::new("m.sql"), text.as_bytes()).unwrap();
        assert_eq!(m.lock_timeout, Some(std::time::Duration::from_millis(200)));
        assert_eq!(m.lock_retries, Some(5));
        assert_eq!(
            m.statement_timeout,
            Some(std::time::Duration::from_secs(90))
        );
        let m = parse(Path::new("m.sql"), GOOD.as_bytes()).unwrap();
        assert_eq!(
            (m.lock_timeout, m.lock_retries, m.statement_timeout),
            (None, None, None)
        );

        let e = err(
            "-- revision = \"a\"\n-- down_revisions = []\n-- lock_timeout = \"soon\"\n-- braid:up\n",
        );
        assert_eq!((e.line, e.column), (Some(3), Some(19)));
        assert!(
            e.message
                .starts_with("invalid `lock_timeout`: expected a duration such as \"200ms\""),
            "{e}"
        );
        let e =
            err("-- revision = \"a\"\n-- down_revisions = []\n-- lock_retries = -1\n-- braid:up\n");
        assert_eq!(e.line, Some(3));
        assert!(e.message.contains("from 0 up, found -1"), "{e}");
        let e = err(
            "-- revision = \"a\"\n-- down_revisions = []\n-- statement_timeout = \"-5s\"\n-- braid:up\n",
        );
        assert!(e.message.contains("zero or more"), "{e}");
    }

    #[test]
    fn batch_marks_are_checked_where_they_are() {
        let ok = "-- revision = \"a\"\n-- down_revisions = []\n-- transactional = false\n-- braid:up\n-- braid:batch size=10 pause=5ms\nDELETE FROM t WHERE id IN (SELECT id FROM t LIMIT :batch_size);\n";
        assert!(parse(Path::new("m.sql"), ok.as_bytes()).is_ok());
        let e = err(&ok.replace("size=10", "size=0"));
        assert_eq!(e.line, Some(5));
        assert!(
            e.message
                .starts_with("invalid `-- braid:batch`: `size` must be a number of rows above 0"),
            "{e}"
        );
        let e = err(&ok.replace("pause=5ms", "every=5ms"));
        assert!(e.message.contains("unknown `every=5ms`"), "{e}");
    }

    #[test]
    fn parses_the_spec_example() {
        let m = parse(Path::new("m.sql"), GOOD.as_bytes()).unwrap();
        assert_eq!(m.id.as_str(), "859efdfc3f9f");
        assert!(m.down_revisions.is_empty());
        assert_eq!(m.branch_labels[0].as_str(), "core");
        assert_eq!(m.message.as_deref(), Some("initial migration setup"));
        assert!(m.transactional);
        assert_eq!(
            m.up_sql(),
            "CREATE TABLE users (\n    id integer PRIMARY KEY\n);\n\n"
        );
        assert_eq!(m.up.first_line, 10);
        assert_eq!(m.down_sql(), Some("DROP TABLE users;\n"));
        assert_eq!(m.down.as_ref().unwrap().first_line, 15);
    }

    #[test]
    fn crlf_files_parse_and_share_the_checksum() {
        let dos = GOOD.replace('\n', "\r\n");
        let a = parse(Path::new("a.sql"), GOOD.as_bytes()).unwrap();
        let b = parse(Path::new("b.sql"), dos.as_bytes()).unwrap();
        assert_eq!(a.checksum, b.checksum);
        assert_eq!(a.up_sql(), b.up_sql());
    }

    #[test]
    fn a_lone_carriage_return_ends_a_line() {
        // Old Mac line endings: error lines count them as editors do.
        let e = err("-- revision = \"a1\"\r-- down_revisions = []\r-- braid:down\r-- braid:up\r");
        assert_eq!(e.line, Some(4), "{e}");
    }

    #[test]
    fn without_down_the_revision_is_irreversible() {
        let m = parse(
            Path::new("m.sql"),
            b"-- revision = \"a1\"\n-- down_revisions = []\n-- braid:up\nSELECT 1;\n",
        )
        .unwrap();
        assert!(m.down.is_none());
        assert_eq!(m.up_sql(), "SELECT 1;\n");
    }

    #[test]
    fn toml_errors_point_at_the_file_line() {
        let e = err("-- revision = \"a1\"\n-- down_revisions = [\n-- braid:up\n");
        assert_eq!(e.line, Some(2), "{e}");
        let e =
            err("-- revision = \"a1\"\n-- down_revisions = []\n-- colour = \"red\"\n-- braid:up\n");
        assert_eq!(e.line, Some(3), "{e}");
        assert_eq!(e.column, Some(4), "{e}");
        assert!(e.message.contains("unknown field `colour`"), "{e}");
        let e = err("-- revision = 12\n-- down_revisions = []\n-- braid:up\n");
        assert_eq!(e.line, Some(1), "{e}");
        assert!(e.message.contains("string"), "{e}");
    }

    #[test]
    fn missing_keys_are_named() {
        let e = err("-- down_revisions = []\n-- braid:up\n");
        assert!(e.message.contains("missing field `revision`"), "{e}");
        let e = err("-- revision = \"a1\"\n-- braid:up\n");
        assert!(e.message.contains("missing field `down_revisions`"), "{e}");
    }

    #[test]
    fn body_errors_name_the_line() {
        let e = err("-- revision = \"a1\"\n-- down_revisions = []\n\nSELECT 1;\n");
        assert_eq!(e.line, Some(4), "{e}");
        let e = err("-- revision = \"a1\"\n-- down_revisions = []\n-- braid:up\n-- braid:up\n");
        assert_eq!(e.line, Some(4), "{e}");
        assert!(e.message.contains("twice (first on line 3)"), "{e}");
        let e = err("-- revision = \"a1\"\n-- down_revisions = []\n");
        assert!(e.message.contains("missing `-- braid:up`"), "{e}");
        let e = err("-- revision = \"a1\"\n-- down_revisions = []\n-- braid:sideways\n");
        assert_eq!(e.line, Some(3));
        let e = err("-- revision = \"a1\"\n-- down_revisions = []\n-- braid:down\n-- braid:up\n");
        assert_eq!(e.line, Some(4));
    }

    #[test]
    fn empty_non_utf8_and_headerless_files() {
        assert!(err("").message.contains("empty"));
        assert!(err("  \n\n").message.contains("empty"));
        let e = parse(Path::new("m.sql"), b"-- revision = \"a\"\n\xff\n").unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("UTF-8"));
        let e = err("CREATE TABLE x();\n");
        assert!(e.message.contains("no header"), "{e}");
    }

    #[test]
    fn names_and_times_are_validated_with_their_line() {
        let e = err("-- revision = \"a-1\"\n-- down_revisions = []\n-- braid:up\n");
        assert_eq!((e.line, e.column), (Some(1), Some(15)), "{e}");
        let e = err("-- revision = \"a1\"\n-- down_revisions = [\"x\", \"x\"]\n-- braid:up\n");
        assert_eq!(e.line, Some(2));
        let e = err(
            "-- revision = \"a1\"\n-- down_revisions = []\n-- created = \"yesterday\"\n-- braid:up\n",
        );
        assert_eq!(e.line, Some(3));
        assert!(e.message.contains("RFC 3339"));
    }
}
