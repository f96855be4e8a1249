#!/usr/bin/env python3
"""registry_standin: a Confluent Schema Registry stand-in for the projector's tests. Never shipped.

It speaks the part of the Schema Registry REST API (Confluent's documented API) that the
projector and its tests use, with the documented answers and error bodies:

  GET  /schemas/ids/{id}            {"schema": "...", "schemaType": "JSON"} (schemaType omitted
                                    for AVRO); unknown id: 404 {"error_code": 40403,
                                    "message": "Schema not found"}
  GET  /schemas/ids/{id}/versions   [{"subject": S, "version": N}, ...]: the subjects and versions
                                    the id is registered under (?deleted=true accepted: nothing
                                    is ever deleted here); unknown id: 404 40403
  POST /subjects/{subject}/versions body {"schema": "...", "schemaType": ...}: {"id": N}; the same
                                    schema text registered again gets the same id, and under the
                                    same subject the same version; a new one under a subject is
                                    its next version
  GET  /subjects                    the subjects registered
  GET  /subjects/{subject}/versions [1, 2, ...]; unknown subject: 404 {"error_code": 40401,
                                    "message": "Subject 'S' not found."}
  GET  /subjects/{subject}/versions/{version}   {"subject", "id", "version", "schema",
                                    "schemaType" (omitted for AVRO)}; version a number or
                                    "latest"; unknown subject 404 40401, unknown version 404
                                    {"error_code": 40402, "message": "Version N not found."}, a
                                    version that is neither 422 {"error_code": 42202, ...}

Schemas may also be preloaded from --dir: files <id>.avsc (Avro) or <id>.json (JSON Schema).
With --user/--password every request needs basic auth (401 {"error_code": 401, ...} otherwise).
Faults for tests: POST /_standin/fault {"mode": "none" | "down" | "500"}, or the file given by
--fault-file holding one of those words: "down" closes every connection without an answer (what
a client sees of a registry that is not there), "500" answers 500 {"error_code": 50001, ...}, "404" 404 {"error_code": 404, ...} as for a path
the registry does not serve; a second word "versions" ("down versions", "500
versions") limits the fault to GET /schemas/ids/{id}/versions (the schemas themselves answer).
GET /_standin/stats counts the schema fetches per id ("versions/<id>": the fetches of its versions). Python 3 standard library only.
"""

import argparse
import base64
import json
import os
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

LOCK = threading.Lock()
SCHEMAS = {}     # id -> {"schema": text, "schemaType": type}
SUBJECTS = {}    # subject -> [id, ...]: the id of each version, version 1 first
FETCHES = {}     # id -> GET count
STATE = {"fault": "none"}
ARGS = None


def load_dir(path):
    for name in sorted(os.listdir(path)):
        m = re.fullmatch(r"(\d+)\.(avsc|json)", name)
        if m:
            text = open(os.path.join(path, name)).read()
            SCHEMAS[int(m.group(1))] = {"schema": json.dumps(json.loads(text)),
                                        "schemaType": "AVRO" if m.group(2) == "avsc" else "JSON"}


def fault(path):
    if ARGS.fault_file and os.path.exists(ARGS.fault_file):
        words = open(ARGS.fault_file).read().split()
    else:
        words = STATE["fault"].split()
    if len(words) > 1 and words[1] == "versions" and not VERSIONS_OF_ID.fullmatch(path):
        return "none"
    return words[0] if words else "none"


