//! The `braid` command line: global options, one module per command, and
//! the mapping of errors to messages and exit codes (0 success, 1 error, 2
//! malformed command line).

mod commands;
pub mod error;
mod headers;
mod signal;
mod ui;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use braid::config::{Overrides, Settings};
use braid::db::Db;
use braid::history::History;
use clap::{Parser, Subcommand, ValueEnum};

pub use error::CommandError;

#[derive(Parser, Debug)]
#[command(
    name = "braid",
    version,
    about = "Database migrations as a branching revision graph: plain SQL files, Alembic's semantics",
    propagate_version = true
)]
struct Cli {
    /// The configuration file (default: ./braid.toml, or BRAID_CONFIG).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// The database URL (overrides DATABASE_URL and braid.toml).
    #[arg(long, global = true, value_name = "URL")]
    url: Option<String>,
    /// Print nothing but errors on stderr.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

/// Output formats of read commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Dot,
}

/// The output formats of `schema` and `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaFormat {
    Sql,
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Write braid.toml and an empty migrations directory.
    Init(commands::init::Args),
    /// Write a new migration file on the current head and print its path.
    Revision(commands::revision::Args),
    /// Write a merge revision joining the given revisions (or `heads`).
    Merge(commands::merge::Args),
    /// Apply every revision needed to reach TARGET.
    Upgrade(commands::migrate::Args),
    /// Revert down to TARGET.
    Downgrade(commands::migrate::Args),
    /// Show the revisions recorded as current heads in the database.
    Current(commands::current::Args),
    /// Show the graph's heads.
    Heads(commands::heads::Args),
    /// Show branch points and their branches.
    Branches(commands::heads::FormatArgs),
    /// Show revisions, newest first.
    History(commands::history::Args),
    /// Show what ran on the database, newest first: when, how long, status, by whom.
    Log(commands::log::Args),
    /// Show every revision's state on the database: applied (when, how long, by whom), pending, failed.
    Status(commands::status::Args),
    /// Run the pending revisions on a copy of the database: each statement's time, locks and rewrites, then the rollback tested.
    Rehearse(commands::rehearse::Args),
    /// Show one revision in full.
    Show(commands::show::Args),
    /// Record revisions as current without running any SQL.
    Stamp(commands::stamp::Args),
    /// Validate the graph and, with a database, its state.
    Check(commands::check::Args),
    /// Report statements of the pending revisions (or -r RANGE) that lock or rewrite a large, busy table, with the safe recipe.
    Lint(commands::lint::Args),
    /// Show the revision graph as Graphviz DOT (or JSON, SVG, PNG).
    Graph(commands::graph::Args),
    /// Accept the new content of applied files whose checksum changed.
    Accept(commands::stamp::AcceptArgs),
    /// Settle a revision that stopped halfway outside a transaction.
    Resolve(commands::stamp::ResolveArgs),
    /// Re-parent a revision no database has applied (a late branch becomes a line).
    Rebase(commands::rebase::Args),
    /// Print the database's schema (SQL, or JSON), braid's tables left out.
    Schema(commands::schema::Args),
    /// Migrate a fleet of databases or tenant schemas as one.
    Fleet(commands::fleet::Args),
    /// Move a project from another tool (Alembic) keeping its revision ids.
    Import(commands::import::Args),
    /// The SQL that turns schema FROM into schema TO, proven both ways.
    Diff(commands::diff::Args),
    /// Test every revision up, down and up on a scratch database, comparing schemas.
    Verify(commands::schema::VerifyArgs),
    /// Print the shell completion script for SHELL (bash, zsh, fish, powershell).
    Completions(commands::completions::Args),
    /// Print the manual page (roff), as `make install` installs it.
    #[command(hide = true)]
    Man,
}

/// The clap definition of the command line, for completions and the man page.
pub fn definition() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// What every command gets: settings resolved once, and the flags.
pub struct Ctx {
    pub settings: Settings,
    pub quiet: bool,
    pub cwd: PathBuf,
}

impl Ctx {
    pub fn history(&self) -> Result<History, CommandError> {
        Ok(History::load(&self.settings.directories)?)
    }

    /// Lints the sections with what the database can tell: the server version,
    /// table sizes and column types; without a database, by the files alone
    /// and `[lint] server_version`, said in `note`.
    pub async fn lint(
        &self,
        h: &braid::history::History,
        sections: &[(braid::graph::Node, braid::revision::Direction)],
        db: Option<&mut braid::db::Db>,
    ) -> Result<braid::lint::safety::Report, CommandError> {
        let engine = self.settings.url.engine().map_err(CommandError::new)?;
        let sections = braid::lint::safety::Sections::read(h, sections, engine);
        let facts = match db {
            Some(db) => braid::execute::lint_facts(db, &sections).await?,
            None => braid::lint::safety::Facts::default(),
        };
        Ok(braid::lint::safety::lint(
            h,
            &sections,
            &self.settings.lint,
            &facts,
        ))
    }

