"""House rules for the layout: a pure domain, one folder per feature, imports that go one way.

The feature modules are the folders under ``app/`` listed in ``FEATURES``. Around them sit the
shared parts: ``domain`` (pure rules), ``core`` (helpers every feature uses), ``db`` (tables,
the unit of work), ``api`` (the HTTP plumbing: dependencies, errors, guards, the contract),
``security``, and the shell that wires everything together (``main``, ``context``,
``settings``, ``cli``, ``seed``). ``settings`` and ``context`` sit under the features too:
every feature reads them, so they import none (the delivery settings are plain models in
``core.channel_settings``; delivery builds its adapters from them).

Besides what each file names, what it loads counts: importing ``app.settings``,
``app.context``, ``app.core.*`` or ``app.domain.*`` in a fresh interpreter loads no feature
module (a shared module importing a feature's light file would pull in the feature's
package, and whatever that imports).

Imports inside ``if TYPE_CHECKING:`` are not counted: they never run.

Raw SQL couples too, and no import shows it: the tables a part's SQL strings name are its own
or declared, with a reason, in ``SQL_MAY_ALSO_NAME`` (docs/architecture.md, "Raw SQL and whose
tables it names").
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"
DOMAIN = APP / "domain"
FEATURES = frozenset(
    {
        "access_logs",
        "alerts",
        "attendance",
        "calendar",
        "casework",
        "delivery",
        "jobs",
        "org",
        "reports",
        "roster",
        "transfers",
    }
)
# Features the cycle and router rules do not hold yet (they would report a cycle through
# alerts, attendance, illness and reports, and routers reading other features' services):
# issue 25. The layer rules hold for them: no shared part imports them.
NOT_YET_RULED = frozenset({"console", "guardians", "illness"})
ALL_FEATURES = FEATURES | NOT_YET_RULED
SHARED = ("core", "db", "security", "api")
# Top-level modules of the shell that every feature reads: they import no feature either.
SHARED_SHELL = ("settings.py", "context.py")
SHELL = frozenset({"cli", "seed"})
# The one documented exception: the engine (alerts) reacts to a roll inside the intake's
# transaction, so the intake calls the engine, and the engine reads attendance's days.
ALLOWED_CYCLE = frozenset({"alerts", "attendance"})
# What a router may import besides its own feature: the plumbing, and another feature's
# schemas when it answers with the same shape (never another feature's services or queries).
ROUTER_MAY_USE = ("app.api", "app.core", "app.domain", "app.errors", "app.context")
FORBIDDEN_IN_DOMAIN = {
    "fastapi",
    "sqlmodel",
    "sqlalchemy",
    "httpx",
    "apscheduler",
    "asyncpg",
    "aiosqlite",
    "starlette",
}
# A function longer than this (its full span: decorators, signature, docstring and body) is
# split into steps named for what they do.
MAX_FUNCTION_LINES = 80
# The ones still longer, to be split (issue 25): none now. The list only shrinks: a new long
# function fails, and so does an entry that is no longer long (or gone), so it comes off the list.
LONG_FUNCTIONS_LEFT: frozenset[str] = frozenset()
CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("date", "today"), ("time", "time")}


def _files(base: Path = APP) -> list[Path]:
    files = sorted(base.rglob("*.py"))
    assert files, f"{base} is empty"
    return files


def _module(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(module: str, name: str) -> str:
    full = f"{module}.{name}"
    known = (APP.parent / full.replace(".", "/")).with_suffix(".py").exists() or (
        APP.parent / full.replace(".", "/") / "__init__.py"
    ).exists()
    return full if known else module


def _imports(path: Path, *, top_level_only: bool = False) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every import that runs; ``from pkg import sub`` counts as
    ``pkg.sub`` when ``sub`` is a module of the app."""

    def walk(nodes: list[ast.stmt], in_function: bool) -> Iterator[tuple[int, str]]:
        for node in nodes:
            if isinstance(node, ast.If) and _is_type_checking(node):
                yield from walk(node.orelse, in_function)
                continue
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield node.lineno, alias.name
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    yield node.lineno, _imported(node.module, alias.name)
            is_function = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            if is_function and top_level_only:
                continue
            for field in ("body", "orelse", "finalbody", "handlers"):
                children = getattr(node, field, None)
                if isinstance(children, list):
                    stmts = [c for c in children if isinstance(c, (ast.stmt, ast.excepthandler))]
                    yield from walk(stmts, in_function or is_function)  # type: ignore[arg-type]

    yield from walk(ast.parse(path.read_text()).body, False)


