//! Writes new migration files (plain revisions and merges) in the SPEC §2
//! format, with the default file name template
//! `YYYY_MM_DD_HHMM_<revision>_<slug>.sql`.

/// What a new file declares.
#[derive(Debug, Clone)]
pub struct NewRevision {
    pub id: String,
    pub down_revisions: Vec<String>,
    pub branch_labels: Vec<String>,
    pub depends_on: Vec<String>,
    pub message: String,
    pub created: jiff::Timestamp,
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
pub fn render_new(rev: &NewRevision) -> String {
    let created = rev.created.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut out = String::new();
    out.push_str(&format!("-- revision = {}\n", toml_string(&rev.id)));
    out.push_str(&format!(
        "-- down_revisions = {}\n",
        toml_array(&rev.down_revisions)
    ));
    out.push_str(&format!(
        "-- branch_labels = {}\n",
        toml_array(&rev.branch_labels)
    ));
    out.push_str(&format!(
        "-- depends_on = {}\n",
        toml_array(&rev.depends_on)
    ));
    out.push_str(&format!("-- message = {}\n", toml_string(&rev.message)));
    out.push_str(&format!("-- created = {}\n", toml_string(&created)));
    out.push_str("-- transactional = true\n\n");
    if rev.down_revisions.len() > 1 {
        out.push_str("-- braid:up\n-- merges ");
        out.push_str(&rev.down_revisions.join(", "));
        out.push_str("; add SQL here only if the merge needs it\n\n-- braid:down\n");
    } else {
        out.push_str("-- braid:up\n\n\n-- braid:down\n\n");
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
