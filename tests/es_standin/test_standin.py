#!/usr/bin/env python3
"""Self-test of es_standin.py: starts it as a subprocess and checks each feature and fault.

Run: python3 tests/es_standin/test_standin.py   (standard library only; about 15 s)
"""

import base64
import gzip
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "es_standin.py")


def nd(*objs):
    """An NDJSON _bulk body."""
    return "".join(json.dumps(o) + "\n" for o in objs)


class Standin:
    """One es_standin process on a free port."""

    def __init__(self, *args, tls_ca=None):
        self.dir = tempfile.mkdtemp(prefix="es_standin_test.")
        self.port_file = os.path.join(self.dir, "port")
        self.log = os.path.join(self.dir, "requests.log")
        self.proc = subprocess.Popen(
            [sys.executable, SERVER, "--listen", "127.0.0.1:0", "--port-file", self.port_file,
             "--log", self.log, *args], stdout=subprocess.PIPE, text=True)
        self.banner = self.proc.stdout.readline().strip()
        if not self.banner.startswith("es_standin listening on 127.0.0.1:"):
            raise RuntimeError(f"es_standin did not start: {self.banner!r}")
        self.port = int(self.banner.rsplit(":", 1)[1])
        self.tls_ca = tls_ca
        self._conn = None

    def connect(self, timeout=10):
        if self.tls_ca:
            ctx = ssl.create_default_context(cafile=self.tls_ca)
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=ctx)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def req(self, method, path, body=None, headers=None, conn=None, raw=False):
        """(status, headers, parsed body or None); dict bodies go as JSON, str bodies as NDJSON."""
        hdrs = dict(headers or {})
        if isinstance(body, dict):
            body = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            body = body.encode()
            hdrs.setdefault("Content-Type", "application/x-ndjson")
        c = conn or self._conn
        if c is None:
            c = self._conn = self.connect()
        try:
            c.request(method, path, body=body, headers=hdrs)
            resp = c.getresponse()
            data = resp.read()
        except (ConnectionError, http.client.HTTPException):
            if conn is not None:
                raise
            self._conn = None  # the server closed a kept-alive connection: retry once on a new one
            return self.req(method, path, body, headers, raw=raw)
        if raw:
            return resp.status, resp.headers, data
        return resp.status, resp.headers, (json.loads(data) if data else None)

    def stop(self):
        if self._conn:
            self._conn.close()
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(10)
        self.proc.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        return rc


