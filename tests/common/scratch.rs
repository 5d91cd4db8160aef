//! Scratch databases on the machine's real servers for the database
//! tests: a SQLite file, a PostgreSQL schema in `test`, or a MariaDB
//! database, dropped at the end.

use sqlx::Connection;

use std::time::{Duration, Instant};

use super::Project;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Engine {
    Sqlite,
    Postgres,
    Mysql,
}

pub const ENGINES: [Engine; 3] = [Engine::Sqlite, Engine::Postgres, Engine::Mysql];

pub fn pg_server() -> String {
    std::env::var("BRAID_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub fn mysql_server() -> String {
    std::env::var("BRAID_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A scratch database on one engine: a SQLite file, a PostgreSQL schema in
/// `test`, or a MySQL database. Dropped at the end.
pub struct Scratch {
    pub engine: Engine,
    pub url: String,
    pub name: String,
    pub project: Project,
}

pub fn unique(prefix: &str) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    )
}

impl Scratch {
    pub fn new(engine: Engine) -> Scratch {
        Self::with_schema(engine, &unique("braid_t"))
    }

    /// `schema` names the PostgreSQL schema or the MySQL database.
    pub fn with_schema(engine: Engine, name: &str) -> Scratch {
        let project = Project::new();
        let url = match engine {
            Engine::Sqlite => format!("sqlite://{}/test.db?mode=rwc", project.path().display()),
            Engine::Postgres => pg_server(),
            Engine::Mysql => {
                let server = mysql_server();
                rt().block_on(async {
                    let mut c = sqlx::MySqlConnection::connect(&server)
                        .await
                        .unwrap_or_else(|e| {
                            panic!(
                                "MariaDB at {server} is not reachable ({e}); start it (see README)"
                            )
                        });
                    sqlx::raw_sql(&format!("CREATE DATABASE `{name}`"))
                        .execute(&mut c)
                        .await
                        .unwrap();
                });
                let encoded: String = name
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || c == '_' {
                            c.to_string()
                        } else {
                            format!("%{:02X}", c as u32)
                        }
                    })
                    .collect();
                format!("{}/{encoded}", server.rsplit_once('/').unwrap().0)
            }
        };
        if engine == Engine::Postgres {
            rt().block_on(async {
                sqlx::PgConnection::connect(&url).await.unwrap_or_else(|e| {
                    panic!("PostgreSQL at {url} is not reachable ({e}); start it (see README)")
                });
            });
        }
        let mut toml = format!("[database]\nurl = {}\n", toml::Value::String(url.clone()));
        if engine == Engine::Postgres {
            toml.push_str(&format!(
                "schema = {}\n",
                toml::Value::String(name.to_owned())
            ));
        }
        project.write("braid.toml", &toml);
        std::fs::create_dir_all(project.path().join("migrations")).unwrap();
        Scratch {
            engine,
            url,
            name: name.to_owned(),
            project,
        }
    }

    pub fn write(&self, rel: &str, text: &str) {
        self.project.write(rel, text);
    }

    pub fn braid(&self, args: &[&str]) -> super::Run {
        self.project.run(args)
    }

    /// Runs braid and asserts success.
    pub fn ok(&self, args: &[&str]) -> super::Run {
        let r = self.braid(args);
        assert_eq!(
            r.code, 0,
            "{:?} on {:?} failed:\n{}{}",
            args, self.engine, r.stdout, r.stderr
        );
        r
    }

    pub fn current(&self) -> Vec<String> {
        let r = self.ok(&["current", "--format", "json"]);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        v["heads"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_owned())
            .collect()
    }

    /// A query returning one integer, run in the scratch schema.
    pub fn scalar(&self, sql: &str) -> i64 {
        rt().block_on(async { Session::open(self).await.scalar(sql).await })
    }

    /// Whether a table exists in the scratch schema.
    pub fn has_table(&self, table: &str) -> bool {
        let table = table.replace('\'', "''");
        let sql = match self.engine {
            Engine::Sqlite => format!(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '{table}'"
            ),
            Engine::Postgres => format!(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '{}' AND table_name = '{table}'",
                self.name.replace('\'', "''")
            ),
            Engine::Mysql => format!(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = '{table}'"
            ),
        };
        self.scalar(&sql) > 0
    }

    /// Runs raw SQL in the scratch schema.
    pub fn exec(&self, sql: &str) {
        rt().block_on(async { Session::open(self).await.exec(sql).await });
    }

    /// A statement that takes about `ms` milliseconds on this engine.
    pub fn sleep_sql(&self, ms: u32) -> String {
        match self.engine {
            Engine::Postgres => format!("SELECT pg_sleep({});", f64::from(ms) / 1000.0),
            Engine::Mysql => format!("DO SLEEP({});", f64::from(ms) / 1000.0),
            // SQLite has no sleep: a recursive count takes a while instead.
            Engine::Sqlite => format!(
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {}) SELECT COUNT(*) FROM c;",
                ms * 10_000
            ),
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let name = self.name.clone();
        match self.engine {
            Engine::Sqlite => {}
            Engine::Postgres => {
                let url = self.url.clone();
                rt().block_on(async {
                    if let Ok(mut c) = sqlx::PgConnection::connect(&url).await {
                        let _ = sqlx::raw_sql(&format!(
                            "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
                            name.replace('"', "\"\"")
                        ))
                        .execute(&mut c)
                        .await;
                    }
                });
            }
            Engine::Mysql => {
                let server = mysql_server();
                rt().block_on(async {
                    if let Ok(mut c) = sqlx::MySqlConnection::connect(&server).await {
                        let _ = sqlx::raw_sql(&format!(
                            "DROP DATABASE IF EXISTS `{}`",
                            name.replace('`', "``")
                        ))
                        .execute(&mut c)
                        .await;
                    }
                });
            }
        }
    }
}

