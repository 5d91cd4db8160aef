//! A reader of the little Python that Alembic revision files declare
//! themselves with: the module docstring and module-level assignments of
//! literals (`revision = "x"`, `down_revision: Union[str, None] = ("a",
//! "b")`). Nothing is run: revision files import the project's own code.
//!
//! It tokenizes the whole module (strings in every quoting, comments,
//! brackets across lines, backslash continuations) so that a statement is
//! found wherever Python would see one, and evaluates only string, `None`,
//! tuple and list literals; a name (`cli.EXPAND_BRANCH`) is kept as a name
//! for the caller to resolve or report. No crate parses Python and stays
//! small: the full parsers (rustpython-parser, ruff's) bring a whole
//! compiler front end for four assignments.

/// A literal value, or a name the module refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A string.
    Str(String),
    /// `None`.
    None,
    /// A tuple or list.
    List(Vec<Value>),
    /// A name or dotted name (`cli.EXPAND_BRANCH`).
    Name(String),
    /// Anything else, as written.
    Other(String),
}

/// A module-level assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The name assigned.
    pub name: String,
    /// The value.
    pub value: Value,
    /// The 1-based line of the assignment.
    pub line: usize,
}

/// What a module declares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Module {
    /// The module's docstring.
    pub docstring: Option<String>,
    /// Its literal assignments, in order.
    pub assignments: Vec<Assignment>,
}

impl Module {
    /// The last assignment to `name`.
    pub fn get(&self, name: &str) -> Option<&Assignment> {
        // The last assignment wins, as in Python.
        self.assignments.iter().rev().find(|a| a.name == name)
    }
}

/// A syntax error, with its line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct PyError {
    /// The line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    Str(String),
    Op(char),
    /// Numbers and other operators: text kept for messages.
    Other(String),
    /// The end of a logical line.
    Newline,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
    /// Whether the token starts a logical line at column 0.
    at_margin: bool,
}

fn unescape(raw: &str, line: usize) -> Result<String, PyError> {
    let mut out = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            out.push('\\');
            break;
        };
        match e {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            '0' => out.push('\0'),
            '\\' => out.push('\\'),
            '\'' => out.push('\''),
            '"' => out.push('"'),
            '\n' => {}
            'x' | 'u' | 'U' => {
                let n = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let hex: String = (0..n).filter_map(|_| chars.next()).collect();
                let ch = u32::from_str_radix(&hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| PyError {
                        line,
                        message: format!("invalid escape `\\{e}{hex}`"),
                    })?;
                out.push(ch);
            }
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    Ok(out)
}

fn tokenize(src: &str) -> Result<Vec<Token>, PyError> {
    let b = src.as_bytes();
    let mut out: Vec<Token> = Vec::new();
    let (mut i, mut line, mut depth) = (0usize, 1usize, 0i32);
    // The lines where the brackets still open were opened.
    let mut opened: Vec<usize> = Vec::new();
    let mut line_start = true;
    let mut margin = true;
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            if depth == 0 && out.last().is_some_and(|t| t.tok != Tok::Newline) {
                out.push(Token {
                    tok: Tok::Newline,
                    line,
                    at_margin: false,
                });
            }
            line += 1;
            i += 1;
            if depth == 0 {
                line_start = true;
                margin = true;
            }
            continue;
        }
        if c == b'\\' && b.get(i + 1) == Some(&b'\n') {
            line += 1;
            i += 2;
            continue;
        }
        if c == b' ' || c == b'\t' || c == b'\r' || c == b'\x0c' {
            if line_start {
                margin = false;
            }
            i += 1;
            continue;
        }
        if c == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let at_margin = line_start && margin;
        line_start = false;
        // A string, with any prefix (r, u, b, f, rb, br…).
        let mut j = i;
        while j < b.len() && j - i < 2 && b"rRuUbBfF".contains(&b[j]) {
            j += 1;
        }
        if j < b.len() && (b[j] == b'\'' || b[j] == b'"') {
            let raw = src[i..j].to_ascii_lowercase().contains('r');
            let q = b[j];
            let triple = b.get(j + 1) == Some(&q) && b.get(j + 2) == Some(&q);
            let start_line = line;
            let body_start = if triple { j + 3 } else { j + 1 };
            let mut k = body_start;
            let end;
            loop {
                if k >= b.len() {
                    return Err(PyError {
                        line: start_line,
                        message: "string not closed".into(),
                    });
                }
                if b[k] == b'\\' {
                    if b.get(k + 1) == Some(&b'\n') {
                        line += 1;
                    }
                    k += 2;
                    continue;
                }
                if b[k] == b'\n' {
                    if !triple {
                        return Err(PyError {
                            line: start_line,
                            message: "string not closed on its line".into(),
                        });
                    }
                    line += 1;
                }
                if b[k] == q && (!triple || (b.get(k + 1) == Some(&q) && b.get(k + 2) == Some(&q)))
                {
                    end = k;
                    break;
                }
                k += 1;
            }
            let body = &src[body_start..end];
            let value = if raw {
                body.to_owned()
            } else {
                unescape(body, start_line)?
            };
            out.push(Token {
                tok: Tok::Str(value),
                line: start_line,
                at_margin,
            });
            i = end + if triple { 3 } else { 1 };
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            let mut k = i;
            while k < b.len()
                && (b[k].is_ascii_alphanumeric() || b[k] == b'_' || b[k] == b'.' || b[k] >= 0x80)
            {
                k += 1;
            }
            out.push(Token {
                tok: Tok::Name(src[i..k].to_owned()),
                line,
                at_margin,
            });
            i = k;
            continue;
        }
        match c {
            b'(' | b'[' | b'{' => {
                depth += 1;
                opened.push(line);
            }
            b')' | b']' | b'}' => {
                depth -= 1;
                opened.pop();
            }
            _ => {}
        }
        let tok = match c {
            b'(' | b')' | b'[' | b']' | b'{' | b'}' | b',' | b':' | b'=' => Tok::Op(c as char),
            _ => {
                // `==`, `->`, numbers…: whole runs of one kind.
                let mut k = i + 1;
                while k < b.len() && b[k].is_ascii_alphanumeric() {
                    k += 1;
                }
                let t = Tok::Other(src[i..k.max(i + 1)].to_owned());
                out.push(Token {
                    tok: t,
                    line,
                    at_margin,
                });
                i = k.max(i + 1);
                continue;
            }
        };
        // `==` is not an assignment.
        if tok == Tok::Op('=') && b.get(i + 1) == Some(&b'=') {
            out.push(Token {
                tok: Tok::Other("==".into()),
                line,
                at_margin,
            });
            i += 2;
            continue;
        }
        out.push(Token {
            tok,
            line,
            at_margin,
        });
        i += 1;
    }
    if depth > 0 {
        // Where the bracket was opened, as Python says it.
        return Err(PyError {
            line: opened.last().copied().unwrap_or(line),
            message: "a bracket is not closed".into(),
        });
    }
    Ok(out)
}

