#!/usr/bin/env python3
"""es_standin: an in-memory Elasticsearch stand-in for the projector's tests. Never shipped.

It speaks the part of the Elasticsearch 8 REST API that the projector uses (index and alias
administration, _bulk, _doc, _search and _count with a small query language, _refresh) with the
documented answers and error bodies, plus a control API under /_standin/ that injects faults.
Python 3 standard library only. See README.md for what it does and does not implement.
"""

import argparse
import base64
import copy
import datetime
import gzip
import ipaddress
import json
import math
import operator
import os
import re
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import traceback
import uuid
import zlib
from collections import Counter, namedtuple
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

LONG_MAX = 2**63 - 1
GC_DELETES_S = 60.0          # index.gc_deletes: how long delete tombstones keep their version
MAX_RESULT_WINDOW = 10000
NODE = "es-standin"
INT_RANGES = {"long": (-2**63, 2**63 - 1), "integer": (-2**31, 2**31 - 1),
              "short": (-2**15, 2**15 - 1), "byte": (-2**7, 2**7 - 1)}
FLOAT_TYPES = {"double", "float", "half_float", "scaled_float"}
LEAF_TYPES = set(INT_RANGES) | FLOAT_TYPES | {"keyword", "text", "boolean", "date", "ip"}
MAPPER_PARSING = "mapper_parsing_exception"
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
Doc = namedtuple("Doc", "version seq_no source")


# ---------------------------------------------------------------------------------------------
# Errors

class EsError(Exception):
    """An error answered with an ES-shaped body: {"error": {"root_cause": [...], ...}, "status"}."""

    def __init__(self, status, etype, reason, index=None, caused_by=None, root_cause=None, **extra):
        super().__init__(reason)
        self.status, self.etype, self.reason = status, etype, reason
        self.index, self.caused_by, self.root_cause, self.extra = index, caused_by, root_cause, extra
        self.headers = []

    def error(self):
        e = {"type": self.etype, "reason": self.reason, **self.extra}
        if self.index is not None:
            e.setdefault("index_uuid", "_na_")
            e["index"] = self.index
        if self.caused_by:
            e["caused_by"] = self.caused_by
        return e

    def body(self):
        e = self.error()
        root = self.root_cause or [{k: v for k, v in e.items() if k != "caused_by"}]
        return {"error": {"root_cause": root, **e}, "status": self.status}


class PlainError(EsError):
    """The few answers where ES puts a bare string in "error" (alias missing, wrong method)."""

    def body(self):
        return {"error": self.reason, "status": self.status}


class BadValue(Exception):
    """A value a field cannot hold; becomes the caused_by of a mapper_parsing_exception."""

    def __init__(self, etype, reason):
        super().__init__(reason)
        self.etype, self.reason = etype, reason


def bad_request(reason, etype="illegal_argument_exception"):
    return EsError(400, etype, reason)


def parsing(reason):
    return EsError(400, "parsing_exception", reason)


def index_not_found(name, reason=None):
    return EsError(404, "index_not_found_exception", reason or f"no such index [{name}]", index=name,
                   **{"resource.type": "index_or_alias", "resource.id": name})


def engine_error(idx, status, etype, reason):
    return EsError(status, etype, reason, index=idx.name, index_uuid=idx.uuid, shard="0")


def shard_failure(idx, etype, reason):
    """A search that fails while building the query on an index: ES says all shards failed."""
    cause = {"type": etype, "reason": reason}
    if idx is not None:
        cause.update(index_uuid=idx.uuid, index=idx.name)
    return EsError(400, "search_phase_execution_exception", "all shards failed", root_cause=[cause],
                   phase="query", grouped=True, failed_shards=[
                       {"shard": 0, "index": idx.name if idx else None, "node": NODE, "reason": cause}])


# ---------------------------------------------------------------------------------------------
# JSON and names