def _feature(module: str, features: frozenset[str] = FEATURES) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "app" and parts[1] in features else None


def test_every_folder_is_a_shared_part_a_feature_or_the_shell() -> None:
    """A new folder is placed here, so the rules below know what it is."""
    folders = {p.name for p in APP.iterdir() if (p / "__init__.py").exists()}
    assert folders == ALL_FEATURES | {"domain", *SHARED} | SHELL


def test_domain_imports_nothing_of_the_app_nor_any_framework() -> None:
    offenders = []
    for path in _files(DOMAIN):
        for line, name in _imports(path):
            top = name.split(".")[0]
            if top in FORBIDDEN_IN_DOMAIN or (top == "app" and not name.startswith("app.domain")):
                offenders.append(f"{path.name}:{line}: {name}")
    assert offenders == []


def test_domain_never_reads_the_wall_clock() -> None:
    offenders = []
    for path in _files(DOMAIN):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and (node.func.value.id, node.func.attr) in CLOCK_CALLS
            ):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


def _every_import(path: Path) -> Iterator[tuple[int, str]]:
    """Every import named in the file, also those under ``if TYPE_CHECKING:``."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield from ((node.lineno, _imported(node.module, a.name)) for a in node.names)


def _shared_files() -> list[Path]:
    files = [path for shared in SHARED for path in _files(APP / shared)]
    return files + [APP / name for name in SHARED_SHELL]


def test_shared_parts_import_no_feature() -> None:
    """core, db, security, the HTTP plumbing, the settings and the context sit under every
    feature, never above one: not even for a type (a type the shared part needs is
    shared: ``domain.schools.SchoolRef``, not the calendar's queries)."""
    offenders = []
    for path in _shared_files():
        for line, name in {*_imports(path), *_every_import(path)}:
            is_api = path.relative_to(APP).parts[0] == "api"
            if _feature(name, ALL_FEATURES) and not (is_api and name.startswith("app.org.auth")):
                offenders.append(f"{path.relative_to(APP)}:{line}: {name}")
    # api/deps.py resolves the caller through sign-in (org.auth): the one way in.
    assert offenders == []


def test_core_reads_neither_the_context_nor_the_settings() -> None:
    """What core needs of the running app (a timezone, a clock, a limit) is passed in."""
    shell = ("app.context", "app.settings", "app.main", "app.cli", "app.seed")
    offenders = [
        f"{path.relative_to(APP)}:{line}: {name}"
        for path in _files(APP / "core")
        for line, name in _imports(path)
        if name in shell or name.startswith(tuple(f"{s}." for s in shell))
    ]
    assert offenders == []


_LOADED = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted(sys.modules)))
"""


def _loaded_by(modules: list[str]) -> list[str]:
    """The modules a fresh interpreter holds after importing ``modules``."""
    env = {**os.environ, "KCBX_ENVIRONMENT": "test"}
    done = subprocess.run(
        [sys.executable, "-c", _LOADED, *modules],
        cwd=APP.parent,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def test_the_shared_parts_load_no_feature() -> None:
    """Counting what the imports import: ``app.settings``, ``app.context``, every module of
    ``core`` and of ``domain`` load no module of any feature."""
    modules = ["app.settings", "app.context"] + [
        _module(path) for base in ("core", "domain") for path in _files(APP / base)
    ]
    loaded = _loaded_by(modules)
    assert set(modules) <= set(loaded)
    assert [name for name in loaded if _feature(name, ALL_FEATURES)] == []


def test_the_load_check_sees_a_feature() -> None:
    assert "app.delivery.channels.outbound" in _loaded_by(["app.delivery.channels.outbound"])


def _feature_graph() -> dict[str, dict[str, list[str]]]:
    graph: dict[str, dict[str, list[str]]] = {f: {} for f in FEATURES}
    for path in _files():
        src = _feature(_module(path))
        if src is None:
            continue
        for line, name in _imports(path):
            dst = _feature(name)
            if dst and dst != src:
                graph[src].setdefault(dst, []).append(f"{path.relative_to(APP)}:{line}")
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_cycle_between_features_but_the_documented_one() -> None:
    graph = _feature_graph()
    cycles = _cycles({k: set(v) for k, v in graph.items()})
    report = {
        frozenset(c): {f"{a}->{b}": graph[a][b][:3] for a in c for b in c if b in graph[a]}
        for c in cycles
    }
    assert [c for c in report if c != ALLOWED_CYCLE] == [], report


def test_cycle_rule_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_python_module_imports_itself_round_about() -> None:
    """No import cycle between files, counting the imports that run when a module loads."""
    graph: dict[str, set[str]] = {}
    for path in _files():
        graph[_module(path)] = {
            name for _, name in _imports(path, top_level_only=True) if name.startswith("app.")
        }
    assert _cycles(graph) == []


def test_no_import_hidden_inside_a_function() -> None:
    """A function-level import is how a cycle hides; load everything at the top."""
    offenders = []
    for path in _files():
        top = {(line, name) for line, name in _imports(path, top_level_only=True)}
        for line, name in _imports(path):
            if name.startswith("app.") and (line, name) not in top:
                offenders.append(f"{path.relative_to(APP)}:{line}: {name}")
    assert offenders == []


def test_routers_import_only_their_own_feature_and_the_plumbing() -> None:
    offenders = []
    routers = [p for p in _files() if p.name.endswith("routes.py") and _feature(_module(p))]
    assert len(routers) >= 20
    for path in routers:
        own = f"app.{_feature(_module(path))}"
        for line, name in _imports(path):
            if not name.startswith("app."):
                continue
            if name == own or name.startswith(own + ".") or name.startswith(ROUTER_MAY_USE):
                continue
            if _feature(name) and name.rsplit(".", 1)[-1].endswith("schemas"):
                continue
            offenders.append(f"{path.relative_to(APP)}:{line}: {name}")
    assert offenders == []


def test_only_the_unit_of_work_commits() -> None:
    committing = [
        str(p.relative_to(APP)) for p in APP.rglob("*.py") if "session.commit()" in p.read_text()
    ]
    assert committing == ["db/uow.py"]


def test_no_private_name_imported_from_another_module() -> None:
    """What another module needs is named as shared; a leading underscore means "this file's
    own" (the splits of this layout made several such names shared)."""
    offenders = []
    for path in _files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("app"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                if private:
                    offenders.append(f"{path.relative_to(APP)}:{node.lineno}: {private}")
    assert offenders == []


# Raw SQL (``text(...)`` and SQL strings) names tables no import rule sees. Each part's raw
# SQL may name its own tables and the crossings declared here, each with its reason; any other
# is coupling to declare (or to move behind the owner, as the intake's case hints were:
# app/alerts/intake_hints.py). Who owns a table: the part of its file in app/db/models.
TABLES_OF = {
    "access_log": "access_logs",
    "alerts": "alerts",
    "attendance": "attendance",
    "calendar": "calendar",
    "care": "casework",
    "casework": "casework",
    "delivery": "delivery",
    "dropout_status": "alerts",
    "guardians": "guardians",
    "illness": "illness",
    "monthly_report": "reports",
    "patterns": "alerts",
    "return_notices": "casework",
    "roster": "roster",
    "school_age": "reports",
    "sim_clock": "jobs",
    "township": "casework",
    "transfers": "transfers",
}
# part (a folder under app/) → {table of another part (or not of a model): why its SQL names it}
SQL_MAY_ALSO_NAME: dict[str, dict[str, str]] = {
    "alerts": {
        "leave_request": "the case hints ask whether a student has leave that may explain a day",
        "suspension": "the case hints ask whether a student has a 休学 that may explain a day",
        "school": "the case hints find a school's county, whose alert policy it may take",
        "student": "the roll's students are locked and their brief read in one round trip",
    },
    "illness": {
        "school_class": "a new record takes its class's grade in the register's one write",
    },
    "db": {
        "alembic_version": "the migration head the app checks at start (Alembic's own table)",
        "pg_class": "the partitions of a table, listed from the catalog",
        "pg_inherits": "the partitions of a table, listed from the catalog",
        "pg_namespace": "the detached partitions, found in the catalog of the current schema",
    },
}
# What a part's SQL is: what ``text()`` and ``exec_driver_sql()`` are given, and every string
# assigned (at any level) that reads as SQL, with the module's own string names resolved (the
# intake's statement is its CTE plus the hints). Keywords in capitals, as this code writes SQL.
_READS_AS_SQL = re.compile(r"\b(SELECT|INSERT\s+INTO|UPDATE|DELETE\s+FROM)\b")
_SQL_CALLS = frozenset({"text", "exec_driver_sql"})
_DYNAMIC = "\x00"  # stands for what an f-string or a concatenation computes: not checked
_TOKEN = re.compile(
    r"""(?P<skip>'(?:[^']|'')*'|--[^\n]*|\s+)
    |(?P<name>(?:"[^"]+"|[A-Za-z_\x00][\w$\x00]*)(?:\.(?:"[^"]+"|[A-Za-z_\x00][\w$\x00]*))*)
    |(?P<punct>.)""",
    re.X | re.S,
)
# After these, FROM is not a table's: EXTRACT(dow FROM d), IS DISTINCT FROM, SUBSTRING(s FROM 2).
_FROM_NOT_A_TABLE = frozenset({"EXTRACT", "SUBSTRING", "TRIM", "OVERLAY", "POSITION", "DISTINCT"})
# After these, UPDATE is not a statement's: ON CONFLICT DO UPDATE, FOR (NO KEY) UPDATE, ON UPDATE.
_UPDATE_NOT_A_TABLE = frozenset({"DO", "FOR", "KEY", "ON"})
_FROM_LIST_ENDS = frozenset(
    {
        "WHERE", "JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS", "NATURAL", "ON", "USING",
        "GROUP", "ORDER", "LIMIT", "OFFSET", "HAVING", "WINDOW", "UNION", "INTERSECT",
        "EXCEPT", "RETURNING", "FOR", "SET", "VALUES", "SELECT", "WITH",
    }
)  # fmt: skip


def _tokens(sql: str) -> list[str]:
    return [m.group() for m in _TOKEN.finditer(sql) if m.lastgroup != "skip"]


def _sql_tables(sql: str) -> set[str]:
    """The tables a statement (or a fragment of one) names after FROM, JOIN, INTO, UPDATE and
    DELETE FROM, less the names its own WITH defines (``ins``, ``best``) and what an f-string
    computes."""
    tokens = _tokens(sql)
    upper = [t.upper() for t in tokens]
    ctes = set()
    for i, t in enumerate(upper):  # name [(columns)] AS [NOT] [MATERIALIZED] (
        if t != "AS" or i + 1 == len(upper) or upper[i + 1] not in ("(", "MATERIALIZED", "NOT"):
            continue
        at = i - 1
        if at > 0 and tokens[at] == ")":
            while at > 0 and tokens[at] != "(":
                at -= 1
            at -= 1
        if at >= 0:
            ctes.add(tokens[at])
    found: set[str] = set()

    def item(at: int, *, column_list: bool) -> int:
        """The table (if any) of the FROM item at ``at``; returns where the item's name was."""
        while at < len(tokens) and upper[at] in ("ONLY", "LATERAL"):
            at += 1
        if at >= len(tokens) or not (tokens[at][0].isalpha() or tokens[at][0] in '"_\x00'):
            return at  # a subquery, or nothing
        is_call = at + 1 < len(tokens) and tokens[at + 1] == "("
        if is_call and not column_list:
            return at  # unnest(...), generate_series(...): a function, not a table
        name = tokens[at].replace('"', "").removeprefix("public.")
        if _DYNAMIC not in name and name not in ctes:
            found.add(name)
        return at

    def from_list(at: int) -> None:
        """FROM a x, b y: each item up to the end of the list at this depth."""
        depth = 0
        item(at, column_list=False)
        for i in range(at, len(tokens)):
            t = upper[i]
            if t == "(":
                depth += 1
            elif t == ")":
                depth -= 1
                if depth < 0:
                    return
            elif depth == 0 and t == ",":
                item(i + 1, column_list=False)
            elif depth == 0 and t in _FROM_LIST_ENDS:
                return

    opened: list[str] = []  # the token before each open parenthesis: EXTRACT, SUBSTRING...
    for i, t in enumerate(upper):
        before = upper[i - 1] if i else ""
        if t == "(":
            opened.append(before)
        elif t == ")" and opened:
            opened.pop()
        elif t == "FROM" and before not in _FROM_NOT_A_TABLE:
            if not (opened and opened[-1] in _FROM_NOT_A_TABLE):
                from_list(i + 1)
        elif t == "JOIN":
            item(i + 1, column_list=False)
        elif t == "INTO" and before in ("INSERT", "MERGE"):
            item(i + 1, column_list=True)
        elif t == "UPDATE" and before not in _UPDATE_NOT_A_TABLE:
            item(i + 1, column_list=False)
    return found


def _string(node: ast.expr, known: dict[str, str]) -> str | None:
    """The text a string expression builds (f-string holes and unknown names as _DYNAMIC);
    None when it is no string expression at all."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.JoinedStr):
        parts = []
        for part in node.values:
            if isinstance(part, ast.Constant):
                parts.append(str(part.value))
            else:
                held = part.value if isinstance(part, ast.FormattedValue) else None
                is_name = isinstance(held, ast.Name) and held.id in known
                parts.append(known[held.id] if is_name else _DYNAMIC)  # type: ignore[union-attr]
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _string(node.left, known), _string(node.right, known)
        if left is None and right is None:
            return None
        return (left or _DYNAMIC) + (right or _DYNAMIC)
    if isinstance(node, ast.Name):
        return known.get(node.id)
    return None


def _sql_in(source: str) -> Iterator[tuple[int, str]]:
    """(line, SQL text) of every statement or fragment in a module's source."""
    tree = ast.parse(source)
    known: dict[str, str] = {}
    for node in tree.body:  # the module's string constants, in order: later ones use earlier
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        text = _string(value, known) if isinstance(target, ast.Name) else None
        if text is not None and isinstance(target, ast.Name):
            known[target.id] = text
    sql_text = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy")
        for alias in node.names
        if alias.name == "text"
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            is_sql = (isinstance(func, ast.Name) and func.id in sql_text) or (
                isinstance(func, ast.Attribute) and func.attr in _SQL_CALLS
            )
            text = _string(node.args[0], known) if is_sql else None
            if text is not None:
                yield node.lineno, text
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            text = _string(node.value, known)
            if text is not None and _READS_AS_SQL.search(text):
                yield node.lineno, text


def _model_tables() -> dict[str, str]:
    """table → the part owning it (TABLES_OF, by the models file defining it)."""
    owners: dict[str, str] = {}
    for path in _files(APP / "db" / "models"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "__tablename__" for t in node.targets)
                and isinstance(node.value, ast.Constant)
            ):
                owners[str(node.value.value)] = TABLES_OF[path.stem]
    return owners


