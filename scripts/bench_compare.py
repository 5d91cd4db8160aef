"""braid against Alembic on generated histories; prints a table of medians
and ratios. Run through `make bench-compare` (it sets up the virtualenv).

Sizes: BENCH_SIZES (default "1000,10000"); runs per measurement: BENCH_RUNS
(default 5); revisions applied to real databases: BENCH_APPLY (default 1000).
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BRAID = os.path.join(ROOT, "target/release/braid")
GEN = os.path.join(ROOT, "target/release/examples/generate_history")
VENV = os.path.dirname(sys.executable)
ALEMBIC = os.path.join(VENV, "alembic")
PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
RUNS = int(os.environ.get("BENCH_RUNS", "5"))

ENV_PY = '''
from alembic import context
from sqlalchemy import engine_from_config, pool
config = context.config
target_metadata = None
def run_offline():
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True,
                      version_table_schema=config.get_main_option("schema") or None,
                      transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
def run_online():
    engine = engine_from_config(config.get_section(config.config_ini_section), prefix="sqlalchemy.", poolclass=pool.NullPool)
    schema = config.get_main_option("schema") or None
    with engine.connect() as connection:
        if schema:
            connection.exec_driver_sql('CREATE SCHEMA IF NOT EXISTS "%s"' % schema)
            connection.exec_driver_sql('SET search_path TO "%s"' % schema)
            connection.commit()
        context.configure(connection=connection, version_table_schema=schema, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
if context.is_offline_mode():
    run_offline()
else:
    run_online()
'''


def timed(cmd, cwd, env=None, stdin=None, runs=RUNS, setup=None):
    """Median wall time of `cmd` over `runs` runs (setup runs untimed first)."""
    times = []
    for _ in range(runs):
        if setup:
            setup()
        with open(stdin) if stdin else open(os.devnull) as inp:
            t0 = time.perf_counter()
            r = subprocess.run(cmd, cwd=cwd, env=env, stdin=inp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            dt = time.perf_counter() - t0
        if r.returncode != 0:
            raise SystemExit("%s failed:\n%s" % (" ".join(cmd), r.stderr.decode()[-2000:]))
        times.append(dt)
    return statistics.median(times)


def project(n, work):
    d = os.path.join(work, str(n))
    os.makedirs(d)
    subprocess.run([GEN, str(n), os.path.join(d, "migrations"), os.path.join(d, "alembic/versions")], check=True,
                   stderr=subprocess.DEVNULL)
    os.makedirs(os.path.join(d, "alembic"), exist_ok=True)
    with open(os.path.join(d, "alembic/env.py"), "w") as f:
        f.write(ENV_PY)
    return d


def alembic_ini(d, url, schema=""):
    with open(os.path.join(d, "alembic.ini"), "w") as f:
        f.write("[alembic]\nscript_location = %%(here)s/alembic\nsqlalchemy.url = %s\nschema = %s\n" % (url, schema))


def braid_toml(d, url, schema=""):
    with open(os.path.join(d, "braid.toml"), "w") as f:
        f.write('[migrations]\ndirectories = ["migrations"]\n[database]\nurl = "%s"\n' % url)
        if schema:
            f.write('schema = "%s"\n' % schema)


def psql(sql):
    subprocess.run(["psql", PG, "-qc", sql], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def row(rows, name, braid_t, other_t, other_name):
    rows.append((name, braid_t, other_t, other_name))


def main():
    sizes = [int(x) for x in os.environ.get("BENCH_SIZES", "1000,10000").split(",")]
    apply_n = int(os.environ.get("BENCH_APPLY", "1000"))
    work = tempfile.mkdtemp(prefix="braid-bench-")
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("DATABASE_"):
            del env[k]
    rows = []
    try:
        for n in sizes:
            d = project(n, work)
            db = os.path.join(d, "x.db")
            alembic_ini(d, "sqlite:///" + db)
            braid_toml(d, "sqlite://" + db)
            cat = timed(["sh", "-c", "cat migrations/* > /dev/null"], d)
            b_heads = timed([BRAID, "heads"], d, env)
            b_hist = timed([BRAID, "history"], d, env)
            b_check = timed([BRAID, "check", "--no-db"], d, env)
            b_sql = timed([BRAID, "upgrade", "heads", "--sql"], d, env)
            a_runs = max(1, RUNS if n <= 10000 else 1)
            a_heads = timed([ALEMBIC, "heads"], d, env, runs=a_runs)
            a_hist = timed([ALEMBIC, "history"], d, env, runs=a_runs)
            a_sql = timed([ALEMBIC, "upgrade", "heads", "--sql"], d, env, runs=a_runs)
            rows.append(("heads, %d revisions" % n, b_heads, a_heads, cat))
            rows.append(("history, %d revisions" % n, b_hist, a_hist, cat))
            rows.append(("check, %d revisions" % n, b_check, None, cat))
            rows.append(("upgrade heads --sql, %d revisions" % n, b_sql, a_sql, cat))

        # Applying revisions to real databases.
        n = apply_n
        d = project(n, os.path.join(work, "apply"))
        script_sqlite = os.path.join(d, "script.sqlite.sql")
        db = os.path.join(d, "x.db")

        def fresh_sqlite():
            if os.path.exists(db):
                os.remove(db)

        braid_toml(d, "sqlite://" + db)
        alembic_ini(d, "sqlite:///" + db)
        with open(script_sqlite, "w") as f:
            subprocess.run([BRAID, "upgrade", "heads", "--sql"], cwd=d, env=env, stdout=f, check=True)
        b = timed([BRAID, "upgrade", "heads", "--quiet"], d, env, setup=fresh_sqlite)
        a = timed([ALEMBIC, "upgrade", "heads"], d, env, setup=fresh_sqlite, runs=max(1, RUNS // 2))
        c = timed(["sqlite3", db], d, stdin=script_sqlite, setup=fresh_sqlite)
        rows.append(("upgrade heads, %d revisions, SQLite" % n, b, a, c))

        schema = "bench_braid"
        def fresh_pg():
            psql('DROP SCHEMA IF EXISTS "%s" CASCADE' % schema)
        braid_toml(d, PG.replace("postgresql://", "postgres://"), schema)
        alembic_ini(d, PG.replace("postgresql://", "postgresql+psycopg2://"), schema)
        script_pg = os.path.join(d, "script.pg.sql")
        with open(script_pg, "w") as f:
            subprocess.run([BRAID, "upgrade", "heads", "--sql"], cwd=d, env=env, stdout=f, check=True)
        b = timed([BRAID, "upgrade", "heads", "--quiet"], d, env, setup=fresh_pg)
        a = timed([ALEMBIC, "upgrade", "heads"], d, env, setup=fresh_pg, runs=max(1, RUNS // 2))
        c = timed(["psql", PG, "-q", "-v", "ON_ERROR_STOP=1", "-f", script_pg], d, setup=fresh_pg)
        rows.append(("upgrade heads, %d revisions, PostgreSQL" % n, b, a, c))
        fresh_pg()

        mysql_db = "bench_braid"
        def fresh_my():
            subprocess.run(["mariadb", "-h127.0.0.1", "-uroot", "-e",
                            "DROP DATABASE IF EXISTS %s; CREATE DATABASE %s" % (mysql_db, mysql_db)], check=True)
        braid_toml(d, "mysql://root@127.0.0.1:3306/" + mysql_db)
        script_my = os.path.join(d, "script.my.sql")
        with open(script_my, "w") as f:
            subprocess.run([BRAID, "upgrade", "heads", "--sql"], cwd=d, env=env, stdout=f, check=True)
        b = timed([BRAID, "upgrade", "heads", "--quiet"], d, env, setup=fresh_my)
        c = timed(["mariadb", "-h127.0.0.1", "-uroot", mysql_db], d, stdin=script_my, setup=fresh_my)
        rows.append(("upgrade heads, %d revisions, MariaDB" % n, b, None, c))
        subprocess.run(["mariadb", "-h127.0.0.1", "-uroot", "-e", "DROP DATABASE IF EXISTS %s" % mysql_db])
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print("| measurement | braid | Alembic | Alembic / braid | baseline | braid / baseline |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, b, a, base in rows:
        af = "%.3f s" % a if a else "—"
        ar = "%.1f×" % (a / b) if a else "—"
        print("| %s | %.3f s | %s | %s | %.3f s | %.2f× |" % (name, b, af, ar, base, b / base))
    print("\nbaseline: `cat` of the files for reading commands; the engine's own client "
          "(sqlite3, psql, mariadb) running braid's --sql script (one transaction and one "
          "version-table update per revision) for upgrades. Medians of %d runs; %s, %d cores."
          % (RUNS, os.uname().machine, os.cpu_count()))


if __name__ == "__main__":
    main()
