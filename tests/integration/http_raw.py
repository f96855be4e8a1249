#!/usr/bin/env python3
"""Sends one raw HTTP request (stdin, bytes as they are) to 127.0.0.1:PORT and checks the answer:
its status is STATUS and its body is the JSON error object {"error": {"code", "message"}} with
code CODE (or, with CODE "-", any JSON). Prints the body; exits 1 with the reason otherwise.
    http_raw.py PORT STATUS CODE < request"""
import json
import socket
import sys


def main():
    port, want_status, want_code = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    request = sys.stdin.buffer.read()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        try:  # the server may answer (413) and close before it has read everything
            s.sendall(request)
            if b"Connection: close" in request:
                s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        data = b""
        while True:
            head_end = data.find(b"\r\n\r\n")
            if head_end >= 0:
                head = data[:head_end].decode("latin-1")
                length = [int(l.split(":", 1)[1]) for l in head.split("\r\n")
                          if l.lower().startswith("content-length:")]
                if length and len(data) >= head_end + 4 + length[0]:
                    break
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    if not head:
        sys.exit("no answer")
    status = int(head.split(b" ")[1])
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        sys.exit(f"status {status}: the body is not JSON ({e}): {body[:200]!r}")
    print(json.dumps(doc))
    if status != want_status:
        sys.exit(f"status {status}, expected {want_status}: {body[:300]!r}")
    if want_code != "-":
        err = doc.get("error") if isinstance(doc, dict) else None
        if not isinstance(err, dict) or not isinstance(err.get("message"), str):
            sys.exit(f"not the JSON error object: {body[:300]!r}")
        if err.get("code") != want_code:
            sys.exit(f"error code {err.get('code')!r}, expected {want_code!r}")


main()