    /// Says a revision file was written: its id on stderr, its path on
    /// stdout (for scripts).
    pub fn created(&self, id: &str, path: &Path) {
        self.note(&format!("created revision {id}"));
        out(&format!("{}\n", path.display()));
    }

    pub async fn connect(&self) -> Result<Db, CommandError> {
        Db::connect(&self.settings)
            .await
            .map_err(|e| error::connect_error(&self.settings.url.to_string(), e))
    }

    /// Warnings about a script on stderr: data loss, risks, rename hints,
    /// what only strict equality sees.
    pub fn warn_script(&self, script: &braid::schema::diff::Script, notes: &[String]) {
        for l in script.losses() {
            self.note(&format!("warning: data loss: {l}"));
        }
        for r in script.risks() {
            self.note(&format!("warning: may fail: {r}"));
        }
        for h in &script.hints {
            self.note(&format!("hint: {h}"));
        }
        for n in notes {
            self.note(&format!("note: {n}"));
        }
    }

    /// Says where a script was proven, for a database read as it is.
    pub fn proof_note(&self, proof: Option<&braid::schema::source::ProofBase>) {
        use braid::schema::source::ProofBase;
        match proof {
            Some(ProofBase::Copy(name)) => self.note(&format!(
                "proving the script on a copy of database {name}, its rows emptied"
            )),
            Some(ProofBase::Part { objects, of }) => self.note(&format!(
                "proving the script on the part of the first schema it touches, rebuilt from SQL: {objects} of its {of} objects (those it changes, those that depend on them, what these need)"
            )),
            Some(ProofBase::Rebuilt { database, reason }) => self.note(&format!(
                "proving the script on database {database}'s schema rebuilt from SQL: it could not be copied ({reason})"
            )),
            None => {}
        }
    }

    /// The database's history, newest first (none when there is no
    /// database yet), at most `limit` entries.
    pub async fn log(
        &self,
        limit: Option<usize>,
    ) -> Result<Vec<braid::db::LogEntry>, CommandError> {
        if !self.has_database() {
            return Ok(Vec::new());
        }
        let mut db = self.connect().await?;
        let log = db.log(limit).await;
        db.close().await;
        log.map_err(|e| CommandError::new("cannot read the history").cause(e.message))
    }

    /// Whether a database is there to ask: reading commands never create
    /// a SQLite file that does not exist yet.
    pub fn has_database(&self) -> bool {
        self.settings.has_database()
    }

    /// The heads the database records, or none when there is no database
    /// yet (an SQLite file not created).
    pub async fn recorded_heads(&self) -> Result<Vec<String>, CommandError> {
        if !self.has_database() {
            return Ok(Vec::new());
        }
        let mut db = self.connect().await?;
        let heads = braid::execute::current_heads(&mut db).await;
        db.close().await;
        Ok(heads?)
    }

    /// A note on stderr, unless `--quiet`.
    pub fn note(&self, text: &str) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr(), "{text}");
        }
    }
}

