#!/usr/bin/env python3
"""Self check of the patches tools/standins/nx27017_launcher.py makes to nx-27017.

    .venv/bin/python -m tools.standins.test_nx27017_rules

Starts the launcher on a free loopback port (in memory), checks each patch
through pymongo (as a MongoDB client would), each on a database of its own,
prints PASS or FAIL per check, stops the server, and exits non-zero on any
failure.
"""

import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, MongoClient, ReturnDocument
from pymongo.errors import PyMongoError

from tools.standins.checks import check, failures, passed
from tools.standins.services import free_port, start_launcher

LAUNCHER = "tools.standins.nx27017_launcher"


def start_server(port: int, run_dir: str, log):
    return start_launcher(LAUNCHER, ["--host", "127.0.0.1", "-p", str(port), "--data-dir", "memory",
                                     "--log-file", os.path.join(run_dir, "nx-27017.server.log"),
                                     "--pid-file", os.path.join(run_dir, "nx-27017.pid")], port, log)


def error_code(err: BaseException):
    """The server's error code: OperationFailure has .code; NotPrimaryError (10107, ...) only .details."""
    code = getattr(err, "code", None)
    if code is None:
        details = getattr(err, "details", None)
        code = details.get("code") if isinstance(details, dict) else None
    return code


def failure_of(call):
    """The PyMongoError `call` raises, or None when it succeeds."""
    try:
        call()
    except PyMongoError as err:
        return err
    return None


def at_millis(millis: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=millis)


# --- checks (one per patch of the launcher) --------------------------------

def object_id_filter_on_other_fields(db):
    """Patches 1 and 1b. MongoDB matches a query on a field's BSON type and value: {"owner": ObjectId(x)}
    matches documents whose owner is that ObjectId (not only on _id), and an ObjectId never equals its
    hex string (comparison/sort order compares BSON types first)."""
    things = db["things"]
    owner, other = ObjectId(), ObjectId()
    things.insert_many([{"owner": owner, "n": 1}, {"owner": other, "n": 2}])
    found = list(things.find({"owner": owner}))
    check("1: a filter on an ObjectId field other than _id matches exactly that document",
          len(found) == 1 and found[0].get("n") == 1, found)
    updated = things.update_one({"owner": owner, "n": 1}, {"$set": {"n": 3}})
    check("1: ... and updates match it too", updated.matched_count == 1, updated.raw_result)
    count = things.count_documents({"owner": str(owner)})
    check("1b: a hex string is not an ObjectId (counts 0)", count == 0, count)


def find_one_and_update_duplicate_key(db):
    """Patch 2. MongoDB fails findAndModify with code 11000 (DuplicateKey) when the update breaks a unique
    index, as it does for insert and update; it does not answer {"value": null}."""
    people = db["people"]
    people.create_index([("email", ASCENDING)], unique=True)
    people.insert_one({"email": "a@example.com"})
    b = people.insert_one({"email": "b@example.com"}).inserted_id
    outcome = {}

    def update():
        outcome["value"] = people.find_one_and_update({"_id": b}, {"$set": {"email": "a@example.com"}},
                                                      return_document=ReturnDocument.AFTER)

    err = failure_of(update)
    check("2: findAndModify breaking a unique index fails with E11000 (code 11000)",
          err is not None and error_code(err) == 11000, repr(err) if err else f"no error: {outcome}")


def unique_index_over_repeated_keys(db):
    """Patch 3b. MongoDB fails createIndexes with code 11000 (DuplicateKey) when a unique index meets
    documents that already repeat its key."""
    people = db["people"]
    people.insert_many([{"email": "a@example.com"}, {"email": "a@example.com"}])
    err = failure_of(lambda: people.create_index([("email", ASCENDING)], unique=True))
    check("3b: a unique index over repeated keys fails with E11000 (code 11000)",
          err is not None and error_code(err) == 11000, repr(err) if err else "the index was created")


