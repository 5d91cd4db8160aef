"""The models of tests/models.rs: the seed's `boneca` package, edited step
by step. The test writes `step` (0 to 4) and `engine` (postgres, mysql,
sqlite) beside this file; BONECA_SCHEMA overrides the schema name (empty:
none) for Alembic, which compares against the database as it is.

Steps:
  0  users and posts: every column type family, server defaults, nullable,
     unique, indexes (functional and partial where the engine has them),
     a foreign key with an action, check constraints, an enum, identity
     and a sequence (PostgreSQL), comments
  1  add a column, an index and a table (tags)
  2  widen a column and make it NOT NULL with a default, change a server
     default, add a check constraint
  3  drop a column (and its partial index), drop an index, add a foreign
     key, add an enum value
  4  drop a table, rename a column (declared with info=)
"""
import os

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Column, Date, DateTime, Enum, Float, ForeignKey,
                        Identity, Index, Integer, JSON, LargeBinary, MetaData, Numeric, Sequence, String, Table,
                        Text, func, text)
from sqlalchemy.orm import DeclarativeBase

HERE = os.path.dirname(os.path.abspath(__file__))
STEP = int(open(os.path.join(HERE, "step")).read())
ENGINE = open(os.path.join(HERE, "engine")).read().strip()
PG, MY, LITE = ENGINE == "postgres", ENGINE == "mysql", ENGINE == "sqlite"
SCHEMA = os.environ.get("BONECA_SCHEMA", "boneca") or None


class Base(DeclarativeBase):
    metadata = MetaData(schema=SCHEMA)


def q(name):
    return f"{SCHEMA}.{name}" if SCHEMA else name


statuses = ["active", "banned"] + (["pending"] if STEP >= 3 else [])
false = text("false") if PG else text("0")

users = [
    Column("id", BigInteger, *([Identity(start=10, increment=5)] if PG else []), primary_key=True),
    Column("mail" if STEP >= 4 else "email", String(255), nullable=False, unique=True, comment="login",
           info={"braid_renamed_from": "email"} if STEP >= 4 else {}),
    Column("age", Integer),
    Column("status", Enum(*statuses, name="user_status"), nullable=False, server_default="active"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("balance", Numeric(12, 2), server_default=text("1" if STEP >= 2 else "0")),
    Column("flag", Boolean, nullable=False, server_default=false),
    Column("score", Float),
    Column("born", Date),
    Column("avatar", LargeBinary),
    CheckConstraint("age >= 0", name="ck_users_age"),
]
if not MY:
    users.append(Column("payload", JSON))
if STEP == 1:
    users.append(Column("nickname", String(50)))
if STEP >= 2:
    users.append(Column("nickname", String(100), nullable=False, server_default=""))
Table("users", Base.metadata, *users, comment="people")

posts = [
    Column("id", Integer, *([Sequence("posts_id_seq")] if PG else []), primary_key=True),
    Column("user_id", BigInteger, ForeignKey(q("users.id"), ondelete="CASCADE"), nullable=False),
    Column("title", String(200), nullable=False),
    Column("body", Text),
    Index("ix_posts_user", "user_id"),
]
if STEP < 3:
    posts.append(Column("published", Boolean, nullable=False, server_default=false))
    if not MY:
        posts.append(Index("ix_posts_published", "user_id", postgresql_where=text("published"),
                           sqlite_where=text("published")))
if STEP in (1, 2):
    posts.append(Index("ix_posts_title", "title"))
if STEP >= 2:
    posts.append(CheckConstraint("length(title) > 0", name="ck_posts_title"))
posts_table = Table("posts", Base.metadata, *posts)
if PG:
    Index("ix_posts_lower_title", func.lower(posts_table.c.title))

if 1 <= STEP <= 3:
    tags = [
        Column("id", Integer, primary_key=True),
        Column("name", String(50), nullable=False, unique=True),
    ]
    if STEP >= 3:
        tags.append(Column("post_id", Integer, ForeignKey(q("posts.id"), ondelete="SET NULL")))
    Table("tags", Base.metadata, *tags)
