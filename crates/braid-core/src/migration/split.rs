//! Splits a section's SQL into statements, so that each runs on its own and
//! a failure names the statement and its line in the file.
//!
//! It knows the lexical rules that hide a `;`: quoted strings and
//! identifiers, `--` and `/* */` comments, PostgreSQL dollar quotes, and
//! the `BEGIN … END` body of a `CREATE TRIGGER`. It does not parse SQL.

/// One statement of a section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement<'a> {
    /// The statement's text, without the closing `;` and surrounding blanks.
    pub text: &'a str,
    /// The 1-based file line where it starts.
    pub line: usize,
}

/// The lexical rules of one SQL dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lexer {
    /// `$tag$ … $tag$` strings (PostgreSQL).
    pub dollar_quotes: bool,
    /// `\'` escapes a quote inside a string (MySQL).
    pub backslash_escapes: bool,
}

impl Lexer {
    /// PostgreSQL: dollar quoting.
    pub const POSTGRES: Lexer = Lexer {
        dollar_quotes: true,
        backslash_escapes: false,
    };
    /// MySQL: backslash escapes in strings.
    pub const MYSQL: Lexer = Lexer {
        dollar_quotes: false,
        backslash_escapes: true,
    };
    /// SQLite: plain quoting.
    pub const SQLITE: Lexer = Lexer {
        dollar_quotes: false,
        backslash_escapes: false,
    };
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Splits `sql`, which starts on file line `first_line`.
pub fn split<'a>(sql: &'a str, first_line: usize, lexer: Lexer) -> Vec<Statement<'a>> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    // Words seen at the top level of the current statement, upper-cased,
    // while deciding whether it is a trigger.
    let mut head_words: Vec<String> = Vec::new();
    let mut in_trigger = false;
    let mut depth: i32 = 0;

    let push = |from: usize, to: usize, out: &mut Vec<Statement<'a>>| {
        let text = sql[from..to].trim();
        if text.is_empty() || only_comments(text) {
            return;
        }
        let lead = sql[from..to].len() - sql[from..to].trim_start().len();
        // The statement's line is its first keyword's, past any comments
        // that lead it (an ignore mark, a note).
        let code = from + lead + code_offset(text);
        let line = first_line + sql[..code].matches('\n').count();
        out.push(Statement {
            text: &sql[from + lead..from + lead + text.len()],
            line,
        });
    };

    while i < bytes.len() {
        if let Some(next) = skip_opaque(sql, i, lexer) {
            i = next;
            continue;
        }
        let b = bytes[i];
        match b {
            b';' => {
                if in_trigger && depth > 0 {
                    i += 1;
                    continue;
                }
                push(start, i, &mut out);
                i += 1;
                start = i;
                head_words.clear();
                in_trigger = false;
                depth = 0;
            }
            _ if is_word_byte(b) && (i == 0 || !is_word_byte(bytes[i - 1])) => {
                let mut j = i;
                while j < bytes.len() && is_word_byte(bytes[j]) {
                    j += 1;
                }
                let word = sql[i..j].to_ascii_uppercase();
                if head_words.len() < 4 {
                    head_words.push(word.clone());
                    in_trigger = head_words.first().is_some_and(|w| w == "CREATE")
                        && head_words.iter().any(|w| w == "TRIGGER");
                }
                if in_trigger {
                    match word.as_str() {
                        "BEGIN" | "CASE" => depth += 1,
                        "END" => depth -= 1,
                        _ => {}
                    }
                }
                i = j;
            }
            _ => i += 1,
        }
    }
    push(start, bytes.len().min(sql.len()), &mut out);
    out
}

/// If a quoted string or identifier, a comment, or (PostgreSQL) a dollar
/// quote starts at byte `i`, the index just after it: nothing inside one
/// is SQL structure.
pub fn skip_opaque(sql: &str, i: usize, lexer: Lexer) -> Option<usize> {
    let bytes = sql.as_bytes();
    let end = |j: usize| Some(j.min(bytes.len()));
    match bytes[i] {
        q @ (b'\'' | b'"' | b'`') => {
            let mut j = i + 1;
            while j < bytes.len() {
                if lexer.backslash_escapes && bytes[j] == b'\\' && q == b'\'' {
                    j += 2;
                    continue;
                }
                if bytes[j] == q {
                    if bytes.get(j + 1) == Some(&q) {
                        j += 2;
                        continue;
                    }
                    break;
                }
                j += 1;
            }
            end(j + 1)
        }
        b'-' if bytes.get(i + 1) == Some(&b'-') => {
            end(sql[i..].find('\n').map_or(bytes.len(), |n| i + n))
        }
        b'/' if bytes.get(i + 1) == Some(&b'*') => end(sql[i + 2..]
            .find("*/")
            .map_or(bytes.len(), |n| i + 2 + n + 2)),
        b'$' if lexer.dollar_quotes => {
            // `$tag$` where tag is empty or an identifier not starting with
            // a digit (`$1` is a parameter).
            let mut j = i + 1;
            while j < bytes.len() && is_word_byte(bytes[j]) {
                j += 1;
            }
            let tag_ok = j < bytes.len()
                && bytes[j] == b'$'
                && !bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
            if !tag_ok {
                return None;
            }
            let tag = &sql[i..=j];
            end(sql[j + 1..]
                .find(tag)
                .map_or(bytes.len(), |n| j + 1 + n + tag.len()))
        }
        _ => None,
    }
}