class StandinTest(unittest.TestCase):
    """Against a server without automatic refresh: search sees only explicit refreshes."""

    @classmethod
    def setUpClass(cls):
        cls.es = Standin("--refresh-interval-ms", "0")

    @classmethod
    def tearDownClass(cls):
        with open(cls.es.log) as f:
            log = f.read()
        assert cls.es.stop() == 0, "es_standin did not exit 0 on SIGTERM"
        assert "PUT /" in log and " 200" in log, "request log is missing lines"

    def setUp(self):
        self.req("POST", "/_standin/reset", {"data": True})

    def req(self, *a, **kw):
        return self.es.req(*a, **kw)

    def ok(self, method, path, body=None, status=200, **kw):
        st, _, obj = self.req(method, path, body, **kw)
        self.assertEqual(st, status, obj)
        return obj

    def error(self, method, path, body, status, etype, reason=None):
        """Checks an ES-shaped error answer; returns its "error" object."""
        st, _, obj = self.req(method, path, body)
        self.assertEqual(st, status, obj)
        self.assertEqual(obj["status"], status)
        err = obj["error"]
        self.assertEqual(err["type"], etype, err)
        self.assertIsInstance(err["root_cause"], list)
        self.assertTrue(err["root_cause"][0]["type"])
        if reason is not None:
            self.assertEqual(err["reason"], reason)
        return err

    def bulk(self, body, path="/_bulk", status=200):
        return self.ok("POST", path, body if isinstance(body, str) else nd(*body), status)

    def items(self, body, path="/_bulk"):
        resp = self.bulk(body, path)
        return [next(iter(i.values())) for i in resp["items"]]

    def dump(self, name):
        return self.ok("GET", f"/_standin/dump/{name}")["docs"]

    def search(self, index, query=None, **kw):
        body = dict(kw)
        if query is not None:
            body["query"] = query
        return self.ok("POST", f"/{index}/_search", body)

    def ids(self, index, query, **kw):
        return [h["_id"] for h in self.search(index, query, size=100, **kw)["hits"]["hits"]]

    # -- basics -------------------------------------------------------------------------------

    def test_root_port_file_and_http(self):
        with open(self.es.port_file) as f:
            self.assertEqual(f.read().strip(), str(self.es.port))
        st, hdrs, obj = self.req("GET", "/")
        self.assertEqual(st, 200)
        self.assertEqual(obj["version"]["number"], "8.11.0")
        self.assertEqual(obj["tagline"], "You Know, for Search")
        for k in ("name", "cluster_name", "cluster_uuid"):
            self.assertIn(k, obj)
        self.assertEqual(hdrs["X-elastic-product"], "Elasticsearch")
        # keep-alive: several requests on one connection
        conn = self.es.connect()
        for _ in range(3):
            self.assertEqual(self.req("GET", "/", conn=conn)[0], 200)
        conn.close()
        err = self.error("GET", "/_nope/x/y", None, 400, "illegal_argument_exception")
        self.assertEqual(err["reason"], "no handler found for uri [/_nope/x/y] and method [GET]")
        st, hdrs, obj = self.req("GET", "/_bulk")
        self.assertEqual(st, 405)
        self.assertIn("Incorrect HTTP method for uri [/_bulk] and method [GET]", obj["error"])
        self.error("GET", "/_search?bogus=1", None, 400, "illegal_argument_exception",
                   "request [/_search] contains unrecognized parameter: [bogus]")
        st, _, obj = self.req("POST", "/_search", b"{}", headers={"Content-Type": "text/plain"})
        self.assertEqual(st, 406)
        self.assertEqual(obj["error"], "Content-Type header [text/plain] is not supported")
        # gzip responses when asked for (no TLS), as http.compression does
        st, hdrs, data = self.req("GET", "/", headers={"Accept-Encoding": "gzip"}, raw=True)
        self.assertEqual(hdrs["Content-Encoding"], "gzip")
        self.assertEqual(json.loads(gzip.decompress(data))["tagline"], "You Know, for Search")
        # chunked request bodies
        conn = self.es.connect()
        conn.request("POST", "/_search", body=iter([b'{"size"', b':0}']), encode_chunked=True,
                     headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
        resp = conn.getresponse()
        self.assertEqual((resp.status, json.loads(resp.read())["hits"]["hits"]), (200, []))
        conn.close()
        # filter_path keeps only the named parts of an answer
        resp = self.ok("POST", "/_bulk?filter_path=errors,items.*.status", nd({"index": {"_index": "fp"}}, {"a": 1}))
        self.assertEqual(resp, {"errors": False, "items": [{"index": {"status": 201}}]})

    def test_create_get_head_delete_index(self):
        mappings = {"dynamic": "strict", "properties": {
            "id": {"type": "keyword"}, "n": {"type": "long"}, "i": {"type": "integer"},
            "s": {"type": "short"}, "by": {"type": "byte"}, "d": {"type": "double"},
            "f": {"type": "float"}, "h": {"type": "half_float"},
            "sf": {"type": "scaled_float", "scaling_factor": 100}, "b": {"type": "boolean"},
            "at": {"type": "date", "format": "strict_date_optional_time||epoch_millis"},
            "t": {"type": "text", "fields": {"keyword": {"type": "keyword"}}},
            "o": {"type": "object", "properties": {"x": {"type": "long"}}},
            "ne": {"type": "nested", "properties": {"y": {"type": "keyword"}}}, "ip": {"type": "ip"}}}
        obj = self.ok("PUT", "/ix-1", {"settings": {"number_of_shards": 1}, "mappings": mappings})
        self.assertEqual(obj, {"acknowledged": True, "shards_acknowledged": True, "index": "ix-1"})
        err = self.error("PUT", "/ix-1", {}, 400, "resource_already_exists_exception")
        self.assertEqual(err["index"], "ix-1")
        self.assertEqual(self.req("HEAD", "/ix-1")[0], 200)
        st, _, body = self.req("HEAD", "/ix-missing")
        self.assertEqual((st, body), (404, None))
        got = self.ok("GET", "/ix-1")["ix-1"]
        self.assertEqual(got["aliases"], {})
        self.assertEqual(got["mappings"]["dynamic"], "strict")
        self.assertEqual(got["mappings"]["properties"]["sf"]["scaling_factor"], 100)
        self.assertEqual(got["settings"]["index"]["number_of_shards"], "1")
        self.error("GET", "/ix-missing", None, 404, "index_not_found_exception", "no such index [ix-missing]")
        for bad in ("Upper", "_under", "-dash", "+plus", "a%20b", "a%2Cb", "a%2Ab", "a%3Fb", "a%22b"):
            self.error("PUT", f"/{bad}", {}, 400, "invalid_index_name_exception")
        err = self.error("PUT", "/ix-2", {"mappings": {"properties": {"f": {"type": "foo"}}}}, 400,
                         "mapper_parsing_exception")
        self.assertEqual(err["root_cause"][0]["reason"], "No handler for type [foo] declared on field [f]")
        self.assertIn("No handler for type [foo] declared on field [f]", err["reason"])
        self.error("PUT", "/ix-2", {"mappings": {"properties": {"f": {"type": "scaled_float"}}}}, 400,
                   "mapper_parsing_exception")
        self.assertEqual(self.req("HEAD", "/ix-2")[0], 404)
        self.assertEqual(self.ok("DELETE", "/ix-1"), {"acknowledged": True})
        self.error("DELETE", "/ix-1", None, 404, "index_not_found_exception")
        self.assertEqual(self.req("HEAD", "/ix-1")[0], 404)

    def test_aliases(self):
        self.ok("PUT", "/al-1", {})
        self.ok("PUT", "/al-2", {})
        self.ok("POST", "/_aliases", {"actions": [{"add": {"index": "al-1", "alias": "al", "is_write_index": True}}]})
        self.assertEqual(self.ok("GET", "/_alias/al"), {"al-1": {"aliases": {"al": {"is_write_index": True}}}})
        self.assertEqual(self.ok("GET", "/al-1/_alias"), {"al-1": {"aliases": {"al": {"is_write_index": True}}}})
        st, _, obj = self.req("GET", "/_alias/nope")
        self.assertEqual((st, obj), (404, {"error": "alias [nope] missing", "status": 404}))
        self.assertEqual(self.req("HEAD", "/_alias/al")[0], 200)
        # every action is validated before any applies
        self.error("POST", "/_aliases", {"actions": [
            {"add": {"index": "al-2", "alias": "other"}},
            {"remove": {"index": "al-2", "alias": "al"}}]}, 404, "aliases_not_found_exception")
        self.error("POST", "/_aliases", {"actions": [
            {"add": {"index": "al-2", "alias": "other"}},
            {"add": {"index": "al-missing", "alias": "other"}}]}, 404, "index_not_found_exception")
        self.assertEqual(self.req("GET", "/_alias/other")[0], 404)
        self.error("POST", "/_aliases", {"actions": [{"add": {"index": "al-2", "alias": "al-1"}}]}, 400,
                   "invalid_alias_name_exception")
        self.error("POST", "/_aliases", {"actions": [
            {"add": {"index": "al-2", "alias": "al", "is_write_index": True}}]}, 400, "illegal_state_exception")
        self.error("PUT", "/al", {}, 400, "invalid_index_name_exception")
        # names resolve through the alias
        self.bulk([{"index": {"_index": "al", "_id": "1"}}, {"v": 1}])
        self.assertEqual(self.ok("GET", "/al/_doc/1")["_index"], "al-1")
        self.assertEqual(self.req("HEAD", "/al")[0], 200)
        self.assertIn("al-1", self.ok("GET", "/al"))
        self.ok("POST", "/al/_refresh")
        self.assertEqual(self.ok("GET", "/al/_count")["count"], 1)
        self.assertEqual(self.search("al")["hits"]["hits"][0]["_index"], "al-1")
        # atomic swap: a reader never sees the alias missing
        failures, stop = [], threading.Event()

        def reader():
            conn = self.es.connect()
            while not stop.is_set():
                for path in ("/_alias/al", "/al/_count"):
                    st = self.req("GET", path, conn=conn)[0]
                    if st != 200:
                        failures.append((path, st))
            conn.close()
        t = threading.Thread(target=reader)
        t.start()
        for n in range(40):
            old, new = ("al-1", "al-2") if n % 2 == 0 else ("al-2", "al-1")
            self.ok("POST", "/_aliases", {"actions": [
                {"remove": {"index": old, "alias": "al"}},
                {"add": {"index": new, "alias": "al", "is_write_index": True}}]})
        stop.set()
        t.join()
        self.assertEqual(failures, [])
        self.assertEqual(self.ok("GET", "/_alias/al"), {"al-1": {"aliases": {"al": {"is_write_index": True}}}})
        # several indices and no write index: writes through the alias fail per item
        self.ok("POST", "/_aliases", {"actions": [
            {"add": {"index": "al-1", "alias": "al", "is_write_index": False}},
            {"add": {"index": "al-2", "alias": "al"}}]})
        item = self.items([{"index": {"_index": "al", "_id": "2"}}, {"v": 2}])[0]
        self.assertEqual(item["status"], 400)
        self.assertEqual(item["error"]["type"], "illegal_argument_exception")
        self.assertTrue(item["error"]["reason"].startswith("no write index is defined for alias [al]"))
        self.error("GET", "/al/_doc/1", None, 400, "illegal_argument_exception")
        # delete: not through an alias; deleting an index takes it out of its aliases
        self.error("DELETE", "/al", None, 400, "illegal_argument_exception")
        self.ok("DELETE", "/al-2")
        self.assertEqual(self.ok("GET", "/_alias/al"), {"al-1": {"aliases": {"al": {"is_write_index": False}}}})
        self.ok("POST", "/_aliases", {"actions": [{"remove_index": {"index": "al-1"}}]})
        self.assertEqual(self.req("GET", "/_alias/al")[0], 404)
        self.assertEqual(self.req("HEAD", "/al-1")[0], 404)

    # -- _bulk --------------------------------------------------------------------------------

    def test_bulk_internal_versioning(self):
        its = self.items([
            {"index": {"_index": "bk"}}, {"first": 1},
            {"index": {"_index": "bk", "_id": "1"}}, {"a": {"x": 1, "y": 2}, "k": "v"},
            {"index": {"_index": "bk", "_id": "1"}}, {"a": {"x": 1, "y": 2}, "k": "v"},
            {"create": {"_index": "bk", "_id": "1"}}, {"a": {"x": 0}},
            {"update": {"_index": "bk", "_id": "1"}}, {"doc": {"a": {"y": 3}}},
            {"update": {"_index": "bk", "_id": "1"}}, {"doc": {"a": {"y": 3}}},
            {"update": {"_index": "bk", "_id": "2"}}, {"doc": {"z": 1}},
            {"update": {"_index": "bk", "_id": "3"}}, {"doc": {"z": 1}, "doc_as_upsert": True},
            {"update": {"_index": "bk", "_id": "4"}}, {"doc": {"z": 1}, "upsert": {"z": 0}},
            {"delete": {"_index": "bk", "_id": "1"}},
            {"delete": {"_index": "bk", "_id": "1"}},
            {"index": {"_index": "bk", "_id": "1"}}, {"again": True},
        ])
        self.assertEqual(len(its[0]["_id"]), 20)  # generated, auto-created index
        self.assertEqual((its[0]["status"], its[0]["result"], its[0]["_version"]), (201, "created", 1))
        self.assertEqual([i.get("_seq_no") for i in its[:3]], [0, 1, 2])
        self.assertEqual(its[1]["_primary_term"], 1)
        self.assertEqual(its[1]["_shards"], {"total": 1, "successful": 1, "failed": 0})
        self.assertEqual((its[2]["status"], its[2]["result"], its[2]["_version"]), (200, "updated", 2))
        self.assertEqual(its[3]["status"], 409)
        self.assertEqual(its[3]["error"]["type"], "version_conflict_engine_exception")
        self.assertEqual(its[3]["error"]["reason"],
                         "[1]: version conflict, document already exists (current version [2])")
        self.assertEqual(its[3]["error"]["index"], "bk")
        self.assertEqual((its[4]["result"], its[4]["_version"]), ("updated", 3))
        self.assertEqual((its[5]["result"], its[5]["_version"]), ("noop", 3))
        self.assertEqual(its[6]["status"], 404)
        self.assertEqual(its[6]["error"]["type"], "document_missing_exception")
        self.assertEqual((its[7]["status"], its[7]["result"]), (201, "created"))
        self.assertEqual(its[8]["status"], 201)
        self.assertEqual((its[9]["status"], its[9]["result"], its[9]["_version"]), (200, "deleted", 4))
        self.assertEqual((its[10]["status"], its[10]["result"]), (404, "not_found"))
        self.assertNotIn("error", its[10])
        self.assertEqual((its[11]["result"], its[11]["_version"]), ("created", 6))  # after the tombstone
        docs = self.dump("bk")
        self.assertEqual(docs["3"]["_source"], {"z": 1})
        self.assertEqual(docs["4"]["_source"], {"z": 0})
        self.assertEqual(docs["1"], {"_version": 6, "_seq_no": 8, "_source": {"again": True}})
        self.assertEqual(list(docs), sorted(docs))
        # the partial update merged objects recursively
        self.bulk([{"index": {"_index": "bk", "_id": "m"}}, {"a": {"x": 1, "y": 2}, "k": "v"},
                   {"update": {"_index": "bk", "_id": "m"}}, {"doc": {"a": {"y": 3}}}])
        self.assertEqual(self.dump("bk")["m"]["_source"], {"a": {"x": 1, "y": 3}, "k": "v"})
        # errors is false when the only odd item is a delete that found nothing
        resp = self.bulk([{"delete": {"_index": "bk", "_id": "nothing"}}])
        self.assertFalse(resp["errors"])
        self.assertEqual(resp["items"][0]["delete"]["status"], 404)
        # an internal delete does not create a missing index
        it = self.items([{"delete": {"_index": "bk-none", "_id": "1"}}])[0]
        self.assertEqual((it["status"], it["error"]["type"]), (404, "index_not_found_exception"))
        # compare-and-set with if_seq_no / if_primary_term
        seq = self.ok("GET", "/bk/_doc/m")["_seq_no"]
        its = self.items([{"index": {"_index": "bk", "_id": "m", "if_seq_no": seq, "if_primary_term": 1}}, {"c": 1},
                          {"index": {"_index": "bk", "_id": "m", "if_seq_no": seq, "if_primary_term": 1}}, {"c": 2}])
        self.assertEqual(its[0]["status"], 200)
        self.assertEqual(its[1]["status"], 409)
        self.assertIn(f"required seqNo [{seq}], primary term [1]. current document has seqNo", its[1]["error"]["reason"])
        # default index from the path; gzip request body
        body = gzip.compress(nd({"index": {"_id": "g"}}, {"gz": 1}).encode())
        st, _, obj = self.req("POST", "/bk/_bulk", body, headers={
            "Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"})
        self.assertEqual(st, 200)
        self.assertEqual(obj["items"][0]["index"]["_index"], "bk")
        self.assertEqual(self.dump("bk")["g"]["_source"], {"gz": 1})

    def test_bulk_external_versioning(self):
        def one(action, doc_id, version=None, vt="external", body=None):
            meta = {"_index": "ev", "_id": doc_id, "version_type": vt}
            if version is not None:
                meta["version"] = version
            lines = [{action: meta}] + ([body or {"v": version}] if action != "delete" else [])
            return self.items(lines)[0]
        self.assertEqual((one("index", "1", 5)["_version"], one("index", "1", 7)["_version"]), (5, 7))
        it = one("index", "1", 7)
        self.assertEqual(it["status"], 409)
        self.assertEqual(it["error"]["reason"],
                         "[1]: version conflict, current version [7] is higher or equal to the one provided [7]")
        self.assertEqual(one("index", "1", 3)["status"], 409)
        self.assertEqual(one("index", "1", 7, "external_gte")["status"], 200)
        it = one("index", "1", 6, "external_gte")
        self.assertEqual(it["error"]["reason"],
                         "[1]: version conflict, current version [7] is higher than the one provided [6]")
        self.assertEqual(one("index", "1", 9223372036854775807)["_version"], 9223372036854775807)
        for bad, shown in ((None, -3), (-1, -1), (9223372036854775808, 9223372036854775808)):
            err = self.error("POST", "/_bulk", nd({"index": {"_index": "ev", "_id": "x", "version": bad,
                                                             "version_type": "external"}}, {"v": 1}),
                             400, "action_request_validation_exception")
            self.assertIn(f"illegal version value [{shown}] for version type [EXTERNAL]", err["reason"])
        # deletes: same check, then a tombstone remembers the version
        self.assertEqual((one("index", "2", 10)["_version"], one("delete", "2", 9)["status"]), (10, 409))
        it = one("delete", "2", 11)
        self.assertEqual((it["status"], it["result"], it["_version"]), (200, "deleted", 11))
        self.assertEqual(one("index", "2", 11)["status"], 409)
        self.assertEqual(one("index", "2", 12)["status"], 201)
        it = one("delete", "never", 4)
        self.assertEqual((it["status"], it["result"], it["_version"]), (404, "not_found", 4))
        self.assertEqual(one("index", "never", 3)["status"], 409)
        self.assertEqual(one("index", "never", 5)["status"], 201)
        it = self.items([{"delete": {"_index": "ev-auto", "_id": "1", "version": 1, "version_type": "external"}}])[0]
        self.assertEqual(it["result"], "not_found")  # external deletes create the index
        self.assertEqual(self.req("HEAD", "/ev-auto")[0], 200)
        err = self.error("POST", "/_bulk", nd({"update": {"_index": "ev", "_id": "1", "version": 20,
                                                          "version_type": "external"}}, {"doc": {"a": 1}}),
                         400, "action_request_validation_exception")
        self.assertIn("version type [EXTERNAL] is not supported by the update API;", err["reason"])

    def test_bulk_request_errors(self):
        self.error("POST", "/_bulk", '{"index":{"_index":"re","_id":"1"}}\n{"a":1}', 400,
                   "illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]")
        first = [{"index": {"_index": "re", "_id": "1"}}, {"a": 1}]
        self.error("POST", "/_bulk", nd(*first, {"index": {"_index": "re", "_type": "_doc", "_id": "2"}}, {}),
                   400, "illegal_argument_exception",
                   "Action/metadata line [3] contains an unknown parameter [_type]")
        self.error("POST", "/_bulk", nd(*first, {"upsert": {"_index": "re"}}, {}), 400,
                   "illegal_argument_exception", "Malformed action/metadata line [3], expected one of "
                   "[create, delete, index, update] but found [upsert]")
        err = self.error("POST", "/_bulk", nd(*first) + '{"index": {\n{"a":1}\n', 400, "x_content_parse_exception")
        self.assertTrue(err["reason"].startswith("[3:"), err)
        self.assertEqual(err["caused_by"]["type"], "json_parse_exception")
        self.error("POST", "/_bulk", nd(*first, {"update": {"_index": "re", "_id": "1"}}) + "{nope\n", 400,
                   "x_content_parse_exception")
        err = self.error("POST", "/_bulk", nd(*first, {"delete": {"_index": "re"}}), 400,
                         "action_request_validation_exception")
        self.assertEqual(err["reason"], "Validation Failed: 1: id is missing;")
        self.error("POST", "/_bulk", "\n", 400, "action_request_validation_exception")
        self.error("POST", "/_bulk?refresh=soon", nd(*first), 400, "illegal_argument_exception")
        self.assertEqual(self.req("HEAD", "/re")[0], 404)  # none of these changed anything
        # a source line that is not JSON fails only its item, as in ES
        resp = self.bulk(nd(*first) + '{"index":{"_index":"re","_id":"2"}}\n{broken\n')
        self.assertTrue(resp["errors"])
        self.assertEqual(resp["items"][0]["index"]["status"], 201)
        self.assertEqual(resp["items"][1]["index"]["error"]["type"], "mapper_parsing_exception")

    def test_mapping_enforcement(self):
        self.ok("PUT", "/mp", {"mappings": {"properties": {
            "n": {"type": "long"}, "i": {"type": "integer"}, "d": {"type": "double"},
            "sf": {"type": "scaled_float", "scaling_factor": 10}, "b": {"type": "boolean"},
            "dt": {"type": "date"}, "k": {"type": "keyword"}, "t": {"type": "text"},
            "o": {"properties": {"x": {"type": "long"}}}, "ip": {"type": "ip"},
            "closed": {"type": "object", "dynamic": "strict", "properties": {"c": {"type": "keyword"}}}}}})
        good = [{"n": "42"}, {"n": 42}, {"n": [1, "2", None]}, {"n": None}, {"d": "1.5"}, {"d": 2},
                {"sf": "3.25"}, {"b": "true"}, {"b": False}, {"dt": "2024-01-02"}, {"dt": 1700000000000},
                {"dt": "2024-01-02T03:04:05.123+02:00"}, {"dt": "2024-01-02T03:04:05Z"}, {"k": 5},
                {"k": True}, {"t": "some text"}, {"o": {"x": "3"}}, {"o": [{"x": 1}, {"x": 2}]},
                {"ip": "10.0.0.1"}, {"ip": "::1"}, {"closed": {"c": "x"}}]
        its = self.items([x for n, doc in enumerate(good) for x in ({"index": {"_index": "mp", "_id": f"g{n}"}}, doc)])
        self.assertEqual([i["status"] for i in its], [201] * len(good), its)
        bad = [({"n": "abc"}, "number_format_exception"), ({"n": True}, None), ({"n": {"a": 1}}, None),
               ({"i": 2**31}, None), ({"n": [1, "x"]}, None), ({"d": "1.5x"}, None), ({"b": "yes"}, None),
               ({"dt": "yesterday"}, None), ({"dt": "2024-13-01"}, None), ({"k": {"a": 1}}, None),
               ({"t": {"a": 1}}, None), ({"o": 5}, None), ({"ip": "nope"}, None), ({"o": {"x": "y"}}, None)]
        its = self.items([x for n, (doc, _) in enumerate(bad) for x in ({"index": {"_index": "mp", "_id": f"b{n}"}}, doc)])
        for (doc, cause), it in zip(bad, its):
            self.assertEqual((it["status"], it["error"]["type"]), (400, "mapper_parsing_exception"), (doc, it))
            if cause:
                self.assertEqual(it["error"]["caused_by"]["type"], cause)
        self.assertEqual(its[0]["error"]["reason"], "failed to parse field [n] of type [long] in document "
                                                    "with id 'b0'. Preview of field's value: 'abc'")
        self.assertEqual(its[-1]["error"]["reason"][:29], "failed to parse field [o.x] o")
        it = self.items([{"index": {"_index": "mp", "_id": "s"}}, {"closed": {"other": 1}}])[0]
        self.assertEqual(it["error"]["type"], "strict_dynamic_mapping_exception")
        self.assertEqual(it["error"]["reason"], "mapping set to strict, dynamic introduction of [other] "
                                                "within [closed] is not allowed")
        self.assertFalse(any(k.startswith("b") for k in self.dump("mp")))
        # dynamic true (the default): new fields are mapped from their first value, then enforced
        its = self.items([{"index": {"_index": "mp", "_id": "y1"}},
                          {"z": 5, "s": "hello", "day": "2024-01-01", "fl": 1.5, "yes": True, "sub": {"q": 1}},
                          {"index": {"_index": "mp", "_id": "y2"}}, {"z": "abc"},
                          {"index": {"_index": "mp", "_id": "y3"}}, {"newfield": 1, "n": "bad"}])
        self.assertEqual([i["status"] for i in its], [201, 400, 400])
        props = self.ok("GET", "/mp")["mp"]["mappings"]["properties"]
        self.assertEqual(props["z"], {"type": "long"})
        self.assertEqual(props["s"], {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}})
        self.assertEqual((props["day"]["type"], props["fl"]["type"], props["yes"]["type"]), ("date", "float", "boolean"))
        self.assertEqual(props["sub"]["properties"]["q"], {"type": "long"})
        self.assertNotIn("newfield", props)  # a refused document adds no mapping
        # strict at the root; dynamic false keeps unmapped fields in _source only
        self.ok("PUT", "/mp-strict", {"mappings": {"dynamic": "strict", "properties": {"a": {"type": "long"}}}})
        it = self.items([{"index": {"_index": "mp-strict", "_id": "1"}}, {"a": 1, "b": 2}])[0]
        self.assertEqual(it["error"]["reason"], "mapping set to strict, dynamic introduction of [b] within "
                                                "[_doc] is not allowed")
        self.ok("PUT", "/mp-off", {"mappings": {"dynamic": False, "properties": {"a": {"type": "long"}}}})
        self.assertEqual(self.items([{"index": {"_index": "mp-off", "_id": "1"}}, {"a": 1, "b": "x"}])[0]["status"], 201)
        self.assertEqual(self.ok("GET", "/mp-off/_doc/1")["_source"], {"a": 1, "b": "x"})
        self.assertNotIn("b", self.ok("GET", "/mp-off")["mp-off"]["mappings"]["properties"])
        self.ok("POST", "/mp-off/_refresh")
        self.assertEqual(self.ids("mp-off", {"term": {"b": "x"}}), [])
        self.assertEqual(self.ids("mp-off", {"term": {"a": 1}}), ["1"])

    def test_single_document_apis(self):
        got = self.ok("PUT", "/sd/_doc/1", {"a": 1}, status=201)
        self.assertEqual((got["result"], got["_version"]), ("created", 1))
        got = self.ok("GET", "/sd/_doc/1")  # realtime: no refresh needed
        self.assertEqual((got["found"], got["_source"], got["_version"], got["_primary_term"]), (True, {"a": 1}, 1, 1))
        self.assertEqual(self.ok("GET", "/sd/_doc/2", status=404), {"_index": "sd", "_id": "2", "found": False})
        self.assertEqual(self.req("HEAD", "/sd/_doc/1")[0], 200)
        self.assertEqual(self.req("HEAD", "/sd/_doc/2")[0], 404)
        self.error("PUT", "/sd/_create/1", {"a": 2}, 409, "version_conflict_engine_exception")
        self.assertEqual(self.ok("POST", "/sd/_update/1", {"doc": {"b": 2}})["_version"], 2)
        self.assertEqual(self.ok("DELETE", "/sd/_doc/1")["result"], "deleted")
        self.assertEqual(self.ok("DELETE", "/sd/_doc/1", status=404)["result"], "not_found")
        self.error("GET", "/sd-none/_doc/1", None, 404, "index_not_found_exception")

    # -- search -------------------------------------------------------------------------------

    def load_search_index(self):
        self.ok("PUT", "/se", {"mappings": {"properties": {
            "id": {"type": "keyword"}, "total": {"type": "long"}, "price": {"type": "double"},
            "name": {"type": "text", "fields": {"keyword": {"type": "keyword"}}},
            "tags": {"type": "keyword"}, "at": {"type": "date"}, "paid": {"type": "boolean"}}}})
        docs = [
            {"id": "a", "total": 12, "price": 1.5, "name": "Big Red Order", "tags": ["x", "y"], "at": "2024-01-01", "paid": True},
            {"id": "b", "total": "7", "price": 20, "name": "small blue order", "tags": "y", "at": "2024-02-01T10:00:00Z", "paid": False},
            {"id": "c", "total": 30, "name": "Red", "tags": [], "at": 1717200000000},
            {"id": "d", "name": "green-thing", "paid": "true"},
        ]
        self.bulk([x for d in docs for x in ({"index": {"_index": "se", "_id": d["id"]}}, d)])

    def test_search_refresh_semantics(self):
        self.load_search_index()
        self.assertEqual(self.ok("GET", "/se/_count")["count"], 0)  # not refreshed yet
        self.assertEqual(self.search("se")["hits"]["total"], {"value": 0, "relation": "eq"})
        self.assertEqual(self.ok("GET", "/se/_doc/a")["found"], True)
        self.assertEqual(self.ok("POST", "/se/_refresh"), {"_shards": {"total": 1, "successful": 1, "failed": 0}})
        self.assertEqual(self.ok("GET", "/se/_count")["count"], 4)
        self.bulk([{"delete": {"_index": "se", "_id": "d"}}])
        self.assertEqual(self.ok("GET", "/se/_count")["count"], 4)
        self.ok("POST", "/_refresh")
        self.assertEqual(self.ok("GET", "/se/_count")["count"], 3)
        self.bulk([{"index": {"_index": "se", "_id": "e"}}, {"id": "e"}], path="/_bulk?refresh=wait_for")
        self.assertEqual(self.ok("GET", "/se/_count")["count"], 4)
        self.bulk([{"index": {"_index": "se", "_id": "f"}}, {"id": "f"}], path="/_bulk?refresh=true")
        self.assertEqual(self.ok("GET", "/se/_count")["count"], 5)

    def test_search_queries(self):
        self.load_search_index()
        self.ok("POST", "/se/_refresh")
        ids = lambda q, **kw: sorted(self.ids("se", q, **kw))  # noqa: E731
        self.assertEqual(ids({"match_all": {}}), ["a", "b", "c", "d"])
        self.assertEqual(ids({"term": {"id": "a"}}), ["a"])
        self.assertEqual(ids({"term": {"id": {"value": "A"}}}), [])            # keyword: exact
        self.assertEqual(ids({"term": {"name": "red"}}), ["a", "c"])             # text: one token
        self.assertEqual(ids({"term": {"name": "Red"}}), [])                     # term is not analysed
        self.assertEqual(ids({"term": {"name.keyword": "Red"}}), ["c"])
        self.assertEqual(ids({"term": {"total": "12"}}), ["a"])                  # numbers numerically
        self.assertEqual(ids({"term": {"total": 7.0}}), ["b"])
        self.assertEqual(ids({"term": {"tags": "y"}}), ["a", "b"])               # arrays: any element
        self.assertEqual(ids({"term": {"paid": True}}), ["a", "d"])
        self.assertEqual(ids({"term": {"unmapped": "x"}}), [])
        self.assertEqual(ids({"terms": {"id": ["a", "c", "zz"]}}), ["a", "c"])
        self.assertEqual(ids({"match": {"name": "RED blue"}}), ["a", "b", "c"])
        self.assertEqual(ids({"match": {"name": {"query": "red order", "operator": "and"}}}), ["a"])
        self.assertEqual(ids({"match": {"name": "green"}}), ["d"])               # split on non-alphanumerics
        self.assertEqual(ids({"match": {"id": "b"}}), ["b"])
        self.assertEqual(ids({"range": {"total": {"gte": 7, "lt": 30}}}), ["a", "b"])
        self.assertEqual(ids({"range": {"total": {"gt": "7"}}}), ["a", "c"])
        self.assertEqual(ids({"range": {"price": {"lte": 1.5}}}), ["a"])
        self.assertEqual(ids({"range": {"at": {"gte": "2024-01-15", "lt": "2024-06-01T00:00:00Z"}}}), ["b"])
        self.assertEqual(ids({"range": {"id": {"gt": "b"}}}), ["c", "d"])
        self.assertEqual(ids({"bool": {"must": {"match": {"name": "order"}}, "must_not": [{"term": {"id": "b"}}]}}), ["a"])
        self.assertEqual(ids({"bool": {"filter": [{"term": {"tags": "y"}}], "should": [{"term": {"id": "zz"}}]}}), ["a", "b"])
        self.assertEqual(ids({"bool": {"should": [{"term": {"id": "a"}}, {"term": {"id": "d"}}]}}), ["a", "d"])
        self.assertEqual(ids({"bool": {"must_not": {"exists": {"field": "total"}}}}), ["d"])
        self.assertEqual(ids({"ids": {"values": ["b", "zz"]}}), ["b"])
        self.assertEqual(ids({"bool": {"should": [{"term": {"tags": "x"}}, {"term": {"tags": "y"}},
                                                  {"term": {"id": "b"}}], "minimum_should_match": 2}}), ["a", "b"])
        err = self.error("POST", "/se/_search", {"query": {"nope": {}}}, 400, "parsing_exception", "unknown query [nope]")
        self.assertEqual(err["root_cause"][0]["reason"], "unknown query [nope]")
        err = self.error("POST", "/se/_search", {"query": {"term": {"total": "abc"}}}, 400,
                         "search_phase_execution_exception")
        self.assertEqual(err["root_cause"][0]["type"], "query_shard_exception")
        self.error("POST", "/se/_search", {"query": {"match_all": {}}, "aggs": {}}, 400, "parsing_exception")
        self.error("POST", "/se-none/_search", {}, 404, "index_not_found_exception", "no such index [se-none]")
        self.error("POST", "/se-none/_count", {}, 404, "index_not_found_exception")
        self.error("POST", "/se/_count", {"size": 1}, 400, "parsing_exception")
        self.assertEqual(self.ok("POST", "/se/_count", {"query": {"term": {"tags": "y"}}})["count"], 2)
        st, _, obj = self.req("GET", "/se/_search", json.dumps({"query": {"term": {"id": "a"}}}).encode(),
                              headers={"Content-Type": "application/json"})
        self.assertEqual(obj["hits"]["total"]["value"], 1)  # GET with a body

    def test_search_paging_sorting_targets(self):
        self.load_search_index()
        self.ok("POST", "/se/_refresh")
        res = self.search("se", {"match_all": {}}, sort=[{"total": "desc"}])
        self.assertEqual([h["_id"] for h in res["hits"]["hits"]], ["c", "a", "b", "d"])  # missing last
        self.assertEqual([h["sort"] for h in res["hits"]["hits"]], [[30], [12], [7], [None]])
        self.assertIsNone(res["hits"]["hits"][0]["_score"])
        res = self.search("se", None, sort=[{"id": {"order": "asc"}}], size=2, **{"from": 1})
        self.assertEqual([h["_id"] for h in res["hits"]["hits"]], ["b", "c"])
        self.assertEqual(res["hits"]["total"], {"value": 4, "relation": "eq"})
        res = self.search("se", None, sort=[{"total": "desc"}, {"id": "asc"}], search_after=[12, "a"])
        self.assertEqual([h["_id"] for h in res["hits"]["hits"]], ["b", "d"])
        res = self.search("se", None, sort=[{"total": "desc"}], search_after=[7])
        self.assertEqual([h["_id"] for h in res["hits"]["hits"]], ["d"])  # missing sorts last
        self.error("POST", "/se/_search", {"sort": ["id"], "search_after": ["a", 1]}, 400,
                   "search_phase_execution_exception")
        self.error("POST", "/se/_search", {"sort": ["id"], "search_after": ["a"], "from": 1}, 400,
                   "search_phase_execution_exception")
        res = self.search("se", None, sort=["_doc"])
        self.assertEqual([h["_id"] for h in res["hits"]["hits"]], ["a", "b", "c", "d"])
        res = self.search("se", None, sort=[{"tags": "asc"}, {"id": "desc"}])
        self.assertEqual([h["_id"] for h in res["hits"]["hits"]], ["a", "b", "d", "c"])
        hit = self.search("se", {"term": {"id": "a"}})["hits"]
        self.assertEqual((hit["max_score"], hit["hits"][0]["_score"]), (1.0, 1.0))
        self.assertEqual(set(hit["hits"][0]), {"_index", "_id", "_score", "_source"})
        err = self.error("POST", "/se/_search", {"sort": [{"name": "asc"}]}, 400, "search_phase_execution_exception")
        self.assertEqual(err["root_cause"][0]["type"], "illegal_argument_exception")
        self.assertNotIn("total", self.search("se", None, track_total_hits=False)["hits"])
        self.assertEqual(self.search("se", None, track_total_hits=2)["hits"]["total"], {"value": 2, "relation": "gte"})
        self.assertEqual(len(self.search("se", None, size=1)["hits"]["hits"]), 1)
        self.assertEqual(self.ok("POST", "/se/_search?rest_total_hits_as_int=true&size=0", {})["hits"]["total"], 4)
        hit = self.search("se", {"term": {"id": "a"}}, _source=["id", "tags"])["hits"]["hits"][0]
        self.assertEqual(hit["_source"], {"id": "a", "tags": ["x", "y"]})
        self.assertNotIn("_source", self.search("se", None, _source=False)["hits"]["hits"][0])
        self.error("POST", "/se/_search", {"from": 9990, "size": 11}, 400, "search_phase_execution_exception")
        # targets: comma lists, _all, nothing, aliases
        self.bulk([{"index": {"_index": "se-other", "_id": "o"}}, {"id": "o"}], path="/_bulk?refresh=true")
        self.ok("POST", "/_aliases", {"actions": [{"add": {"index": "se-other", "alias": "se-al"}}]})
        self.assertEqual(self.ok("POST", "/se,se-other/_count")["count"], 5)
        self.assertEqual(self.ok("POST", "/se-al/_count")["count"], 1)
        self.assertGreaterEqual(self.ok("POST", "/_all/_count")["count"], 5)
        self.assertGreaterEqual(self.ok("POST", "/_count")["count"], 5)
        self.assertIn("se-other", {h["_index"] for h in self.ok("POST", "/_search", {"size": 100})["hits"]["hits"]})

    # -- faults -------------------------------------------------------------------------------

    def test_fault_fail(self):
        self.ok("POST", "/_standin/fail", {"status": 429, "count": 2, "path": "_bulk"})
        self.assertEqual(self.ok("GET", "/_standin/stats")["pending_faults"]["fail"],
                         [{"count": 2, "status": 429, "path": "_bulk"}])
        self.assertEqual(self.req("GET", "/")[0], 200)  # other paths are not affected
        body = [{"index": {"_index": "ff", "_id": "1"}}, {"a": 1}]
        for _ in range(2):
            err = self.error("POST", "/_bulk", nd(*body), 429, "es_rejected_execution_exception")
            self.assertIn("queue capacity", err["reason"])
        self.assertEqual(self.req("HEAD", "/ff")[0], 404)  # nothing was applied
        self.assertEqual(self.items(body)[0]["status"], 201)
        self.ok("POST", "/_standin/fail", {"status": 503})
        self.error("GET", "/", None, 503, "cluster_block_exception")
        self.ok("POST", "/_standin/fail", {"status": 500})
        self.error("GET", "/ff/_doc/1", None, 500, "exception")
        self.assertEqual(self.req("GET", "/")[0], 200)
        stats = self.ok("GET", "/_standin/stats")
        self.assertEqual(stats["faults_served"]["fail"], 4)
        self.assertEqual(stats["pending_faults"]["fail"], [])
        self.assertGreaterEqual(stats["requests"]["POST _bulk"], 3)
        self.assertGreaterEqual(stats["bulk_items"]["201"], 1)
        self.ok("POST", "/_standin/fail", {"status": 503, "count": 5})
        self.ok("POST", "/_standin/reset", {})
        self.assertEqual(self.req("GET", "/")[0], 200)
        self.error("POST", "/_standin/fail", {"status": 200}, 400, "illegal_argument_exception")
        self.error("POST", "/_standin/fail", {"count": 0}, 400, "illegal_argument_exception")

    def test_fault_fail_items(self):
        self.ok("POST", "/_standin/fail_items", {"status": 429, "count": 3})
        resp = self.bulk([{"index": {"_index": "fi", "_id": "1"}}, {"a": 1}, {"index": {"_index": "fi", "_id": "2"}}, {"a": 2}])
        self.assertTrue(resp["errors"])
        for it in resp["items"]:
            self.assertEqual((it["index"]["status"], it["index"]["error"]["type"]), (429, "es_rejected_execution_exception"))
        its = self.items([{"index": {"_index": "fi", "_id": "3"}}, {"a": 3}, {"index": {"_index": "fi", "_id": "4"}}, {"a": 4}])
        self.assertEqual([i["status"] for i in its], [429, 201])
        self.assertEqual(list(self.dump("fi")), ["4"])
        self.ok("POST", "/_standin/fail_items", {"status": 503})
        its = self.items([{"index": {"_index": "fi", "_id": "5"}}, {"a": 5}, {"index": {"_index": "fi", "_id": "6"}}, {"a": 6}])
        self.assertEqual([i["status"] for i in its], [503, 201])
        self.assertEqual(its[0]["error"]["type"], "unavailable_shards_exception")
        self.assertEqual(self.ok("GET", "/_standin/stats")["faults_served"]["fail_items"], 4)

    def test_fault_hang(self):
        body = nd({"index": {"_index": "fh", "_id": "1"}}, {"a": 1})
        for apply in (True, False):
            self.ok("POST", "/_standin/hang", {"count": 1, "seconds": 1.0, "apply": apply})
            conn = self.es.connect(timeout=0.3)
            with self.assertRaises(socket.timeout):
                self.req("POST", "/_bulk", body if apply else body.replace('"1"', '"2"'), conn=conn)
            conn.close()
            self.assertEqual(self.req("GET", "/")[0], 200)  # the server still answers others
        time.sleep(0.8)
        self.assertEqual(list(self.dump("fh")), ["1"])  # applied only when asked to
        conn = self.es.connect(timeout=5)  # a patient client gets the answer after the hang
        self.ok("POST", "/_standin/hang", {"seconds": 0.3, "apply": True})
        st, _, obj = self.req("POST", "/_bulk", body.replace('"1"', '"3"'), conn=conn)
        self.assertEqual((st, obj["items"][0]["index"]["status"]), (200, 201))
        conn.close()
        self.assertEqual(self.ok("GET", "/_standin/stats")["faults_served"]["hang"], 3)

    def test_fault_hang_aliases(self):
        served = self.ok("GET", "/_standin/stats")["faults_served"].get("hang", 0)
        self.ok("PUT", "/ha1", {})
        self.ok("PUT", "/ha2", {})
        self.ok("POST", "/_aliases", {"actions": [{"add": {"index": "ha1", "alias": "ha"}}]})
        move = {"actions": [{"remove": {"index": "ha1", "alias": "ha"}}, {"add": {"index": "ha2", "alias": "ha"}}]}
        self.ok("POST", "/_standin/hang", {"seconds": 1.0, "endpoint": "_aliases"})
        self.items([{"index": {"_index": "ha1", "_id": "1"}}, {"a": 1}])  # _bulk is not held
        conn = self.es.connect(timeout=0.3)
        with self.assertRaises(socket.timeout):  # not applied: the alias stays
            self.req("POST", "/_aliases", move, conn=conn)
        conn.close()
        self.assertEqual(list(self.ok("GET", "/_alias/ha")), ["ha1"])
        self.ok("POST", "/_standin/hang", {"seconds": 1.0, "endpoint": "_aliases", "apply": True})
        conn = self.es.connect(timeout=0.3)
        with self.assertRaises(socket.timeout):  # applied, and the answer is held back
            self.req("POST", "/_aliases", move, conn=conn)
        conn.close()
        self.assertEqual(list(self.ok("GET", "/_alias/ha")), ["ha2"])
        self.ok("POST", "/_standin/hang", {"seconds": 0.2, "endpoint": "_aliases", "apply": True})
        back = {"actions": [{"remove": {"index": "ha2", "alias": "ha"}}, {"add": {"index": "ha1", "alias": "ha"}}]}
        self.assertEqual(self.ok("POST", "/_aliases", back, conn=self.es.connect(timeout=5)), {"acknowledged": True})
        self.assertEqual(list(self.ok("GET", "/_alias/ha")), ["ha1"])
        self.ok("POST", "/_standin/drop", {"endpoint": "_aliases", "apply": True})
        with self.assertRaises((http.client.IncompleteRead, ConnectionError, http.client.HTTPException)):
            self.req("POST", "/_aliases", move, conn=self.es.connect())
        self.assertEqual(list(self.ok("GET", "/_alias/ha")), ["ha2"])
        self.assertEqual(self.ok("GET", "/_standin/stats")["faults_served"]["hang"], served + 3)
        self.error("POST", "/_standin/hang", {"endpoint": "_search"}, 400, "illegal_argument_exception")

    def test_fault_drop(self):
        for n, apply in enumerate((True, False)):
            self.ok("POST", "/_standin/drop", {"apply": apply})
            conn = self.es.connect()
            with self.assertRaises((http.client.IncompleteRead, ConnectionError, http.client.HTTPException)):
                self.req("POST", "/_bulk", nd({"index": {"_index": "fd", "_id": str(n)}}, {"a": n}), conn=conn)
            conn.close()
        self.assertEqual(list(self.dump("fd")), ["0"])
        self.assertEqual(self.ok("GET", "/_standin/stats")["faults_served"]["drop"], 2)
        self.assertEqual(self.items([{"index": {"_index": "fd", "_id": "9"}}, {"a": 9}])[0]["status"], 201)

    def test_control_api(self):
        self.ok("POST", "/_standin/hang", {"count": 2, "seconds": 5})
        self.ok("POST", "/_standin/drop", {"count": 1, "apply": True})
        pending = self.ok("GET", "/_standin/stats")["pending_faults"]
        self.assertEqual(pending["hang"], [{"count": 2, "apply": False, "endpoint": "_bulk", "seconds": 5}])
        self.assertEqual(pending["drop"], [{"count": 1, "apply": True, "endpoint": "_bulk"}])
        self.ok("POST", "/_standin/reset", {})
        self.assertEqual(self.ok("GET", "/_standin/stats")["pending_faults"],
                         {"fail": [], "fail_items": [], "hang": [], "drop": []})
        self.error("GET", "/_standin/dump/none", None, 404, "index_not_found_exception")
        self.error("POST", "/_standin/nope", {}, 400, "illegal_argument_exception")


