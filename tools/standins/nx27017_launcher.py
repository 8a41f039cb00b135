#!/usr/bin/env python3
"""nx-27017, patched where it differs from MongoDB in ways this API's schema
meets, and served like the plain `nx-27017` command (same arguments).

    .venv/bin/python -m tools.standins.nx27017_launcher --host 127.0.0.1 -p 27017 --data-dir memory

Each patch below is headed by the divergence it closes; none knows this
project's collections or fields. `tools/standins/test_nx27017_rules.py` proves each
one through the Rust driver, the way the functions meet it.
"""

import sys
import threading
from datetime import datetime
from sqlite3 import IntegrityError

from neosqlite.collection import Collection
from neosqlite.collection import datetime_query_processor
from neosqlite.collection import index_manager
from neosqlite.collection import sql_translator_unified
from neosqlite.collection import type_correction
from neosqlite.collection.query_helper import _sql_query_builder, _sql_updates
import neosqlite.collection.query_helper as query_helper
from neosqlite.objectid import ObjectId
from nx_27017.handler import NeoSQLiteHandler
from nx_27017.nx_27017 import main


def _holds(value, kind) -> bool:
    """Whether `value`, or anything nested in it, is a `kind`."""
    if isinstance(value, kind):
        return True
    if isinstance(value, dict):
        return any(_holds(v, kind) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_holds(v, kind) for v in value)
    return False


def _holds_object_id(value) -> bool:
    return _holds(value, ObjectId)


# 1. A filter on a field other than _id that holds an ObjectId
#    ({"userId": ObjectId(...)}) matches nothing: the filter's ObjectId is
#    turned into its hex string, which never equals the stored ObjectId.
#    MongoDB matches by BSON type and value. Keep the ObjectId and let the
#    Python tier (which compares ObjectIds as ObjectIds) evaluate it.
_normalize = type_correction.normalize_id_query_for_db


def _normalize_keeping_object_ids(query):
    if not isinstance(query, dict):
        return _normalize(query)
    kept = {k: v for k, v in query.items() if k not in ("_id", "id") and _holds_object_id(v)}
    normalized = _normalize({k: v for k, v in query.items() if k not in kept})
    return {**normalized, **kept}


for module in (type_correction, query_helper, _sql_query_builder):
    module.normalize_id_query_for_db = _normalize_keeping_object_ids

def _names_object_id(query) -> bool:
    return isinstance(query, dict) and any(k != "_id" and _holds_object_id(v) for k, v in query.items())


# 1c. A filter comparing dates ({"seenAt": {"$lt": date}}) compares whole
#     seconds: the SQL tier wraps both sides in SQLite's datetime(), which
#     drops the milliseconds, so 10:00:00.100 is not before 10:00:00.900.
#     MongoDB compares BSON dates to the millisecond ("a 64-bit integer that
#     represents the number of milliseconds since the Unix epoch":
#     https://www.mongodb.com/docs/manual/reference/bson-types/#date). The
#     Python tier compares datetimes exactly: send such filters there too.
def _python_tier(query) -> bool:
    return _names_object_id(query) or _holds(query, datetime)


# The date-query processor (find's own path for such filters) has a switch
# for the same: keep it on.
datetime_query_processor.DateTimeQueryProcessor.is_kill_switch_enabled = lambda self: True

# Both SQL translators answer "use the Python tier" with None.
_build_where = _sql_query_builder.SqlQueryBuilderMixin._build_simple_where_clause
_sql_query_builder.SqlQueryBuilderMixin._build_simple_where_clause = (
    lambda self, query: None if _python_tier(query) else _build_where(self, query)
)
_translate_match = sql_translator_unified.SQLTranslator.translate_match
sql_translator_unified.SQLTranslator.translate_match = (
    lambda self, spec, *args, **kwargs: (None, []) if _python_tier(spec) else _translate_match(self, spec, *args, **kwargs)
)


# 1b. In that Python tier an ObjectId equals its 24-hex-digit string, so
#     {"owner": ObjectId(x)} also matches documents that stored the string
#     x. MongoDB compares by BSON type first: an ObjectId equals only an
#     ObjectId.
ObjectId.__eq__ = lambda self, other: isinstance(other, ObjectId) and self.binary == other.binary
ObjectId.__ne__ = lambda self, other: not self.__eq__(other)


# 2. findAndModify answers {"value": null} when the update breaks a unique
#    index: the handler swallows every exception. MongoDB fails the command
#    with code 11000 (DuplicateKey), as it does for update and insert.
class _DuplicateKey(BaseException):
    """Raised past the handler's `except Exception` to reach the wrapper below."""


def _reporting_duplicates(method):
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except IntegrityError as err:
            if "UNIQUE" in str(err).upper():
                raise _DuplicateKey(str(err)) from err
            raise

    return wrapper


for name in ("find_one_and_update", "find_one_and_replace"):
    setattr(Collection, name, _reporting_duplicates(getattr(Collection, name)))


# 2b. findAndModify reads the document, then writes it, and the server runs
#     commands on several threads: two concurrent calls can read the same
#     document and both answer its old value. MongoDB "modifies and returns
#     a single document" atomically
#     (https://www.mongodb.com/docs/manual/reference/command/findAndModify/):
#     concurrent $inc's each see their own pre-image. Run them one at a time.
_FIND_AND_MODIFY = threading.Lock()


def _atomic(method):
    def wrapper(self, *args, **kwargs):
        with _FIND_AND_MODIFY:
            return method(self, *args, **kwargs)

    return wrapper


for name in ("find_one_and_update", "find_one_and_replace", "find_one_and_delete"):
    setattr(Collection, name, _atomic(getattr(Collection, name)))

