//! Command errors: what went wrong, where, why and what to do, printed as
//! `error:`, `  --> file:line:col`, `caused by:` and `hint:` lines on
//! stderr, with exit code 1.

use std::io::Write;

use braid::config::ConfigError;
use braid::db::DbError;
use braid::execute::ExecuteError;
use braid::history::HistoryError;
use braid::target::TargetError;

/// One error to show the user, possibly with more after it.
#[derive(Debug, Default)]
pub struct CommandError {
    pub message: String,
    pub location: Option<String>,
    pub causes: Vec<String>,
    pub hints: Vec<String>,
    /// Errors shown before this one (each problem of a batch).
    pub before: Vec<CommandError>,
    /// Exit 1 without a message (`diff --exit-code`: the answer, not an
    /// error).
    pub silent: bool,
}

impl CommandError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            ..Default::default()
        }
    }

    pub fn at(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self
    }

    pub fn cause(mut self, cause: impl Into<String>) -> Self {
        self.causes.push(cause.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    pub fn quiet_exit(mut self) -> Self {
        self.silent = true;
        self
    }

    pub fn print(&self, out: &mut dyn Write) {
        if self.silent {
            return;
        }
        for b in &self.before {
            b.print(out);
        }
        let _ = writeln!(out, "error: {}", self.message);
        if let Some(loc) = &self.location {
            let _ = writeln!(out, "  --> {loc}");
        }
        for c in &self.causes {
            let _ = writeln!(out, "caused by: {c}");
        }
        for h in &self.hints {
            let _ = writeln!(out, "hint: {h}");
        }
    }
}

impl From<HistoryError> for CommandError {
    fn from(e: HistoryError) -> Self {
        let summary = e.to_string();
        let before = match e {
            HistoryError::Load(errors) => errors
                .0
                .into_iter()
                .map(|l| {
                    let loc = l.location();
                    CommandError::new(l.message).at(loc)
                })
                .collect(),
            HistoryError::Graph(problems) => problems
                .into_iter()
                .map(|p| {
                    let mut c = CommandError::new(p.problem.to_string());
                    let mut locations = p.locations().into_iter();
                    if let Some(first) = locations.next() {
                        c = c.at(first);
                    }
                    for other in locations {
                        c = c.cause(format!("see also {other}"));
                    }
                    c
                })
                .collect(),
        };
        CommandError {
            message: summary,
            before,
            ..Default::default()
        }
    }
}

impl From<TargetError> for CommandError {
    fn from(e: TargetError) -> Self {
        let hints = e.hints();
        CommandError {
            message: e.to_string(),
            hints,
            ..Default::default()
        }
    }
}

impl From<ConfigError> for CommandError {
    fn from(e: ConfigError) -> Self {
        CommandError::new(e.to_string())
    }
}

/// A failure to connect, naming the database without its password.
pub fn connect_error(url: &str, e: DbError) -> CommandError {
    CommandError::new(format!("cannot connect to {url}"))
        .cause(e.message)
        .hint("check the URL (--url, DATABASE_URL, the DATABASE_* variables or braid.toml) and that the server is running")
}

impl From<ExecuteError> for CommandError {
    fn from(e: ExecuteError) -> Self {
        let message = e.to_string();
        match e {
            ExecuteError::Target(t) => t.into(),
            ExecuteError::Database { source, .. } => {
                let mut c = CommandError::new(message);
                if let Some(code) = source.code {
                    c = c.cause(format!("database error code {code}"));
                }
                c
            }
            ExecuteError::UnknownRecorded { .. } => CommandError::new(message).hint(
                "restore the missing files, or record a known revision with `braid stamp REV --purge`",
            ),
            ExecuteError::Irreversible(i) => {
                CommandError::new(message).at(i.path.display().to_string()).hint(
                    "add a `-- braid:down` section, or stamp past it with `braid stamp` if the change may stay",
                )
            }
            ExecuteError::Untranslated(u) => CommandError::new(message)
                .at(format!("{}:{}", u.path.display(), u.line))
                .hint("write its SQL in the `-- braid:up` and `-- braid:down` sections, then remove the `-- braid:untranslated` line"),
            ExecuteError::Changed { files } => {
                let mut c = CommandError::new(message);
                for f in &files {
                    c = c.cause(format!(
                        "{} ({}): recorded {}, now {}",
                        f.revision,
                        f.path.display(),
                        f.recorded,
                        f.current
                    ));
                }
                c.hint("restore the files as they ran, or accept their new content with `braid accept`")
            }
            ExecuteError::Blocked { row } => CommandError::new(message).hint(format!(
                "look at the database, finish or undo the revision's statements by hand, then run `braid resolve {} --applied` or `braid resolve {} --reverted`",
                row.revision, row.revision
            )),
            ExecuteError::StepFailed {
                path,
                line,
                statement,
                source,
                rolled_back,
                resumable,
                completed,
                revision,
                ..
            } => {
                let mut c = CommandError::new(message).at(format!("{}:{line}", path.display()));
                c = c.cause(format!("statement: {}", one_line(&statement)));
                c = c.cause(match &source.code {
                    Some(code) => format!("database: {} (code {code})", source.message),
                    None => format!("database: {}", source.message),
                });
                let state = if completed.is_empty() {
                    "no revision was completed by this run".to_owned()
                } else {
                    format!(
                        "this run completed {} before it: {}",
                        completed.len(),
                        completed.join(", ")
                    )
                };
                if rolled_back {
                    c.hint(format!(
                        "`{revision}` was rolled back; the database is at the last revision that succeeded ({state})"
                    ))
                } else if resumable {
                    c.hint(format!(
                        "`{revision}` runs outside a transaction: the statements before this one completed and are recorded ({state}); fix the cause and run the command again, unchanged file, to continue at this statement, or settle it by hand with `braid resolve {revision} --applied` or `--reverted`"
                    ))
                } else {
                    c.hint(format!(
                        "`{revision}` ran outside a transaction and may be partly applied ({state}); fix the database, then run `braid resolve {revision} --applied` or `--reverted`"
                    ))
                }
            }
            ExecuteError::NothingToResolve(_) => CommandError::new(message),
            ExecuteError::Interrupted { .. } => CommandError::new(message),
            ExecuteError::Lint(lints) => CommandError {
                message,
                before: lints.iter().map(lint_error).collect(),
                ..Default::default()
            },
            // The findings themselves were printed as the plan was linted;
            // the error says what stopped the run.
            ExecuteError::Unsafe(_) => {
                CommandError::new(message).hint(
                    "follow each fix, or silence a finding with `-- braid:lint-ignore RULE REASON` before its statement; `[lint] upgrade = \"warn\"` lets upgrade run anyway",
                )
            }
        }
    }
}

impl From<braid::history::Irreversible> for CommandError {
    fn from(e: braid::history::Irreversible) -> Self {
        ExecuteError::Irreversible(e).into()
    }
}

/// One lint finding as an error block.
pub fn lint_error(l: &braid::lint::Lint) -> CommandError {
    CommandError::new(l.message.clone()).at(format!("{}:{}", l.path.display(), l.line))
}

/// Prints a lint warning on stderr.
pub fn print_warning(l: &braid::lint::Lint, out: &mut dyn Write) {
    let _ = writeln!(out, "warning: {}", l.message);
    let _ = writeln!(out, "  --> {}:{}", l.path.display(), l.line);
}

/// A statement on one line, shortened for a message.
fn one_line(s: &str) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 200 {
        let cut: String = flat.chars().take(200).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

/// A safety finding as rustc prints a diagnostic: the rule, the message,
/// where, the statement, the table's size and the fix.
pub fn finding_text(f: &braid::lint::safety::Finding) -> String {
    use std::fmt::Write as _;
    let mut s = format!("{}[{}]: {}\n", f.severity.as_str(), f.rule, f.message);
    let width = f.line.to_string().len();
    let pad = " ".repeat(width);
    let _ = writeln!(
        s,
        "{pad}--> {}:{} (revision {}, {})",
        f.file.display(),
        f.line,
        f.revision,
        f.direction
    );
    if !f.statement.is_empty() {
        let _ = writeln!(s, "{pad} |");
        let _ = writeln!(s, "{} | {}", f.line, f.statement);
        let _ = writeln!(s, "{pad} |");
    }
    if let Some(t) = &f.table {
        let size = match (f.rows, f.bytes) {
            (Some(r), Some(b)) => format!(": about {} rows, {}", group(r), bytes(b)),
            (Some(r), None) => format!(": about {} rows", group(r)),
            (None, Some(b)) => format!(": {} (rows not estimated yet: run ANALYZE)", bytes(b)),
            (None, None) => String::new(),
        };
        let _ = writeln!(s, "{pad} = table: {t}{size}");
    }
    let _ = writeln!(s, "{pad} = fix: {}", f.fix);
    s
}

/// 1234567 → 1,234,567.
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

impl From<braid::schema::scratch::ScratchError> for CommandError {
    fn from(e: braid::schema::scratch::ScratchError) -> Self {
        let hints = e.hints();
        let mut err = CommandError::new(e.to_string());
        err.hints = hints;
        err
    }
}

impl From<braid::verify::VerifyError> for CommandError {
    fn from(e: braid::verify::VerifyError) -> Self {
        use braid::verify::VerifyError;
        match e {
            VerifyError::Execute(e) => e.into(),
            VerifyError::Target(e) => e.into(),
            e => CommandError::new(e.to_string()),
        }
    }
}

impl From<braid::schema::DumpError> for CommandError {
    fn from(e: braid::schema::DumpError) -> Self {
        match &e {
            braid::schema::DumpError::Read(db) => {
                CommandError::new(e.to_string()).cause(db.message.clone())
            }
            braid::schema::DumpError::Write { .. } => CommandError::new(e.to_string()),
        }
    }
}

impl From<braid::authoring::AuthorError> for CommandError {
    fn from(e: braid::authoring::AuthorError) -> Self {
        let hint = matches!(e, braid::authoring::AuthorError::NotConfigured(_));
        let err = CommandError::new(e.to_string());
        if hint {
            err.hint("add it to `[migrations] directories` in braid.toml")
        } else {
            err
        }
    }
}

/// How a desired-state file or a script's proof failed.
impl From<braid::autogen::AutogenError> for CommandError {
    fn from(e: braid::autogen::AutogenError) -> Self {
        use braid::autogen::AutogenError;
        match e {
        AutogenError::Statement {
            path,
            line,
            statement,
            error,
        } => CommandError::new(format!("the desired schema does not build: {}", error.message))
            .at(format!("{}:{line}", path.display()))
            .cause(format!("statement: {}", statement.trim())),
        AutogenError::Apply {
            direction,
            statement,
            error,
        } => CommandError::new(format!(
            "braid cannot express this change: the generated {direction} script fails on a scratch database: {}",
            error.message
        ))
        .cause(format!("statement: {statement}")),
        AutogenError::NotProven {
            direction,
            differences,
        } => {
            let mut e = CommandError::new(format!(
                "braid cannot express this change: the generated {direction} script, applied on a scratch database, does not reach the schema it should"
            ));
            e.causes = differences;
            e
        }
        e => CommandError::new(e.to_string()),
    }
    }
}

impl From<braid::schema::source::SourceError> for CommandError {
    fn from(e: braid::schema::source::SourceError) -> Self {
        use braid::schema::source::SourceError;
        let message = e.to_string();
        match e {
            SourceError::NoDesired => CommandError::new(message).hint(
                "list its files or directories in `[schema] desired = [\"schema\"]` in braid.toml",
            ),
            SourceError::Connect { error, .. }
            | SourceError::Read { error, .. }
            | SourceError::ReadScratch(error)
            | SourceError::Prepare { error, .. }
            | SourceError::Drop(error) => CommandError::new(message).cause(error.message),
            SourceError::Target(e) => e.into(),
            SourceError::Execute(e) => braid::verify::VerifyError::from(e).into(),
            SourceError::Scratch(e) => e.into(),
            SourceError::Autogen(e) => e.into(),
            SourceError::Unsupported { changes, .. } => {
                let mut c = CommandError::new(message);
                c.causes = changes;
                c
            }
            SourceError::Models(m) => match m.hint() {
                Some(h) => CommandError::new(message).hint(h),
                None => CommandError::new(message),
            },
            SourceError::ModelsRefused { error, .. } => {
                CommandError::new(message).cause(error.message)
            }
            _ => CommandError::new(message),
        }
    }
}

impl CommandError {
    /// A scratch database that could not be dropped.
    pub fn dropping(e: DbError) -> CommandError {
        CommandError::new("cannot drop a scratch database").cause(e.message)
    }
}