VERSIONS_OF_ID = re.compile(r"/schemas/ids/(\d+)/versions(\?.*)?")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("registry_standin: " + fmt % args + "\n")

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}")

    def authorized(self):
        if not ARGS.user:
            return True
        want = "Basic " + base64.b64encode(("%s:%s" % (ARGS.user, ARGS.password)).encode()).decode()
        if self.headers.get("Authorization") == want:
            return True
        self.reply(401, {"error_code": 401, "message": "Unauthorized"})
        return False

    def control(self, method):
        if method == "POST" and self.path == "/_standin/fault":
            STATE["fault"] = self.body().get("mode", "none")
            return self.reply(200, {"fault": STATE["fault"]})
        if method == "GET" and self.path == "/_standin/stats":
            with LOCK:
                return self.reply(200, {"fetches": {str(k): v for k, v in FETCHES.items()}})
        return self.reply(404, {"error_code": 404, "message": "HTTP 404 Not Found"})

    def handle_any(self, method):
        if self.path.startswith("/_standin/"):
            return self.control(method)
        f = fault(self.path)
        if f == "down":
            self.close_connection = True
            self.connection.close()
            return
        if f == "500":
            return self.reply(500, {"error_code": 50001, "message": "Error in the backend datastore"})
        if f == "404":  # a registry that does not serve the path (an older one)
            return self.reply(404, {"error_code": 404, "message": "HTTP 404 Not Found"})
        if not self.authorized():
            return
        m = re.fullmatch(r"/schemas/ids/(\d+)(\?.*)?", self.path)
        if method == "GET" and m:
            sid = int(m.group(1))
            with LOCK:
                FETCHES[sid] = FETCHES.get(sid, 0) + 1
                s = SCHEMAS.get(sid)
            if not s:
                return self.reply(404, {"error_code": 40403, "message": "Schema not found"})
            out = {"schema": s["schema"]}
            if s["schemaType"] != "AVRO":
                out["schemaType"] = s["schemaType"]
            return self.reply(200, out)
        m = VERSIONS_OF_ID.fullmatch(self.path)
        if method == "GET" and m:
            return self.versions_of_id(int(m.group(1)))
        m = re.fullmatch(r"/subjects/([^/?]+)/versions(\?.*)?", self.path)
        if method == "POST" and m:
            return self.register(unquote(m.group(1)))
        if method == "GET" and m:
            return self.subject_versions(unquote(m.group(1)))
        m = re.fullmatch(r"/subjects/([^/?]+)/versions/([^/?]+)(\?.*)?", self.path)
        if method == "GET" and m:
            return self.subject_version(unquote(m.group(1)), unquote(m.group(2)))
        if method == "GET" and re.fullmatch(r"/subjects(\?.*)?", self.path):
            with LOCK:
                return self.reply(200, sorted(SUBJECTS))
        return self.reply(404, {"error_code": 404, "message": "HTTP 404 Not Found"})

    def versions_of_id(self, sid):
        with LOCK:
            FETCHES["versions/%d" % sid] = FETCHES.get("versions/%d" % sid, 0) + 1
            if sid not in SCHEMAS:
                return self.reply(404, {"error_code": 40403, "message": "Schema not found"})
            return self.reply(200, [{"subject": subj, "version": i + 1}
                                    for subj, ids in sorted(SUBJECTS.items())
                                    for i, v in enumerate(ids) if v == sid])

    def subject_versions(self, subject):
        with LOCK:
            if subject not in SUBJECTS:
                return self.reply(404, {"error_code": 40401,
                                        "message": "Subject '%s' not found." % subject})
            return self.reply(200, list(range(1, len(SUBJECTS[subject]) + 1)))

    def subject_version(self, subject, version):
        with LOCK:
            if subject not in SUBJECTS:
                return self.reply(404, {"error_code": 40401,
                                        "message": "Subject '%s' not found." % subject})
            ids = SUBJECTS[subject]
            if version == "latest" or version == "-1":
                n = len(ids)
            elif re.fullmatch(r"[0-9]+", version) and 1 <= int(version) <= 2**31 - 1:
                n = int(version)
            else:
                return self.reply(422, {
                    "error_code": 42202,
                    "message": "The specified version '%s' is not a valid version id. Allowed "
                               "values are between [1, 2^31-1] and the string \"latest\"" % version})
            if n > len(ids):
                return self.reply(404, {"error_code": 40402,
                                        "message": "Version %s not found." % version})
            sid = ids[n - 1]
            s = SCHEMAS[sid]
            out = {"subject": subject, "version": n, "id": sid, "schema": s["schema"]}
            if s["schemaType"] != "AVRO":
                out["schemaType"] = s["schemaType"]
            return self.reply(200, out)

    def register(self, subject):
        b = self.body()
        if not isinstance(b.get("schema"), str):
            return self.reply(422, {"error_code": 42201, "message": "Invalid schema"})
        typ = b.get("schemaType", "AVRO")
        try:
            text = json.dumps(json.loads(b["schema"]))
        except ValueError:
            return self.reply(422, {"error_code": 42201, "message": "Invalid schema"})
        with LOCK:
            sid = next((k for k, v in SCHEMAS.items()
                        if v["schema"] == text and v["schemaType"] == typ), None)
            if sid is None:
                sid = max(SCHEMAS, default=0) + 1
                SCHEMAS[sid] = {"schema": text, "schemaType": typ}
            SUBJECTS.setdefault(subject, [])
            if sid not in SUBJECTS[subject]:
                SUBJECTS[subject].append(sid)
        return self.reply(200, {"id": sid})

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--listen", default="127.0.0.1:0")
    p.add_argument("--port-file")
    p.add_argument("--dir")
    p.add_argument("--user")
    p.add_argument("--password", default="")
    p.add_argument("--fault-file")
    ARGS = p.parse_args()
    if ARGS.dir:
        load_dir(ARGS.dir)
    host, port = ARGS.listen.rsplit(":", 1)
    srv = ThreadingHTTPServer((host, int(port)), Handler)
    srv.daemon_threads = True
    if ARGS.port_file:
        with open(ARGS.port_file + ".tmp", "w") as f:
            f.write(str(srv.server_address[1]))
        os.rename(ARGS.port_file + ".tmp", ARGS.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
