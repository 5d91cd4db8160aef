//! Faults: the database server stopped and started in the middle of an
//! upgrade. This restarts the machine's PostgreSQL and MariaDB, so it is
//! the only test in its binary (cargo runs test binaries one at a time, so
//! no other test sees the servers go away).

mod common;

use std::process::{Command, Stdio};

use common::Project;

fn sh(cmd: &str) {
    let ok = Command::new("bash")
        .args(["-c", cmd])
        .status()
        .unwrap()
        .success();
    assert!(ok, "`{cmd}` failed");
}

fn braid_ok(p: &Project, args: &[&str]) -> String {
    let r = p.run(args);
    assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    r.stdout
}

fn count(p: &Project, url: &str, schema: Option<&str>) -> i64 {
    let _ = p;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        if url.starts_with("postgres") {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::raw_sql(&format!("SET search_path TO {}", schema.unwrap()))
                .execute(&mut c)
                .await
                .unwrap();
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM applied_log")
                .fetch_one(&mut c)
                .await
                .unwrap()
        } else {
            let mut c = sqlx::MySqlConnection::connect(url).await.unwrap();
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM applied_log")
                .fetch_one(&mut c)
                .await
                .unwrap()
        }
    })
}

#[test]
fn a_server_restart_mid_upgrade_ends_clearly_and_the_next_run_completes() {
    sh("bash scripts/services.sh");
    let version = String::from_utf8(
        Command::new("ls")
            .arg("/etc/postgresql")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let version = version.split_whitespace().last().unwrap().to_owned();

    // PostgreSQL: stop (fast: sessions are cut) and start again.
    let pg = "postgres://postgres@127.0.0.1:5432/test";
    let p = Project::new();
    p.write(
        "braid.toml",
        &format!("[database]\nurl = \"{pg}\"\nschema = \"braid_restart\"\n"),
    );
    common::logged_chain(&p, 30, "SELECT pg_sleep(0.08);");
    sh(&format!(
        "psql -q {pg} -c 'DROP SCHEMA IF EXISTS braid_restart CASCADE'"
    ));
    let child = p
        .command(&["upgrade", "heads"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    common::wait_until_under_way(&p);
    sh(&format!(
        "pg_ctlcluster --skip-systemctl-redirect {version} main stop -m fast"
    ));
    let out = child.wait_with_output().unwrap();
    sh(&format!(
        "pg_ctlcluster --skip-systemctl-redirect {version} main start"
    ));
    sh("for i in $(seq 1 60); do pg_isready -q -h 127.0.0.1 && exit 0; sleep 0.5; done; exit 1");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "PostgreSQL: {stderr}");
    assert!(stderr.contains("error:"), "{stderr}");
    braid_ok(&p, &["upgrade", "heads"]);
    assert!(braid_ok(&p, &["current"]).starts_with("r029"));
    assert_eq!(
        count(&p, pg, Some("braid_restart")),
        29,
        "each revision exactly once"
    );
    sh(&format!(
        "psql -q {pg} -c 'DROP SCHEMA IF EXISTS braid_restart CASCADE'"
    ));

    // MariaDB: shut down (connections are killed) and start again.
    sh(
        "mariadb -h127.0.0.1 -uroot -e 'DROP DATABASE IF EXISTS braid_restart; CREATE DATABASE braid_restart'",
    );
    let my = "mysql://root@127.0.0.1:3306/braid_restart";
    let q = Project::new();
    q.write("braid.toml", &format!("[database]\nurl = \"{my}\"\n"));
    common::logged_chain(&q, 30, "DO SLEEP(0.08);");
    let child = q
        .command(&["upgrade", "heads"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    common::wait_until_under_way(&q);
    sh(
        "mariadb-admin -h127.0.0.1 -uroot shutdown; for i in $(seq 1 120); do pgrep -x mariadbd >/dev/null || break; sleep 0.5; done",
    );
    let out = child.wait_with_output().unwrap();
    sh("bash scripts/services.sh");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "MariaDB: {stderr}");
    let again = q.run(&["upgrade", "heads"]);
    if again.code != 0 {
        // No transactional DDL: a revision cut midway is named.
        assert!(again.stderr.contains("stopped halfway"), "{}", again.stderr);
        let rev = again.stderr.split('`').nth(1).unwrap().to_owned();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let logged: i64 = rt.block_on(async {
            use sqlx::Connection;
            let mut c = sqlx::MySqlConnection::connect(my).await.unwrap();
            sqlx::query_scalar("SELECT COUNT(*) FROM applied_log WHERE rev = ?")
                .bind(&rev)
                .fetch_one(&mut c)
                .await
                .unwrap()
        });
        braid_ok(
            &q,
            &[
                "resolve",
                &rev,
                if logged == 1 {
                    "--applied"
                } else {
                    "--reverted"
                },
            ],
        );
        braid_ok(&q, &["upgrade", "heads"]);
    }
    assert!(braid_ok(&q, &["current"]).starts_with("r029"));
    assert_eq!(count(&q, my, None), 29, "each revision exactly once");
    sh("mariadb -h127.0.0.1 -uroot -e 'DROP DATABASE IF EXISTS braid_restart'");
}