/// The upper-cased words of a statement, outside quotes and comments.
pub fn words(stmt: &str, lexer: Lexer) -> Vec<String> {
    let bytes = stmt.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if let Some(next) = skip_opaque(stmt, i, lexer) {
            i = next;
        } else if is_word_byte(bytes[i]) {
            let start = i;
            while i < bytes.len() && is_word_byte(bytes[i]) {
                i += 1;
            }
            out.push(stmt[start..i].to_ascii_uppercase());
        } else {
            i += 1;
        }
    }
    out
}

impl<'a> Statement<'a> {
    /// The comments before the statement's first keyword.
    pub fn leading_comments(&self) -> &'a str {
        &self.text[..code_offset(self.text)]
    }

    /// The statement without the comments that lead it.
    pub fn code(&self) -> &'a str {
        &self.text[code_offset(self.text)..]
    }
}

/// Where the SQL of `text` starts, past blanks and comments.
fn code_offset(text: &str) -> usize {
    let rest = skip_comments(text);
    text.len() - rest.len()
}

/// Whether `text` holds nothing but comments and blanks.
fn only_comments(text: &str) -> bool {
    skip_comments(text).is_empty()
}

/// `text` past the blanks and comments that lead it.
fn skip_comments(text: &str) -> &str {
    let mut rest = text.trim_start();
    loop {
        if rest.is_empty() {
            return rest;
        }
        if let Some(r) = rest.strip_prefix("--") {
            rest = r
                .split_once('\n')
                .map_or("", |(_, after)| after)
                .trim_start();
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r
                .split_once("*/")
                .map_or("", |(_, after)| after)
                .trim_start();
        } else {
            return rest;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str, lexer: Lexer) -> Vec<(String, usize)> {
        split(sql, 10, lexer)
            .into_iter()
            .map(|s| (s.text.to_owned(), s.line))
            .collect()
    }

    #[test]
    fn splits_on_semicolons_with_lines() {
        let t = texts(
            "CREATE TABLE a (x int);\n\nINSERT INTO a VALUES (1);\n",
            Lexer::SQLITE,
        );
        assert_eq!(
            t,
            [
                ("CREATE TABLE a (x int)".to_owned(), 10),
                ("INSERT INTO a VALUES (1)".to_owned(), 12)
            ]
        );
    }

    #[test]
    fn semicolons_in_strings_comments_and_dollar_quotes_do_not_split() {
        let sql = "INSERT INTO a VALUES ('x;y', \"q;\");\n-- a; comment\n/* b; */ SELECT 1;\nCREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;";
        let t = texts(sql, Lexer::POSTGRES);
        assert_eq!(t.len(), 3, "{t:?}");
        assert!(t[2].0.ends_with("LANGUAGE sql"));
        // A statement's line is its first keyword's, not its comment's.
        assert_eq!(t[1].1, 12);
        let stmts = split(sql, 10, Lexer::POSTGRES);
        assert_eq!(stmts[1].code(), "SELECT 1");
        assert_eq!(stmts[1].leading_comments(), "-- a; comment\n/* b; */ ");
    }

    #[test]
    fn trigger_bodies_stay_whole() {
        let sql = "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE b SET n = n + 1;\n  DELETE FROM c;\nEND;\nSELECT 2;";
        let t = texts(sql, Lexer::SQLITE);
        assert_eq!(t.len(), 2, "{t:?}");
        assert!(t[0].0.ends_with("END"));
    }

    #[test]
    fn comment_only_sections_have_no_statements() {
        assert!(texts("-- nothing here\n\n/* nor here */\n", Lexer::SQLITE).is_empty());
        assert!(texts("", Lexer::SQLITE).is_empty());
    }

    #[test]
    fn mysql_backslash_escapes() {
        let t = texts(
            "INSERT INTO a VALUES ('it\\'s; fine');SELECT 1",
            Lexer::MYSQL,
        );
        assert_eq!(t.len(), 2, "{t:?}");
    }
}