/// A connection of the test's own, in the scratch schema or database.
pub enum Session {
    Pg(sqlx::PgConnection),
    My(sqlx::MySqlConnection),
    Lite(sqlx::SqliteConnection),
}

impl Session {
    pub async fn open(s: &Scratch) -> Session {
        match s.engine {
            Engine::Postgres => {
                let mut c = sqlx::PgConnection::connect(&s.url).await.unwrap();
                sqlx::raw_sql(&format!(
                    "SET search_path TO \"{}\"",
                    s.name.replace('"', "\"\"")
                ))
                .execute(&mut c)
                .await
                .unwrap();
                Session::Pg(c)
            }
            Engine::Mysql => Session::My(sqlx::MySqlConnection::connect(&s.url).await.unwrap()),
            Engine::Sqlite => Session::Lite(sqlx::SqliteConnection::connect(&s.url).await.unwrap()),
        }
    }

    pub async fn exec(&mut self, sql: &str) {
        let r = match self {
            Session::Pg(c) => sqlx::raw_sql(sql).execute(c).await.map(|_| ()),
            Session::My(c) => sqlx::raw_sql(sql).execute(c).await.map(|_| ()),
            Session::Lite(c) => sqlx::raw_sql(sql).execute(c).await.map(|_| ()),
        };
        r.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// How long one statement took.
    pub async fn timed(&mut self, sql: &str) -> Duration {
        let t = Instant::now();
        self.exec(sql).await;
        t.elapsed()
    }

    /// A query returning one integer.
    pub async fn scalar(&mut self, sql: &str) -> i64 {
        let r = match self {
            Session::Pg(c) => sqlx::query_scalar(sql).fetch_one(c).await,
            Session::My(c) => sqlx::query_scalar(sql).fetch_one(c).await,
            Session::Lite(c) => sqlx::query_scalar(sql).fetch_one(c).await,
        };
        r.unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// The server's id of this session (0 on SQLite).
    pub async fn id(&mut self) -> i64 {
        match self {
            Session::Pg(_) => self.scalar("SELECT CAST(pg_backend_pid() AS BIGINT)").await,
            Session::My(_) => self.scalar("SELECT CAST(CONNECTION_ID() AS SIGNED)").await,
            Session::Lite(_) => 0,
        }
    }
}