def _sql_crossings(part: str, where: str, source: str, owners: dict[str, str]) -> list[str]:
    """What the raw SQL in ``source`` (a module of ``part``) names that ``part`` may not."""
    declared = SQL_MAY_ALSO_NAME.get(part, {})
    found = []
    for line, sql in sorted(set(_sql_in(source))):
        for table in sorted(_sql_tables(sql)):
            owner = owners.get(table)
            if owner == part or table in declared:
                continue
            whose = f"owned by {owner}" if owner else "no model in app/db/models defines it"
            found.append(
                f"{where}:{line}: {part}'s raw SQL names {table} ({whose}): move the SQL behind "
                f"{owner or 'its owner'}, or declare it in SQL_MAY_ALSO_NAME[{part!r}] with why"
            )
    return found


def _part(path: Path) -> str:
    """The folder under app/ a module is in (the module's own name at the top level)."""
    return path.relative_to(APP).with_suffix("").parts[0]


def test_every_models_file_has_an_owner() -> None:
    files = {p.stem for p in _files(APP / "db" / "models")} - {"__init__", "base"}
    assert files == set(TABLES_OF)
    assert set(TABLES_OF.values()) <= ALL_FEATURES


def test_raw_sql_names_only_its_own_tables_and_the_declared_crossings() -> None:
    owners = _model_tables()
    crossings = [
        crossing
        for path in _files()
        for crossing in _sql_crossings(
            _part(path), str(path.relative_to(APP)), path.read_text(), owners
        )
    ]
    assert crossings == [], "\n".join(crossings)


