//! Schemas to compare and the scripts between them, as `braid diff` and
//! `revision --autogenerate` use them, for any caller: a source (the
//! migrations at a target, a database, `.sql` files) built on a scratch
//! database and read, and the up and down scripts between two built
//! schemas, proven on a scratch database in both directions.
//!
//! Every scratch database a function makes goes into the caller's list
//! before anything can fail on it; the caller drops the list
//! ([`drop_all`]) whatever happened.

use std::path::{Path, PathBuf};

use crate::autogen::{self, AutogenError};
use crate::config::{DatabaseUrl, Settings};
use crate::db::{Db, DbError};
use crate::execute::{self, ExecuteError, Options, Request, Silent};
use crate::history::History;
use crate::schema::diff::{Renames, Script};
use crate::schema::scratch::{Scratch, ScratchError};
use crate::schema::slice::Slice;
use crate::schema::{self, Filter, Snapshot};
use crate::target::{self, Target, TargetError};

/// Where a schema comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The migrations applied up to a target (`migrations` is `head`).
    Migrations(String),
    /// The database at the settings' URL, read as it is.
    Database,
    /// Another database of the same engine, by URL.
    Url(String),
    /// `[schema] desired`.
    Desired,
    /// `.sql` files or directories of them (none: an empty schema).
    Files(Vec<PathBuf>),
    /// The application's SQLAlchemy models (`sqlalchemy:MODULE:ATTRIBUTE`).
    Models(String),
}

impl Source {
    /// Reads a source as the command line writes it: `migrations`,
    /// `migrations@TARGET`, `database`, a URL, `schema`, or a `.sql` file
    /// or directory (relative to `cwd`).
    ///
    /// # Errors
    ///
    /// [`SourceError::Unknown`] for anything else.
    ///
    /// ```
    /// use braid::schema::source::Source;
    /// let s = Source::parse("migrations@base", std::path::Path::new(".")).unwrap();
    /// assert_eq!(s, Source::Migrations("base".into()));
    /// ```
    pub fn parse(text: &str, cwd: &Path) -> Result<Source, SourceError> {
        Ok(match text {
            "database" => Source::Database,
            "schema" => Source::Desired,
            "migrations" => Source::Migrations("head".into()),
            t if t.starts_with("migrations@") => {
                Source::Migrations(t["migrations@".len()..].to_owned())
            }
            t if t.starts_with(crate::models::PREFIX) => Source::Models(t.to_owned()),
            t if t.contains("://") => Source::Url(t.to_owned()),
            t if t.ends_with(".sql") || cwd.join(t).is_dir() => Source::Files(vec![cwd.join(t)]),
            t => return Err(SourceError::Unknown(t.to_owned())),
        })
    }
}

