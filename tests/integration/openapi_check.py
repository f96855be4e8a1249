#!/usr/bin/env python3
"""Checks real HTTP answers against api/openapi.json (test helper, standard library only).

Usage: openapi_check.py OPENAPI_JSON CASES_FILE
CASES_FILE has one answer per line: METHOD PATH_TEMPLATE STATUS CONTENT_TYPE BODY_FILE, e.g.
  GET /v1/views/{table} 200 application/json /tmp/x/body3
Each answer must be documented (the operation and its status code), its content type must be
one the operation declares for that status, and a JSON body must validate against the declared
schema. The document itself must give servers, a root-level security, an operationId for every
operation (each once), and a content schema for every response. Supports the part of OpenAPI 3.0's schema language the document uses: $ref, type,
nullable, properties, required, additionalProperties, items, enum, oneOf, anyOf, allOf,
minimum, maximum. Prints each problem and exits 1 when any.
"""
import json
import sys


def resolve(doc, node):
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise ValueError("only local $ref are supported: " + ref)
        node = doc
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
}


def validate(doc, schema, value, where, problems):
    schema = resolve(doc, schema)
    if value is None:
        if not schema.get("nullable") and "type" in schema:
            problems.append(f"{where}: null, but the schema is not nullable")
        return
    for key in ("oneOf", "anyOf"):
        if key in schema:
            matches = 0
            for alt in schema[key]:
                sub = []
                validate(doc, alt, value, where, sub)
                matches += not sub
            if matches == 0 or (key == "oneOf" and matches > 1):
                problems.append(f"{where}: matches {matches} of the {key} alternatives")
    for alt in schema.get("allOf", []):
        validate(doc, alt, value, where, problems)
    t = schema.get("type")
    if t and not TYPES[t](value):
        problems.append(f"{where}: expected {t}, got {type(value).__name__} {json.dumps(value)[:80]}")
        return
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where}: {json.dumps(value)} is not one of {schema['enum']}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            problems.append(f"{where}: {value} is below {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            problems.append(f"{where}: {value} is above {schema['maximum']}")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                problems.append(f"{where}: required property {name} is missing")
        extra = schema.get("additionalProperties", True)
        for name, v in value.items():
            if name in props:
                validate(doc, props[name], v, f"{where}.{name}", problems)
            elif extra is False:
                problems.append(f"{where}: property {name} is not in the schema")
            elif isinstance(extra, dict):
                validate(doc, extra, v, f"{where}.{name}", problems)
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            validate(doc, schema["items"], v, f"{where}[{i}]", problems)


def check(doc, method, template, status, ctype, body):
    op = doc["paths"].get(template, {}).get(method.lower())
    if op is None:
        return [f"{method} {template}: not in the document"]
    responses = op["responses"]
    resp = responses.get(status) or responses.get(status[0] + "XX") or responses.get("default")
    if resp is None:
        return [f"{method} {template}: status {status} is not documented"]
    resp = resolve(doc, resp)
    content = resp.get("content")
    if not content:
        return [f"{method} {template} {status}: the answer has a body but no content is documented"]
    base = ctype.split(";")[0].strip()
    media = content.get(base)
    if media is None:
        return [f"{method} {template} {status}: content type {base} is not one of {list(content)}"]
    if "schema" not in media:
        return [f"{method} {template} {status}: {base} has no schema"]
    if base != "application/json":
        return []
    try:
        value = json.loads(body)
    except ValueError as e:
        return [f"{method} {template} {status}: the body is not JSON ({e})"]
    problems = []
    validate(doc, media["schema"], value, "$", problems)
    return [f"{method} {template} {status}: {p}" for p in problems]


def lint(doc):
    problems, seen = [], set()
    if not doc.get("servers"):
        problems.append("the document has no servers")
    if "security" not in doc:
        problems.append("the document has no root-level security")
    for template, ops in doc["paths"].items():
        for method, op in ops.items():
            if method == "parameters":
                continue
            name = op.get("operationId")
            if not name:
                problems.append(f"{method.upper()} {template}: no operationId")
            elif name in seen:
                problems.append(f"{method.upper()} {template}: operationId {name} is used twice")
            seen.add(name)
            for status, resp in op["responses"].items():
                media = resolve(doc, resp).get("content", {})
                if not media or any("schema" not in m for m in media.values()):
                    problems.append(f"{method.upper()} {template} {status}: no content schema")
    return problems


def main():
    doc = json.load(open(sys.argv[1]))
    problems, n = lint(doc), 0
    for line in open(sys.argv[2]):
        if not line.strip():
            continue
        method, template, status, ctype, body_file = line.split()
        problems += check(doc, method, template, status, ctype, open(body_file, "rb").read())
        n += 1
    for p in problems:
        print(p)
    print(f"openapi_check: {n} answers, {len(problems)} problems")
    return 1 if problems or n == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
