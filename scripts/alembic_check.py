"""Checks the upgrade, downgrade and stamp answers of graph-fixtures/
against Alembic's own RevisionMap and HeadMaintainer: the same request from
the same state must apply the same set of revisions and leave the same
heads. Run with `make alembic-check` (Alembic in .venv-bench/).

Questions where braid deliberately differs (Alembic errors out or picks
arbitrarily) carry `alembic = "differs: why"` in the fixture and are only
listed.
"""
import glob
import os
import sys
import tomllib
import types

from alembic.runtime.migration import HeadMaintainer, RevisionStep
from alembic.script.revision import Revision, RevisionMap
from alembic.util import CommandError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Script(Revision):
    """A revision with the (empty) migration functions RevisionStep wants."""

    module = types.SimpleNamespace(upgrade=lambda: None, downgrade=lambda: None)


def parse_graph(text):
    revs = []
    for line in text.strip().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        rid, rest = line.split(":", 1)
        parents, deps, labels, in_deps = [], [], [], False
        for w in rest.split():
            if w == "|":
                in_deps = True
            elif w.startswith("@"):
                labels.append(w[1:])
            elif in_deps:
                deps.append(w)
            else:
                parents.append(w)
        revs.append(Script(rid.strip(), tuple(parents) or None,
                             dependencies=tuple(deps) or None, branch_labels=tuple(labels) or None))
    return revs


class Heads(HeadMaintainer):
    """Alembic's head bookkeeping without a database."""

    def __init__(self, heads):
        self.heads = set(heads)

    def _insert_version(self, version):
        assert version not in self.heads
        self.heads.add(version)

    def _delete_version(self, version):
        self.heads.remove(version)

    def _update_version(self, from_, to_):
        self.heads.remove(from_)
        self.heads.add(to_)


def alembic_answer(rmap, q):
    current = tuple(q.get("current", []))
    if q["ask"] == "upgrade":
        revs = list(rmap.iterate_revisions(q["target"], current, implicit_base=True))
        revs.reverse()
        is_up = True
    elif q["ask"] == "downgrade":
        revs = list(rmap.iterate_revisions(current, q["target"], select_for_downgrade=True))
        is_up = False
    else:
        return None
    hm = Heads(current)
    for r in revs:
        hm.update_to_step(RevisionStep(rmap, r, is_up))
    return sorted(r.revision for r in revs), sorted(hm.heads)


def main():
    checked = differ = failed = 0
    for path in sorted(glob.glob(os.path.join(ROOT, "graph-fixtures", "*.toml"))):
        fx = tomllib.load(open(path, "rb"))
        if fx.get("graph_errors"):
            continue
        revs = parse_graph(fx["graph"])
        rmap = RevisionMap(lambda: revs)
        for i, q in enumerate(fx.get("question", []), 1):
            if q["ask"] not in ("upgrade", "downgrade"):
                continue
            name = "%s #%d %s %s from %s" % (os.path.basename(path), i, q["ask"], q["target"], q.get("current", []))
            try:
                got = alembic_answer(rmap, q)
                err = None
            except Exception as e:  # Alembic's own errors, and its crashes
                got, err = None, "%s: %s" % (type(e).__name__, e)
            if "alembic" in q:
                differ += 1
                print("DIFFERS  %s: %s (Alembic: %s)" % (name, q["alembic"], err or got))
                continue
            checked += 1
            want_error = "error" in q
            if want_error:
                if err is None:
                    failed += 1
                    print("FAIL     %s: braid errors (%s), Alembic gives %s" % (name, q["error"], got))
                continue
            if err is not None:
                failed += 1
                print("FAIL     %s: Alembic errors: %s" % (name, err))
                continue
            want = (sorted(q["steps"]), sorted(q["heads_after"]))
            if got != want:
                failed += 1
                print("FAIL     %s:\n  braid   %s\n  alembic %s" % (name, want, got))
    print("%d passed, %d failed (%d questions where braid differs on purpose)" % (checked - failed, failed, differ))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
