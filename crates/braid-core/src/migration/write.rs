//! Writes new migration files (plain revisions and merges) in the SPEC §2
//! format, with the default file name template
//! `YYYY_MM_DD_HHMM_<revision>_<slug>.sql`.

/// What a new file declares.
#[derive(Debug, Clone)]
pub struct NewRevision {
    /// The revision id.
    pub id: String,
    /// Its parents.
    pub down_revisions: Vec<String>,
    /// Its branch labels.
    pub branch_labels: Vec<String>,
    /// Its dependencies.
    pub depends_on: Vec<String>,
    /// The message.
    pub message: String,
    /// When it was made.
    pub created: jiff::Timestamp,
    /// The up and down SQL (empty for a new hand-written revision).
    pub up: String,
    /// The down section's SQL.
    pub down: String,
}

/// Alembic truncates slugs at 40 characters; so do we.
const SLUG_LENGTH: usize = 40;

fn slug(message: &str) -> String {
    let mut out = String::new();
    for c in message.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    let mut out = out.trim_end_matches('_').to_owned();
    if out.len() > SLUG_LENGTH {
        out.truncate(SLUG_LENGTH);
        out = out.trim_end_matches('_').to_owned();
    }
    out
}

/// `2025_09_19_1400_859efdfc3f9f_initial_migration_setup.sql`
pub fn file_name(rev: &NewRevision) -> String {
    let t = rev.created.to_zoned(jiff::tz::TimeZone::UTC);
    let slug = slug(&rev.message);
    let mut name = format!(
        "{:04}_{:02}_{:02}_{:02}{:02}_{}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        rev.id
    );
    if !slug.is_empty() {
        name.push('_');
        name.push_str(&slug);
    }
    name.push_str(".sql");
    name
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

fn toml_array(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|s| toml_string(s)).collect();
    format!("[{}]", inner.join(", "))
}

/// The text of a new file. Merge revisions (two or more down revisions)
/// get empty sections: merging runs no SQL unless the user adds some.
/// A header in the SPEC §2 form; `created` (RFC 3339) and `message` are
/// left out when unknown.
pub fn render_header(
    id: &str,
    down_revisions: &[String],
    branch_labels: &[String],
    depends_on: &[String],
    message: Option<&str>,
    created: Option<&str>,
) -> String {
    let mut out = String::new();
    out.push_str(&format!("-- revision = {}\n", toml_string(id)));
    out.push_str(&format!(
        "-- down_revisions = {}\n",
        toml_array(down_revisions)
    ));
    out.push_str(&format!(
        "-- branch_labels = {}\n",
        toml_array(branch_labels)
    ));
    out.push_str(&format!("-- depends_on = {}\n", toml_array(depends_on)));
    if let Some(m) = message {
        out.push_str(&format!("-- message = {}\n", toml_string(m)));
    }
    if let Some(c) = created {
        out.push_str(&format!("-- created = {}\n", toml_string(c)));
    }
    out.push_str("-- transactional = true\n\n");
    out
}

/// The file name for a revision: braid's template when the creation time
/// is known, else `<revision>_<slug>.sql`.
pub fn file_name_for(id: &str, message: &str, created: Option<jiff::Timestamp>) -> String {
    match created {
        Some(created) => file_name(&NewRevision {
            id: id.to_owned(),
            down_revisions: Vec::new(),
            branch_labels: Vec::new(),
            depends_on: Vec::new(),
            message: message.to_owned(),
            created,
            up: String::new(),
            down: String::new(),
        }),
        None => {
            let slug = slug(message);
            if slug.is_empty() {
                format!("{id}.sql")
            } else {
                format!("{id}_{slug}.sql")
            }
        }
    }
}