/// Evaluates a literal expression.
fn value(toks: &[Token]) -> Value {
    let text = || {
        toks.iter()
            .map(|t| match &t.tok {
                Tok::Name(n) | Tok::Other(n) => n.clone(),
                Tok::Str(s) => format!("{s:?}"),
                Tok::Op(c) => c.to_string(),
                Tok::Newline => String::new(),
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    match toks {
        [] => Value::Other(String::new()),
        _ if toks.iter().all(|t| matches!(t.tok, Tok::Str(_))) => Value::Str(
            toks.iter()
                .map(|t| match &t.tok {
                    Tok::Str(s) => s.as_str(),
                    _ => "",
                })
                .collect(),
        ),
        [t] => match &t.tok {
            Tok::Name(n) if n == "None" => Value::None,
            Tok::Name(n) => Value::Name(n.clone()),
            _ => Value::Other(text()),
        },
        [first, inner @ .., last]
            if matches!(
                (&first.tok, &last.tok),
                (Tok::Op('('), Tok::Op(')')) | (Tok::Op('['), Tok::Op(']'))
            ) =>
        {
            let mut items = Vec::new();
            let mut depth = 0;
            let mut start = 0;
            let mut had_comma = false;
            for (k, t) in inner.iter().enumerate() {
                match t.tok {
                    Tok::Op('(') | Tok::Op('[') | Tok::Op('{') => depth += 1,
                    Tok::Op(')') | Tok::Op(']') | Tok::Op('}') => depth -= 1,
                    Tok::Op(',') if depth == 0 => {
                        items.push(value(&inner[start..k]));
                        start = k + 1;
                        had_comma = true;
                    }
                    _ => {}
                }
            }
            if start < inner.len() {
                items.push(value(&inner[start..]));
            }
            if first.tok == Tok::Op('(') && !had_comma {
                // Parentheses around one value.
                return items.pop().unwrap_or(Value::List(Vec::new()));
            }
            Value::List(items)
        }
        _ => Value::Other(text()),
    }
}

/// Reads a module's docstring and its module-level assignments.
pub fn read_module(src: &str) -> Result<Module, PyError> {
    let toks = tokenize(src)?;
    let mut module = Module::default();
    let mut statements: Vec<&[Token]> = Vec::new();
    let mut start = 0;
    for (k, t) in toks.iter().enumerate() {
        if t.tok == Tok::Newline {
            if k > start {
                statements.push(&toks[start..k]);
            }
            start = k + 1;
        }
    }
    if start < toks.len() {
        statements.push(&toks[start..]);
    }
    for (index, stmt) in statements.iter().enumerate() {
        if index == 0
            && stmt.iter().all(|t| matches!(t.tok, Tok::Str(_)))
            && let Value::Str(s) = value(stmt)
        {
            module.docstring = Some(s);
            continue;
        }
        let Some(first) = stmt.first() else { continue };
        let Tok::Name(name) = &first.tok else {
            continue;
        };
        if !first.at_margin || name.contains('.') {
            continue;
        }
        // `name = value` or `name: annotation = value`.
        let eq = match stmt.get(1).map(|t| &t.tok) {
            Some(Tok::Op('=')) => Some(1),
            Some(Tok::Op(':')) => {
                let mut depth = 0;
                stmt.iter()
                    .enumerate()
                    .skip(2)
                    .find_map(|(k, t)| match t.tok {
                        Tok::Op('(') | Tok::Op('[') | Tok::Op('{') => {
                            depth += 1;
                            None
                        }
                        Tok::Op(')') | Tok::Op(']') | Tok::Op('}') => {
                            depth -= 1;
                            None
                        }
                        Tok::Op('=') if depth == 0 => Some(k),
                        _ => None,
                    })
            }
            _ => None,
        };
        let Some(eq) = eq else { continue };
        module.assignments.push(Assignment {
            name: name.clone(),
            value: value(&stmt[eq + 1..]),
            line: first.line,
        });
    }
    Ok(module)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(src: &str, name: &str) -> Value {
        read_module(src).unwrap().get(name).unwrap().value.clone()
    }

    #[test]
    fn the_literal_forms_alembic_projects_write() {
        assert_eq!(
            get("revision = 'abc'\n", "revision"),
            Value::Str("abc".into())
        );
        assert_eq!(
            get("revision = \"abc\"\n", "revision"),
            Value::Str("abc".into())
        );
        assert_eq!(
            get("revision: str = \"kilo\"\n", "revision"),
            Value::Str("kilo".into())
        );
        assert_eq!(
            get(
                "down_revision: Union[str, Sequence[str], None] = (\"a\", 'b')\n",
                "down_revision"
            ),
            Value::List(vec![Value::Str("a".into()), Value::Str("b".into())])
        );
        assert_eq!(get("down_revision = None\n", "down_revision"), Value::None);
        assert_eq!(
            get("down_revision = ['a',\n    'b',\n]\n", "down_revision"),
            Value::List(vec![Value::Str("a".into()), Value::Str("b".into())])
        );
        assert_eq!(
            get("branch_labels = ('x',)\n", "branch_labels"),
            Value::List(vec![Value::Str("x".into())])
        );
        assert_eq!(
            get("branch_labels = ('x')\n", "branch_labels"),
            Value::Str("x".into())
        );
        assert_eq!(
            get("depends_on = 'ab' \"cd\"\n", "depends_on"),
            Value::Str("abcd".into())
        );
        assert_eq!(
            get("revision = (\n    'ab'\n    'cd'\n)\n", "revision"),
            Value::Str("abcd".into())
        );
        assert_eq!(
            get("branch_labels = (cli.EXPAND_BRANCH,)\n", "branch_labels"),
            Value::List(vec![Value::Name("cli.EXPAND_BRANCH".into())])
        );
        assert_eq!(
            get("revision = r'a\\b'\n", "revision"),
            Value::Str("a\\b".into())
        );
        assert_eq!(
            get("revision = 'a\\'b'\n", "revision"),
            Value::Str("a'b".into())
        );
        assert_eq!(
            get("revision = u'\\u00e9'\n", "revision"),
            Value::Str("é".into())
        );
        assert_eq!(get("x = 1 + 2\n", "x"), Value::Other("1 + 2".into()));
    }

    #[test]
    fn statements_are_found_where_python_sees_them() {
        let m = read_module(
            "\"\"\"add users\n\nRevision ID: abc\nRevises: \nCreate Date: 2025-09-19 14:00:00.1\n\n\"\"\"\nfrom alembic import op  # revision = 'no'\nimport sqlalchemy as sa\n\nrevision = 'abc'  # the real one\ndown_revision = None\n\ndef upgrade():\n    revision = 'inner'\n    op.execute(\"\"\"\nrevision = 'in a string'\n\"\"\")\n\nx = {'revision': 'dict'}\n",
        )
        .unwrap();
        assert!(m.docstring.as_deref().unwrap().starts_with("add users\n"));
        assert_eq!(m.get("revision").unwrap().value, Value::Str("abc".into()));
        assert_eq!(m.get("revision").unwrap().line, 11);
        assert_eq!(
            m.assignments
                .iter()
                .filter(|a| a.name == "revision")
                .count(),
            1
        );
    }

    #[test]
    fn syntax_errors_carry_their_line() {
        let e = read_module("revision = 'abc'\ndown_revision = ('x'\n").unwrap_err();
        assert!(e.message.contains("bracket"), "{e}");
        let e = read_module("a = 1\nrevision = 'abc\n").unwrap_err();
        assert_eq!(e.line, 2);
    }
}
