//! A history: the migration files of the configured directories and the
//! validated graph they form, with graph problems mapped back to files.

use std::fmt;
use std::path::PathBuf;

use crate::graph::{Declares, Graph, GraphProblem, Node};
use crate::migration::{LoadErrors, Migration, load_directories};
use crate::plan::Plan;
use crate::revision::Direction;
use crate::revision::{BranchLabel, RevisionId};

/// The loaded migrations and their graph.
#[derive(Debug, Clone)]
pub struct History {
    /// Every migration file, in load order.
    pub migrations: Vec<Migration>,
    /// The validated graph over them.
    pub graph: Graph,
}

/// A graph problem with the files it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocatedProblem {
    /// What is wrong.
    pub problem: GraphProblem,
    /// The files concerned, first the one to fix.
    pub paths: Vec<PathBuf>,
    /// For each of `paths`, the line of the header key to fix
    /// ([`GraphProblem::header_key`]), when the file has it.
    pub lines: Vec<Option<usize>>,
}

impl LocatedProblem {
    /// `path:line` (or `path`) of each file concerned.
    pub fn locations(&self) -> Vec<String> {
        self.paths
            .iter()
            .zip(&self.lines)
            .map(|(p, line)| match line {
                Some(l) => format!("{}:{l}", p.display()),
                None => p.display().to_string(),
            })
            .collect()
    }
}

impl fmt::Display for LocatedProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.problem.fmt(f)
    }
}

/// Why a history could not be loaded.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HistoryError {
    /// Files could not be read.
    #[error(transparent)]
    Load(#[from] LoadErrors),
    /// The files do not form a valid graph.
    #[error("the revision graph is invalid ({} problem{})", .0.len(), if .0.len() == 1 { "" } else { "s" })]
    Graph(Vec<LocatedProblem>),
}

/// A downgrade that would run through a revision without `-- braid:down`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("revision `{revision}` cannot be downgraded: {} has no `-- braid:down` section", path.display())]
pub struct Irreversible {
    /// The revision.
    pub revision: String,
    /// Its file.
    pub path: PathBuf,
}

/// A plan that would run an imported revision whose SQL nobody wrote.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("revision `{revision}` is untranslated: {}:{line} has no SQL yet", path.display())]
pub struct Untranslated {
    /// The revision.
    pub revision: String,
    /// Its file.
    pub path: PathBuf,
    /// The line of its `-- braid:untranslated` mark.
    pub line: usize,
}

impl Declares for Migration {
    fn id(&self) -> &RevisionId {
        &self.id
    }
    fn parents(&self) -> &[RevisionId] {
        &self.down_revisions
    }
    fn depends_on(&self) -> &[String] {
        &self.depends_on
    }
    fn labels(&self) -> &[BranchLabel] {
        &self.branch_labels
    }
}

impl History {
    /// Reads every migration under `dirs` and builds the graph.
    pub fn load(dirs: &[PathBuf]) -> Result<History, HistoryError> {
        let migrations = load_directories(dirs)?;
        Self::from_migrations(migrations)
    }

    /// Builds the graph of loaded migrations.
    pub fn from_migrations(migrations: Vec<Migration>) -> Result<History, HistoryError> {
        match Graph::build(&migrations) {
            Ok(graph) => Ok(History { migrations, graph }),
            Err(e) => Err(HistoryError::Graph(
                e.problems
                    .into_iter()
                    .map(|problem| {
                        let records = problem.records();
                        let key = problem.header_key();
                        LocatedProblem {
                            paths: records
                                .iter()
                                .map(|i| migrations[*i].path.clone())
                                .collect(),
                            lines: records
                                .iter()
                                .map(|i| migrations[*i].header_line(key))
                                .collect(),
                            problem,
                        }
                    })
                    .collect(),
            )),
        }
    }

    /// The migration file of a revision.
    pub fn migration(&self, n: Node) -> &Migration {
        &self.migrations[self.graph.record_index(n)]
    }

    /// Fails before anything runs if a step is an untranslated import.
    pub fn check_translated(&self, plan: &Plan) -> Result<(), Untranslated> {
        for step in &plan.steps {
            let m = self.migration(step.node);
            if let Some(line) = m.untranslated {
                return Err(Untranslated {
                    revision: m.id.to_string(),
                    path: m.path.clone(),
                    line,
                });
            }
        }
        Ok(())
    }

    /// Fails before anything runs if a downgrade step has no down section.
    pub fn check_reversible(&self, plan: &Plan) -> Result<(), Irreversible> {
        for step in &plan.steps {
            let m = self.migration(step.node);
            if step.direction == Direction::Down && m.down.is_none() {
                return Err(Irreversible {
                    revision: m.id.to_string(),
                    path: m.path.clone(),
                });
            }
        }
        Ok(())
    }
}