def _object_no_duplicates(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise ValueError(f"Duplicate field '{k}'")
        obj[k] = v
    return obj


def _no_constants(name):
    raise ValueError(f"Non-standard token '{name}'")


def loads(text):
    return json.loads(text, object_pairs_hook=_object_no_duplicates, parse_constant=_no_constants)


def parse_error(exc, line=1):
    """x_content_parse_exception for text that is not JSON (line: the NDJSON line number)."""
    msg, col = (exc.msg, exc.colno) if isinstance(exc, json.JSONDecodeError) else (str(exc), 1)
    return EsError(400, "x_content_parse_exception", f"[{line}:{col}] {msg}",
                   caused_by={"type": "json_parse_exception", "reason": msg})


def json_body(body):
    """The request body as a JSON object, or None when there is none."""
    if not body.strip():
        return None
    try:
        obj = loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise parse_error(e)
    if not isinstance(obj, dict):
        raise parse_error(ValueError("request body must be a JSON object"))
    return obj


def token(v):
    """Jackson's name for the token a JSON value starts with (for error texts)."""
    if isinstance(v, dict):
        return "START_OBJECT"
    if isinstance(v, list):
        return "START_ARRAY"
    if isinstance(v, str):
        return "VALUE_STRING"
    if isinstance(v, bool):
        return "VALUE_TRUE" if v else "VALUE_FALSE"
    return "VALUE_NULL" if v is None else "VALUE_NUMBER"


def scalar_text(v):
    """A scalar as ES renders it as text (keyword values, ids)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (str, int, float)):
        return str(v)
    raise BadValue("illegal_state_exception", f"Can't get text on a {token(v)} at 1:1")


def java_str(v):
    """A value the way ES previews it in mapper errors (Java's toString of the parsed value)."""
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}={java_str(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(java_str(x) for x in v) + "]"
    return "null" if v is None else scalar_text(v)


def wildcard(pattern, name):
    return re.fullmatch(re.escape(pattern).replace(r"\*", ".*"), name) is not None


def check_name(name, alias=False):
    what, etype = ("alias", "invalid_alias_name_exception") if alias else \
        ("index", "invalid_index_name_exception")
    why = None
    if not name:
        why = "must not be empty"
    elif name != name.lower():
        why = "must be lowercase"
    elif name in (".", ".."):
        why = "must not be '.' or '..'"
    elif name[0] in "_-+":
        why = "must not start with '_', '-', or '+'"
    elif any(c in ' "*\\<|,>/?' for c in name):
        why = "must not contain the following characters [' ','\"','*','\\','<','|',',','>','/','?']"
    elif "#" in name or ":" in name:
        why = "must not contain '#'" if "#" in name else "must not contain ':'"
    elif len(name.encode()) > 255:
        why = f"index name is too long, ({len(name.encode())} > 255)"
    if why:
        raise EsError(400, etype, f"Invalid {what} name [{name}], {why}", index=name)


def filter_paths(obj, patterns):
    """Keeps the parts of obj named by dotted patterns with * wildcards (filter_path, _source)."""
    missing = object()

    def walk(node, pats):
        if any(not p for p in pats):
            return node
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                sub = [p[1:] for p in pats if wildcard(p[0], k)]
                r = walk(v, sub) if sub else missing
                if r is not missing:
                    out[k] = r
            return out or missing
        if isinstance(node, list):
            out = [r for r in (walk(x, pats) for x in node) if r is not missing]
            return out or missing
        return missing

    if any(p.startswith("-") for p in patterns):
        raise bad_request("es_standin does not support exclusions in filter_path or _source")
    r = walk(obj, [p.split(".") for p in patterns if p])
    return {} if r is missing else r


# ---------------------------------------------------------------------------------------------
# Field values: what each mapped type accepts, normalised for queries

NUM_RE = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")
DATE_RE = re.compile(
    r"(?P<y>\d{4})(?:-(?P<mo>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<h>\d{2})(?::(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d{1,9}))?)?)?"
    r"(?P<z>Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?")


def ftype(fdef):
    return fdef.get("type", "object")


def to_number(v):
    """A JSON number or numeric string as int or float (no truncation)."""
    if isinstance(v, bool):
        raise BadValue("illegal_argument_exception",
                       f"Current token ({token(v)}) not numeric, can not use numeric value accessors")
    if isinstance(v, int):
        return v
    if isinstance(v, str) and NUM_RE.fullmatch(v):
        s = v.strip()
        v = int(s) if re.fullmatch(r"[+-]?\d+", s) else float(s)
        if isinstance(v, int):
            return v
    if not isinstance(v, float):
        raise BadValue("number_format_exception", f'For input string: "{java_str(v)}"')
    if not math.isfinite(v):
        raise BadValue("illegal_argument_exception", f"[{v}] is not a finite number")
    return v


def iso_millis(s):
    """Epoch millis of a strict_date_optional_time string, or None."""
    m = DATE_RE.fullmatch(s)
    if not m:
        return None
    g = m.groupdict()
    try:
        tz = datetime.timezone.utc
        if g["z"] and g["z"] != "Z":
            digits = g["z"][1:].replace(":", "")
            offset = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
            tz = datetime.timezone(-offset if g["z"][0] == "-" else offset)
        frac = (g["f"] or "0")[:6].ljust(6, "0")
        dt = datetime.datetime(int(g["y"]), int(g["mo"] or 1), int(g["d"] or 1), int(g["h"] or 0),
                               int(g["mi"] or 0), int(g["s"] or 0), int(frac), tzinfo=tz)
    except ValueError:
        return None
    return (dt - EPOCH) // datetime.timedelta(milliseconds=1)


def parse_date(v, fmt=None):
    """Epoch millis of a date value. Formats other than epoch_millis/epoch_second are treated as
    strict_date_optional_time (ISO 8601)."""
    fmt = fmt or "strict_date_optional_time||epoch_millis"
    for f in fmt.split("||"):
        f = f.strip()
        if f in ("epoch_millis", "epoch_second"):
            if isinstance(v, bool) or not (isinstance(v, (int, float)) or (
                    isinstance(v, str) and re.fullmatch(r"-?\d+(\.\d+)?", v))):
                continue
            n = int(v) if isinstance(v, int) or (isinstance(v, str) and "." not in v) else float(v)
            return int(n * 1000) if f == "epoch_second" else int(n)
        if isinstance(v, str) and iso_millis(v) is not None:
            return iso_millis(v)
    raise BadValue("illegal_argument_exception",
                   f"failed to parse date field [{java_str(v)}] with format [{fmt}]")


def analyze(text):
    """The standard analyzer, roughly: lowercase, split on non-word characters."""
    return re.findall(r"\w+", text.lower())


def coerce_value(t, fdef, v):
    """The value a field of type t indexes for JSON value v; BadValue when it cannot hold it."""
    if isinstance(v, (dict, list)):
        raise BadValue("illegal_state_exception", f"Can't get text on a {token(v)} at 1:1")
    if t in INT_RANGES or t in FLOAT_TYPES:
        if fdef.get("coerce") is False and (isinstance(v, str) or (
                t in INT_RANGES and isinstance(v, float))):
            raise BadValue("illegal_argument_exception", f"Value [{v}] is not allowed: coerce is false")
        n = to_number(v)
        if t in FLOAT_TYPES:
            try:
                return float(n)
            except OverflowError:
                raise BadValue("illegal_argument_exception", f"[{t}] supports only finite values")
        n = math.trunc(n)
        lo, hi = INT_RANGES[t]
        if not lo <= n <= hi:
            raise BadValue("illegal_argument_exception",
                           f"Value [{java_str(v)}] is out of range for a{'n' * (t == 'integer')} {t}")
        return n
    if t == "boolean":
        if isinstance(v, bool):
            return v
        if v in ("true", "false", ""):
            return v == "true"
        raise BadValue("illegal_argument_exception",
                       f"Failed to parse value [{java_str(v)}] as only [true] or [false] are allowed.")
    if t == "date":
        return parse_date(v, fdef.get("format"))
    if t == "ip":
        try:
            return ipaddress.ip_address(v if isinstance(v, str) else "")
        except ValueError:
            raise BadValue("illegal_argument_exception", f"'{java_str(v)}' is not an IP string literal.")
    text = scalar_text(v)
    return analyze(text) if t == "text" else text


def flatten(value):
    if isinstance(value, list):
        for x in value:
            yield from flatten(x)
    else:
        yield value


def values_at(node, parts):
    """The leaf values under a dotted path of a _source (through arrays and "a.b" keys)."""
    if not parts:
        return [v for v in flatten(node) if v is not None]
    if isinstance(node, list):
        return [x for item in node for x in values_at(item, parts)]
    if not isinstance(node, dict):
        return []
    out = []
    for i in range(1, len(parts) + 1):
        key = ".".join(parts[:i])
        if key in node:
            out.extend(values_at(node[key], parts[i:]))
    return out


def merge(target, doc):
    """Partial-update merge: objects merge recursively, anything else replaces."""
    for k, v in doc.items():
        if isinstance(v, dict) and isinstance(target.get(k), dict):
            merge(target[k], v)
        else:
            target[k] = copy.deepcopy(v)
    return target


# ---------------------------------------------------------------------------------------------
# Mappings

class MappingError(Exception):
    pass


DYNAMIC = {True: "true", False: "false", "true": "true", "false": "false", "strict": "strict",
           "runtime": "runtime"}
ROOT_MAPPING_KEYS = {"dynamic", "properties", "date_detection", "_source", "_routing", "_meta"}
NOT_SUPPORTED_MAPPING_KEYS = {"dynamic_templates", "numeric_detection", "dynamic_date_formats",
                              "runtime"}


def build_mappings(m):
    """Validated, normalised copy of a create-index "mappings" object."""
    try:
        if m is None:
            m = {}
        if not isinstance(m, dict):
            raise MappingError(f"Expected map for property [mappings] but got [{java_str(m)}]")
        m = copy.deepcopy(m)
        for k in m:
            if k in NOT_SUPPORTED_MAPPING_KEYS:
                raise MappingError(f"es_standin does not support [{k}] in mappings")
            if k not in ROOT_MAPPING_KEYS:
                raise MappingError(f"Root mapping definition has unsupported parameters:  "
                                   f"[{k} : {java_str(m[k])}]")
        if "dynamic" in m:
            m["dynamic"] = dynamic_value(m["dynamic"])
        m["properties"] = check_properties(m.get("properties", {}))
        return m
    except MappingError as e:
        cause = {"type": MAPPER_PARSING, "reason": str(e)}
        raise EsError(400, MAPPER_PARSING, f"Failed to parse mapping: {e}", caused_by=cause,
                      root_cause=[cause])


def dynamic_value(v):
    if v not in DYNAMIC or isinstance(v, int) and not isinstance(v, bool):
        raise MappingError(f"Could not convert [dynamic] to boolean or strict: [{java_str(v)}]")
    return DYNAMIC[v]


def check_properties(props):
    if not isinstance(props, dict):
        raise MappingError(f"Expected map for property [properties] but got [{java_str(props)}]")
    out = {}
    for name, fdef in props.items():
        if not isinstance(fdef, dict):
            raise MappingError(f"Expected map for property [{name}] but got [{java_str(fdef)}]")
        if "." in name:  # "a.b": {...} declares b inside object a
            head, rest = name.split(".", 1)
            name, fdef = head, {"properties": {rest: fdef}}
        t = fdef.get("type")
        if t is None:
            if "properties" not in fdef and not (fdef and set(fdef) <= {"dynamic", "enabled"}):
                raise MappingError(f"No type specified for field [{name}]")
            t = "object"
        check_field_type(name, t, fdef)
        if t in ("object", "nested"):
            if "dynamic" in fdef:
                fdef["dynamic"] = dynamic_value(fdef["dynamic"])
            sub = check_properties(fdef.get("properties", {}))
            if name in out and "properties" in out[name]:
                out[name]["properties"].update(sub)
                continue
            fdef["properties"] = sub
        elif "fields" in fdef:
            if not isinstance(fdef["fields"], dict):
                raise MappingError(f"Expected map for property [fields] on field [{name}]")
            for sname, sdef in fdef["fields"].items():
                if not isinstance(sdef, dict) or ftype(sdef) not in LEAF_TYPES:
                    st = sdef.get("type") if isinstance(sdef, dict) else None
                    raise MappingError(f"No handler for type [{st}] declared on field [{sname}]")
                check_field_type(sname, sdef["type"], sdef)
        out[name] = fdef
    return out


def check_field_type(name, t, fdef):
    if t not in LEAF_TYPES and t not in ("object", "nested"):
        raise MappingError(f"No handler for type [{t}] declared on field [{name}]")
    if t == "scaled_float" and not isinstance(fdef.get("scaling_factor"), (int, float)):
        raise MappingError("Field [scaling_factor] is required")
    if t == "date" and not isinstance(fdef.get("format", ""), str):
        raise MappingError(f"Invalid format for field [{name}]")


def dynamic_mapping(sample, date_detection):
    """The mapping ES adds for a new field, from the first value it sees."""
    if isinstance(sample, bool):
        return {"type": "boolean"}
    if isinstance(sample, int):
        return {"type": "long"}
    if isinstance(sample, float):
        return {"type": "float"}
    if isinstance(sample, dict):
        return {"properties": {}}
    if date_detection and re.match(r"\d{4}-\d{2}-\d{2}", sample) and iso_millis(sample) is not None:
        return {"type": "date"}
    return {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}


class DocParser:
    """Checks a document against an index's mapping; dynamic mappings are added to a copy."""

    def __init__(self, mappings, doc_id):
        self.props = copy.deepcopy(mappings["properties"])
        self.dynamic = mappings.get("dynamic", "true")
        self.date_detection = mappings.get("date_detection", True) not in (False, "false")
        self.doc_id = doc_id

    def parse(self, source):
        if not isinstance(source, dict):
            raise EsError(400, MAPPER_PARSING, "failed to parse", caused_by={
                "type": "illegal_state_exception", "reason": "Malformed content, must start with an object"})
        self.object(source, self.props, "", self.dynamic)
        return self.props

    def object(self, obj, props, prefix, dynamic):
        for key, value in obj.items():
            if not key.strip(". "):
                raise EsError(400, MAPPER_PARSING, "failed to parse", caused_by={
                    "type": "illegal_argument_exception", "reason": "field name cannot be an empty string"})
            self.field(key.split("."), value, props, prefix, dynamic)

    def field(self, parts, value, props, prefix, dynamic):
        name, full = parts[0], prefix + parts[0]
        fdef = props.get(name)
        if len(parts) > 1:  # {"a.b": v} is {"a": {"b": v}}
            if fdef is None:
                fdef = self.new_field(props, name, prefix, dynamic, {})
                if fdef is None:
                    return
            if ftype(fdef) not in ("object", "nested"):
                raise EsError(400, MAPPER_PARSING, f"Could not dynamically add mapping for field "
                              f"[{prefix}{'.'.join(parts)}]. Existing mapping for [{full}] must be of "
                              f"type object but found [{ftype(fdef)}].")
            return self.field(parts[1:], value, fdef.setdefault("properties", {}), full + ".",
                              DYNAMIC.get(fdef.get("dynamic"), dynamic))
        for v in flatten(value):
            if v is None:
                continue
            if fdef is None:
                fdef = self.new_field(props, name, prefix, dynamic, v)
                if fdef is None:
                    return  # dynamic false: kept in _source, not indexed
            self.value(full, fdef, v, dynamic)

    def new_field(self, props, name, prefix, dynamic, sample):
        if dynamic == "strict":
            raise EsError(400, "strict_dynamic_mapping_exception",
                          f"mapping set to strict, dynamic introduction of [{name}] within "
                          f"[{prefix[:-1] or '_doc'}] is not allowed")
        if dynamic != "true":
            return None
        props[name] = dynamic_mapping(sample, self.date_detection)
        return props[name]

    def value(self, full, fdef, v, dynamic):
        t = ftype(fdef)
        if fdef.get("enabled") is False:
            return
        if t in ("object", "nested"):
            if not isinstance(v, dict):
                raise EsError(400, MAPPER_PARSING, f"object mapping for [{full}] tried to parse field "
                              f"[{full.rpartition('.')[2]}] as object, but found a concrete value")
            return self.object(v, fdef.setdefault("properties", {}), full + ".",
                               DYNAMIC.get(fdef.get("dynamic"), dynamic))
        checks = [(full, fdef)] + [(f"{full}.{s}", sd) for s, sd in fdef.get("fields", {}).items()]
        for fname, fd in checks:
            try:
                coerce_value(ftype(fd), fd, v)
            except BadValue as e:
                if fd.get("ignore_malformed") is True:
                    continue
                raise EsError(400, MAPPER_PARSING, f"failed to parse field [{fname}] of type "
                              f"[{ftype(fd)}] in document with id '{self.doc_id}'. Preview of "
                              f"field's value: '{java_str(v)}'",
                              caused_by={"type": e.etype, "reason": e.reason})


def resolve_field(props, name):
    """(type, definition, source path) of a dotted field name ("a.b", "title.keyword"), or None."""
    parts = name.split(".")
    for i, part in enumerate(parts):
        fdef = props.get(part) if props is not None else None
        if fdef is None:
            return None
        t = ftype(fdef)
        if t in ("object", "nested"):
            if i == len(parts) - 1:
                return t, fdef, parts
            props = fdef.get("properties", {})
            continue
        rest = parts[i + 1:]
        if not rest:
            return t, fdef, parts
        sub = fdef.get("fields", {}).get(".".join(rest))
        return (ftype(sub), sub, parts[:i + 1]) if sub else None
    return None


# ---------------------------------------------------------------------------------------------
# Queries: each builder returns a predicate pred(doc_id, source) for one index

class Field:
    """A field as one index maps it: its indexed values per document, query values in its terms."""

    def __init__(self, idx, name):
        self.idx, self.name = idx, name
        info = resolve_field(idx.mappings["properties"], name) if idx else None
        self.type, self.fdef, self.path = info or (None, None, None)

    def values(self, source):
        if self.type is None or self.type in ("object", "nested"):
            return []
        out = []
        for v in values_at(source, self.path):
            try:
                nv = coerce_value(self.type, self.fdef, v)
            except BadValue:
                continue
            if self.type == "text":
                out.extend(nv)
            elif self.type != "keyword" or len(nv) <= self.fdef.get("ignore_above", math.inf):
                out.append(nv)
        return out

    def query_value(self, v, fmt=None):
        t = self.type
        if isinstance(v, (dict, list)) or v is None:
            raise parsing(f"[{self.name}] query value must be a scalar, found [{token(v)}]")
        try:
            if t in INT_RANGES or t in FLOAT_TYPES:
                return to_number(v)
            if t == "date":
                return parse_date(v, fmt or self.fdef.get("format"))
            if t in ("boolean", "ip"):
                return coerce_value(t, self.fdef, v)
            return scalar_text(v)
        except BadValue as e:
            raise shard_failure(self.idx, "query_shard_exception", f"failed to create query: {e.reason}")


def one_field(kind, body, allowed, short_key):
    """{"field": value} or {"field": {options}} of term/match/range; returns (field, options)."""
    if not isinstance(body, dict) or not body:
        raise parsing(f"[{kind}] query malformed, no start_object after query name")
    fields = [k for k in body if k not in ("boost", "_name")]
    if len(fields) != 1:
        raise parsing(f"[{kind}] query doesn't support multiple fields, found [{fields[0]}] and "
                      f"[{fields[1]}]" if fields else f"[{kind}] query requires a field")
    spec = body[fields[0]]
    if not isinstance(spec, dict):
        if short_key is None:
            raise parsing(f"[{kind}] query malformed, expected an object for [{fields[0]}]")
        spec = {short_key: spec}
    for k in spec:
        if k not in allowed:
            raise parsing(f"[{kind}] query does not support [{k}]")
    return fields[0], spec


def q_match_all(body, idx):
    return lambda doc_id, src: True


def q_match_none(body, idx):
    return lambda doc_id, src: False


def q_term(body, idx):
    name, spec = one_field("term", body, {"value", "boost", "case_insensitive", "_name"}, "value")
    if isinstance(spec.get("value"), (dict, list)) or spec.get("value") is None:
        raise parsing("[term] query requires a single non-null value")
    f = Field(idx, name)
    if f.type is None or f.type in ("object", "nested"):
        return q_match_none(None, idx)
    value = scalar_text(spec["value"]) if f.type == "text" else f.query_value(spec["value"])
    if f.type == "keyword" and spec.get("case_insensitive") is True:
        return lambda doc_id, src: value.lower() in (x.lower() for x in f.values(src))
    return lambda doc_id, src: value in f.values(src)


def q_terms(body, idx):
    if not isinstance(body, dict):
        raise parsing("[terms] query malformed, no start_object after query name")
    fields = [k for k in body if k not in ("boost", "_name")]
    if len(fields) != 1 or not isinstance(body[fields[0]], list):
        raise parsing("[terms] query requires exactly one field with an array of values")
    f = Field(idx, fields[0])
    if f.type is None or f.type in ("object", "nested"):
        return q_match_none(None, idx)
    values = [scalar_text(v) if f.type == "text" else f.query_value(v) for v in body[fields[0]]]
    return lambda doc_id, src: any(v in values for v in f.values(src))


def q_match(body, idx):
    name, spec = one_field("match", body, {"query", "operator", "boost", "_name", "lenient",
                                           "zero_terms_query"}, "query")
    if "query" not in spec:
        raise parsing("[match] requires query value")
    op = str(spec.get("operator", "or")).lower()
    if op not in ("or", "and"):
        raise parsing(f"[match] query does not support operator [{spec['operator']}]")
    f = Field(idx, name)
    if f.type is None or f.type in ("object", "nested"):
        return q_match_none(None, idx)
    if f.type == "text":
        tokens = set(analyze(scalar_text(spec["query"])))
        if not tokens:
            return q_match_all(None, idx) if spec.get("zero_terms_query") == "all" else \
                q_match_none(None, idx)
        if op == "and":
            return lambda doc_id, src: tokens <= set(f.values(src))
        return lambda doc_id, src: not tokens.isdisjoint(f.values(src))
    try:
        value = f.query_value(spec["query"])
    except EsError:
        if spec.get("lenient") is True:
            return q_match_none(None, idx)
        raise
    return lambda doc_id, src: value in f.values(src)


RANGE_OPS = {"gte": operator.ge, "gt": operator.gt, "lte": operator.le, "lt": operator.lt}


def q_range(body, idx):
    name, spec = one_field("range", body, set(RANGE_OPS) | {"format", "boost", "_name"}, None)
    f = Field(idx, name)
    if f.type is None or f.type in ("object", "nested"):
        return q_match_none(None, idx)
    bounds = [(RANGE_OPS[k], scalar_text(v) if f.type == "text" else f.query_value(v, spec.get("format")))
              for k, v in spec.items() if k in RANGE_OPS and v is not None]

    def pred(doc_id, src):
        for v in f.values(src):
            try:
                if all(cmp(v, b) for cmp, b in bounds):
                    return True
            except TypeError:  # IPv4 against IPv6
                pass
        return False
    return pred


def q_bool(body, idx):
    if not isinstance(body, dict):
        raise parsing("[bool] query malformed, no start_object after query name")
    clauses = {"must": [], "filter": [], "should": [], "must_not": []}
    msm = None
    for k, v in body.items():
        if k in clauses:
            clauses[k] += [compile_query(c, idx) for c in (v if isinstance(v, list) else [v])]
        elif k == "minimum_should_match":
            msm = v
        elif k not in ("boost", "_name", "adjust_pure_negative"):
            raise parsing(f"[bool] query does not support [{k}]")
    should = clauses["should"]
    required = clauses["must"] + clauses["filter"]
    if msm is None:
        need = 1 if should and not required else 0
    else:
        m = re.fullmatch(r"\s*(-?\d+)(%?)\s*", str(msm))
        if not m or isinstance(msm, bool):
            raise parsing(f"[bool] query does not support minimum_should_match [{msm}]")
        n = int(m.group(1))
        n = len(should) * n // 100 if m.group(2) else n
        need = len(should) + n if n < 0 else n

    def pred(doc_id, src):
        return (all(p(doc_id, src) for p in required)
                and not any(p(doc_id, src) for p in clauses["must_not"])
                and (need <= 0 or sum(1 for p in should if p(doc_id, src)) >= need))
    return pred


def q_exists(body, idx):
    if not isinstance(body, dict) or not isinstance(body.get("field"), str):
        raise parsing("[exists] must be provided with a [field]")
    f = Field(idx, body["field"])
    if f.type in ("object", "nested"):
        return lambda doc_id, src: bool(values_at(src, f.path))
    return lambda doc_id, src: bool(f.values(src))


def q_ids(body, idx):
    if not isinstance(body, dict) or not isinstance(body.get("values", []), list):
        raise parsing("[ids] query malformed, [values] must be an array")
    ids = {scalar_text(v) for v in body.get("values", [])}
    return lambda doc_id, src: doc_id in ids


def q_constant_score(body, idx):
    if not isinstance(body, dict) or "filter" not in body:
        raise parsing("[constant_score] requires a 'filter' element")
    return compile_query(body["filter"], idx)


QUERIES = {"match_all": q_match_all, "match_none": q_match_none, "term": q_term, "terms": q_terms,
           "match": q_match, "range": q_range, "bool": q_bool, "exists": q_exists, "ids": q_ids,
           "constant_score": q_constant_score}


def compile_query(q, idx):
    if not isinstance(q, dict) or not q:
        raise parsing("query malformed, must start with start_object")
    if len(q) > 1:
        raise parsing(f"[{next(iter(q))}] malformed query, expected [END_OBJECT] but found [FIELD_NAME]")
    kind, body = next(iter(q.items()))
    if kind not in QUERIES:
        raise EsError(400, "parsing_exception", f"unknown query [{kind}]", caused_by={
            "type": "named_object_not_found_exception", "reason": f"[1:1] unknown field [{kind}]"})
    return QUERIES[kind](body, idx)


# ---------------------------------------------------------------------------------------------
# State

class Index:
    def __init__(self, name, settings, mappings):
        self.name = name
        self.uuid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        self.mappings = mappings
        self.settings = normalize_settings(name, self.uuid, settings)
        self.docs = {}        # id -> Doc, realtime
        self.snapshot = {}    # id -> Doc, as of the last refresh (what search sees)
        self.tombstones = {}  # id -> (version, monotonic time of the delete)
        self.seq_no = -1
        self.dirty = False

    def next_seq(self):
        self.seq_no += 1
        self.dirty = True
        return self.seq_no

    def tombstone(self, doc_id):
        t = self.tombstones.get(doc_id)
        if t and time.monotonic() - t[1] > GC_DELETES_S:
            del self.tombstones[doc_id]
            return None
        return t[0] if t else None

    def current_version(self, doc_id):
        doc = self.docs.get(doc_id)
        return doc.version if doc else self.tombstone(doc_id)

    def put(self, doc_id, version, source):
        seq = self.next_seq()
        self.docs.pop(doc_id, None)  # a rewritten document moves to the end, as in Lucene
        self.docs[doc_id] = Doc(version, seq, source)
        self.tombstones.pop(doc_id, None)
        return seq

    def refresh(self):
        if self.dirty:
            self.snapshot, self.dirty = dict(self.docs), False

    def mappings_view(self):
        out = {k: v for k, v in self.mappings.items() if k != "properties"}
        if self.mappings["properties"]:
            out["properties"] = self.mappings["properties"]
        return out


def normalize_settings(name, index_uuid, settings):
    """Settings as GET /{index} shows them: nested under "index", values as strings."""
    flat = {"index.number_of_shards": "1", "index.number_of_replicas": "1"}

    def walk(node, prefix):
        for k, v in node.items():
            if isinstance(v, dict):
                walk(v, f"{prefix}{k}.")
            elif v is not None:
                key = prefix + k if (prefix + k).startswith("index.") else "index." + prefix + k
                flat[key] = [scalar_text(x) for x in v] if isinstance(v, list) else scalar_text(v)
    walk(settings or {}, "")
    flat.update({"index.uuid": index_uuid, "index.provided_name": name,
                 "index.creation_date": str(int(time.time() * 1000)),
                 "index.version.created": "8110099"})
    out = {}
    for key, v in flat.items():
        node, parts = out, key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                break
        else:
            node[parts[-1]] = v
    return out


class BulkOp:
    """One write: a _bulk action with its metadata, or a single-document request."""
    META_KEYS = {"_index", "_id", "routing", "version", "version_type", "if_seq_no",
                 "if_primary_term", "op_type", "require_alias", "retry_on_conflict", "_source"}

    def __init__(self, action, line, meta, default_index):
        def long_of(key):
            v = meta.get(key)
            if v is None:
                return None
            if isinstance(v, str) and re.fullmatch(r"\s*-?\d+\s*", v):
                v = int(v)
            if isinstance(v, bool) or not isinstance(v, int):
                raise bad_request(f"[{key}] must be a number but was [{java_str(v)}] (line [{line}])")
            return v
        self.action, self.line = action, line
        self.index = scalar_text(meta["_index"]) if meta.get("_index") is not None else default_index
        self.id = scalar_text(meta["_id"]) if meta.get("_id") is not None else None
        self.version, self.if_seq_no = long_of("version"), long_of("if_seq_no")
        self.if_primary_term = long_of("if_primary_term")
        long_of("retry_on_conflict")
        self.version_type = str(meta.get("version_type", "internal")).lower()
        if self.version_type not in ("internal", "external", "external_gte"):
            raise bad_request(f"No version type match [{meta['version_type']}]")
        op_type = meta.get("op_type", action if action in ("index", "create") else None)
        if action in ("index", "create") and op_type not in ("index", "create"):
            raise bad_request(f"opType must be 'create' or 'index', found: [{op_type}]")
        self.create = op_type == "create"
        self.require_alias = meta.get("require_alias") in (True, "true")
        if self.id is None and action in ("index", "create"):
            self.id = base64.urlsafe_b64encode(os.urandom(15)).decode()  # ES-style 20-char id
        self.source_text = None  # index/create: the raw source line, parsed when applied
        self.update = None       # update: the parsed update body

    def problems(self):
        """ActionRequestValidationException texts (they fail the whole request)."""
        errs, vt, v = [], self.version_type, self.version
        if not self.index:
            errs.append("index is missing")
        if self.action in ("delete", "update") and not self.id:
            errs.append("id is missing")
        if self.id is not None and len(self.id.encode()) > 512:
            errs.append(f"id [{self.id}] is too long, must be no longer than 512 bytes but was: "
                        f"{len(self.id.encode())}")
        if self.action == "update":
            u = self.update or {}
            if vt != "internal":
                errs.append(f"version type [{vt.upper()}] is not supported by the update API")
            if "script" in u:
                errs.append("es_standin does not support scripted updates")
            elif "doc" not in u:
                errs.append("script or doc is missing")
            if u.get("doc_as_upsert") and "doc" not in u:
                errs.append("doc must be specified if doc_as_upsert is enabled")
        elif self.action in ("index", "create") and not (self.source_text or "").strip():
            errs.append("source is missing")
        if self.create and vt != "internal":
            errs.append("create operations only support internal versioning. use index instead")
        elif vt != "internal" and not (v is not None and 0 <= v <= LONG_MAX):
            errs.append(f"illegal version value [{-3 if v is None else v}] for version type [{vt.upper()}]")
        elif vt == "internal" and v is not None:
            errs.append("internal versioning can not be used for optimistic concurrency control. "
                        "Please use `if_seq_no` and `if_primary_term` instead")
        if self.if_seq_no is not None and (vt != "internal" or v is not None):
            errs.append("compare and write operations can not use versioning")
        if self.if_seq_no is not None and self.if_primary_term is None:
            errs.append("ifSeqNo is set, but primary term is [0]")
        if self.if_primary_term is not None and self.if_seq_no is None:
            errs.append(f"ifSeqNo is unassigned, but primary term is [{self.if_primary_term}]")
        if self.if_seq_no is not None and self.if_seq_no < 0:
            errs.append("ifSeqNo must be non negative")
        return errs


def validation_failed(errs):
    return EsError(400, "action_request_validation_exception",
                   "Validation Failed: " + "".join(f"{i}: {e};" for i, e in enumerate(errs, 1)))


def fault_error(status, etype=None, reason=None, index=None):
    defaults = {
        429: ("es_rejected_execution_exception", "rejected execution of coordinating operation "
              "on EsThreadPoolExecutor[name = es-standin/write, queue capacity = 10000, active "
              "threads = 2, queued tasks = 10000] (injected by es_standin)"),
        503: ("unavailable_shards_exception", f"[{index}][0] primary shard is not active Timeout: "
              "[1m] (injected by es_standin)") if index else
             ("cluster_block_exception", "blocked by: [SERVICE_UNAVAILABLE/1/state not recovered / "
              "initialized]; (injected by es_standin)"),
    }
    dtype, dreason = defaults.get(status, ("exception", f"injected failure [{status}] (es_standin)"))
    return EsError(status, etype or dtype, reason or dreason)


# ---------------------------------------------------------------------------------------------
# The cluster

class Reply:
    def __init__(self, status, obj=None, headers=(), after=None, seconds=0.0):
        self.status, self.obj, self.headers = status, obj, list(headers)
        self.after, self.seconds = after, seconds  # hang and drop faults: "hang" or "drop"
        self.body = b""


COMMON_PARAMS = {"pretty", "human", "error_trace", "filter_path"}
INDICES_PARAMS = {"ignore_unavailable", "allow_no_indices", "expand_wildcards"}
WRITE_PARAMS = {"refresh", "routing", "timeout", "wait_for_active_shards", "require_alias"}
DOC_WRITE_PARAMS = WRITE_PARAMS | {"version", "version_type", "if_seq_no", "if_primary_term", "op_type"}
SEARCH_PARAMS = INDICES_PARAMS | {"size", "from", "track_total_hits", "rest_total_hits_as_int",
                                  "timeout", "preference", "request_cache", "typed_keys"}
SEARCH_KEYS = {"query", "size", "from", "sort", "search_after", "track_total_hits", "_source",
               "version", "seq_no_primary_term", "timeout", "track_scores"}
ROUTES = [  # (path pattern, endpoint kind, {method: (handler name, extra allowed params)})
    ([], "root", {"GET": ("root", ()), "HEAD": ("root", ())}),
    (["_bulk"], "_bulk", {"POST": ("bulk", WRITE_PARAMS), "PUT": ("bulk", WRITE_PARAMS)}),
    (["_refresh"], "_refresh", {"POST": ("refresh", INDICES_PARAMS), "GET": ("refresh", INDICES_PARAMS)}),
    (["_search"], "_search", {"GET": ("search", SEARCH_PARAMS), "POST": ("search", SEARCH_PARAMS)}),
    (["_count"], "_count", {"GET": ("count", INDICES_PARAMS), "POST": ("count", INDICES_PARAMS)}),
    (["_aliases"], "_aliases", {"POST": ("update_aliases", {"timeout", "master_timeout"}),
                                "PUT": ("update_aliases", {"timeout", "master_timeout"}),
                                "GET": ("get_alias", INDICES_PARAMS)}),
    (["_alias"], "_alias", {"GET": ("get_alias", INDICES_PARAMS)}),
    (["_alias", "{name}"], "_alias", {"GET": ("get_alias", INDICES_PARAMS),
                                      "HEAD": ("get_alias", INDICES_PARAMS)}),
    (["{index}"], "index", {
        "PUT": ("create_index", {"timeout", "master_timeout", "wait_for_active_shards"}),
        "GET": ("get_index", INDICES_PARAMS | {"master_timeout"}),
        "HEAD": ("get_index", INDICES_PARAMS), "DELETE": ("delete_index", INDICES_PARAMS | {
            "timeout", "master_timeout"})}),
    (["{index}", "_bulk"], "_bulk", {"POST": ("bulk", WRITE_PARAMS), "PUT": ("bulk", WRITE_PARAMS)}),
    (["{index}", "_refresh"], "_refresh", {"POST": ("refresh", INDICES_PARAMS),
                                           "GET": ("refresh", INDICES_PARAMS)}),
    (["{index}", "_search"], "_search", {"GET": ("search", SEARCH_PARAMS),
                                         "POST": ("search", SEARCH_PARAMS)}),
    (["{index}", "_count"], "_count", {"GET": ("count", INDICES_PARAMS), "POST": ("count", INDICES_PARAMS)}),
    (["{index}", "_mapping"], "_mapping", {"GET": ("get_mapping", INDICES_PARAMS)}),
    (["{index}", "_alias"], "_alias", {"GET": ("get_alias", INDICES_PARAMS)}),
    (["{index}", "_alias", "{name}"], "_alias", {"GET": ("get_alias", INDICES_PARAMS),
                                                 "HEAD": ("get_alias", INDICES_PARAMS)}),
    (["{index}", "_doc"], "_doc", {"POST": ("write_doc", DOC_WRITE_PARAMS)}),
    (["{index}", "_doc", "{id}"], "_doc", {
        "GET": ("get_doc", {"realtime", "refresh", "routing", "preference", "_source"}),
        "HEAD": ("get_doc", {"realtime", "refresh", "routing", "preference", "_source"}),
        "PUT": ("write_doc", DOC_WRITE_PARAMS), "POST": ("write_doc", DOC_WRITE_PARAMS),
        "DELETE": ("write_doc", DOC_WRITE_PARAMS)}),
    (["{index}", "_create", "{id}"], "_doc", {"PUT": ("create_doc", WRITE_PARAMS),
                                              "POST": ("create_doc", WRITE_PARAMS)}),
    (["{index}", "_update", "{id}"], "_doc", {"POST": ("update_doc", WRITE_PARAMS | {
        "if_seq_no", "if_primary_term", "retry_on_conflict"})}),
]
JSON_TYPES = {"application/json", "application/x-ndjson", "application/vnd.elasticsearch+json",
              "application/vnd.elasticsearch+x-ndjson"}


class Cluster:
    def __init__(self, args):
        self.lock = threading.RLock()
        self.flavor = args.flavor
        self.basic = args.basic
        self.api_key = args.api_key
        self.refresh_interval = args.refresh_interval_ms / 1000.0
        self.cluster_uuid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        self.indices = {}   # name -> Index
        self.aliases = {}   # alias -> {index name: properties ({"is_write_index": bool}, ...)}
        self.faults = {"fail": [], "fail_items": [], "hang_drop": []}  # in the order registered
        self.stats = {"requests": Counter(), "bulk_items": Counter(), "faults_served": Counter()}

    # -- plumbing ---------------------------------------------------------------------------

    def handle(self, method, raw_path, headers, body, started):
        url = urlsplit(raw_path)
        segs = [unquote(s) for s in url.path.split("/") if s]
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        with self.lock:
            if segs[:1] == ["_standin"]:
                reply = self.control(method, segs[1:], body)
            else:
                reply = self.es_request(method, url.path, raw_path, segs, params, headers, body, started)
                if "filter_path" in params and isinstance(reply.obj, dict):
                    reply.obj = filter_paths(reply.obj, params["filter_path"].split(","))
            if reply.obj is not None:
                reply.body = json.dumps(reply.obj, ensure_ascii=False, separators=(",", ":")).encode()
        return reply

    def es_request(self, method, path, raw_path, segs, params, headers, body, started):
        route, args = self.match(segs)
        self.stats["requests"][f"{method} {route[1] if route else 'unknown'}"] += 1
        self.check_auth(headers.get("Authorization", ""), raw_path)
        for f in self.faults["fail"]:
            if f["path"] in raw_path:
                self.consume("fail", f)
                raise fault_error(f["status"], f.get("type"), f.get("reason"))
        if route is None:
            raise bad_request(f"no handler found for uri [{raw_path}] and method [{method}]")
        if method not in route[2]:
            e = PlainError(405, "", f"Incorrect HTTP method for uri [{raw_path}] and method [{method}], "
                           f"allowed: [{', '.join(sorted(route[2]))}]")
            e.headers = [("Allow", ",".join(sorted(route[2])))]
            raise e
        handler, allowed = route[2][method]
        unknown = sorted(p for p in params if p not in COMMON_PARAMS and p not in allowed)
        if unknown:
            raise bad_request(f"request [{path}] contains unrecognized parameter"
                              f"{'s' if len(unknown) > 1 else ''}: [{'], ['.join(unknown)}]")
        if body:
            ctype = headers.get("Content-Type")
            if ctype is None:
                raise PlainError(406, "", "Content-Type header is missing")
            if ctype.split(";")[0].strip().lower() not in JSON_TYPES:
                raise PlainError(406, "", f"Content-Type header [{ctype}] is not supported")
        result = getattr(self, handler)(method, args, params, body, started)
        return result if isinstance(result, Reply) else Reply(*result)

    @staticmethod
    def match(segs):
        for pattern, kind, methods in ROUTES:
            if len(pattern) == len(segs) and all(p.startswith("{") or p == s for p, s in zip(pattern, segs)):
                args = {p[1:-1]: s for p, s in zip(pattern, segs) if p.startswith("{")}
                return (pattern, kind, methods), args
        return None, {}

    def check_auth(self, header, raw_path):
        if not self.basic and not self.api_key:
            return
        scheme, _, cred = header.partition(" ")
        if scheme.lower() == "basic":
            try:
                given = base64.b64decode(cred.strip(), validate=True).decode()
            except ValueError:
                given = ""
            if self.basic and given == self.basic:
                return
            reason = f"unable to authenticate user [{given.partition(':')[0]}] for REST request [{raw_path}]"
        elif scheme.lower() == "apikey":
            if self.api_key and cred.strip() == self.api_key:
                return
            reason = ("unable to authenticate with provided credentials and anonymous access is not "
                      "allowed for this request")
        else:
            reason = f"missing authentication credentials for REST request [{raw_path}]"
        challenges = ['Basic realm="security", charset="UTF-8"', "ApiKey"]
        e = EsError(401, "security_exception", reason, header={"WWW-Authenticate": challenges})
        e.headers = [("WWW-Authenticate", c) for c in challenges]
        raise e

    def consume(self, kind, fault):
        fault["count"] -= 1
        if fault["count"] <= 0:
            self.faults[kind if kind in ("fail", "fail_items") else "hang_drop"].remove(fault)
        self.stats["faults_served"][kind] += 1

    def take_fault(self, endpoint):
        """The first pending hang or drop fault of endpoint ("_bulk" or "_aliases"), consumed."""
        fault = next((f for f in self.faults["hang_drop"] if f["endpoint"] == endpoint), None)
        if fault:
            self.consume(fault["kind"], fault)
        return fault

    # -- name resolution --------------------------------------------------------------------

    def resolve(self, expr, ignore_unavailable=False):
        """Indices an expression names for reading: comma list, *, _all, aliases."""
        names = []
        for part in (expr or "_all").split(","):
            if part in ("_all", "*", ""):
                names += sorted(self.indices)
            elif "*" in part:
                names += sorted(n for n in self.indices if wildcard(part, n))
                names += [n for a in sorted(self.aliases) if wildcard(part, a)
                          for n in sorted(self.aliases[a])]
            elif part in self.indices:
                names.append(part)
            elif part in self.aliases:
                names += sorted(self.aliases[part])
            elif not ignore_unavailable:
                raise index_not_found(part)
        return [self.indices[n] for n in dict.fromkeys(names)]

    def single_index(self, name):
        if name in self.indices:
            return self.indices[name]
        members = self.aliases.get(name)
        if not members:
            raise index_not_found(name)
        if len(members) > 1:
            raise bad_request(f"alias [{name}] has more than one index associated with it "
                              f"[{', '.join(sorted(members))}], can't execute a single index op")
        return self.indices[next(iter(members))]

    def write_index(self, name):
        """The index a write to name goes to, or None when name is neither index nor alias."""
        if name in self.indices:
            return self.indices[name]
        members = self.aliases.get(name)
        if not members:
            return None
        writers = [n for n, p in members.items() if p.get("is_write_index") is True]
        if writers:
            return self.indices[writers[0]]
        if len(members) == 1 and next(iter(members.values())).get("is_write_index") is not False:
            return self.indices[next(iter(members))]
        raise bad_request(f"no write index is defined for alias [{name}]. The write index may be "
                          "explicitly disabled using is_write_index=false or the alias points to "
                          "multiple indices without one being designated as a write index")

    def aliases_of(self, name):
        return {a: dict(m[name]) for a, m in sorted(self.aliases.items()) if name in m}

    # -- endpoints --------------------------------------------------------------------------

    def root(self, method, args, params, body, started):
        if self.flavor == "opensearch":
            version = {"distribution": "opensearch", "number": "2.11.0", "build_type": "tar",
                       "build_hash": "es_standin", "build_date": "2023-10-13T00:00:00.000000000Z",
                       "build_snapshot": False, "lucene_version": "9.7.0",
                       "minimum_wire_compatibility_version": "7.10.0",
                       "minimum_index_compatibility_version": "7.0.0"}
            tagline = "The OpenSearch Project: https://opensearch.org/"
        else:
            version = {"number": "8.11.0", "build_flavor": "default", "build_type": "tar",
                       "build_hash": "es_standin", "build_date": "2023-11-04T00:00:00.000000000Z",
                       "build_snapshot": False, "lucene_version": "9.8.0",
                       "minimum_wire_compatibility_version": "7.17.0",
                       "minimum_index_compatibility_version": "7.0.0"}
            tagline = "You Know, for Search"
        return 200, {"name": NODE, "cluster_name": "es-standin", "cluster_uuid": self.cluster_uuid,
                     "version": version, "tagline": tagline}

    def create_index(self, method, args, params, body, started):
        name, spec = args["index"], json_body(body) or {}
        for k in spec:
            if k not in ("settings", "mappings", "aliases"):
                raise EsError(400, "parse_exception", f"unknown key [{k}] for create index")
        if not isinstance(spec.get("settings", {}), dict) or not isinstance(spec.get("aliases", {}), dict):
            raise EsError(400, "parse_exception", "[settings] and [aliases] must be objects")
        self.new_index(name, spec.get("settings"), spec.get("mappings"), spec.get("aliases", {}))
        return 200, {"acknowledged": True, "shards_acknowledged": True, "index": name}

    def new_index(self, name, settings=None, mappings=None, aliases=None):
        check_name(name)
        if name in self.indices:
            idx = self.indices[name]
            raise EsError(400, "resource_already_exists_exception",
                          f"index [{name}/{idx.uuid}] already exists", index=name, index_uuid=idx.uuid)
        if name in self.aliases:
            raise EsError(400, "invalid_index_name_exception",
                          f"Invalid index name [{name}], already exists as alias", index=name)
        mappings = build_mappings(mappings)
        for alias, props in (aliases or {}).items():
            self.check_alias_name(alias, set(self.indices) | {name})
            if not isinstance(props, dict) or "filter" in props:
                raise bad_request("es_standin does not support alias filters" if isinstance(props, dict)
                                  else f"alias [{alias}] must be an object")
            if props.get("is_write_index") is True and any(
                    p.get("is_write_index") is True for p in self.aliases.get(alias, {}).values()):
                raise EsError(400, "illegal_state_exception", f"alias [{alias}] has more than one "
                              f"write index [{','.join([name] + sorted(self.aliases[alias]))}]")
        idx = self.indices[name] = Index(name, settings, mappings)
        for alias, props in (aliases or {}).items():
            self.aliases.setdefault(alias, {})[name] = dict(props)
        return idx

    @staticmethod
    def check_alias_name(alias, index_names):
        check_name(alias, alias=True)
        if alias in index_names:
            raise EsError(400, "invalid_alias_name_exception", f"Invalid alias name [{alias}]: an "
                          "index or data stream exists with the same name as the alias", index=alias)

    def get_index(self, method, args, params, body, started):
        indices = self.resolve(args["index"], params.get("ignore_unavailable") == "true")
        if method == "HEAD":
            return (200 if indices else 404), None
        return 200, {i.name: {"aliases": self.aliases_of(i.name), "mappings": i.mappings_view(),
                              "settings": i.settings} for i in indices}

    def get_mapping(self, method, args, params, body, started):
        return 200, {i.name: {"mappings": i.mappings_view()} for i in self.resolve(args["index"])}

    def delete_index(self, method, args, params, body, started):
        names = []
        for part in args["index"].split(","):
            if "*" in part or part == "_all":
                raise bad_request("Wildcard expressions or all indices are not allowed")
            if part in self.aliases and part not in self.indices:
                raise bad_request(f"The provided expression [{part}] matches an alias, specify the "
                                  "corresponding concrete indices instead.")
            if part not in self.indices:
                if params.get("ignore_unavailable") == "true":
                    continue
                raise index_not_found(part)
            names.append(part)
        for name in names:
            del self.indices[name]
            for alias in list(self.aliases):
                self.aliases[alias].pop(name, None)
                if not self.aliases[alias]:
                    del self.aliases[alias]
        return 200, {"acknowledged": True}

    def get_alias(self, method, args, params, body, started):
        indices = self.resolve(args.get("index"), params.get("ignore_unavailable") == "true")
        patterns = args["name"].split(",") if "name" in args else ["*"]
        out, found = {}, set()
        for idx in indices:
            mine = {a: p for a, p in self.aliases_of(idx.name).items()
                    if any(pat == "_all" or wildcard(pat, a) for pat in patterns)}
            found.update(mine)
            if mine or "name" not in args:
                out[idx.name] = {"aliases": mine}
        missing = [p for p in patterns if "*" not in p and p != "_all" and p not in found]
        if method == "HEAD":
            return (404 if missing or ("name" in args and not found) else 200), None
        if missing:
            text = f"alias [{missing[0]}]" if len(missing) == 1 else f"aliases [{','.join(missing)}]"
            return 404, {"error": f"{text} missing", "status": 404, **out}
        return 200, out

    def update_aliases(self, method, args, params, body, started):
        fault = self.take_fault("_aliases")
        if fault and not fault["apply"]:
            return Reply(200, None, after=fault["kind"], seconds=fault.get("seconds", 0))
        spec = json_body(body) or {}
        actions = spec.get("actions")
        if not isinstance(actions, list) or not actions:
            raise validation_failed(["no actions specified"])
        indices = dict(self.indices)
        aliases = {a: {n: dict(p) for n, p in m.items()} for a, m in self.aliases.items()}

        def listed(action, kind, one, many):
            v = action.get(many, action.get(one))
            v = [v] if isinstance(v, str) else v
            if not v or not all(isinstance(x, str) for x in v):
                raise validation_failed([f"[{kind}] requires an [{one}] to be set"])
            return v

        for act in actions:
            if not isinstance(act, dict) or len(act) != 1:
                raise parse_error(ValueError("[aliases] each action must be an object with one key"))
            kind, a = next(iter(act.items()))
            if kind not in ("add", "remove", "remove_index") or not isinstance(a, dict):
                raise parse_error(ValueError(f"[aliases] unknown field [{kind}]"))
            names = []
            for expr in listed(a, kind, "index", "indices"):
                if "*" in expr:
                    names += sorted(n for n in indices if wildcard(expr, n))
                elif expr in indices:
                    names.append(expr)
                elif expr in aliases and kind == "remove_index":
                    raise bad_request(f"The provided expression [{expr}] matches an alias, specify "
                                      "the corresponding concrete indices instead.")
                else:
                    raise index_not_found(expr)
            if kind == "remove_index":
                for n in names:
                    del indices[n]
                    for m in aliases.values():
                        m.pop(n, None)
                continue
            for alias in listed(a, kind, "alias", "aliases"):
                if kind == "add":
                    self.check_alias_name(alias, set(indices))
                    if "filter" in a:
                        raise bad_request("es_standin does not support alias filters")
                    props = {k: a[k] for k in ("is_write_index", "routing", "index_routing",
                                               "search_routing", "is_hidden") if k in a}
                    for n in names:
                        aliases.setdefault(alias, {})[n] = dict(props)
                    continue
                hits = [(al, n) for al in aliases if wildcard(alias, al) for n in names if n in aliases[al]]
                for al, n in hits:
                    del aliases[al][n]
                if not hits and a.get("must_exist") is not False:
                    raise EsError(404, "aliases_not_found_exception", f"aliases [{alias}] missing",
                                  **{"resource.type": "aliases", "resource.id": alias})
        aliases = {al: m for al, m in aliases.items() if m}
        for al, m in aliases.items():
            writers = sorted(n for n, p in m.items() if p.get("is_write_index") is True)
            if len(writers) > 1:
                raise EsError(400, "illegal_state_exception",
                              f"alias [{al}] has more than one write index [{','.join(writers)}]")
        self.indices, self.aliases = indices, aliases  # all actions at once
        return Reply(200, {"acknowledged": True}, after=fault and fault["kind"],
                     seconds=fault and fault.get("seconds", 0))

    def refresh(self, method, args, params, body, started):
        indices = self.resolve(args.get("index"), params.get("ignore_unavailable") == "true")
        for idx in indices:
            idx.refresh()
        return 200, {"_shards": {"total": len(indices), "successful": len(indices), "failed": 0}}

    def get_doc(self, method, args, params, body, started):
        idx = self.single_index(args["index"])
        if params.get("refresh") in ("", "true"):
            idx.refresh()
        doc = (idx.snapshot if params.get("realtime") == "false" else idx.docs).get(args["id"])
        if doc is None:
            return 404, {"_index": idx.name, "_id": args["id"], "found": False}
        out = {"_index": idx.name, "_id": args["id"], "_version": doc.version, "_seq_no": doc.seq_no,
               "_primary_term": 1, "found": True, "_source": doc.source}
        if params.get("_source") == "false":
            del out["_source"]
        return 200, out

    # -- search -----------------------------------------------------------------------------

    def count(self, method, args, params, body, started):
        return self.search(method, args, params, body, started, count=True)

    def search(self, method, args, params, body, started, count=False):
        spec = json_body(body) or {}
        for k, v in spec.items():
            if count and k != "query":
                raise parsing(f"request does not support [{k}]")
            if k not in SEARCH_KEYS:
                raise parsing(f"Unknown key for a {token(v)} in [{k}].")
        indices = self.resolve(args.get("index"), params.get("ignore_unavailable") == "true")
        query = spec.get("query", {"match_all": {}})
        compile_query(query, None)  # structure errors even when no index matches
        matched = []
        for idx in indices:
            pred = compile_query(query, idx)
            matched += [(idx, i, d) for i, d in idx.snapshot.items() if pred(i, d.source)]
        shards = {"total": len(indices), "successful": len(indices), "skipped": 0, "failed": 0}
        if count:
            return 200, {"count": len(matched), "_shards": shards}

        def number(key, default):
            v = params.get(key, spec.get(key, default))
            try:
                n = int(v)
            except (TypeError, ValueError):
                raise parsing(f"[{key}] must be an integer, found [{java_str(v)}]")
            if n < 0:
                raise bad_request(f"[{key}] parameter cannot be negative, found [{n}]")
            return n
        size, start = number("size", 10), number("from", 0)
        if start + size > MAX_RESULT_WINDOW:
            raise shard_failure(indices[0] if indices else None, "illegal_argument_exception",
                                f"Result window is too large, from + size must be less than or equal "
                                f"to: [{MAX_RESULT_WINDOW}] but was [{start + size}]. See the scroll api "
                                "for a more efficient way to request large data sets. This limit can "
                                "be set by changing the [index.max_result_window] index level setting.")
        sorts = self.parse_sort(spec.get("sort"), indices)
        keyed = [(hit, [pos if s[0] == "_doc" else self.sort_value(hit, s) for s in sorts])
                 for pos, hit in enumerate(matched)]
        for k in reversed(range(len(sorts))):  # stable sorts, last key first
            field, order, opts = sorts[k]
            present = [h for h in keyed if h[1][k] is not None]
            absent = [h for h in keyed if h[1][k] is None]
            try:
                present.sort(key=lambda h: h[1][k], reverse=order == "desc")
            except TypeError:
                raise shard_failure(None, "illegal_argument_exception",
                                    f"can't sort on field [{field}]: mapped differently across indices")
            keyed = absent + present if opts.get("missing") == "_first" else present + absent
        if spec.get("search_after") is not None:
            keyed = self.search_after(keyed, spec["search_after"], sorts, start, indices)
        scored = all(s[0] == "_score" for s in sorts)
        shape = self.source_shape(spec.get("_source", True))
        hits = []
        for (idx, doc_id, doc), values in keyed[start:start + size]:
            hit = {"_index": idx.name, "_id": doc_id, "_score": 1.0 if scored else None}
            if spec.get("version") is True:
                hit["_version"] = doc.version
            if spec.get("seq_no_primary_term") is True:
                hit.update(_seq_no=doc.seq_no, _primary_term=1)
            if shape is not None:
                hit["_source"] = shape(doc.source)
            if sorts:
                hit["sort"] = [str(v) if isinstance(v, (ipaddress.IPv4Address, ipaddress.IPv6Address))
                               else v for v in values]
            hits.append(hit)
        result = {"max_score": (1.0 if matched else None) if scored else None, "hits": hits}
        track = params.get("track_total_hits", spec.get("track_total_hits", MAX_RESULT_WINDOW))
        track = {"true": True, "false": False}.get(track, track)
        if not isinstance(track, bool):
            try:
                track = int(track)
            except (TypeError, ValueError):
                raise parsing(f"[track_total_hits] must be a boolean or an integer, "
                              f"found [{java_str(track)}]")
        if params.get("rest_total_hits_as_int") == "true":
            result = {"total": len(matched), **result}
        elif track is True or (track is not False and track >= len(matched)):
            result = {"total": {"value": len(matched), "relation": "eq"}, **result}
        elif track is not False:
            result = {"total": {"value": track, "relation": "gte"}, **result}
        took = int((time.monotonic() - started) * 1000)
        return 200, {"took": took, "timed_out": False, "_shards": shards, "hits": result}

    @staticmethod
    def parse_sort(sort, indices):
        specs = []
        for item in ([] if sort is None else sort if isinstance(sort, list) else [sort]):
            if isinstance(item, str):
                field, opts = item, {}
            elif isinstance(item, dict) and len(item) == 1:
                field, opts = next(iter(item.items()))
                opts = {"order": opts} if isinstance(opts, str) else opts
            else:
                raise parsing(f"malformed sort format, within the sort array, an object, or an actual "
                              f"string are allowed, found [{java_str(item)}]")
            if not isinstance(opts, dict) or any(k not in ("order", "missing", "unmapped_type", "mode")
                                                 for k in opts):
                raise parsing(f"[field_sort] unsupported options for [{field}]: {java_str(opts)}")
            order = opts.get("order", "desc" if field == "_score" else "asc")
            if order not in ("asc", "desc"):
                raise bad_request(f"Unknown SortOrder [{order}]")
            if field not in ("_score", "_doc"):
                for idx in indices:
                    f = Field(idx, field)
                    if f.type is None and "unmapped_type" not in opts or f.type in ("object", "nested"):
                        raise shard_failure(idx, "query_shard_exception",
                                            f"No mapping found for [{field}] in order to sort on")
                    if f.type == "text":
                        raise shard_failure(idx, "illegal_argument_exception", (
                            "Text fields are not optimised for operations that require per-document "
                            "field data like aggregations and sorting, so these operations are disabled "
                            "by default. Please use a keyword field instead. Alternatively, set "
                            f"fielddata=true on [{field}] in order to load field data by uninverting "
                            "the inverted index. Note that this can use significant memory."))
            specs.append((field, order, opts))
        return specs

    @staticmethod
    def search_after(keyed, after, sorts, start, indices):
        """The sorted hits that come strictly after the sort values in after."""
        idx = indices[0] if indices else None
        if not isinstance(after, list) or not after:
            raise parsing("[search_after] must be a non-empty array")
        if start:
            raise shard_failure(idx, "illegal_argument_exception",
                                "`from` parameter must be set to 0 when `search_after` is used.")
        sorts = sorts or [("_score", "desc", {})]
        if len(after) != len(sorts):
            raise shard_failure(idx, "illegal_argument_exception", f"search_after has {len(after)} "
                                f"value(s) but sort has {len(sorts)}.")

        def is_after(values):
            for (field, order, opts), v, a in zip(sorts, values or [1.0], after):
                if v == a:
                    continue
                if v is None or a is None:  # missing values sort last (or first)
                    return (v is None) != (opts.get("missing") == "_first")
                try:
                    return v > a if order == "asc" else v < a
                except TypeError:
                    raise shard_failure(idx, "illegal_argument_exception", f"Failed to parse "
                                        f"search_after value [{java_str(a)}] for field [{field}]")
            return False
        return [h for h in keyed if is_after(h[1])]

    @staticmethod
    def sort_value(hit, spec):
        idx, doc_id, doc = hit
        field, order, opts = spec
        if field == "_score":
            return 1.0
        values = Field(idx, field).values(doc.source)
        if not values:
            return None
        pick = max if opts.get("mode", "min" if order == "asc" else "max") == "max" else min
        return pick(values)

    @staticmethod
    def source_shape(spec):
        if spec is True or spec is None:
            return lambda src: src
        if spec is False:
            return None
        if isinstance(spec, dict):
            if spec.get("excludes") or spec.get("exclude"):
                raise bad_request("es_standin does not support _source excludes")
            spec = spec.get("includes", spec.get("include", []))
        patterns = [spec] if isinstance(spec, str) else spec
        return lambda src: filter_paths(src, patterns) if patterns else src

    # -- writes -----------------------------------------------------------------------------

    def bulk(self, method, args, params, body, started):
        refresh = self.refresh_param(params)
        fault = self.take_fault("_bulk")
        if fault and not fault["apply"]:
            return Reply(200, None, after=fault["kind"], seconds=fault.get("seconds", 0))
        ops = self.parse_bulk(body, args.get("index"), params)
        items, touched = [], set()
        for op in ops:
            try:
                name = self.write_index(op.index)
                name = name.name if name else op.index
            except EsError:
                name = op.index
            item_fault = self.faults["fail_items"][0] if self.faults["fail_items"] else None
            try:
                if item_fault:
                    self.consume("fail_items", item_fault)
                    raise fault_error(item_fault["status"], item_fault.get("type"),
                                      item_fault.get("reason"), index=name)
                item, idx = self.apply(op, refresh)
                touched.add(idx)
            except EsError as e:
                item = {"_index": name, "_id": op.id, "status": e.status, "error": e.error()}
            self.stats["bulk_items"][str(item["status"])] += 1
            items.append({op.action: item})
        if refresh in ("true", "wait_for"):
            for idx in touched:
                idx.refresh()
        took = int((time.monotonic() - started) * 1000)
        obj = {"took": took, "errors": any("error" in i[next(iter(i))] for i in items), "items": items}
        return Reply(200, obj, after=fault and fault["kind"], seconds=fault and fault.get("seconds", 0))

    @staticmethod
    def refresh_param(params):
        refresh = params.get("refresh", "false")
        refresh = "true" if refresh == "" else refresh
        if refresh not in ("true", "false", "wait_for"):
            raise bad_request(f"Unknown value for refresh: [{refresh}].")
        return refresh

    @staticmethod
    def parse_bulk(body, default_index, params):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as e:
            raise parse_error(e)
        if not text:
            raise EsError(400, "parse_exception", "request body is required")
        if not text.endswith("\n"):
            raise bad_request("The bulk request must be terminated by a newline [\\n]")
        lines, ops, i = text.split("\n")[:-1], [], 0
        while i < len(lines):
            lineno, line = i + 1, lines[i]
            i += 1
            if not line.strip():
                continue
            try:
                head = loads(line)
            except ValueError as e:
                raise parse_error(e, lineno)
            malformed = f"Malformed action/metadata line [{lineno}], expected "
            if not isinstance(head, dict):
                raise bad_request(f"{malformed}START_OBJECT but found [{token(head)}]")
            if len(head) != 1:
                raise bad_request(malformed + ("FIELD_NAME but found [END_OBJECT]" if not head else
                                               "END_OBJECT but found [FIELD_NAME]"))
            action, meta = next(iter(head.items()))
            if action not in ("create", "delete", "index", "update"):
                raise bad_request(f"{malformed}one of [create, delete, index, update] but found [{action}]")
            if not isinstance(meta, dict):
                raise bad_request(f"{malformed}START_OBJECT but found [{token(meta)}]")
            for k, v in meta.items():
                if k not in BulkOp.META_KEYS:
                    raise bad_request(f"Action/metadata line [{lineno}] contains an unknown parameter [{k}]")
                if isinstance(v, (dict, list)):
                    raise bad_request(f"{malformed}a simple value for field [{k}] but found [{token(v)}]")
            op = BulkOp(action, lineno, meta, default_index)
            if params.get("require_alias") == "true":
                op.require_alias = True
            if action != "delete":
                if i >= len(lines):
                    break  # as in ES, an action whose source line is missing is dropped
                op.source_text, i = lines[i], i + 1
                if action == "update":
                    op.update = Cluster.parse_update(op.source_text, i)
            ops.append(op)
        errs = [p for op in ops for p in op.problems()] or ([] if ops else ["no requests added"])
        if errs:
            raise validation_failed(errs)
        return ops

    @staticmethod
    def parse_update(text, lineno):
        try:
            u = loads(text) if text.strip() else {}
        except ValueError as e:
            raise parse_error(e, lineno)
        if not isinstance(u, dict):
            raise parse_error(ValueError(f"[UpdateRequest] expected START_OBJECT but found "
                                         f"[{token(u)}]"), lineno)
        for k, v in u.items():
            if k not in ("doc", "upsert", "doc_as_upsert", "detect_noop", "script", "scripted_upsert",
                         "_source"):
                raise parse_error(ValueError(f"[UpdateRequest] unknown field [{k}]"), lineno)
            if k in ("doc", "upsert") and not isinstance(v, dict):
                raise parse_error(ValueError(f"[UpdateRequest] {k} doesn't support values of type: "
                                             f"{token(v)}"), lineno)
        return u

    def apply(self, op, refresh):
        """Applies one write; returns (item body, index) or raises the item's EsError."""
        idx = self.write_index(op.index)
        if op.require_alias and op.index not in self.aliases:
            raise index_not_found(op.index, f"no such index [{op.index}] and [require_alias] request "
                                            f"flag is [true] and [{op.index}] is not an alias")
        if idx is None:
            if op.action == "delete" and op.version_type == "internal":
                raise index_not_found(op.index)
            idx = self.new_index(op.index)  # action.auto_create_index
        if op.action == "delete":
            return self.apply_delete(idx, op, refresh), idx
        if op.action == "update":
            return self.apply_update(idx, op, refresh), idx
        try:
            source = loads(op.source_text)
        except ValueError as e:
            raise EsError(400, MAPPER_PARSING, "failed to parse",
                          caused_by={"type": "json_parse_exception", "reason": str(e)})
        props = DocParser(idx.mappings, op.id).parse(source)
        current = idx.docs.get(op.id)
        self.check_cas(idx, op, current)
        if op.create and current:
            raise engine_error(idx, 409, "version_conflict_engine_exception", f"[{op.id}]: version "
                               f"conflict, document already exists (current version [{current.version}])")
        version = self.next_version(idx, op, idx.current_version(op.id))
        idx.mappings["properties"] = props
        seq = idx.put(op.id, version, source)
        return self.item(idx, op.id, version, seq, "updated" if current else "created",
                         200 if current else 201, refresh), idx

    def apply_delete(self, idx, op, refresh):
        current = idx.docs.get(op.id)
        self.check_cas(idx, op, current)
        version = self.next_version(idx, op, idx.current_version(op.id))
        seq = idx.next_seq()
        idx.docs.pop(op.id, None)
        idx.tombstones[op.id] = (version, time.monotonic())
        return self.item(idx, op.id, version, seq, "deleted" if current else "not_found",
                         200 if current else 404, refresh)

    def apply_update(self, idx, op, refresh):
        u, current = op.update, idx.docs.get(op.id)
        if current is None and not u.get("doc_as_upsert") and "upsert" not in u:
            raise engine_error(idx, 404, "document_missing_exception", f"[{op.id}]: document missing")
        self.check_cas(idx, op, current)
        if current is None:
            source = copy.deepcopy(u["doc"] if u.get("doc_as_upsert") else u["upsert"])
        else:
            source = merge(copy.deepcopy(current.source), u["doc"])
            canonical = lambda s: json.dumps(s, sort_keys=True)  # noqa: E731
            if u.get("detect_noop", True) is not False and canonical(source) == canonical(current.source):
                item = self.item(idx, op.id, current.version, current.seq_no, "noop", 200, refresh)
                item["_shards"] = {"total": 0, "successful": 0, "failed": 0}
                return item
        props = DocParser(idx.mappings, op.id).parse(source)
        version = (idx.current_version(op.id) or 0) + 1
        idx.mappings["properties"] = props
        seq = idx.put(op.id, version, source)
        return self.item(idx, op.id, version, seq, "updated" if current else "created",
                         200 if current else 201, refresh)

    @staticmethod
    def check_cas(idx, op, current):
        if op.if_seq_no is None:
            return
        want = (f"[{op.id}]: version conflict, required seqNo [{op.if_seq_no}], primary term "
                f"[{op.if_primary_term}].")
        if current is None:
            raise engine_error(idx, 409, "version_conflict_engine_exception",
                               want + " but no document was found")
        if current.seq_no != op.if_seq_no or op.if_primary_term != 1:
            raise engine_error(idx, 409, "version_conflict_engine_exception", f"{want} current document "
                               f"has seqNo [{current.seq_no}] and primary term [1]")

    @staticmethod
    def next_version(idx, op, current):
        if op.version_type == "internal":
            return (current or 0) + 1
        v = op.version
        if current is not None and (current >= v if op.version_type == "external" else current > v):
            relation = "higher or equal to" if op.version_type == "external" else "higher than"
            raise engine_error(idx, 409, "version_conflict_engine_exception", f"[{op.id}]: version "
                               f"conflict, current version [{current}] is {relation} the one provided [{v}]")
        return v

    @staticmethod
    def item(idx, doc_id, version, seq, result, status, refresh):
        item = {"_index": idx.name, "_id": doc_id, "_version": version, "result": result}
        if refresh == "true":
            item["forced_refresh"] = True
        item.update(_shards={"total": 1, "successful": 1, "failed": 0}, _seq_no=seq,
                    _primary_term=1, status=status)
        return item

    def write_doc(self, method, args, params, body, started, action=None):
        """PUT/POST/DELETE /{index}/_doc/{id} and POST /{index}/_doc: a one-item bulk."""
        refresh = self.refresh_param(params)
        meta = {k: v for k, v in params.items() if k in BulkOp.META_KEYS}
        meta.update(_index=args["index"], _id=args.get("id"))
        action = action or ("delete" if method == "DELETE" else "index")
        op = BulkOp(action, 1, meta, None)
        if action == "update":
            op.update = self.parse_update(body.decode("utf-8", "replace"), 1)
        elif action != "delete":
            op.source_text = body.decode("utf-8", "replace")
        if op.problems():
            raise validation_failed(op.problems())
        item, idx = self.apply(op, refresh)
        if refresh in ("true", "wait_for"):
            idx.refresh()
        return item.pop("status"), item

    def create_doc(self, method, args, params, body, started):
        return self.write_doc(method, args, params, body, started, "create")

    def update_doc(self, method, args, params, body, started):
        return self.write_doc(method, args, params, body, started, "update")

    # -- control API ------------------------------------------------------------------------

    def control(self, method, segs, body):
        cmd = "/".join(segs[:1])
        if method == "GET" and cmd == "stats" and len(segs) == 1:
            pending = {k: [] for k in ("fail", "fail_items", "hang", "drop")}
            for kind in ("fail", "fail_items"):
                pending[kind] = [dict(f) for f in self.faults[kind]]
            for f in self.faults["hang_drop"]:
                pending[f["kind"]].append({k: v for k, v in f.items() if k != "kind"})
            return Reply(200, {k: dict(v) for k, v in self.stats.items()} | {"pending_faults": pending})
        if method == "GET" and cmd == "dump" and len(segs) == 2:
            idx = self.single_index(segs[1])
            docs = {i: {"_version": d.version, "_seq_no": d.seq_no, "_source": d.source}
                    for i, d in sorted(idx.docs.items())}
            return Reply(200, {"index": idx.name, "docs": docs})
        if method != "POST" or len(segs) != 1 or cmd not in ("fail", "fail_items", "hang", "drop", "reset"):
            raise bad_request(f"unknown control request [{method} /_standin/{'/'.join(segs)}]")
        spec = json_body(body) or {}
        if cmd == "reset":
            for kind in self.faults:
                self.faults[kind] = []
            if spec.get("stats"):
                self.stats = {k: Counter() for k in self.stats}
            if spec.get("data"):
                self.indices, self.aliases = {}, {}
            return Reply(200, {"acknowledged": True})
        count = spec.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise bad_request(f"[count] must be a positive integer, got [{java_str(count)}]")
        fault = {"count": count}
        if cmd in ("fail", "fail_items"):
            status = spec.get("status", 503 if cmd == "fail" else 429)
            if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
                raise bad_request(f"[status] must be an HTTP error status, got [{java_str(status)}]")
            fault["status"] = status
            if cmd == "fail":
                fault["path"] = str(spec.get("path", ""))
            for k in ("type", "reason"):
                if isinstance(spec.get(k), str):
                    fault[k] = spec[k]
            self.faults[cmd].append(fault)
        else:
            endpoint = spec.get("endpoint", "_bulk")
            if endpoint not in ("_bulk", "_aliases"):
                raise bad_request(f"[endpoint] must be [_bulk] or [_aliases], got [{java_str(endpoint)}]")
            fault.update(kind=cmd, apply=spec.get("apply") is True, endpoint=endpoint)
            if cmd == "hang":
                seconds = spec.get("seconds", 30)
                if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
                    raise bad_request(f"[seconds] must be a non-negative number, got [{java_str(seconds)}]")
                fault["seconds"] = seconds
            self.faults["hang_drop"].append(fault)
        return Reply(200, {"acknowledged": True})

    def refresher(self):
        """index.refresh_interval: makes recent writes searchable; also forgets old tombstones."""
        interval = self.refresh_interval if self.refresh_interval > 0 else 1.0
        while True:
            time.sleep(interval)
            with self.lock:
                for idx in self.indices.values():
                    if self.refresh_interval > 0:
                        idx.refresh()
                    for doc_id in list(idx.tombstones):
                        idx.tombstone(doc_id)


# ---------------------------------------------------------------------------------------------
# HTTP

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "es_standin"
    sys_version = ""

    def setup(self):
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()  # here, not in the accept loop

    def log_message(self, fmt, *args):
        pass

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            body = b"".join(chunks)
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        encoding = self.headers.get("Content-Encoding", "identity").lower().strip()
        try:
            if encoding == "gzip":
                return gzip.decompress(body)
            if encoding == "deflate":
                return zlib.decompress(body)
        except (OSError, EOFError, zlib.error) as e:
            raise EsError(400, "parse_exception", f"failed to decompress the request body: {e}")
        if encoding not in ("identity", ""):
            raise bad_request(f"unsupported Content-Encoding [{encoding}]")
        return body

    def do_request(self):
        cluster = self.server.cluster
        started = time.monotonic()
        try:
            try:
                body = self.read_body()
            except ValueError as e:  # unreadable framing: answer, then close the connection
                self.close_connection = True
                raise EsError(400, "parse_exception", f"bad request framing: {e}")
            reply = cluster.handle(self.command, self.path, self.headers, body, started)
        except EsError as e:
            reply = Reply(e.status, e.body(), e.headers)
        except Exception as e:  # a bug in the stand-in: say so, never pretend success
            traceback.print_exc()
            reply = Reply(500, EsError(500, "exception", f"es_standin internal error: {e!r}").body())
        if reply.obj is not None and not reply.body:
            reply.body = json.dumps(reply.obj, ensure_ascii=False, separators=(",", ":")).encode()
        fault = f" ({reply.after})" if reply.after else ""
        self.server.log(f"{self.command} {self.path} {reply.status}{fault}")
        try:
            self.deliver(reply)
        except (ConnectionError, ssl.SSLError, socket.timeout):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_request

    def deliver(self, reply):
        body = reply.body
        if reply.after == "hang":
            time.sleep(reply.seconds)
            if reply.obj is None:  # not applied: never answer
                return self.abort()
        compress = body and "gzip" in self.headers.get("Accept-Encoding", "") and not self.server.tls
        if compress:
            body = gzip.compress(body, 3)
        headers = [("Content-Type", "application/json")] + reply.headers
        if compress:
            headers.append(("Content-Encoding", "gzip"))
        if self.server.cluster.flavor == "elasticsearch":
            headers.append(("X-elastic-product", "Elasticsearch"))
        if reply.after == "drop":  # a status line, headers, part of the body, then the connection goes
            if not body:
                body = b'{"took":1,"errors":false,"items":[{"index":{"_index":"'
                body += b" " * len(body)
            head = f"HTTP/1.1 {reply.status} OK\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
            self.wfile.write(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body[:len(body) // 2])
            return self.abort()
        self.send_response(reply.status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", "0" if self.command == "HEAD" else str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def abort(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self):  # HTTPServer's calls getfqdn(), which can stall on DNS
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError, socket.timeout, OSError)):
            super().handle_error(request, client_address)

    def log(self, line):
        if self.log_file:
            with self.log_lock:
                stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                self.log_file.write(f"{stamp} {line}\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description="In-memory Elasticsearch stand-in (test fixture).")
    ap.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT (port 0: any free port)")
    ap.add_argument("--port-file", help="write the bound port number here")
    ap.add_argument("--basic", metavar="USER:PASS", help="require HTTP basic authentication")
    ap.add_argument("--api-key", metavar="KEY", help="require 'Authorization: ApiKey KEY'")
    ap.add_argument("--tls-cert", metavar="PEM")
    ap.add_argument("--tls-key", metavar="PEM")
    ap.add_argument("--flavor", choices=("elasticsearch", "opensearch"), default="elasticsearch")
    ap.add_argument("--refresh-interval-ms", type=int, default=1000, help="0 or less: no automatic refresh")
    ap.add_argument("--log", metavar="FILE", help="append one line per request")
    args = ap.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    host, _, port = args.listen.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if ":" in host:
        Server.address_family = socket.AF_INET6
    server = Server((host, int(port)), Handler)
    server.cluster = Cluster(args)
    server.log_lock = threading.Lock()
    server.log_file = open(args.log, "a", buffering=1) if args.log else None
    server.tls = bool(args.tls_cert)
    if server.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    bound = server.server_address[1]
    if args.port_file:
        tmp = f"{args.port_file}.tmp{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(f"{bound}\n")
        os.replace(tmp, args.port_file)
    threading.Thread(target=server.cluster.refresher, daemon=True).start()

    def stop(signum, frame):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"es_standin listening on {host}:{bound}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except SystemExit:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
