//! Renames are never guessed: the desired schema declares them with
//! `-- braid:renamed-from OLD` on the line of a `CREATE TABLE` (the table
//! was called OLD) or of a column inside one (the column was).

/// The renames a desired schema declares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Renames {
    /// (old name, new name).
    pub tables: Vec<(String, String)>,
    /// (table, old column name, new column name).
    pub columns: Vec<(String, String, String)>,
}

const MARK: &str = "-- braid:renamed-from";

fn unquote(ident: &str) -> String {
    let t = ident.trim_matches(|c| c == ',' || c == '(');
    let t = t.rsplit('.').next().unwrap_or(t);
    t.trim_matches(|c| c == '"' || c == '`' || c == '[' || c == ']')
        .to_owned()
}

/// The table a `CREATE TABLE` line names.
fn created_table(line: &str) -> Option<String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let upper: Vec<String> = words.iter().map(|w| w.to_uppercase()).collect();
    let at = upper.iter().position(|w| w == "TABLE")?;
    if upper.first().map(String::as_str) != Some("CREATE") {
        return None;
    }
    let mut i = at + 1;
    if upper.get(i).map(String::as_str) == Some("IF") {
        i += 3;
    }
    let name = words.get(i)?;
    let name = name.split('(').next().unwrap_or(name);
    Some(unquote(name))
}

impl Renames {
    /// Reads the annotations of one desired file.
    pub fn parse(sql: &str) -> Renames {
        let mut r = Renames::default();
        let mut table: Option<String> = None;
        for line in sql.lines() {
            let (code, comment) = match line.find(MARK) {
                Some(at) => (&line[..at], Some(line[at + MARK.len()..].trim())),
                None => (line, None),
            };
            if let Some(t) = created_table(code) {
                if let Some(old) = comment.and_then(|c| c.split_whitespace().next()) {
                    r.tables.push((unquote(old), t.clone()));
                }
                table = Some(t);
                continue;
            }
            if let (Some(t), Some(old)) =
                (&table, comment.and_then(|c| c.split_whitespace().next()))
                && let Some(col) = code.split_whitespace().next()
            {
                r.columns.push((t.clone(), unquote(old), unquote(col)));
            }
        }
        r
    }

    /// Adds `other`'s renames.
    pub fn extend(&mut self, other: Renames) {
        self.tables.extend(other.tables);
        self.columns.extend(other.columns);
    }

    /// The old name of table `new`, when it was renamed.
    pub fn table_source(&self, new: &str) -> Option<&str> {
        self.tables
            .iter()
            .find(|(_, n)| n == new)
            .map(|(o, _)| o.as_str())
    }

    /// The old name of column `new` of table `table`, when it was renamed.
    pub fn column_source(&self, table: &str, new: &str) -> Option<&str> {
        self.columns
            .iter()
            .find(|(t, _, n)| t == table && n == new)
            .map(|(_, o, _)| o.as_str())
    }

    /// The same renames, the other way (for the down direction).
    pub fn reversed(&self) -> Renames {
        Renames {
            tables: self
                .tables
                .iter()
                .map(|(o, n)| (n.clone(), o.clone()))
                .collect(),
            columns: self
                .columns
                .iter()
                .map(|(t, o, n)| {
                    // In the old schema the table may have its old name.
                    let table = self
                        .tables
                        .iter()
                        .find(|(_, new)| new == t)
                        .map_or(t.clone(), |(old, _)| old.clone());
                    (table, n.clone(), o.clone())
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_on_tables_and_columns() {
        let r = Renames::parse(
            "CREATE TABLE accounts ( -- braid:renamed-from users\n    id integer PRIMARY KEY,\n    \"mail\" text NOT NULL, -- braid:renamed-from email\n    name text\n);\nCREATE TABLE IF NOT EXISTS x (\n  a int -- braid:renamed-from b\n);\n",
        );
        assert_eq!(r.table_source("accounts"), Some("users"));
        assert_eq!(r.column_source("accounts", "mail"), Some("email"));
        assert_eq!(r.column_source("x", "a"), Some("b"));
        assert_eq!(r.column_source("accounts", "name"), None);
        let back = r.reversed();
        assert_eq!(back.table_source("users"), Some("accounts"));
        assert_eq!(back.column_source("users", "email"), Some("mail"));
    }
}