/// The file's text for a new revision.
pub fn render_new(rev: &NewRevision) -> String {
    let created = rev.created.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut out = render_header(
        &rev.id,
        &rev.down_revisions,
        &rev.branch_labels,
        &rev.depends_on,
        Some(&rev.message),
        Some(&created),
    );
    if rev.down_revisions.len() > 1 {
        out.push_str("-- braid:up\n-- merges ");
        out.push_str(&rev.down_revisions.join(", "));
        out.push_str("; add SQL here only if the merge needs it\n\n-- braid:down\n");
    } else {
        out.push_str(&format!(
            "-- braid:up\n{}\n\n-- braid:down\n{}\n",
            rev.up, rev.down
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn sample() -> NewRevision {
        NewRevision {
            id: "859efdfc3f9f".into(),
            down_revisions: vec!["aaa".into()],
            branch_labels: vec!["core".into()],
            depends_on: vec![],
            message: "Initial migration: setup \"users\"!".into(),
            created: "2025-09-19T14:00:00Z".parse().unwrap(),
            up: String::new(),
            down: String::new(),
        }
    }

    #[test]
    fn file_name_follows_the_template() {
        assert_eq!(
            file_name(&sample()),
            "2025_09_19_1400_859efdfc3f9f_initial_migration_setup_users.sql"
        );
    }

    #[test]
    fn rendered_files_parse_back() {
        let text = render_new(&sample());
        let m = crate::migration::parse(Path::new("x.sql"), text.as_bytes()).unwrap();
        assert_eq!(m.id.as_str(), "859efdfc3f9f");
        assert_eq!(m.down_revisions[0].as_str(), "aaa");
        assert_eq!(
            m.message.as_deref(),
            Some("Initial migration: setup \"users\"!")
        );
        assert_eq!(m.created.as_deref(), Some("2025-09-19T14:00:00Z"));
        assert!(m.down.is_some());
    }
}

/// Rewrites the `down_revisions` entry of a file's header, keeping every
/// other byte of the file. `None` when the header has no such entry.
pub fn replace_down_revisions(source: &str, parents: &[String]) -> Option<String> {
    let mut out = String::with_capacity(source.len() + 32);
    let mut lines = source.split_inclusive('\n');
    let mut replaced = false;
    while let Some(line) = lines.next() {
        if !line.starts_with("--") || line.starts_with("-- braid:") {
            out.push_str(line);
            break;
        }
        let body = line[2..].trim_start();
        let is_key = body
            .strip_prefix("down_revisions")
            .is_some_and(|rest| rest.trim_start().starts_with('='));
        if replaced || !is_key {
            out.push_str(line);
            continue;
        }
        // The value may span lines: skip until its brackets balance.
        let mut depth = bracket_depth(body);
        while depth > 0 {
            match lines.next() {
                Some(more) => depth += bracket_depth(more.trim_start_matches('-')),
                None => return None,
            }
        }
        out.push_str(&format!("-- down_revisions = {}\n", toml_array(parents)));
        replaced = true;
    }
    for line in lines {
        out.push_str(line);
    }
    replaced.then_some(out)
}

/// `[` minus `]` outside strings.
fn bracket_depth(s: &str) -> i32 {
    let mut depth = 0;
    let mut in_str = false;
    let mut prev = ' ';
    for c in s.chars() {
        match c {
            '"' if prev != '\\' => in_str = !in_str,
            '[' if !in_str => depth += 1,
            ']' if !in_str => depth -= 1,
            '#' if !in_str => break,
            _ => {}
        }
        prev = c;
    }
    depth
}

#[cfg(test)]
mod rebase_tests {
    use super::*;

    #[test]
    fn only_the_down_revisions_entry_changes() {
        let src = "-- revision = \"x1\"\n-- down_revisions = [\"a1\"] # old\n-- message = \"m\"\n\n-- braid:up\nSELECT 1; -- down_revisions = [\"keep\"]\n";
        let out = replace_down_revisions(src, &["c9".into()]).unwrap();
        assert_eq!(
            out,
            "-- revision = \"x1\"\n-- down_revisions = [\"c9\"]\n-- message = \"m\"\n\n-- braid:up\nSELECT 1; -- down_revisions = [\"keep\"]\n"
        );
        let multi = "-- revision = \"x1\"\n-- down_revisions = [\n--   \"a1\",\n--   \"b1\",\n-- ]\n-- braid:up\n";
        let out = replace_down_revisions(multi, &["c9".into()]).unwrap();
        assert_eq!(
            out,
            "-- revision = \"x1\"\n-- down_revisions = [\"c9\"]\n-- braid:up\n"
        );
        assert!(replace_down_revisions("-- revision = \"x\"\n-- braid:up\n", &[]).is_none());
    }
}
