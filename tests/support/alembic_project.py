"""Writes the Alembic project the import tests take over: branches with
labels, a merge, depends_on across branches, create_table, add_column,
create_index, a foreign key, an enum, a data migration with op.execute, and
one revision that reads through op.get_bind() (untranslatable offline).

Usage: alembic_project.py ROOT SQLALCHEMY_URL ALEMBIC_EXECUTABLE
"""
import os, sys, subprocess
root = sys.argv[1]; url = sys.argv[2]; alembic = sys.argv[3]
os.makedirs(root, exist_ok=True)
subprocess.run([alembic, "init", "alembic"], cwd=root, check=True, capture_output=True)
ini = open(os.path.join(root, "alembic.ini")).read().replace("driver://user:pass@localhost/dbname", url)
open(os.path.join(root, "alembic.ini"), "w").write(ini)
V = os.path.join(root, "alembic", "versions")
H = '"""{msg}\n\nRevision ID: {rev}\nRevises: {down}\nCreate Date: 2025-09-{day} 14:00:00.123456\n\n"""\nfrom alembic import op\nimport sqlalchemy as sa\n\n'
def w(name, rev, down, msg, day, body, labels=None, deps=None):
    t = H.format(msg=msg, rev=rev, down=down, day=day)
    t += "revision = %r\ndown_revision = %r\nbranch_labels = %r\ndepends_on = %r\n\n" % (rev, down, labels, deps)
    t += body
    open(os.path.join(V, name), "w").write(t)
w("r0.py", "r0base", None, "create users", 10, '''
def upgrade():
    op.create_table("users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(100), nullable=False),
        sa.Column("status", sa.Enum("active", "closed", name="user_status"), nullable=True))

def downgrade():
    op.drop_table("users")
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TYPE user_status")
''', labels=("core",))
w("a1.py", "a1auth", "r0base", "add sessions", 11, '''
def upgrade():
    op.create_table("sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False))
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])

def downgrade():
    op.drop_index("ix_sessions_user_id", table_name="sessions")
    op.drop_table("sessions")
''', labels=("auth",))
w("b1.py", "b1bill", "r0base", "add credits", 12, '''
def upgrade():
    op.add_column("users", sa.Column("credits", sa.Integer, nullable=True))

def downgrade():
    op.drop_column("users", "credits")
''', labels="billing")
w("b2.py", "b2inv", "b1bill", "add invoices", 13, '''
def upgrade():
    op.create_table("invoices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("session_id", sa.Integer, sa.ForeignKey("sessions.id")))

def downgrade():
    op.drop_table("invoices")
''', deps="a1auth")
w("m1.py", "m1merge", ("a1auth", "b2inv"), "merge auth and billing", 14, '''
def upgrade():
    pass

def downgrade():
    pass
''')
w("d1.py", "d1data", "m1merge", "backfill credits", 15, '''
def upgrade():
    op.execute("UPDATE users SET credits = 0 WHERE credits IS NULL")

def downgrade():
    pass
''')
w("x1.py", "x1read", "d1data", "read through the connection", 16, '''
def upgrade():
    rows = op.get_bind().execute(sa.text("SELECT id FROM users")).fetchall()
    for (uid,) in rows:
        op.execute(sa.text("UPDATE users SET credits = 1 WHERE id = %d" % uid))

def downgrade():
    pass
''')
os.makedirs(os.path.join(V, "util"), exist_ok=True)
open(os.path.join(V, "util", "helpers.py"), "w").write("def helper():\n    return 1\n")
open(os.path.join(V, "__init__.py"), "w").write("")