_handle_command = NeoSQLiteHandler.handle_command


def _handle_command_with_duplicates(self, msg):
    try:
        return _handle_command(self, msg)
    except _DuplicateKey as err:
        return msg["request_id"], {
            "ok": 0, "code": 11000, "codeName": "DuplicateKey", "errmsg": f"E11000 duplicate key error: {err}",
        }


NeoSQLiteHandler.handle_command = _handle_command_with_duplicates


# Test-only, not a divergence: {"nxFailNext": <command name or "*">,
# "code": <n>, "times": <k>} on a database makes its next k matching
# commands fail with that server error code, the way a replica set answers
# during a failover (10107 NotWritablePrimary, 11602, 189, 91, ...), so
# tests meet every error Atlas gives without a replica set. Scoped to one
# database, so tests running side by side keep theirs.
_FAILURES: dict[str, list[dict]] = {}
_HANDSHAKE = {"ismaster", "isMaster", "hello", "Hello", "ping", "buildInfo", "buildinfo", "endSessions"}


def _injected(msg):
    """The failure a test queued for this command, as the server's reply; or None."""
    command = next((doc for kind, doc in msg["sections"] if kind == "body" and isinstance(doc, dict)), {})
    name = next(iter(command), "")
    db = command.get("$db", "test")
    if name == "nxFailNext":
        _FAILURES.setdefault(db, []).append(
            {"command": command["nxFailNext"], "code": int(command["code"]), "times": int(command.get("times", 1))})
        return {"ok": 1}
    if name in _HANDSHAKE:
        return None
    for failure in _FAILURES.get(db, []):
        if failure["times"] > 0 and failure["command"] in ("*", name):
            failure["times"] -= 1
            return {"ok": 0, "code": failure["code"], "codeName": "InjectedByTest",
                    "errmsg": f"injected by nxFailNext: code {failure['code']}"}
    return None


def _failing_when_asked(handle):
    def handler(self, msg):
        reply = _injected(msg)
        return (msg["request_id"], reply) if reply is not None else handle(self, msg)

    return handler


# Inserts reach their own handler; every other command, handle_command.
NeoSQLiteHandler.handle_command = _failing_when_asked(_handle_command_with_duplicates)
NeoSQLiteHandler.handle_insert = _failing_when_asked(NeoSQLiteHandler.handle_insert)


# 3. A compound index that names _id ({userId: 1, _id: -1}) fails with
#    "JSON path error near '_id'": compound keys are all read from the JSON
#    document, where single-key indexes read _id from its own column.
#    MongoDB accepts it. Build it over the _id column, as single keys do.
_create_index = index_manager.IndexManager.create_index


def _create_index_with_id(self, key, *args, **kwargs):
    if not (isinstance(key, list) and len(key) > 1 and any(k[0] == "_id" for k in key if isinstance(k, tuple))):
        return _create_index(self, key, *args, **kwargs)
    unique = kwargs.get("unique", args[2] if len(args) > 2 else False)
    fields = [k[0] for k in key]
    prefix = self.jsonb.json_function_prefix
    columns = ", ".join(
        index_manager.quote_identifier("_id") if f == "_id"
        else f"{prefix}_extract(data, '{index_manager.parse_json_path(f)}')"
        for f in fields
    )
    name = f"idx_{self.collection.name}_" + "_".join(fields).replace(".", "_")
    self.collection.db.execute(
        f"CREATE {'UNIQUE ' if unique else ''}INDEX IF NOT EXISTS {index_manager.quote_identifier(name)} "
        f"ON {index_manager.quote_table_name(self.collection.name)}({columns})"
    )
    index_manager._store_index_keys(self.collection.db, name, fields)
    return name


index_manager.IndexManager.create_index = _create_index_with_id


# 3b. A unique index over documents that already repeat its key fails with
#     {"ok": 0, "errmsg": "UNIQUE constraint failed: ..."} and no code, which
#     the driver cannot read. MongoDB fails createIndexes with code 11000
#     (DuplicateKey), as patch 2 reports it.
index_manager.IndexManager.create_index = _reporting_duplicates(index_manager.IndexManager.create_index)


# 4. `$set` of a boolean stores 1 or 0, and of a date its string: the SQL
#    update tier binds them as SQLite parameters. MongoDB keeps their BSON
#    types. Send such updates to the Python tier, which writes the document
#    the way inserts do.
def _typed(value) -> bool:
    return _holds(value, (bool, datetime))


_can_use_sql_updates = _sql_updates.SqlUpdatesMixin._can_use_sql_updates
_sql_updates.SqlUpdatesMixin._can_use_sql_updates = (
    lambda self, spec, *args, **kwargs: not _typed(spec) and _can_use_sql_updates(self, spec, *args, **kwargs)
)


# 5. A filter that puts $or beside other fields ({"k": 1, "$or": [...]})
#    also matches documents that satisfy the $or alone: the SQL tier writes
#    "k = ? AND (a) OR (b)" without grouping the $or. MongoDB ANDs a query's
#    top-level clauses, the $or being one of them ("$or ... performs a
#    logical OR operation on an array of expressions", combined with the
#    query's other clauses by an implicit AND:
#    https://www.mongodb.com/docs/manual/reference/operator/query/or/).
#    Group each logical operator's clause.
_logical = sql_translator_unified.SQLClauseBuilder._build_logical_condition


def _grouped_logical(self, *args, **kwargs):
    sql, params = _logical(self, *args, **kwargs)
    return (f"({sql})" if sql else sql), params


sql_translator_unified.SQLClauseBuilder._build_logical_condition = _grouped_logical


if __name__ == "__main__":
    sys.exit(main())