/// Why a schema could not be built or the scripts between two not made.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// Not a source.
    #[error(
        "unknown schema source `{0}`: expected `migrations`, `migrations@TARGET`, `database`, a database URL, `schema`, a .sql file or directory, or `sqlalchemy:MODULE:ATTRIBUTE`"
    )]
    Unknown(String),
    /// `schema` with no `[schema] desired`.
    #[error("no desired schema is configured")]
    NoDesired,
    /// `database` where there is none yet (a SQLite file not made).
    #[error("no database at {0}")]
    NoDatabase(String),
    /// A URL that does not parse.
    #[error("invalid schema source URL: {0}")]
    InvalidUrl(String),
    /// A database of another engine than the settings'.
    #[error(
        "schema source {source_url} is not a {engine} database like {url}: diff compares schemas of one engine"
    )]
    OtherEngine {
        /// The source's URL (no password).
        source_url: String,
        /// The settings' engine.
        engine: &'static str,
        /// The settings' URL (no password).
        url: String,
    },
    /// A database could not be reached.
    #[error("cannot connect to {url}")]
    Connect {
        /// Its URL (no password).
        url: String,
        /// The error.
        #[source]
        error: DbError,
    },
    /// A database's schema could not be read.
    #[error("cannot read the schema of {url}")]
    Read {
        /// Its URL (no password).
        url: String,
        /// The error.
        #[source]
        error: DbError,
    },
    /// A scratch database's schema could not be read.
    #[error("cannot read the scratch database's schema")]
    ReadScratch(#[source] DbError),
    /// The proof's copy of the database could not be emptied, or its SQL
    /// form not built (`what` says which).
    #[error("{what}")]
    Prepare {
        /// What failed.
        what: &'static str,
        /// The error.
        #[source]
        error: DbError,
    },
    /// A target that does not resolve.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// The migrations failed on the scratch database.
    #[error(transparent)]
    Execute(#[from] ExecuteError),
    /// A scratch database could not be made.
    #[error(transparent)]
    Scratch(#[from] ScratchError),
    /// A desired-state file, or the proof of a script.
    #[error(transparent)]
    Autogen(#[from] AutogenError),
    /// The SQLAlchemy models could not be rendered.
    #[error(transparent)]
    Models(#[from] crate::models::ModelsError),
    /// The server refused a statement the models rendered.
    #[error("{spec}: the database refused the models' DDL: {statement}")]
    ModelsRefused {
        /// The models source.
        spec: String,
        /// The statement's first line.
        statement: String,
        /// The error.
        #[source]
        error: DbError,
    },
    /// A scratch database could not be dropped.
    #[error("cannot drop a scratch database")]
    Drop(#[source] DbError),
    /// Changes braid cannot express (`way_back`: in the down script).
    #[error("braid cannot express {}", if *way_back { "the way back" } else { "these changes" })]
    Unsupported {
        /// Whether it is the down script.
        way_back: bool,
        /// The changes.
        changes: Vec<String>,
    },
}

/// A schema built from a source: its snapshot, the renames its files
/// declare, and the scratch database that holds it (none for a database).
pub struct Built {
    /// The schema.
    pub snap: Snapshot,
    /// The renames its `.sql` files declare.
    pub renames: Renames,
    /// Its place in the caller's list of scratch databases.
    pub scratch: Option<usize>,
    /// A PostgreSQL database read as it is (`database`, a URL), small
    /// enough that the proof's scratch database may be a copy of it.
    pub template: Option<String>,
}

/// Databases up to this size are copied for the proof instead of being
/// rebuilt from their SQL form; a larger one (data) is not copied.
const TEMPLATE_LIMIT: u64 = 64 << 20;

/// Builds a source, pushing the scratch database it made (if any) onto
/// `scratches`. `history` is needed for [`Source::Migrations`].
///
/// # Errors
///
/// [`SourceError`]: a source that does not build or cannot be read.
pub async fn build(
    settings: &Settings,
    source: &Source,
    history: Option<&History>,
    dev_url: Option<&str>,
    scratches: &mut Vec<Scratch>,
) -> Result<Built, SourceError> {
    let mut slot = None;
    let built = build_into(settings, source, history, dev_url, &mut slot).await;
    keep(built, slot, scratches)
}

/// Builds two sources at once (each on its own connection: a large schema
/// takes the server seconds to build).
///
/// # Errors
///
/// As [`build`], the first source's error first.
pub async fn build_pair(
    settings: &Settings,
    a: &Source,
    b: &Source,
    history: Option<&History>,
    dev_url: Option<&str>,
    scratches: &mut Vec<Scratch>,
) -> Result<(Built, Built), SourceError> {
    let (mut slot_a, mut slot_b) = (None, None);
    let (built_a, built_b) = tokio::join!(
        build_into(settings, a, history, dev_url, &mut slot_a),
        build_into(settings, b, history, dev_url, &mut slot_b)
    );
    let a = keep(built_a, slot_a, scratches);
    let b = keep(built_b, slot_b, scratches);
    Ok((a?, b?))
}

/// Files the scratch database a build made, whatever the build's result.
fn keep(
    built: Result<Built, SourceError>,
    slot: Option<Scratch>,
    scratches: &mut Vec<Scratch>,
) -> Result<Built, SourceError> {
    let index = slot.map(|s| {
        scratches.push(s);
        scratches.len() - 1
    });
    built.map(|b| Built {
        scratch: b.scratch.and(index),
        ..b
    })
}

/// Builds one source; the scratch database it makes goes into `slot`
/// before anything can fail on it.
async fn build_into(
    settings: &Settings,
    source: &Source,
    history: Option<&History>,
    dev_url: Option<&str>,
    slot: &mut Option<Scratch>,
) -> Result<Built, SourceError> {
    let filter = Filter::for_settings(settings);
    let (paths, models): (Vec<PathBuf>, Vec<String>) = match source {
        Source::Database | Source::Url(_) => {
            return read_database(settings, source, dev_url, &filter).await;
        }
        Source::Desired
            if settings.schema_desired.is_empty() && settings.schema_models.is_empty() =>
        {
            return Err(SourceError::NoDesired);
        }
        Source::Desired => (
            settings.schema_desired.clone(),
            settings.schema_models.clone(),
        ),
        Source::Files(paths) => (paths.clone(), Vec::new()),
        Source::Models(spec) => (Vec::new(), vec![spec.clone()]),
        Source::Migrations(_) => (Vec::new(), Vec::new()),
    };
    // Resolve what can fail without a database first.
    let plan = match (source, history) {
        (Source::Migrations(target), Some(h)) => {
            let t = target::parse(target)?;
            // No revision yet: the migrations build an empty schema.
            if !h.graph.is_empty() {
                target::resolve_upgrade(&h.graph, &[], &t)?;
            }
            Some((h, t))
        }
        _ => None,
    };
    // The models are rendered while the scratch database is made, where
    // the engine alone says for what (PostgreSQL, SQLite).
    let early = match models.is_empty() {
        true => None,
        false => models_target(settings, None).await,
    };
    let (scratch, rendered) = match &early {
        Some((dialect, home)) => {
            let (scratch, rendered) = tokio::join!(
                Scratch::on(settings, dev_url, None),
                render_models(settings, &models, dialect, home)
            );
            (scratch, Some(rendered))
        }
        None => (Scratch::on(settings, dev_url, None).await, None),
    };
    let db = &mut slot.insert(scratch?).db;
    let mut renames = match plan {
        Some((h, t)) => {
            apply(db, h, &t).await?;
            Renames::default()
        }
        None => autogen::load_files(db, &paths).await?,
    };
    let rendered = match rendered {
        Some(r) => r?,
        None if models.is_empty() => Vec::new(),
        None => {
            let (dialect, home) = models_target(settings, Some(db)).await.ok_or_else(|| {
                SourceError::ReadScratch(DbError {
                    message: "the scratch database does not say its name".into(),
                    code: None,
                    connection: false,
                    ..Default::default()
                })
            })?;
            render_models(settings, &models, dialect, &home).await?
        }
    };
    for (spec, r) in models.iter().zip(rendered) {
        let all = r.statements.join(";\n");
        if autogen::in_one_go(db, &all).await {
            renames.extend(r.renames);
            continue;
        }
        for statement in &r.statements {
            db.exec(statement)
                .await
                .map_err(|error| SourceError::ModelsRefused {
                    spec: spec.clone(),
                    statement: statement.lines().next().unwrap_or_default().to_owned(),
                    error,
                })?;
        }
        renames.extend(r.renames);
    }
    let snap = schema::introspect(db, &filter)
        .await
        .map_err(SourceError::ReadScratch)?;
    Ok(Built {
        snap,
        renames,
        // Set to its place in the caller's list by `keep`.
        scratch: Some(usize::MAX),
        template: None,
    })
}

/// Renders each models source for SQLAlchemy's `dialect`, the models'
/// schemas becoming `home`.
async fn render_models(
    settings: &Settings,
    models: &[String],
    dialect: &str,
    home: &str,
) -> Result<Vec<crate::models::Rendered>, SourceError> {
    let mut out = Vec::with_capacity(models.len());
    for spec in models {
        out.push(crate::models::render(settings, spec, dialect, home).await?);
    }
    Ok(out)
}

/// The SQLAlchemy dialect and the schema the models' schemas become on
/// the scratch database: known from the settings on PostgreSQL and SQLite,
/// asked of the scratch database `db` on MySQL (MariaDB or not, and the
/// database's name). `None` on MySQL without `db`.
async fn models_target(settings: &Settings, db: Option<&mut Db>) -> Option<(&'static str, String)> {
    use crate::config::Engine;
    match settings.url.engine().ok()? {
        Engine::Postgres => Some((
            "postgresql",
            settings.schema.clone().unwrap_or_else(|| "public".into()),
        )),
        Engine::Sqlite => Some(("sqlite", "main".to_owned())),
        Engine::Mysql => {
            let db = db?;
            let name = db.text_rows("SELECT DATABASE()", &[]).await.ok()?;
            let name = name.into_iter().next()?.into_iter().next()??;
            let mariadb = db.mariadb().await.unwrap_or(false);
            Some((if mariadb { "mariadb" } else { "mysql" }, name))
        }
    }
}

/// The migrations up to `t` on a scratch database.
async fn apply(db: &mut Db, h: &History, t: &Target) -> Result<(), SourceError> {
    if !h.graph.is_empty() {
        execute::run(db, h, Request::Upgrade(t), &Options::default(), &mut Silent).await?;
    }
    Ok(())
}

/// A database read as it is: `database` (the configured one) or a URL of
/// the configured engine (another database, as migra compares two).
async fn read_database(
    base: &Settings,
    source: &Source,
    dev_url: Option<&str>,
    filter: &Filter,
) -> Result<Built, SourceError> {
    let mut settings = base.clone();
    if let Source::Url(url) = source {
        settings.url = DatabaseUrl::parse(url).map_err(SourceError::InvalidUrl)?;
        let (want, got) = (base.url.engine(), settings.url.engine());
        if want.is_ok() && got != want {
            return Err(SourceError::OtherEngine {
                source_url: settings.url.to_string(),
                engine: want.map(|e| e.name()).unwrap_or_default(),
                url: base.url.to_string(),
            });
        }
    } else if !base.has_database() {
        return Err(SourceError::NoDatabase(base.url.to_string()));
    }
    let mut db = Db::connect(&settings)
        .await
        .map_err(|error| SourceError::Connect {
            url: settings.url.to_string(),
            error,
        })?;
    let snap = schema::introspect(&mut db, filter).await;
    // Copied only on the server where scratch databases are made: a
    // database of the same name elsewhere is another database.
    let dev = dev_url
        .or(base.dev_url.as_deref())
        .unwrap_or(base.url.expose());
    let template = if same_server(settings.url.expose(), dev) {
        schema::scratch::copyable(&mut db, TEMPLATE_LIMIT).await
    } else {
        None
    };
    db.close().await;
    let snap = snap.map_err(|error| SourceError::Read {
        url: settings.url.to_string(),
        error,
    })?;
    Ok(Built {
        snap,
        renames: Renames::default(),
        scratch: None,
        template,
    })
}

/// Whether two URLs name the same server (host and port).
fn same_server(a: &str, b: &str) -> bool {
    match (url::Url::parse(a), url::Url::parse(b)) {
        (Ok(a), Ok(b)) => a.host_str() == b.host_str() && a.port() == b.port(),
        _ => false,
    }
}

/// Where a proof ran, for a database read as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProofBase {
    /// On a copy of the database, its rows emptied.
    Copy(String),
    /// On the part of the database's schema the change touches (the
    /// objects it changes, those that depend on them and what these need),
    /// rebuilt from SQL.
    Part {
        /// How many of the database's objects that part holds.
        objects: usize,
        /// How many it holds in all.
        of: usize,
    },
    /// On the database's schema rebuilt from SQL, because it could not be
    /// copied (why).
    Rebuilt {
        /// The database.
        database: String,
        /// Why it was not copied.
        reason: String,
    },
}

/// The up and down scripts between two built schemas, proven.
#[derive(Debug, Clone, Default)]
pub struct Scripts {
    /// The first schema to the second.
    pub up: Script,
    /// Back again.
    pub down: Script,
    /// What only strict equality sees.
    pub notes: Vec<String>,
    /// Where the proof ran, when the first schema is a database read as it is.
    pub proof: Option<ProofBase>,
}

/// The up and down scripts from `from` to `to`, proven on a scratch
/// database holding `from` (made from its SQL form when it has none, or a
/// copy of the database when the server allows it).
///
/// # Errors
///
/// A change braid cannot express, a scratch database that cannot be made
/// or prepared, a script that does not prove.
pub async fn scripts(
    settings: &Settings,
    from: &Built,
    to: &Built,
    dev_url: Option<&str>,
    scratches: &mut Vec<Scratch>,
) -> Result<Scripts, SourceError> {
    let renames = &to.renames;
    let up = schema::diff::diff(&from.snap, &to.snap, renames);
    if !up.unsupported.is_empty() {
        return Err(SourceError::Unsupported {
            way_back: false,
            changes: up.unsupported.clone(),
        });
    }
    if up.is_empty() {
        return Ok(Scripts {
            up,
            ..Scripts::default()
        });
    }
    let mut proof = None;
    let mut sliced = None;
    let index = match from.scratch {
        Some(i) => i,
        None => {
            // A database read as it is has no scratch database. Where the
            // change touches less than half of it (and it holds nothing
            // braid does not read), only that part is built: building or
            // copying a large schema costs the server seconds.
            let slice = Slice::of(&from.snap, &to.snap);
            let part = from.snap.unsupported.is_empty()
                && slice.objects * 2 < slice.of
                && slice.proves_the_same(&from.snap, &to.snap, &up, renames);
            // Else a copy of the database itself where the server allows
            // it (nobody else connected, the same server), its rows
            // emptied: the proof runs on empty tables. Else its SQL form.
            // Which way it went is said: they prove different things (the
            // copy has the database's own objects).
            let copy = match &from.template {
                _ if part => None,
                Some(name) => match Scratch::on(settings, dev_url, Some(name)).await {
                    Ok(copy) => {
                        proof = Some(ProofBase::Copy(name.clone()));
                        Some(copy)
                    }
                    Err(e) => {
                        proof = Some(ProofBase::Rebuilt {
                            database: name.clone(),
                            reason: e.to_string(),
                        });
                        None
                    }
                },
                None => None,
            };
            let copied = copy.is_some();
            scratches.push(match copy {
                Some(s) => s,
                None => Scratch::on(settings, dev_url, None).await?,
            });
            let i = scratches.len() - 1;
            let db = &mut scratches[i].db;
            let built = if part {
                proof = Some(ProofBase::Part {
                    objects: slice.objects,
                    of: slice.of,
                });
                let sql = slice.from.to_sql();
                sliced = Some(slice);
                autogen::run_sql(db, &sql).await.map_err(|error| SourceError::Prepare {
                    what: "cannot build the part of the database's schema the change touches on a scratch database",
                    error,
                })
            } else if copied {
                let tables = from.snap.tables.keys().map(String::as_str);
                schema::scratch::empty(db, tables)
                    .await
                    .map_err(|error| SourceError::Prepare {
                        what: "cannot empty the copy of the database",
                        error,
                    })
            } else {
                autogen::run_sql(db, &from.snap.to_sql())
                    .await
                    .map_err(|error| SourceError::Prepare {
                        what: "cannot build the database's schema on a scratch database",
                        error,
                    })
            };
            built?;
            i
        }
    };
    let (base_from, base_to) = match &sliced {
        Some(s) => (&s.from, &s.to),
        None => (&from.snap, &to.snap),
    };
    let (down, notes) = autogen::prove(
        &mut scratches[index].db,
        base_from,
        base_to,
        &up,
        renames,
        &Filter::for_settings(settings),
    )
    .await?;
    if !down.unsupported.is_empty() {
        return Err(SourceError::Unsupported {
            way_back: true,
            changes: down.unsupported.clone(),
        });
    }
    Ok(Scripts {
        up,
        down,
        notes,
        proof,
    })
}

/// Drops every scratch database of the list, and says if one could not be.
///
/// # Errors
///
/// The last database's error, after trying every one.
pub async fn drop_all(scratches: Vec<Scratch>) -> Result<(), DbError> {
    let mut failed = None;
    for s in scratches {
        if let Err(e) = s.drop().await {
            failed = Some(e);
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The scripts between two schemas declared in `.sql` files (files or
/// directories of them, as `[schema] desired` lists them), built and
/// proven on scratch databases made where `settings` say (`[schema]
/// dev_url`, else the URL's server; SQLite: in memory) and dropped on
/// every path: what `braid diff A.sql B.sql` prints, for an application's
/// own tests.
///
/// # Errors
///
/// A file that does not read or build (file:line and the database's
/// message), a scratch database that cannot be made or dropped, a change
/// braid cannot express, a script that does not prove.
///
/// ```no_run
/// # async fn doc(settings: &braid::config::Settings) -> Result<(), Box<dyn std::error::Error>> {
/// use std::path::PathBuf;
/// let (old, new) = (vec![PathBuf::from("old.sql")], vec![PathBuf::from("new.sql")]);
/// let scripts = braid::schema::source::diff_files(settings, &old, &new).await?;
/// print!("{}", scripts.up.to_sql());
/// # Ok(()) }
/// ```
pub async fn diff_files(
    settings: &Settings,
    from: &[PathBuf],
    to: &[PathBuf],
) -> Result<Scripts, SourceError> {
    let mut scratches = Vec::new();
    let result = async {
        let (a, b) = (Source::Files(from.to_vec()), Source::Files(to.to_vec()));
        let (a, b) = build_pair(settings, &a, &b, None, None, &mut scratches).await?;
        scripts(settings, &a, &b, None, &mut scratches).await
    }
    .await;
    let dropped = drop_all(scratches).await;
    let scripts = result?;
    dropped.map_err(SourceError::Drop)?;
    Ok(scripts)
}