class AuthFlavorRefreshTest(unittest.TestCase):
    """A second server: OpenSearch flavor, basic and API-key auth, 200 ms refresh interval."""

    @classmethod
    def setUpClass(cls):
        cls.es = Standin("--flavor", "opensearch", "--basic", "elastic:s3cret", "--api-key", "a2V5OnNlY3JldA==",
                         "--refresh-interval-ms", "200")
        cls.auth = {"Authorization": "Basic " + base64.b64encode(b"elastic:s3cret").decode()}

    @classmethod
    def tearDownClass(cls):
        assert cls.es.stop() == 0

    def test_auth(self):
        st, hdrs, obj = self.es.req("GET", "/")
        self.assertEqual(st, 401)
        self.assertEqual(obj["error"]["type"], "security_exception")
        self.assertEqual(obj["error"]["reason"], "missing authentication credentials for REST request [/]")
        self.assertIn("WWW-Authenticate", hdrs)
        bad = {"Authorization": "Basic " + base64.b64encode(b"elastic:wrong").decode()}
        self.assertEqual(self.es.req("GET", "/", headers=bad)[0], 401)
        self.assertEqual(self.es.req("GET", "/", headers={"Authorization": "ApiKey nope"})[0], 401)
        self.assertEqual(self.es.req("GET", "/", headers={"Authorization": "ApiKey a2V5OnNlY3JldA=="})[0], 200)
        self.assertEqual(self.es.req("POST", "/_bulk", nd({"index": {"_index": "x"}}, {}))[0], 401)
        self.assertEqual(self.es.req("GET", "/_standin/stats")[0], 200)  # control API: no auth

    def test_opensearch_flavor(self):
        st, hdrs, obj = self.es.req("GET", "/", headers=self.auth)
        self.assertEqual(st, 200)
        self.assertEqual((obj["version"]["distribution"], obj["version"]["number"]), ("opensearch", "2.11.0"))
        self.assertNotIn("X-elastic-product", hdrs)

    def test_automatic_refresh(self):
        st, _, _ = self.es.req("POST", "/_bulk", nd({"index": {"_index": "ar", "_id": "1"}}, {"a": 1}), headers=self.auth)
        self.assertEqual(st, 200)
        deadline = time.monotonic() + 3
        while self.es.req("GET", "/ar/_count", headers=self.auth)[2]["count"] != 1:
            self.assertLess(time.monotonic(), deadline, "no automatic refresh")
            time.sleep(0.05)


class TlsTest(unittest.TestCase):
    def test_https(self):
        if not shutil.which("openssl"):
            self.skipTest("openssl is not installed")
        d = tempfile.mkdtemp(prefix="es_standin_tls.")
        try:
            cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                            "-keyout", key, "-out", cert], check=True, capture_output=True)
            es = Standin("--tls-cert", cert, "--tls-key", key, tls_ca=cert)
            try:
                st, hdrs, obj = es.req("GET", "/", headers={"Accept-Encoding": "gzip"})
                self.assertEqual((st, obj["tagline"]), (200, "You Know, for Search"))
                self.assertNotIn("Content-Encoding", hdrs)  # no compression over TLS, as ES
                plain = http.client.HTTPConnection("127.0.0.1", es.port, timeout=5)
                with self.assertRaises((ConnectionError, http.client.HTTPException, OSError)):
                    plain.request("GET", "/")
                    plain.getresponse().read()
                plain.close()
            finally:
                self.assertEqual(es.stop(), 0)
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
