#!/usr/bin/python3
"""A test Kubernetes API server: the parts nodecond's agent and controller use.

Serves HTTPS on 127.0.0.1 only. Nodes (GET, paginated LIST, PATCH of the
object and of status, watch with bookmarks and in-stream 410), Leases and
Events in memory. Every body is validated against the Kubernetes object
schema from Debian's python3-kubernetes models (openapi_types and
attribute_map), with unknown fields rejected as `kubectl --validate=strict`
does. Authentication by bearer token or client certificate (401 without
either), authorization by user (403), and NodeRestriction's refusal of
taint changes from system:node:NAME users. Every request is recorded in
`ApiServer.log`. Faults on demand: status codes with Retry-After,
connection refused, a response cut mid-body, a stall, invalid JSON and a
16 MiB body.

Run by /usr/bin/python3 because the models install for Debian's
interpreter only. Tests import this module and drive ApiServer directly;
`server.py --pki DIR --port N` runs it alone for manual experiments.
"""

import copy
import datetime
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

from kubernetes.client import models as k8s_models

# Bounds that keep a misbehaving client from running the test server out of memory or time.
BODY_MAX = 4 * 1024 * 1024
WATCH_TIMEOUT_MAX_S = 1800
HUGE_BODY_BYTES = 16 * 1024 * 1024