def compound_index_naming_id(db):
    """Patch 3. MongoDB accepts a compound index that names _id ({owner: 1, _id: -1}), and writes and
    reads go on through it."""
    things = db["listed"]
    err = failure_of(lambda: things.create_index([("owner", ASCENDING), ("_id", DESCENDING)]))
    check("3: a compound index naming _id ({owner: 1, _id: -1}) is accepted", err is None, repr(err))
    owner = ObjectId()
    for n in range(3):
        things.insert_one({"owner": owner, "n": n})
    newest = [doc.get("n") for doc in things.find({"owner": owner}).sort("_id", DESCENDING).limit(2)]
    check("3: ... and serves writes: the two newest by _id are n = 2, 1", newest == [2, 1], newest)


def set_keeps_bson_types(db):
    """Patch 4. MongoDB's $set stores a value with its BSON type: a boolean stays a boolean (not 0/1), a
    date a date (not a string)."""
    things = db["typed"]
    inserted = things.insert_one({"flag": True}).inserted_id
    when = at_millis(1_795_521_600_000)
    things.update_one({"_id": inserted}, {"$set": {"flag": False, "at": when}})
    stored = things.find_one({"_id": inserted}) or {}
    check("4: $set of false keeps a boolean", stored.get("flag") is False, stored)
    check("4: $set of a date keeps a date, to the millisecond",
          isinstance(stored.get("at"), datetime) and stored.get("at") == when, stored)


def or_beside_other_fields(db):
    """Patch 5. MongoDB ANDs a query's top-level clauses, $or being one of them
    (https://www.mongodb.com/docs/manual/reference/operator/query/or/). nx-27017's find already gets this
    right; its findAndModify and update (the path of the API's record(), with such a filter) do not, so
    those are checked too."""
    things = db["things"]
    things.insert_many([{"k": 1, "seen": 5}, {"k": 2}, {"k": 3, "seen": 1}])
    either = [{"seen": {"$lt": 3}}, {"seen": None}]
    found = list(things.find({"k": 1, "$or": either}))
    check("5: find {k: 1, $or: [...]} matches nothing (k = 1 has seen = 5, so neither branch holds)",
          found == [], found)
    found = list(things.find({"k": 2, "$or": either}))
    check("5: find {k: 2, $or: [...]} matches the k = 2 document only",
          len(found) == 1 and found[0].get("k") == 2, found)
    before = things.find_one_and_update({"k": 1, "$or": either}, {"$set": {"touched": True}})
    check("5: findAndModify {k: 1, $or: [...]} matches nothing either", before is None, before)
    updated = things.update_one({"k": 1, "$or": either}, {"$set": {"touched": True}})
    check("5: update {k: 1, $or: [...]} matches nothing either", updated.matched_count == 0, updated.raw_result)
    touched = things.count_documents({"touched": True})
    check("5: ... so no document was changed", touched == 0, list(things.find({"touched": True})))
    before = things.find_one_and_update({"k": 2, "$or": either}, {"$set": {"touched": True}})
    check("5: findAndModify {k: 2, $or: [...]} matches the k = 2 document",
          before is not None and before.get("k") == 2, before)


def dates_compare_to_the_millisecond(db):
    """Patch 1c. MongoDB compares BSON dates to the millisecond (a date is "a 64-bit integer that represents
    the number of milliseconds since the Unix epoch":
    https://www.mongodb.com/docs/manual/reference/bson-types/#date)."""
    things = db["things"]
    start_ms = 1_700_000_000_000
    start = at_millis(start_ms)
    things.insert_one({"k": 1, "seen": start, "n": 0})
    for n in range(1, 4):
        seen = at_millis(start_ms + n * 10)
        before = things.find_one_and_update({"k": 1, "$or": [{"seen": {"$lt": seen}}, {"seen": None}]},
                                            {"$set": {"seen": seen, "n": n, "flag": True}})
        check(f"1c: a read {n}0 ms later is later than the stored one (findAndModify matches)",
              before is not None, before)
    stale = things.find_one_and_update({"k": 1, "$or": [{"seen": {"$lt": start}}, {"seen": None}]},
                                       {"$set": {"n": -1}})
    check("1c: ... and one older than the stored date does not match", stale is None, stale)