def test_every_declared_crossing_is_still_named() -> None:
    """The map says what the code does: a crossing no SQL names any more is taken out."""
    named: dict[str, set[str]] = {}
    for path in _files():
        for _, sql in _sql_in(path.read_text()):
            named.setdefault(_part(path), set()).update(_sql_tables(sql))
    stale = {
        f"{part}: {table}"
        for part, tables in SQL_MAY_ALSO_NAME.items()
        for table in tables
        if table not in named.get(part, set())
    }
    assert stale == set()


_FAKE_INTAKE = '''
from sqlalchemy import text
from app.alerts import intake_hints

_CTE = """WITH ins AS (INSERT INTO attendance_event (event_id) SELECT 1 RETURNING event_id)"""
_OPEN = f"EXISTS (SELECT 1 FROM absence_case c WHERE c.status <> '{1}') AS open_case"
_RECORD = text(_CTE + " SELECT i.event_id, " + _OPEN + " FROM ins i " + intake_hints.ABSENT_JOIN)
_SUSPENDED = "SELECT student_id FROM attendance_event m, suspension s WHERE m.school_id = s.id"
'''


def test_the_sql_rule_sees_a_crossing() -> None:
    """The attendance intake naming the engine's and transfers' tables is reported, file,
    line, table and owner; its own tables and its CTE are not."""
    crossings = _sql_crossings("attendance", "attendance/fake.py", _FAKE_INTAKE, _model_tables())
    assert crossings == [
        "attendance/fake.py:6: attendance's raw SQL names absence_case (owned by alerts): move"
        " the SQL behind alerts, or declare it in SQL_MAY_ALSO_NAME['attendance'] with why",
        "attendance/fake.py:7: attendance's raw SQL names absence_case (owned by alerts): move"
        " the SQL behind alerts, or declare it in SQL_MAY_ALSO_NAME['attendance'] with why",
        "attendance/fake.py:8: attendance's raw SQL names suspension (owned by transfers): move"
        " the SQL behind transfers, or declare it in SQL_MAY_ALSO_NAME['attendance'] with why",
    ]


