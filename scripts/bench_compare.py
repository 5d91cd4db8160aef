"""braid against Alembic on generated histories; prints a table of medians
and ratios. Run through `make bench-compare` (it sets up the virtualenv).

Sizes: BENCH_SIZES (default "1000,10000"); runs per measurement: BENCH_RUNS
(default 5, for every measurement, Alembic's included); revisions applied to
real databases: BENCH_APPLY (default 1000); the large history of the
"beyond the table" figures: BENCH_BIG (default 100000); BENCH_PARTS picks
"table", "beyond" or both (the default).

Every timed command must succeed, and what it produced is checked after the
runs (the heads printed, the version table at the head): a figure is never
the time of a failure.
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


def timed(cmd, cwd, env=None, stdin=None, runs=RUNS, setup=None, expect=None):
    """Median wall time of `cmd` over `runs` runs (setup runs untimed first).
    `expect`, given, is a text the command's output must contain."""
    times = []
    for _ in range(runs):
        if setup:
            setup()
        with open(stdin) if stdin else open(os.devnull) as inp:
            t0 = time.perf_counter()
            r = subprocess.run(cmd, cwd=cwd, env=env, stdin=inp, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            dt = time.perf_counter() - t0
        if r.returncode != 0:
            raise SystemExit("%s failed:\n%s" % (" ".join(cmd), r.stderr.decode()[-2000:]))
        out = r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace")
        if expect is not None and expect not in out:
            raise SystemExit("%s printed no %r:\n%s" % (" ".join(cmd), expect, out[-2000:]))
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


def head_of(d, env):
    """The head braid reads from the project's files."""
    r = subprocess.run([BRAID, "heads"], cwd=d, env=env, capture_output=True, text=True, check=True)
    return r.stdout.split()[0]


def at_head(d, env, tool=None):
    """The database of the project's URL is at its head, as braid (or
    Alembic, for its own version table) reads it."""
    cmd = [ALEMBIC, "current"] if tool == "alembic" else [BRAID, "current"]
    r = subprocess.run(cmd, cwd=d, env=env, capture_output=True, text=True, check=True)
    head = head_of(d, env)
    if head not in r.stdout:
        raise SystemExit("after the timed runs the database is not at %s: %r" % (head, r.stdout))


def psql(sql):
    subprocess.run(["psql", PG, "-qc", sql], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def row(rows, name, braid_t, other_t, other_name):
    rows.append((name, braid_t, other_t, other_name))


def peak_rss_mb(cmd, cwd, env):
    """Peak resident memory of one run of `cmd`, in MB (GNU time)."""
    out = os.path.join(cwd, ".rss")
    subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out] + cmd, cwd=cwd, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    with open(out) as f:
        return int(f.read().split()[-1]) / 1024


def beyond(work, env):
    """The figures under the table: `current` at head, and `heads` on a very
    large history with its peak memory, against `cat` of the files."""
    d = project(1000, os.path.join(work, "current"))
    db = os.path.join(d, "x.db")
    braid_toml(d, "sqlite://" + db)
    subprocess.run([BRAID, "upgrade", "heads", "--quiet"], cwd=d, env=env, check=True)
    head = head_of(d, env)
    current = timed([BRAID, "current"], d, env, runs=50, expect=head)
    big = int(os.environ.get("BENCH_BIG", "100000"))
    d = project(big, os.path.join(work, "big"))
    head = head_of(d, env)  # also warms the page cache
    heads = timed([BRAID, "heads"], d, env, expect=head)
    rss = peak_rss_mb([BRAID, "heads"], d, env)
    text_mb = sum(e.stat().st_size for e in os.scandir(os.path.join(d, "migrations"))) / 1e6
    # As many files as these outgrow a shell's argument list.
    cat = timed(["sh", "-c", "find migrations -type f -exec cat {} + > /dev/null"], d)
    print("\nBeyond the table: `braid current` takes %.1f ms (median of 50, SQLite at the head of "
          "1,000 revisions); `braid heads` on %s revisions takes %.2f s with a warm page cache "
          "(median of %d) and %.0f MB peak memory (%.0f MB of it the files' text); `cat` of "
          "the files takes %.2f s. %s, %d cores."
          % (current * 1000, format(big, ","), heads, RUNS, rss, text_mb, cat,
             os.uname().machine, os.cpu_count()))


def main():
    parts = os.environ.get("BENCH_PARTS", "table,beyond").split(",")
    if "table" in parts:
        table()
    if "beyond" in parts:
        work = tempfile.mkdtemp(prefix="braid-bench-")
        env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
        try:
            beyond(work, env)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def table():
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
            head = head_of(d, env)
            b_heads = timed([BRAID, "heads"], d, env, expect=head)
            b_hist = timed([BRAID, "history"], d, env)
            b_check = timed([BRAID, "check", "--no-db"], d, env)
            b_sql = timed([BRAID, "upgrade", "heads", "--sql"], d, env)
            a_runs = max(1, RUNS if n <= 10000 else 1)
            a_heads = timed([ALEMBIC, "heads"], d, env, runs=a_runs, expect=head)
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
        at_head(d, env)
        a = timed([ALEMBIC, "upgrade", "heads"], d, env, setup=fresh_sqlite)
        at_head(d, env, "alembic")
        c = timed(["sqlite3", db], d, stdin=script_sqlite, setup=fresh_sqlite)
        at_head(d, env)
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
        at_head(d, env)
        a = timed([ALEMBIC, "upgrade", "heads"], d, env, setup=fresh_pg)
        at_head(d, env, "alembic")
        c = timed(["psql", PG, "-q", "-v", "ON_ERROR_STOP=1", "-f", script_pg], d, setup=fresh_pg)
        at_head(d, env)
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
        at_head(d, env)
        c = timed(["mariadb", "-h127.0.0.1", "-uroot", mysql_db], d, stdin=script_my, setup=fresh_my)
        at_head(d, env)
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
          "version-table update per revision) for upgrades. Medians of %d runs (Alembic on "
          "histories above 10,000 revisions: one run); every timed run succeeded and left the "
          "database at the head. %s, %d cores."
          % (RUNS, os.uname().machine, os.cpu_count()))


if __name__ == "__main__":
    main()