# --- PKI -------------------------------------------------------------------


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(directory, client_names=("admin", "system:node:node-a")):
    """Create a CA, a server certificate for 127.0.0.1 and client certificates.

    Client certificate files are named after the CN with ':' replaced by '_'.
    """
    os.makedirs(directory, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
             "-days", "2", "-subj", "/CN=nodecond-test-ca", cwd=directory)
    with open(os.path.join(directory, "server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=127.0.0.1", cwd=directory)
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.crt", "-days", "2", "-extfile", "server.ext", cwd=directory)
    with open(os.path.join(directory, "client.ext"), "w") as f:
        f.write("extendedKeyUsage=clientAuth\n")
    for name in client_names:
        base = name.replace(":", "_")
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", base + ".key", "-out", base + ".csr",
                 "-subj", "/CN=" + name, cwd=directory)
        _openssl("x509", "-req", "-in", base + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", base + ".crt", "-days", "2", "-extfile", "client.ext", cwd=directory)
    return directory


# --- Schema validation -----------------------------------------------------

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")


class Invalid(Exception):
    """A body that the real API server would reject with 400 or 422."""


def validate(value, type_name, path="body"):
    """Check value against a python3-kubernetes model type, rejecting unknown fields."""
    if value is None:
        return
    if type_name.startswith("list["):
        if not isinstance(value, list):
            raise Invalid(f"{path}: expected a list")
        for i, item in enumerate(value):
            validate(item, type_name[5:-1], f"{path}[{i}]")
        return
    if type_name.startswith("dict("):
        if not isinstance(value, dict):
            raise Invalid(f"{path}: expected an object")
        inner = type_name[type_name.index(",") + 1:-1].strip()
        for k, v in value.items():
            validate(v, inner, f"{path}.{k}")
        return
    if type_name == "str":
        if not isinstance(value, str):
            raise Invalid(f"{path}: expected a string, found {type(value).__name__}")
        return
    if type_name == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(f"{path}: expected an integer")
        return
    if type_name == "bool":
        if not isinstance(value, bool):
            raise Invalid(f"{path}: expected a boolean")
        return
    if type_name == "datetime":
        if not isinstance(value, str) or not _RFC3339.match(value):
            raise Invalid(f"{path}: expected an RFC 3339 time, found {value!r}")
        return
    if type_name == "object":
        return
    model = getattr(k8s_models, type_name, None)
    if model is None:
        raise Invalid(f"{path}: the schema has no type {type_name}")
    if not isinstance(value, dict):
        raise Invalid(f"{path}: expected an object of type {type_name}")
    by_json_name = {json_name: attr for attr, json_name in model.attribute_map.items()}
    for key, item in value.items():
        if key not in by_json_name:
            raise Invalid(f'{path}: unknown field "{key}" in {type_name}')
        validate(item, model.openapi_types[by_json_name[key]], f"{path}.{key}")


def validate_node(node):
    validate(node, "V1Node")
    for i, c in enumerate((node.get("status") or {}).get("conditions") or []):
        if c.get("status") not in ("True", "False", "Unknown"):
            raise Invalid(f"status.conditions[{i}].status: Unsupported value: {c.get('status')!r}")
        if not c.get("type"):
            raise Invalid(f"status.conditions[{i}].type: Required value")
    seen = set()
    for i, t in enumerate((node.get("spec") or {}).get("taints") or []):
        if t.get("effect") not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
            raise Invalid(f"spec.taints[{i}].effect: Unsupported value: {t.get('effect')!r}")
        if not t.get("key"):
            raise Invalid(f"spec.taints[{i}].key: Required value")
        if (t["key"], t["effect"]) in seen:
            raise Invalid(f"spec.taints[{i}]: Duplicate value: taints must be unique by key and effect")
        seen.add((t["key"], t["effect"]))


# --- Patches ---------------------------------------------------------------


def strategic_merge(target, patch, path=""):
    """Strategic merge patch for the fields nodecond uses: lists of conditions merge by type."""
    for key, value in patch.items():
        if key == "$patch":
            continue
        here = f"{path}.{key}" if path else key
        if value is None:
            target.pop(key, None)
        elif here == "status.conditions":
            if not isinstance(value, list):
                raise Invalid("status.conditions: expected a list")
            merged = list(target.get(key) or [])
            for item in value:
                if not isinstance(item, dict) or "type" not in item:
                    raise Invalid("status.conditions: every entry needs a type")
                index = next((i for i, c in enumerate(merged) if c.get("type") == item["type"]), None)
                if item.get("$patch") == "delete":
                    if index is not None:
                        merged.pop(index)
                    continue
                if "$patch" in item:
                    raise Invalid(f"status.conditions: unsupported $patch {item['$patch']!r}")
                if index is None:
                    merged.append(dict(item))
                else:
                    merged[index] = {**merged[index], **item}
            target[key] = merged
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            strategic_merge(target[key], value, here)
        else:
            target[key] = copy.deepcopy(value)
    return target


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            current = target.get(key)
            target[key] = merge_patch(current if isinstance(current, dict) else {}, value)
        else:
            target[key] = copy.deepcopy(value)
    return target


class TestFailed(Exception):
    """A JSON patch test operation that did not match: 422."""


def _pointer(path):
    if not path.startswith("/"):
        raise Invalid(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def json_patch(target, operations):
    """RFC 6902 with test, add, replace and remove on objects and lists."""
    if not isinstance(operations, list):
        raise Invalid("a JSON patch is a list of operations")
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise Invalid(f"invalid operation {op!r}")
        parts = _pointer(op["path"])
        parent = target
        for p in parts[:-1]:
            parent = parent[int(p)] if isinstance(parent, list) else parent.get(p)
            if parent is None:
                raise Invalid(f"{op['path']}: the parent does not exist")
        last = parts[-1]
        kind = op["op"]
        if kind == "test":
            current = parent[int(last)] if isinstance(parent, list) else parent.get(last)
            if current != op.get("value"):
                raise TestFailed(f"testing value {op['path']} failed")
        elif kind in ("add", "replace"):
            if kind == "replace" and isinstance(parent, dict) and last not in parent:
                raise Invalid(f"replace operation does not apply: doc is missing key: {op['path']}")
            if isinstance(parent, list):
                if last == "-":
                    parent.append(copy.deepcopy(op.get("value")))
                elif kind == "add":
                    parent.insert(int(last), copy.deepcopy(op.get("value")))
                else:
                    parent[int(last)] = copy.deepcopy(op.get("value"))
            else:
                parent[last] = copy.deepcopy(op.get("value"))
        elif kind == "remove":
            if isinstance(parent, list):
                parent.pop(int(last))
            elif last in parent:
                del parent[last]
            else:
                raise Invalid(f"remove operation does not apply: doc is missing path: {op['path']}")
        else:
            raise Invalid(f"unsupported operation {kind!r}")
    return target


def status_object(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


# --- The server ------------------------------------------------------------


class ApiServer:
    """In-memory API server state, listener and fault injection."""

    def __init__(self, pki_dir, port=0, log_path=None):
        self.pki_dir = pki_dir
        self.port = port
        self.log_path = log_path
        self.lock = threading.Condition()
        self.rv = 100
        self.nodes = {}
        self.leases = {}
        self.events = {}
        # Node watch history: (resourceVersion, type, object). Older versions get 410.
        self.history = []
        self.compacted_rv = 0
        self.log = []
        self.faults = []
        # token -> user; a client certificate's CN is its user.
        self.tokens = {}
        # users refused everything (403)
        self.denied_users = set()
        self.expire_as_response = False
        self.bookmark_interval_s = 5.0
        self.stall_s = 10.0
        self.refusing = False
        self._listener = None
        self._stopping = False
        self._threads = []
        self._conns = set()
        self._ssl = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._ssl.load_cert_chain(os.path.join(pki_dir, "server.crt"), os.path.join(pki_dir, "server.key"))
        self._ssl.load_verify_locations(os.path.join(pki_dir, "ca.crt"))
        self._ssl.verify_mode = ssl.CERT_OPTIONAL

    # -- lifecycle --

    def _listen(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(64)
        s.settimeout(0.1)
        self.port = s.getsockname()[1]
        self._listener = s

    def start(self):
        self._listen()
        t = threading.Thread(target=self._accept_loop, daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def stop(self):
        self._stopping = True
        with self.lock:
            self.lock.notify_all()
        for t in self._threads:
            t.join(timeout=5)

    @property
    def url(self):
        return f"https://127.0.0.1:{self.port}"

    def refuse_connections(self, refusing):
        """Close the listening socket and every open connection, or listen again on the same port."""
        self.refusing = refusing
        if refusing:
            with self.lock:
                conns = list(self._conns)
            for c in conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            # The accept loop closes the listener within its 0.1 s poll.
            time.sleep(0.3)

    def _accept_loop(self):
        while not self._stopping:
            if self.refusing:
                if self._listener:
                    self._listener.close()
                    self._listener = None
                time.sleep(0.05)
                continue
            if not self._listener:
                try:
                    self._listen()
                except OSError:
                    time.sleep(0.1)
                    continue
            try:
                conn, addr = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                continue
            t = threading.Thread(target=self._serve_connection, args=(conn, addr), daemon=True)
            t.start()
        if self._listener:
            self._listener.close()

    def _serve_connection(self, conn, addr):
        conn.settimeout(60)
        try:
            tls = self._ssl.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            conn.close()
            return
        with self.lock:
            self._conns.add(tls)
        try:
            Handler(tls, addr, self)
        except (OSError, ssl.SSLError):
            pass
        finally:
            with self.lock:
                self._conns.discard(tls)
            try:
                tls.close()
            except OSError:
                pass

    # -- state helpers (call with self.lock held) --

    def next_rv(self):
        self.rv += 1
        return str(self.rv)

    def _record_node(self, kind, node):
        self.history.append((int(node["metadata"]["resourceVersion"]), kind, copy.deepcopy(node)))
        self.lock.notify_all()

    def add_node(self, name, conditions=None, taints=None, labels=None):
        """Register a Node as kubelet would."""
        with self.lock:
            node = {"apiVersion": "v1", "kind": "Node",
                    "metadata": {"name": name, "uid": f"uid-{name}", "resourceVersion": self.next_rv(),
                                 "labels": labels or {"kubernetes.io/hostname": name},
                                 "creationTimestamp": "2026-01-01T00:00:00Z"},
                    "spec": {}, "status": {"conditions": copy.deepcopy(conditions or [])}}
            if taints is not None:
                node["spec"]["taints"] = copy.deepcopy(taints)
            validate_node(node)
            self.nodes[name] = node
            self._record_node("ADDED", node)
            return copy.deepcopy(node)

    def update_node(self, name, change):
        """Change a Node as another writer would: change(node) edits it in place."""
        with self.lock:
            node = self.nodes[name]
            change(node)
            node["metadata"]["resourceVersion"] = self.next_rv()
            validate_node(node)
            self._record_node("MODIFIED", node)
            return copy.deepcopy(node)

    def delete_node(self, name):
        with self.lock:
            node = self.nodes.pop(name)
            node["metadata"]["resourceVersion"] = self.next_rv()
            self._record_node("DELETED", node)

    def node(self, name):
        with self.lock:
            return copy.deepcopy(self.nodes.get(name))

    def expire_watches(self):
        """Compact history: open watches get an in-stream 410, old resourceVersions get 410."""
        with self.lock:
            self.compacted_rv = self.rv + 1
            self.history = []
            self.lock.notify_all()

    def add_fault(self, kind, method=None, path=None, times=1, code=None, retry_after=None):
        """Queue a fault for the next `times` requests matching method and a path regex."""
        with self.lock:
            self.faults.append({"kind": kind, "method": method, "path": path, "times": times,
                                "code": code, "retry_after": retry_after})

    def clear_faults(self):
        with self.lock:
            self.faults = []

    def take_fault(self, method, path):
        with self.lock:
            for f in self.faults:
                if f["times"] <= 0:
                    continue
                if f["method"] and f["method"] != method:
                    continue
                if f["path"] and not re.search(f["path"], path):
                    continue
                f["times"] -= 1
                return dict(f)
        return None

    def requests(self, method=None, path=None):
        """The request log, filtered by method and a path regex."""
        with self.lock:
            return [r for r in self.log if (not method or r["method"] == method)
                    and (not path or re.search(path, r["path"]))]

    def record_file(self, entry):
        if self.log_path:
            with open(self.log_path, "a") as f:
                f.write(json.dumps(entry) + "\n")


def _now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nodecond-test-apiserver"

    def log_message(self, fmt, *args):
        pass

    # -- responses --

    def _send(self, code, obj=None, raw=None, headers=()):
        body = raw if raw is not None else json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        self.entry["status"] = code

    def _fail(self, code, reason, message, headers=()):
        self._send(code, status_object(code, reason, message), headers=headers)

    # -- entry points --

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _user(self):
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return self.server.tokens.get(auth[7:].strip())
        cert = self.connection.getpeercert()
        if cert:
            for rdn in cert.get("subject", ()):
                for key, value in rdn:
                    if key == "commonName":
                        return value
        return None

    def _dispatch(self, method):
        api = self.server
        parsed = urllib.parse.urlsplit(self.path)
        self.query = dict(urllib.parse.parse_qsl(parsed.query))
        length = int(self.headers.get("Content-Length") or 0)
        if length > BODY_MAX:
            self.entry = {"method": method, "path": parsed.path, "query": self.query, "status": None}
            api.log.append(self.entry)
            self._fail(413, "RequestEntityTooLarge", "request body too large")
            return
        raw = self.rfile.read(length) if length else b""
        self.entry = {"method": method, "path": parsed.path, "query": self.query,
                      "content_type": self.headers.get("Content-Type"), "raw": raw.decode(errors="replace"),
                      "user": None, "status": None, "time": time.monotonic()}
        try:
            self.entry["body"] = json.loads(raw) if raw else None
        except ValueError:
            self.entry["body"] = None
        # Recorded at the start, so a watch in progress is visible; the status is filled in when known.
        with api.lock:
            api.log.append(self.entry)
        try:
            self._handle(method, parsed.path, raw)
        finally:
            api.record_file(self.entry)

    def _handle(self, method, path, raw):
        api = self.server
        user = self._user()
        self.entry["user"] = user
        if user is None:
            self._fail(401, "Unauthorized", "Unauthorized")
            return
        if user in api.denied_users:
            self._fail(403, "Forbidden", f'User "{user}" cannot {method.lower()} resource at {path}')
            return

        fault = api.take_fault(method, path)
        if fault and self._apply_fault(fault):
            return

        body = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError as e:
                self._fail(400, "BadRequest", f"invalid JSON in the request body: {e}")
                return
        try:
            self._route(method, path, body, user)
        except Invalid as e:
            self._fail(422, "Invalid", str(e))
        except TestFailed as e:
            self._fail(422, "Invalid", str(e))

    def _apply_fault(self, fault):
        """Apply a fault; returns True when the fault responded to the request (or dropped it)."""
        kind = fault["kind"]
        if kind == "status":
            headers = [("Retry-After", str(fault["retry_after"]))] if fault["retry_after"] is not None else []
            self._fail(fault["code"], "InternalError" if fault["code"] >= 500 else "TooManyRequests",
                       "fault injected by the test", headers=headers)
            return True
        if kind == "stall":
            time.sleep(self.server.stall_s)
            return False
        if kind == "cut":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "4096")
            self.end_headers()
            self.wfile.write(b'{"kind":"Node","metadata":{"name":')
            self.wfile.flush()
            self.entry["status"] = "cut"
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return True
        if kind == "invalid_json":
            self._send(200, raw=b'{"kind": "Node", "metadata": {not json')
            return True
        if kind == "huge":
            filler = b'{"kind":"Node","metadata":{"name":"x","annotations":{"pad":"' + \
                b"a" * HUGE_BODY_BYTES + b'"}}}'
            self._send(200, raw=filler)
            return True
        raise ValueError(f"unknown fault kind {kind}")

    # -- routing --

    def _route(self, method, path, body, user):
        m = re.fullmatch(r"/api/v1/nodes", path)
        if m and method == "GET":
            if self.query.get("watch") in ("true", "1"):
                return self._watch_nodes()
            return self._list_nodes()
        m = re.fullmatch(r"/api/v1/nodes/([^/]+)(/status)?", path)
        if m:
            name, status = m.group(1), bool(m.group(2))
            if method == "GET":
                return self._get_node(name)
            if method == "PATCH":
                return self._patch_node(name, status, body, user)
        m = re.fullmatch(r"/apis/coordination.k8s.io/v1/namespaces/([^/]+)/leases(?:/([^/]+))?", path)
        if m:
            return self._leases(method, m.group(1), m.group(2), body)
        m = re.fullmatch(r"/api/v1/namespaces/([^/]+)/events(?:/([^/]+))?", path)
        if m:
            return self._events(method, m.group(1), m.group(2), body)
        self._fail(404, "NotFound", f"the server could not find the requested resource ({method} {path})")

    def _field_selector_name(self):
        selector = self.query.get("fieldSelector", "")
        if not selector:
            return None
        m = re.fullmatch(r"metadata\.name=([a-z0-9.-]+)", selector)
        if not m:
            raise Invalid(f"unsupported fieldSelector {selector!r}")
        return m.group(1)

    def _get_node(self, name):
        api = self.server
        with api.lock:
            node = copy.deepcopy(api.nodes.get(name))
        if node is None:
            self._fail(404, "NotFound", f'nodes "{name}" not found')
        else:
            self._send(200, node)

    def _list_nodes(self):
        api = self.server
        name = self._field_selector_name()
        limit = int(self.query.get("limit") or 0)
        start = int(self.query.get("continue") or 0)
        with api.lock:
            items = [copy.deepcopy(n) for k, n in sorted(api.nodes.items()) if name is None or k == name]
            rv = str(api.rv)
        page = items[start:start + limit] if limit else items[start:]
        meta = {"resourceVersion": rv}
        if limit and start + limit < len(items):
            meta["continue"] = str(start + limit)
        self._send(200, {"kind": "NodeList", "apiVersion": "v1", "metadata": meta, "items": page})

    def _write_chunk(self, obj):
        data = json.dumps(obj).encode() + b"\n"
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _watch_nodes(self):
        api = self.server
        name = self._field_selector_name()
        since = int(self.query.get("resourceVersion") or 0)
        timeout = min(int(self.query.get("timeoutSeconds") or 60), WATCH_TIMEOUT_MAX_S)
        bookmarks = self.query.get("allowWatchBookmarks") == "true"
        with api.lock:
            expired = since and since < api.compacted_rv
        if expired and api.expire_as_response:
            self._fail(410, "Expired", f"too old resource version: {since} ({api.compacted_rv})")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.entry["status"] = 200
        deadline = time.monotonic() + timeout
        next_bookmark = time.monotonic() + api.bookmark_interval_s
        compacted_at_start = api.compacted_rv
        if expired:
            self._write_chunk({"type": "ERROR", "object": status_object(
                410, "Expired", f"too old resource version: {since} ({api.compacted_rv})")})
            self.wfile.write(b"0\r\n\r\n")
            return
        while not api._stopping and time.monotonic() < deadline:
            with api.lock:
                if api.compacted_rv != compacted_at_start:
                    pending = "expired"
                else:
                    pending = [(rv, kind, obj) for rv, kind, obj in api.history
                               if rv > since and (name is None or obj["metadata"]["name"] == name)]
                    if not pending:
                        api.lock.wait(timeout=0.2)
            if pending == "expired":
                self._write_chunk({"type": "ERROR", "object": status_object(
                    410, "Expired", "The resourceVersion for the provided watch is too old.")})
                break
            for rv, kind, obj in pending:
                self._write_chunk({"type": kind, "object": obj})
                since = rv
            if bookmarks and time.monotonic() >= next_bookmark:
                with api.lock:
                    # Events recorded while this pass waited are sent in the
                    # next one; the bookmark must not move past them.
                    undelivered = any(rv > since and (name is None or obj["metadata"]["name"] == name)
                                      for rv, _, obj in api.history)
                    if not undelivered:
                        since = max(since, api.rv)
                self._write_chunk({"type": "BOOKMARK", "object": {
                    "kind": "Node", "apiVersion": "v1", "metadata": {"resourceVersion": str(since)}}})
                next_bookmark = time.monotonic() + api.bookmark_interval_s
        self.wfile.write(b"0\r\n\r\n")

    def _patch_node(self, name, status, body, user):
        api = self.server
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        with api.lock:
            current = api.nodes.get(name)
            if current is None:
                self._fail(404, "NotFound", f'nodes "{name}" not found')
                return
            node = copy.deepcopy(current)
            if ctype == "application/strategic-merge-patch+json":
                if not isinstance(body, dict):
                    raise Invalid("a strategic merge patch is an object")
                validate(_strip_directives(body), "V1Node")
                rv = (body.get("metadata") or {}).get("resourceVersion")
                if rv is not None and rv != current["metadata"]["resourceVersion"]:
                    self._fail(409, "Conflict", f'Operation cannot be fulfilled on nodes "{name}": '
                               "the object has been modified; please apply your changes to the latest version")
                    return
                strategic_merge(node, body)
            elif ctype == "application/merge-patch+json":
                validate(body, "V1Node")
                merge_patch(node, body)
            elif ctype == "application/json-patch+json":
                json_patch(node, body)
            else:
                self._fail(415, "UnsupportedMediaType", f"the body of the request was in an unknown format: {ctype}")
                return
            if status:
                # The status subresource ignores changes outside status.
                node = {**copy.deepcopy(current), "status": node.get("status", {})}
            else:
                node["status"] = copy.deepcopy(current.get("status", {}))
            if user.startswith("system:node:") and \
                    (node.get("spec") or {}).get("taints") != (current.get("spec") or {}).get("taints"):
                self._fail(403, "Forbidden", f'node "{user[12:]}" is not allowed to modify taints')
                return
            node["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            validate_node(node)
            if node != current:
                node["metadata"]["resourceVersion"] = api.next_rv()
                api.nodes[name] = node
                api._record_node("MODIFIED", node)
            result = copy.deepcopy(node)
        self._send(200, result)

    def _leases(self, method, namespace, name, body):
        self._namespaced(method, namespace, name, body, self.server.leases, "V1Lease", "leases",
                         "coordination.k8s.io/v1", "Lease")

    def _events(self, method, namespace, name, body):
        self._namespaced(method, namespace, name, body, self.server.events, "CoreV1Event", "events", "v1", "Event")

    def _namespaced(self, method, namespace, name, body, store, model, resource, api_version, kind):
        api = self.server
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        with api.lock:
            key = (namespace, name)
            if method == "GET" and name:
                if key not in store:
                    return self._fail(404, "NotFound", f'{resource} "{name}" not found')
                return self._send(200, store[key])
            if method == "POST" and not name:
                validate(body, model)
                meta = body.get("metadata") or {}
                if not meta.get("name"):
                    raise Invalid("metadata.name: Required value")
                if meta.get("namespace", namespace) != namespace:
                    raise Invalid("metadata.namespace: does not match the namespace of the request")
                key = (namespace, meta["name"])
                if key in store:
                    return self._fail(409, "AlreadyExists", f'{resource} "{meta["name"]}" already exists')
                obj = copy.deepcopy(body)
                obj.setdefault("apiVersion", api_version)
                obj.setdefault("kind", kind)
                obj["metadata"]["namespace"] = namespace
                obj["metadata"]["resourceVersion"] = api.next_rv()
                obj["metadata"]["uid"] = f"uid-{resource}-{api.rv}"
                obj["metadata"]["creationTimestamp"] = _now_rfc3339()
                store[key] = obj
                return self._send(201, obj)
            if method == "PATCH" and name:
                if key not in store:
                    return self._fail(404, "NotFound", f'{resource} "{name}" not found')
                if not isinstance(body, dict):
                    raise Invalid("a merge patch is an object")
                validate(body, model)
                rv = (body.get("metadata") or {}).get("resourceVersion")
                if rv is not None and rv != store[key]["metadata"]["resourceVersion"]:
                    return self._fail(409, "Conflict", f'Operation cannot be fulfilled on {resource} "{name}"')
                obj = copy.deepcopy(store[key])
                if ctype == "application/merge-patch+json":
                    merge_patch(obj, body)
                elif ctype == "application/strategic-merge-patch+json":
                    strategic_merge(obj, body)
                else:
                    return self._fail(415, "UnsupportedMediaType", f"unsupported patch type {ctype}")
                validate(obj, model)
                obj["metadata"]["resourceVersion"] = api.next_rv()
                store[key] = obj
                return self._send(200, obj)
        self._fail(405, "MethodNotAllowed", f"{method} is not supported on {resource}")


def _strip_directives(body):
    """A copy of a strategic merge patch without $patch directives, for schema validation."""
    if isinstance(body, dict):
        return {k: _strip_directives(v) for k, v in body.items() if k != "$patch"}
    if isinstance(body, list):
        return [_strip_directives(v) for v in body]
    return body


def main():
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pki", required=True, help="directory for the generated CA and certificates")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", action="append", default=[], help="TOKEN=USER, repeatable")
    parser.add_argument("--node", action="append", default=[], help="register a Node with this name")
    parser.add_argument("--log", help="append every request to this file as JSON lines")
    args = parser.parse_args()
    if not os.path.exists(os.path.join(args.pki, "ca.crt")):
        make_pki(args.pki)
    api = ApiServer(args.pki, port=args.port, log_path=args.log).start()
    for spec in args.token:
        token, user = spec.split("=", 1)
        api.tokens[token] = user
    for name in args.node:
        api.add_node(name)
    print(f"serving {api.url} (CA {os.path.join(args.pki, 'ca.crt')})", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        api.stop()


if __name__ == "__main__":
    sys.exit(main())