def concurrent_find_one_and_update(db):
    """Patch 2b. MongoDB's findAndModify "modifies and returns a single document" atomically
    (https://www.mongodb.com/docs/manual/reference/command/findAndModify/): concurrent $inc's each see their
    own pre-image."""
    counters = db["counters"]
    counters.insert_one({"_id": "c", "n": 0})
    calls = 20
    gate = threading.Barrier(calls)
    seen, errors = [], []
    lock = threading.Lock()

    def increment():
        try:
            gate.wait(timeout=10)
            before = counters.find_one_and_update({"_id": "c"}, {"$inc": {"n": 1}},
                                                  return_document=ReturnDocument.BEFORE)
            with lock:
                seen.append(before["n"])
        except Exception as err:  # noqa: BLE001 - reported below
            with lock:
                errors.append(repr(err))

    threads = [threading.Thread(target=increment) for _ in range(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    check(f"2b: {calls} concurrent findAndModify $inc calls each see their own pre-image (0..{calls - 1})",
          not errors and sorted(seen) == list(range(calls)), errors or sorted(seen))


def fail_next(db):
    """Test hook, not a MongoDB behaviour: {"nxFailNext": "find", "code": 10107, "times": 1} makes the
    database's next find fail as a replica set does during a failover (10107 NotWritablePrimary), once.
    api-tests/tests/api/failover.rs relies on it. The client here does not retry reads, so the failure shows."""
    things = db["things"]
    things.insert_one({"k": 1})
    answer = db.command({"nxFailNext": "find", "code": 10107, "times": 1})
    check("hook: nxFailNext is accepted", answer.get("ok") == 1, answer)
    err = failure_of(lambda: list(things.find({})))
    check("hook: the next find fails with code 10107", err is not None and error_code(err) == 10107,
          repr(err) if err else "the find succeeded")
    found = None
    for _ in range(3):  # after a NotWritablePrimary the driver rediscovers the server first
        try:
            found = list(things.find({}))
            break
        except PyMongoError as err:
            found = repr(err)
            time.sleep(0.2)
    check("hook: times=1: the find after it works again", isinstance(found, list) and len(found) == 1, found)


CHECKS = [object_id_filter_on_other_fields, find_one_and_update_duplicate_key, unique_index_over_repeated_keys,
          compound_index_naming_id, set_keeps_bson_types, or_beside_other_fields, dates_compare_to_the_millisecond,
          concurrent_find_one_and_update, fail_next]


def main() -> int:
    port = free_port()
    run = str(int(time.time() * 1000))
    run_dir = tempfile.TemporaryDirectory(prefix="nx27017-rules-")
    log = tempfile.TemporaryFile()
    started = time.time()
    try:
        server = start_server(port, run_dir.name, log)
    except RuntimeError as err:
        failures.append(f"start: {err}")
        print(f"FAIL  the launcher did not start: {err}")
        server = None
    client = None
    try:
        if server:
            client = MongoClient(f"mongodb://127.0.0.1:{port}/?directConnection=true", retryReads=False,
                                 retryWrites=False, tz_aware=True, serverSelectionTimeoutMS=10_000,
                                 socketTimeoutMS=30_000)
            for number, run_check in enumerate(CHECKS):
                print(f"\n({run_check.__name__})")
                try:
                    run_check(client[f"rules_{run}_{number}"])
                except Exception as err:  # a crash is a failure of that check
                    failures.append(f"{run_check.__name__}: crash: {err!r}")
                    print(f"FAIL  {run_check.__name__} crashed: {err!r}")
    finally:
        if client:
            client.close()
        if server:
            server.terminate()
            try:
                server.wait(timeout=5)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    print(f"\n{len(passed)} passed, {len(failures)} failed ({time.time() - started:.1f} s)")
    if failures:
        log.seek(0)
        tail = log.read().decode(errors="replace").splitlines()
        server_log = os.path.join(run_dir.name, "nx-27017.server.log")
        if os.path.exists(server_log):
            with open(server_log, errors="replace") as handle:
                tail += handle.read().splitlines()
        print("server log (last lines):\n  " + "\n  ".join(tail[-40:]))
    run_dir.cleanup()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