def test_the_sql_rule_reads_tables_not_expressions() -> None:
    assert _sql_tables(
        "WITH RECURSIVE up(id) AS (SELECT 1), m AS MATERIALIZED (SELECT 2)"
        " UPDATE deadline SET n = EXTRACT(epoch FROM d.at) FROM up, m, unnest(:a) AS x(i)"
        " WHERE a IS DISTINCT FROM b AND substring(s FROM 2) = 'FROM alert'"
        " AND EXISTS (SELECT 1 FROM public.school s JOIN LATERAL (SELECT 1) l ON true)"
    ) == {"deadline", "school"}
    assert _sql_tables(
        'INSERT INTO "alert" (a) SELECT a FROM student ON CONFLICT (a) DO UPDATE SET a = 1'
        " RETURNING a"
    ) == {"alert", "student"}
    assert _sql_tables("SELECT 1 FROM case_event FOR UPDATE SKIP LOCKED") == {"case_event"}
    assert _sql_tables(f"SELECT count(*) FROM {_DYNAMIC}_default") == set()


def _function_spans(path: Path) -> Iterator[tuple[str, int]]:
    """(qualified name, lines) of every function of the file, methods and nested ones too."""

    def walk(node: ast.AST, prefix: str) -> Iterator[tuple[str, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                    yield name, (child.end_lineno or child.lineno) - first + 1
                yield from walk(child, f"{name}.")
            else:
                yield from walk(child, prefix)

    yield from walk(ast.parse(path.read_text()), "")


def _long_functions() -> dict[str, int]:
    return {
        f"{path.relative_to(APP)}::{name}": lines
        for path in _files()
        for name, lines in _function_spans(path)
        if lines > MAX_FUNCTION_LINES
    }


def test_no_function_over_80_lines_but_the_listed_ones() -> None:
    found = _long_functions()
    new = {name: n for name, n in found.items() if name not in LONG_FUNCTIONS_LEFT}
    assert new == {}, f"over {MAX_FUNCTION_LINES} lines: split them into named steps"
    mended = LONG_FUNCTIONS_LEFT - set(found)
    assert mended == set(), "no longer over the limit (or gone): take them off the list"


def test_the_length_rule_counts_the_whole_span(tmp_path: Path) -> None:
    """From the first decorator to the last line; a method is named by its class."""
    lines = [f"    x{i} = {i}" for i in range(78)]
    source = ["@decorator", "def f() -> None:", *lines, "", "", "class C:", "    def m(self):"]
    source += ["    " + line for line in lines[:77]]
    path = tmp_path / "long.py"
    path.write_text("\n".join(source) + "\n")
    assert dict(_function_spans(path)) == {"f": 80, "C.m": 78}