/// Writes to stdout; a closed pipe ends the program quietly.
pub fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            e.print(&mut std::io::stderr().lock());
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<(), CommandError> {
    let cwd = std::env::current_dir()
        .map_err(|e| CommandError::new(format!("cannot read the working directory: {e}")))?;
    // `.env` fills in variables the environment does not set.
    match dotenvy::from_path(cwd.join(".env")) {
        Ok(()) => {}
        Err(e) if e.not_found() => {}
        Err(e) => return Err(CommandError::new(format!("cannot read .env: {e}"))),
    }
    match &cli.command {
        Command::Init(args) => return commands::init::run(&cwd, args, cli.quiet),
        Command::Completions(args) => return commands::completions::run(args),
        Command::Man => return commands::completions::man(),
        _ => {}
    }
    let settings = Settings::resolve(
        &Overrides {
            config: cli.config.clone(),
            url: cli.url.clone(),
        },
        &|name| std::env::var(name).ok(),
        &cwd,
    )?;
    let ctx = Ctx {
        settings,
        quiet: cli.quiet,
        cwd,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CommandError::new(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async {
        match cli.command {
            Command::Init(_) | Command::Completions(_) | Command::Man => {
                unreachable!("handled above")
            }
            Command::Revision(a) => commands::revision::run(&ctx, a).await,
            Command::Merge(a) => commands::merge::run(&ctx, a),
            Command::Upgrade(a) => {
                commands::migrate::run(&ctx, a, braid::revision::Direction::Up).await
            }
            Command::Downgrade(a) => {
                commands::migrate::run(&ctx, a, braid::revision::Direction::Down).await
            }
            Command::Current(a) => commands::current::run(&ctx, a).await,
            Command::Log(a) => commands::log::run(&ctx, a).await,
            Command::Status(a) => commands::status::run(&ctx, a).await,
            Command::Heads(a) => commands::heads::run(&ctx, a),
            Command::Branches(a) => commands::heads::branches(&ctx, a),
            Command::History(a) => commands::history::run(&ctx, a).await,
            Command::Show(a) => commands::show::run(&ctx, a).await,
            Command::Rehearse(a) => commands::rehearse::run(&ctx, a).await,
            Command::Stamp(a) => commands::stamp::run(&ctx, a).await,
            Command::Check(a) => commands::check::run(&ctx, a).await,
            Command::Lint(a) => commands::lint::run(&ctx, a).await,
            Command::Graph(a) => commands::graph::run(&ctx, a).await,
            Command::Accept(a) => commands::stamp::accept(&ctx, a).await,
            Command::Resolve(a) => commands::stamp::resolve(&ctx, a).await,
            Command::Rebase(a) => commands::rebase::run(&ctx, a).await,
            Command::Schema(a) => commands::schema::run(&ctx, a).await,
            Command::Verify(a) => commands::schema::verify(&ctx, a).await,
            Command::Diff(a) => commands::diff::run(&ctx, a).await,
            Command::Import(a) => commands::import::run(&ctx, a),
            Command::Fleet(a) => commands::fleet::run(&ctx, a).await,
        }
    })
}

/// Rejects a format a command does not have.
pub fn only_formats(format: Format, allowed: &[Format]) -> Result<(), CommandError> {
    if allowed.contains(&format) {
        Ok(())
    } else {
        let names: Vec<String> = allowed
            .iter()
            .map(|f| format!("{f:?}").to_lowercase())
            .collect();
        Err(CommandError::new(format!(
            "expected --format {}, found {}",
            names.join(" or "),
            format!("{format:?}").to_lowercase()
        )))
    }
}

/// Prints a JSON value on stdout.
pub fn out_json(v: &serde_json::Value) {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    out(&s);
}

/// `-r RANGE`, as `history` and `lint` take it.
#[derive(clap::Args, Debug)]
pub struct RangeArg {
    /// A range `[START]:[END]` (revisions, labels, `base`, `heads`,
    /// `current`); either side may be left out.
    #[arg(
        short = 'r',
        long = "rev-range",
        allow_hyphen_values = true,
        value_name = "RANGE"
    )]
    pub range: Option<String>,
}

/// Which revisions a range `[START]:[END]` takes (`-r` of `history` and
/// `lint`), indexed by node; `current` is read from the database once,
/// into `current`.
pub async fn range(
    ctx: &Ctx,
    h: &History,
    range: &str,
    current: &mut Option<Vec<braid::graph::Node>>,
) -> Result<Vec<bool>, CommandError> {
    let g = &h.graph;
    let (start, end) = range.split_once(':').ok_or_else(|| {
        CommandError::new(format!("invalid range `{range}`: expected `[START]:[END]`"))
            .hint("for example `-r base:heads`, `-r ae10:`, `-r :current`")
    })?;
    let mut include = vec![true; g.len()];
    if let Some(start) = side(ctx, h, start, current).await? {
        // From START up: START and its descendants.
        include = g.descendants(start, false);
    }
    if let Some(end) = side(ctx, h, end, current).await? {
        let below = g.ancestors(end, true);
        for (i, b) in below.iter().enumerate() {
            include[i] &= *b;
        }
    }
    Ok(include)
}

/// The revisions one side of a range names; `None` means open.
async fn side(
    ctx: &Ctx,
    h: &History,
    text: &str,
    current: &mut Option<Vec<braid::graph::Node>>,
) -> Result<Option<Vec<braid::graph::Node>>, CommandError> {
    if text.is_empty() {
        return Ok(None);
    }
    let needs_db = text == "current"
        || text.starts_with(['+', '-'])
        || text.contains("@+")
        || text.contains("@-");
    if needs_db && current.is_none() {
        *current = Some(read_current(ctx, h).await?);
    }
    if text == "current" {
        return Ok(Some(current.clone().unwrap_or_default()));
    }
    let t = braid::target::parse(text)?;
    let cur = current.clone().unwrap_or_default();
    Ok(Some(braid::target::resolve_upgrade(&h.graph, &cur, &t)?))
}

pub async fn read_current(ctx: &Ctx, h: &History) -> Result<Vec<braid::graph::Node>, CommandError> {
    let ids = ctx.recorded_heads().await?;
    Ok(ids.iter().filter_map(|id| h.graph.node(id)).collect())
}
