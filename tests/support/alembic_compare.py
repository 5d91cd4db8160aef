"""What Alembic's autogenerate detects between the models of
boneca/models.py (in the working directory) and the database at argv[1]:
one JSON list of {"op", "name", "table"}, braid's own tables left out. argv[2] is
the schema to compare in (empty: the default one)."""
import json
import os
import sys

sys.path.insert(0, os.getcwd())
from alembic.autogenerate import compare_metadata  # noqa: E402
from alembic.migration import MigrationContext  # noqa: E402
from sqlalchemy import create_engine  # noqa: E402

from boneca.models import Base  # noqa: E402

url, schema = sys.argv[1], sys.argv[2] or None


def include_name(name, type_, parent_names):
    if type_ == "schema":
        return name == schema
    if type_ == "table":
        return not name.startswith("braid_")
    return True


opts = {"compare_type": True, "include_name": include_name}
if schema:
    opts["include_schemas"] = True
out = []


def add(op, name, table=None):
    out.append({"op": op, "name": str(name), "table": table})


with create_engine(url).connect() as conn:
    for d in compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata):
        if isinstance(d, list):
            for m in d:
                add(m[0], m[3])
            continue
        op = d[0]
        if op in ("add_table", "remove_table"):
            add(op, d[1].name)
        elif op in ("add_column", "remove_column"):
            add(op, d[3].name)
        elif op in ("add_index", "remove_index"):
            add(op, d[1].name, d[1].table.name)
        elif op in ("add_constraint", "remove_constraint"):
            add(op, d[1].name or d[1].table.name)
        elif op in ("add_fk", "remove_fk"):
            add(op, d[1].parent.name)
        elif op in ("add_table_comment", "remove_table_comment"):
            add(op, d[1].name)
        else:
            add(op, repr(d[1:])[:80])
print(json.dumps(out))
