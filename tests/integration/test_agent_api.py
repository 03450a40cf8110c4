#!/usr/bin/python3
"""Integration tests: `nodecond run` against the test API server (tests/apiserver).

Each test starts its own API server on 127.0.0.1 with TLS and its own agent
(--no-bpf, so no root is needed). Conditions are driven through the Ready
kind: the agent's NotReady threshold is `runtime.healthy<1`, and the test
opens or closes the Unix socket the configuration names as the container
runtime's. Usage: test_agent_api.py BUILD/nodecond [TEST_NAME...]
"""

import base64
import datetime
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "apiserver"))
import server as apiserver  # noqa: E402

NODECOND = None
PKI = None
NODE = "node-a"
OWNED_TYPES = {"KernelMemoryPressure", "KernelDiskPressure", "KernelPIDPressure", "KernelNetworkUnavailable",
               "KernelReady"}
CONDITION_KEYS = {"type", "status", "lastHeartbeatTime", "lastTransitionTime", "reason", "message"}
KUBELET_READY = {"type": "Ready", "status": "True", "lastHeartbeatTime": "2026-01-01T00:00:00Z",
                 "lastTransitionTime": "2026-01-01T00:00:00Z", "reason": "KubeletReady",
                 "message": "kubelet is posting ready status"}
OTHER_AGENT = {"type": "FrequentKubeletRestart", "status": "False", "lastHeartbeatTime": "2026-01-01T00:00:00Z",
               "lastTransitionTime": "2026-01-01T00:00:00Z", "reason": "NoFrequentKubeletRestart",
               "message": "kubelet is functioning properly"}


class SkipTest(Exception):
    pass


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=5):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def socket_get(path, url, timeout=5):
    conn = UnixHTTPConnection(path, timeout)
    try:
        conn.request("GET", url)
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


def wait_for(what, predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class RuntimeSocket:
    """The Unix socket the agent probes as the container runtime: open means healthy."""

    def __init__(self, path):
        self.path = path
        self.sock = None

    def open(self):
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(16)

    def close(self):
        if self.sock:
            self.sock.close()
            self.sock = None
        if os.path.exists(self.path):
            os.unlink(self.path)


def kubeconfig(path, server, user_fields, cluster_extra=None):
    cluster = {"server": server}
    cluster.update(cluster_extra if cluster_extra is not None else {"certificate-authority": os.path.join(PKI, "ca.crt")})
    doc = {"apiVersion": "v1", "kind": "Config", "current-context": "test",
           "clusters": [{"name": "c", "cluster": cluster}],
           "contexts": [{"name": "test", "context": {"cluster": "c", "user": "u"}}],
           "users": [{"name": "u", "user": user_fields}]}
    with open(path, "w") as f:
        json.dump(doc, f)   # JSON is YAML
    return path


class Agent:
    def __init__(self, workdir, api, heartbeat="30s", lease="40s", writer="controller", user=None,
                 kubeconfig_path=None, env=None, extra_config=""):
        self.workdir = workdir
        self.socket = os.path.join(workdir, "nodecond.sock")
        self.log_path = os.path.join(workdir, "agent.log")
        self.runtime = RuntimeSocket(os.path.join(workdir, "runtime.sock"))
        self.config = os.path.join(workdir, "config.yaml")
        with open(self.config, "w") as f:
            f.write(f"""apiVersion: nodecond.io/v1alpha1
kind: NodecondConfiguration
stateFile: {workdir}/state.json
runtime:
  socket: {self.runtime.path}
kubernetes:
  heartbeatPeriod: {heartbeat}
  leaseDuration: {lease}
taints:
  writer: {writer}
conditions:
  NotReady:
    thresholds:
      - expression: runtime.healthy<1
    transitionPeriod: 0s
{extra_config}""")
        if kubeconfig_path is None and api is not None:
            kubeconfig_path = kubeconfig(os.path.join(workdir, "kubeconfig"), api.url,
                                         user or {"token": "admin-token"})
        self.kubeconfig = kubeconfig_path
        self.env = env
        self.proc = None

    def start(self, runtime_healthy=True):
        if runtime_healthy:
            self.runtime.open()
        args = [NODECOND, "run", "--no-bpf", "--config", self.config, "--socket", self.socket,
                "--node-name", NODE]
        if self.kubeconfig:
            args += ["--kubeconfig", self.kubeconfig]
        env = dict(os.environ)
        for k in ("KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "POD_NAMESPACE", "NODE_NAME"):
            env.pop(k, None)
        env.update(self.env or {})
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        wait_for("the agent's socket", lambda: self._answers(), 10)
        return self

    def _answers(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"agent exited with {self.proc.returncode}:\n{self.read_log()}")
        try:
            return socket_get(self.socket, "/healthz", 1)[0] == 200
        except OSError:
            return False

    def status(self):
        code, body = socket_get(self.socket, "/v1/status")
        assert code == 200, body
        return json.loads(body)

    def read_log(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()
        self.runtime.close()


def make_api(workdir, conditions=(KUBELET_READY, OTHER_AGENT), taints=None, register=True):
    api = apiserver.ApiServer(PKI, log_path=os.path.join(workdir, "requests.jsonl"))
    api.tokens = {"admin-token": "admin", "node-token": f"system:node:{NODE}"}
    api.bookmark_interval_s = 1.0
    if register:
        api.add_node(NODE, conditions=list(conditions), taints=taints)
    return api.start()


def status_patches(api, ok_only=True):
    return [r for r in api.requests("PATCH", rf"^/api/v1/nodes/{NODE}/status$")
            if not ok_only or r["status"] == 200]


def node_condition(api, ctype):
    node = api.node(NODE)
    return next((c for c in node["status"]["conditions"] if c["type"] == ctype), None)


def wait_ready_status(api, status, timeout=10):
    return wait_for(f"KernelReady={status} on the Node",
                    lambda: (node_condition(api, "KernelReady") or {}).get("status") == status, timeout)


def foreign(api):
    node = api.node(NODE)
    return [json.dumps(c, sort_keys=False) for c in node["status"]["conditions"] if c["type"] not in OWNED_TYPES]


def parse_log_time(line):
    stamp = line.split(" ", 1)[0]
    return datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


# --- Tests -------------------------------------------------------------------


def test_status_wire_format(workdir):
    api = make_api(workdir)
    before = foreign(api)
    agent = Agent(workdir, api).start()
    try:
        wait_ready_status(api, "True")
        agent.runtime.close()
        wait_ready_status(api, "False")
        agent.runtime.open()
        wait_ready_status(api, "True")
        time.sleep(0.5)     # the request log gets the status once the response is sent
        patches = status_patches(api)
        assert len(patches) >= 3, f"expected at least 3 status writes, found {len(patches)}"
        for p in patches:
            assert p["content_type"] == "application/strategic-merge-patch+json", p["content_type"]
            assert list(p["body"].keys()) == ["status"], p["body"]
            assert list(p["body"]["status"].keys()) == ["conditions"], p["body"]
            types = [c["type"] for c in p["body"]["status"]["conditions"]]
            assert len(types) == len(set(types)), f"a type listed twice: {types}"
            assert set(types) <= OWNED_TYPES, f"a foreign type written: {types}"
            for c in p["body"]["status"]["conditions"]:
                assert set(c.keys()) == CONDITION_KEYS, c
                assert c["status"] in ("True", "False", "Unknown"), c
                assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", c["lastTransitionTime"]), c
        assert set(c["type"] for c in patches[0]["body"]["status"]["conditions"]) == OWNED_TYPES
        assert foreign(api) == before, "foreign conditions changed"
        # Never a merge patch or a PUT of the status.
        assert not api.requests("PUT", r"/api/v1/nodes"), "a PUT was sent"
        assert all(r["content_type"] != "application/merge-patch+json"
                   for r in api.requests("PATCH", r"^/api/v1/nodes/")), "a merge patch was sent to a Node"
        watches = [r for r in api.requests("GET", r"^/api/v1/nodes$") if r["query"].get("watch") == "true"]
        assert watches, "no watch of the Node"
        q = watches[0]["query"]
        assert q["fieldSelector"] == f"metadata.name={NODE}", q
        assert q["allowWatchBookmarks"] == "true", q
        assert q["resourceVersion"], q
        events = api.requests("POST", r"^/api/v1/namespaces/default/events$")
        assert any(e["body"]["reason"] == "KernelReadyFalse" for e in events), "no Event for the transition"
        e = next(e for e in events if e["body"]["reason"] == "KernelReadyFalse")
        assert e["body"]["involvedObject"] == {"apiVersion": "v1", "kind": "Node", "name": NODE,
                                               "uid": f"uid-{NODE}"}, e["body"]["involvedObject"]
        assert e["body"]["type"] == "Warning"
        # Unknown -> True at start and False -> True later share a reason: the repeat patches the count.
        repeats = api.requests("PATCH", r"^/api/v1/namespaces/default/events/")
        assert repeats, repeats
        assert repeats[0]["body"]["count"] == 2, repeats
        assert api.events[("default", repeats[0]["path"].rsplit("/", 1)[1])]["count"] == 2
        leases = api.requests(path=r"/leases")
        assert leases, leases
        assert leases[0]["path"].startswith("/apis/coordination.k8s.io/v1/namespaces/nodecond/"), leases
        lease = api.leases[("nodecond", NODE)]
        assert lease["spec"]["leaseDurationSeconds"] == 40, lease
        assert lease["spec"]["holderIdentity"] == NODE, lease
        st = agent.status()["apiServer"]
        assert st["reachable"] and st["nodeFound"] and st["lastSuccessTime"], st
        assert st["taintsWriter"] == "controller", st
    finally:
        agent.stop()
        api.stop()


def test_transition_to_patch_delay(workdir):
    api = make_api(workdir)
    agent = Agent(workdir, api).start()
    delays = []
    try:
        wait_ready_status(api, "True")
        for i in range(4):
            target = "False" if i % 2 == 0 else "True"
            (agent.runtime.close if target == "False" else agent.runtime.open)()
            wait_ready_status(api, target)
            lines = [l for l in agent.read_log().splitlines() if "condition NotReady (KernelReady)" in l]
            logged = parse_log_time(lines[-1])
            patch = [p for p in status_patches(api) if any(
                c["type"] == "KernelReady" and c["status"] == target for c in p["body"]["status"]["conditions"])][-1]
            received = time.time() - (time.monotonic() - patch["time"])
            delays.append(received - logged)
        print(f"  transition to PATCH delay: {', '.join(f'{d * 1000:.0f}ms' for d in delays)}")
        assert max(delays) < 1.0, f"a transition took {max(delays):.3f}s to reach the API server"
    finally:
        agent.stop()
        api.stop()


def test_foreign_and_repair(workdir):
    api = make_api(workdir)
    agent = Agent(workdir, api).start()
    try:
        wait_ready_status(api, "True")
        before = foreign(api)

        def clobber(node):
            for c in node["status"]["conditions"]:
                if c["type"] == "KernelReady":
                    c["status"] = "Unknown"
                    c["reason"] = "SomeoneElse"
        api.update_node(NODE, clobber)
        wait_for("the agent to repair KernelReady",
                 lambda: (node_condition(api, "KernelReady") or {}).get("reason") not in (None, "SomeoneElse"), 5)
        assert node_condition(api, "KernelReady")["status"] == "True"

        api.update_node(NODE, lambda n: n["status"].update(
            conditions=[c for c in n["status"]["conditions"] if c["type"] != "KernelPIDPressure"]))
        wait_for("the agent to restore KernelPIDPressure", lambda: node_condition(api, "KernelPIDPressure"), 5)
        assert foreign(api) == before, "foreign conditions changed"
    finally:
        agent.stop()
        api.stop()


FOREIGN_TAINTS = [{"key": "example.com/dedicated", "value": "gpu", "effect": "NoSchedule"},
                  {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"},
                  {"key": "example.com/drain", "effect": "NoExecute", "timeAdded": "2026-01-01T00:00:00Z"}]


def taint_patches(api, status=None):
    return [r for r in api.requests("PATCH", rf"^/api/v1/nodes/{NODE}$") if status is None or r["status"] == status]


def test_taints_by_agent(workdir):
    api = make_api(workdir, taints=FOREIGN_TAINTS)
    agent = Agent(workdir, api, writer="agent").start()
    try:
        wait_ready_status(api, "True")
        agent.runtime.close()
        wait_for("the not-ready taint", lambda: any(
            t["key"] == "nodecond.io/not-ready" for t in api.node(NODE)["spec"].get("taints", [])), 5)
        taints = api.node(NODE)["spec"]["taints"]
        assert taints[:3] == FOREIGN_TAINTS, f"foreign taints changed: {taints}"
        assert taints[3] == {"key": "nodecond.io/not-ready", "effect": "NoSchedule"}, taints
        p = taint_patches(api, 200)[-1]
        assert p["content_type"] == "application/json-patch+json"
        assert p["body"][0]["op"] == "test", p["body"]
        assert p["body"][0]["path"] == "/metadata/resourceVersion", p["body"]
        assert p["body"][1]["op"] == "add", p["body"]
        assert p["body"][1]["path"] == "/spec/taints", p["body"]

        # 409 and 422: both re-read the Node and retry.
        for code in (409, 422):
            api.add_fault("status", method="PATCH", path=rf"^/api/v1/nodes/{NODE}$", code=code)
            gets_before = len(api.requests("GET", rf"^/api/v1/nodes/{NODE}$"))
            toggle = agent.runtime.open if any(
                t["key"] == "nodecond.io/not-ready" for t in api.node(NODE)["spec"]["taints"]) else agent.runtime.close
            want = toggle == agent.runtime.close
            toggle()
            wait_for(f"taints written after a {code}", lambda: any(
                t["key"] == "nodecond.io/not-ready" for t in api.node(NODE)["spec"].get("taints", [])) == want, 10)
            assert any(r["status"] == code for r in taint_patches(api)), f"the {code} fault was not hit"
            assert len(api.requests("GET", rf"^/api/v1/nodes/{NODE}$")) > gets_before, f"no re-read after {code}"
            assert api.node(NODE)["spec"]["taints"][:3] == FOREIGN_TAINTS

        # A real conflict: someone else changes the taints between the agent's read and its write.
        api.update_node(NODE, lambda n: n["spec"]["taints"].append({"key": "example.com/late", "effect": "NoSchedule"}))
        agent.runtime.close() if agent.runtime.sock else agent.runtime.open()
        time.sleep(3)
        taints = api.node(NODE)["spec"]["taints"]
        assert {"key": "example.com/late", "effect": "NoSchedule"} in taints, taints
        assert taints[:3] == FOREIGN_TAINTS, taints
        assert agent.status()["apiServer"]["taintsWriter"] == "agent"
    finally:
        agent.stop()
        api.stop()


def test_taints_forbidden_for_node_credentials(workdir):
    api = make_api(workdir)
    agent = Agent(workdir, api, writer="agent", user={"token": "node-token"}).start()
    try:
        wait_ready_status(api, "True")
        agent.runtime.close()
        wait_ready_status(api, "False")
        wait_for("a 403 on taints", lambda: taint_patches(api, 403), 5)
        st = wait_for("taintsError on the socket", lambda: agent.status()["apiServer"].get("taintsError") and
                      agent.status()["apiServer"], 5)
        assert "not allowed to modify taints" in st["taintsError"], st
        assert "forbidden" in agent.read_log(), "no log line for the 403"
        # Conditions keep flowing, and the taint write is not retried before the resync period.
        n = len(taint_patches(api))
        agent.runtime.open()
        wait_ready_status(api, "True")
        time.sleep(2)
        assert len(taint_patches(api)) == n, "taints retried before the resync period"
    finally:
        agent.stop()
        api.stop()


def test_outage_writes_latest_once(workdir):
    api = make_api(workdir)
    agent = Agent(workdir, api, heartbeat="3s", lease="8s").start()
    try:
        wait_ready_status(api, "True")
        time.sleep(1.5)
        api.refuse_connections(True)
        refused_at = time.monotonic()
        time.sleep(1)
        outage_start = len(status_patches(api, ok_only=False))
        agent.runtime.close()
        time.sleep(4)
        agent.runtime.open()
        time.sleep(8)       # more than two heartbeat periods
        reached = status_patches(api, ok_only=False)[outage_start:]
        assert not reached, f"a write reached a refusing server: {[(r['status'], r['time']) for r in reached]} refused at {refused_at}"
        assert agent.status()["apiServer"]["pendingWrites"] >= 1
        code, _ = socket_get(agent.socket, "/v1/conditions")
        assert code == 200
        api.refuse_connections(False)
        first = wait_for("the write after the outage", lambda: status_patches(api)[outage_start:], 40)[0]
        time.sleep(1.5)
        after = status_patches(api)[outage_start:]
        assert len(after) == 1, f"{len(after)} writes right after the outage, expected 1"
        ready = next(c for c in first["body"]["status"]["conditions"] if c["type"] == "KernelReady")
        assert ready["status"] == "True", ready
        logged = [l for l in agent.read_log().splitlines() if "KernelReady): False -> True" in l]
        assert logged, "the second change was not logged"
        assert ready["lastTransitionTime"][:19] == logged[-1][:19], (ready, logged[-1])
    finally:
        agent.stop()
        api.stop()


def test_restart_keeps_transition_time(workdir):
    api = make_api(workdir)
    agent = Agent(workdir, api).start()
    try:
        wait_ready_status(api, "True")
        first = {c["type"]: c["lastTransitionTime"] for c in api.node(NODE)["status"]["conditions"]}
        agent.stop()
        os.unlink(os.path.join(workdir, "state.json")) if os.path.exists(os.path.join(workdir, "state.json")) else None
        time.sleep(2)
        n = len(status_patches(api))
        agent = Agent(workdir, api).start()
        wait_for("a write after the restart", lambda: len(status_patches(api)) > n, 15)
        written = {c["type"]: c["lastTransitionTime"] for c in status_patches(api)[n]["body"]["status"]["conditions"]}
        for t in OWNED_TYPES:
            assert written[t] == first[t], f"{t}: lastTransitionTime {first[t]} became {written[t]}"
        assert "adopted 5 conditions from node" in agent.read_log()
    finally:
        agent.stop()
        api.stop()


def test_in_cluster_token_rotation(workdir):
    api = make_api(workdir)
    sa = os.path.join(workdir, "serviceaccount")
    os.makedirs(sa)
    shutil.copy(os.path.join(PKI, "ca.crt"), os.path.join(sa, "ca.crt"))
    with open(os.path.join(sa, "namespace"), "w") as f:
        f.write("kube-system\n")
    with open(os.path.join(sa, "token"), "w") as f:
        f.write("token-one\n")
    api.tokens = {"token-one": "admin"}
    env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(api.port),
           "NODECOND_SERVICEACCOUNT_DIR": sa}
    agent = Agent(workdir, None, heartbeat="2s", env=env).start()
    try:
        wait_ready_status(api, "True")
        assert ("kube-system", NODE) in api.leases, "the Lease is not in the service account's namespace"
        # Rotate: the new token replaces the file atomically, and the old one stops working.
        with open(os.path.join(sa, "token.new"), "w") as f:
            f.write("token-two\n")
        os.rename(os.path.join(sa, "token.new"), os.path.join(sa, "token"))
        api.tokens = {"token-two": "admin"}
        mark = len(api.log)
        wait_for("a request with the new token", lambda: any(
            r["user"] == "admin" and r["status"] == 200 for r in api.log[mark:]), 10)
        assert "token-two" not in agent.read_log(), "a token was logged"
        assert "token-one" not in agent.read_log(), "a token was logged"
    finally:
        agent.stop()
        api.stop()


def test_client_certificate_data(workdir):
    api = make_api(workdir)

    def b64(name):
        with open(os.path.join(PKI, name), "rb") as f:
            return base64.b64encode(f.read()).decode()
    user = {"client-certificate-data": b64("admin.crt"), "client-key-data": b64("admin.key")}
    path = kubeconfig(os.path.join(workdir, "kubeconfig"), api.url, user,
                      {"certificate-authority-data": b64("ca.crt")})
    agent = Agent(workdir, api, kubeconfig_path=path).start()
    try:
        wait_ready_status(api, "True")
        assert all(r["user"] == "admin" for r in status_patches(api)), "not authenticated by the certificate"
    finally:
        agent.stop()
        api.stop()


def test_late_registration(workdir):
    api = make_api(workdir, register=False)
    agent = Agent(workdir, api).start()
    try:
        wait_for("a 404 for the Node", lambda: [r for r in api.requests("GET", rf"^/api/v1/nodes/{NODE}$")
                                                if r["status"] == 404], 5)
        assert not agent.status()["apiServer"]["nodeFound"]
        time.sleep(3)
        api.add_node(NODE, conditions=[KUBELET_READY])
        wait_ready_status(api, "True", timeout=40)
        assert not api.requests("POST", r"^/api/v1/nodes"), "the agent created a Node"
        assert agent.status()["apiServer"]["nodeFound"]
    finally:
        agent.stop()
        api.stop()


def test_watch_expiry_lists_again(workdir):
    for as_response in (False, True):
        api = make_api(workdir)
        api.expire_as_response = as_response
        agent = Agent(workdir, api).start()
        try:
            wait_ready_status(api, "True")
            wait_for("a watch", lambda: [r for r in api.requests("GET", r"^/api/v1/nodes$")
                                         if r["query"].get("watch") == "true"], 5)
            if as_response:
                # The next watch starts from an expired resourceVersion and gets a 410 response.
                api.compacted_rv = api.rv + 1000
            api.expire_watches()
            lists = wait_for("a list after the 410", lambda: [
                r for r in api.requests("GET", r"^/api/v1/nodes$")
                if r["query"].get("watch") is None and r["query"].get("fieldSelector") == f"metadata.name={NODE}"], 10)
            assert lists[0]["status"] == 200
            if as_response:
                api.compacted_rv = 0
            wait_for("a new watch from the list's version", lambda: [
                r for r in api.requests("GET", r"^/api/v1/nodes$") if r["query"].get("watch") == "true"
                and r["time"] > lists[0]["time"]], 10)
            # The repair still works on the new watch.
            api.update_node(NODE, lambda n: n["status"].update(
                conditions=[c for c in n["status"]["conditions"] if c["type"] != "KernelDiskPressure"]))
            wait_for("repair after re-listing", lambda: node_condition(api, "KernelDiskPressure"), 5)
        finally:
            agent.stop()
            api.stop()


FAULTS = [
    ("429 with Retry-After", dict(kind="status", code=429, retry_after=2)),
    ("500", dict(kind="status", code=500)),
    ("503", dict(kind="status", code=503)),
    ("response cut mid-body", dict(kind="cut")),
    ("invalid JSON", dict(kind="invalid_json")),
    ("16 MiB body", dict(kind="huge")),
    ("10-second stall", dict(kind="stall")),
]


def test_faults_survived(workdir):
    api = make_api(workdir)
    agent = Agent(workdir, api, heartbeat="2s").start()
    try:
        wait_ready_status(api, "True")
        for name, fault in FAULTS:
            for method, path in (("PATCH", rf"^/api/v1/nodes/{NODE}/status$"), ("GET", rf"^/api/v1/nodes/{NODE}$")):
                mark = len(status_patches(api))
                api.add_fault(method=method, path=path, times=2, **fault)
                if method == "GET":
                    # The Node is read again after a taint conflict or a 404; force a re-read by deleting and re-adding.
                    node = api.node(NODE)
                    api.delete_node(NODE)
                    api.add_node(NODE, conditions=node["status"]["conditions"])
                t0 = time.monotonic()
                slowest = 0.0
                while time.monotonic() - t0 < (14 if fault["kind"] == "stall" else 3):
                    s = time.monotonic()
                    code, _ = socket_get(agent.socket, "/v1/status", 2)
                    assert code == 200
                    slowest = max(slowest, time.monotonic() - s)
                    time.sleep(0.2)
                assert slowest < 1.0, f"{name}: the socket took {slowest:.2f}s to answer"
                wait_for(f"a status write after {name} on {method}", lambda: len(status_patches(api)) > mark, 40)
                if fault.get("code") == 429 and method == "PATCH":
                    hits = [r for r in api.requests("PATCH", path) if r["status"] in (429, 200)]
                    i = next(i for i, r in enumerate(hits) if r["status"] == 429)
                    assert hits[i + 1]["time"] - hits[i]["time"] >= 1.9, "Retry-After not honoured"
                assert agent.proc.poll() is None, f"the agent exited after {name}"
                api.clear_faults()
        assert agent.status()["apiServer"]["lastError"], "the last error is not shown"
    finally:
        agent.stop()
        api.stop()


def run_nodecond_expect_2(workdir, kubeconfig_text, expected, env=None, files=None):
    path = os.path.join(workdir, "kubeconfig")
    if kubeconfig_text is not None:
        with open(path, "w") as f:
            f.write(kubeconfig_text)
    for name, content in (files or {}).items():
        with open(os.path.join(workdir, name), "w") as f:
            f.write(content)
    full_env = dict(os.environ)
    full_env.update(env or {})
    args = [NODECOND, "run", "--no-bpf", "--socket", os.path.join(workdir, "s.sock"), "--node-name", NODE]
    if kubeconfig_text is not None:
        args += ["--kubeconfig", path]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=10, env=full_env)
    assert proc.returncode == 2, f"exit code {proc.returncode}, expected 2: {proc.stderr}"
    for text in expected:
        assert text in proc.stderr, f"{text!r} not in: {proc.stderr}"


def test_invalid_credentials_exit_2(workdir):
    ca = os.path.join(PKI, "ca.crt")
    base = ("apiVersion: v1\nkind: Config\n{current}clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\n"
            "    {ca}\ncontexts:\n- name: t\n  context: {{cluster: c, user: u}}\nusers:\n- name: u\n  user:\n    {user}\n")
    good_ca = f"certificate-authority: {ca}"
    run_nodecond_expect_2(workdir, base.format(current="", ca=good_ca, user="token: x"),
                          ["kubeconfig", "current-context: missing"])
    run_nodecond_expect_2(workdir, base.format(current="current-context: t\n", ca=good_ca,
                                               user="client-certificate-data: '@@notbase64'\n    client-key-data: eA=="),
                          ["users[0].user.client-certificate-data", "invalid base64"])
    run_nodecond_expect_2(workdir, base.format(current="current-context: t\n", ca=good_ca,
                                               user="tokenFile: /nonexistent/token"),
                          ["users[0].user.tokenFile", "/nonexistent/token"])
    run_nodecond_expect_2(workdir, base.format(current="current-context: t\n", ca="certificate-authority: missing-ca.crt",
                                               user="token: x"),
                          ["clusters[0].cluster.certificate-authority", "missing-ca.crt"])
    run_nodecond_expect_2(workdir, base.format(current="current-context: other\n", ca=good_ca, user="token: x"),
                          ["current-context", "no entry named \"other\""])
    run_nodecond_expect_2(workdir, "clusters: [unclosed", ["kubeconfig", "invalid YAML"])
    run_nodecond_expect_2(workdir, None, ["in-cluster", "token"],
                          env={"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": "6443",
                               "NODECOND_SERVICEACCOUNT_DIR": os.path.join(workdir, "nothing-here")})


def test_insecure_skip_verify_warns(workdir):
    api = make_api(workdir)
    path = kubeconfig(os.path.join(workdir, "kubeconfig"), api.url, {"token": "admin-token"},
                      {"insecure-skip-tls-verify": True})
    agent = Agent(workdir, api, kubeconfig_path=path).start()
    try:
        wait_ready_status(api, "True")
        assert "insecure-skip-tls-verify" in agent.read_log() and "NOT verified" in agent.read_log()
    finally:
        agent.stop()
        api.stop()


def test_standard_profile_refused_beside_kubelet(workdir):
    """The standard profile stops with exit 2 where kubelet posts Ready recently, unless forced."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    fresh_kubelet_ready = dict(KUBELET_READY, lastHeartbeatTime=now)
    api = make_api(workdir, conditions=(fresh_kubelet_ready, OTHER_AGENT))
    agent = Agent(workdir, api, extra_config="profile: standard\n")
    try:
        agent.runtime.open()
        args = [NODECOND, "run", "--no-bpf", "--config", agent.config, "--socket", agent.socket,
                "--node-name", NODE, "--kubeconfig", agent.kubeconfig]
        result = subprocess.run(args, capture_output=True, text=True, timeout=30)
        assert result.returncode == 2, result
        assert "kubelet posts status" in result.stderr and "--force-standard-profile" in result.stderr, \
            result.stderr
        assert not status_patches(api), "the refused agent wrote the Node's status"

        forced = subprocess.Popen(args + ["--force-standard-profile"], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        try:
            wait_for("a status write by the forced agent", lambda: status_patches(api), 15)
        finally:
            forced.terminate()
            output = forced.communicate(timeout=10)[0]
        assert "--force-standard-profile makes nodecond write" in output, output
    finally:
        agent.runtime.close()
        api.stop()


def test_api_request_metrics(workdir):
    """/metrics counts API requests by verb and status code."""
    api = make_api(workdir)
    agent = Agent(workdir, api)
    try:
        agent.start()
        wait_for("a status write", lambda: status_patches(api), 15)
        code, body = socket_get(agent.socket, "/metrics")
        assert code == 200, code
        lines = [l for l in body.splitlines() if l.startswith("nodecond_api_requests_total{")]
        assert any('verb="PATCH",code="200"' in l for l in lines), lines
        assert any('verb="GET",code="200"' in l for l in lines), lines
    finally:
        agent.stop()
        api.stop()


def stop_and_time(agent):
    """Sends SIGTERM and returns (exit code, seconds until the agent exited)."""
    start = time.monotonic()
    agent.proc.terminate()
    code = agent.proc.wait(timeout=15)
    return code, time.monotonic() - start


def fail_transition_write(api, agent, then_code=None, retry_after=None):
    """Makes a transition whose first write gets a 500, so its retry waits in backoff.

    With then_code, the next writes get that status (and that Retry-After)."""
    api.add_fault("status", method="PATCH", path=rf"^/api/v1/nodes/{NODE}/status$", code=500)
    if then_code:
        api.add_fault("status", method="PATCH", path=rf"^/api/v1/nodes/{NODE}/status$", code=then_code, times=5,
                      retry_after=retry_after)
    agent.runtime.close()
    wait_for("the failed status write", lambda: [r for r in status_patches(api, ok_only=False)
                                                 if r["status"] == 500], 10)


def test_stop_writes_pending_status(workdir):
    api = make_api(workdir)
    agent = Agent(workdir, api).start()
    try:
        wait_ready_status(api, "True")
        fail_transition_write(api, agent)
        code, took = stop_and_time(agent)
        log = agent.read_log()
        assert code == 0, f"exit code {code}"
        assert "writing the pending node status first" in log, log
        assert "the pending node status is written; stopping" in log, log
        assert node_condition(api, "KernelReady")["status"] == "False", node_condition(api, "KernelReady")
        assert took < 3.0, f"the agent took {took:.2f}s to stop"
        print(f"  stopped {took * 1000:.0f}ms after SIGTERM, with the status written")
    finally:
        agent.stop()
        api.stop()


def test_stop_bounded_when_server_unreachable(workdir):
    api = make_api(workdir)
    agent = Agent(workdir, api).start()
    try:
        wait_ready_status(api, "True")
        api.refuse_connections(True)
        agent.runtime.close()
        wait_for("KernelReady=False on the agent's socket", lambda: any(
            c["kind"] == "NotReady" and c["status"] == "False"
            for c in json.loads(socket_get(agent.socket, "/v1/conditions")[1])["conditions"]), 10)
        code, took = stop_and_time(agent)
        log = agent.read_log()
        assert code == 0, f"exit code {code}"
        assert "a node status write was still pending 3000 ms after the stop signal" in log, log
        assert 2.9 <= took < 6.0, f"the agent took {took:.2f}s to stop, expected about 3s"
        assert node_condition(api, "KernelReady")["status"] == "True", "a write reached a refusing server"
    finally:
        agent.stop()
        api.stop()


def check_stop_without_waiting(workdir, code, retry_after, logged):
    """After SIGTERM the flush gets code; the agent must stop at once, logging logged."""
    api = make_api(workdir)
    agent = Agent(workdir, api).start()
    try:
        wait_ready_status(api, "True")
        fail_transition_write(api, agent, then_code=code, retry_after=retry_after)
        exit_code, took = stop_and_time(agent)
        log = agent.read_log()
        answered = [r for r in status_patches(api, ok_only=False) if r["status"] == code]
        assert exit_code == 0, f"exit code {exit_code}"
        assert logged in log, log
        assert len(answered) == 1, f"{len(answered)} writes got a {code}, expected 1"
        assert took < 1.0, f"the agent took {took:.2f}s to stop after a {code}"
    finally:
        agent.stop()
        api.stop()


def test_stop_after_rejected_write(workdir):
    check_stop_without_waiting(workdir, 422, None, "the pending node status was not written: HTTP 422")


def test_stop_keeps_long_retry_after(workdir):
    check_stop_without_waiting(workdir, 429, 5,
                               "the pending node status was not written: the API server asked to wait")


def test_stop_before_node_read_keeps_state(workdir):
    state = os.path.join(workdir, "state.json")
    local = Agent(workdir, None).start()
    try:
        wait_for("the first evaluation", lambda: "every condition has had its first evaluation" in local.read_log(),
                 10)
    finally:
        local.stop()
    saved = json.load(open(state))["conditions"]
    assert any(c["type"] == "KernelReady" for c in saved), saved

    api = make_api(workdir, register=False)
    api.stall_s = 10
    api.add_fault("stall", method="GET", path=rf"^/api/v1/nodes/{NODE}$", times=3)
    agent = Agent(workdir, api)
    try:
        agent.start(runtime_healthy=False)
        code, _ = stop_and_time(agent)
        assert code == 0, f"exit code {code}"
        after = json.load(open(state))["conditions"]
        assert after == saved, f"the state file changed from {saved} to {after}"
    finally:
        agent.stop()
        api.stop()


TESTS = [test_status_wire_format, test_transition_to_patch_delay, test_foreign_and_repair, test_taints_by_agent,
         test_taints_forbidden_for_node_credentials, test_outage_writes_latest_once,
         test_restart_keeps_transition_time, test_in_cluster_token_rotation, test_client_certificate_data,
         test_late_registration, test_watch_expiry_lists_again, test_faults_survived,
         test_invalid_credentials_exit_2, test_insecure_skip_verify_warns,
         test_standard_profile_refused_beside_kubelet, test_api_request_metrics, test_stop_writes_pending_status,
         test_stop_bounded_when_server_unreachable, test_stop_after_rejected_write,
         test_stop_keeps_long_retry_after, test_stop_before_node_read_keeps_state]


def main():
    global NODECOND, PKI
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    NODECOND = os.path.abspath(sys.argv[1])
    selected = [t for t in TESTS if len(sys.argv) == 2 or t.__name__ in sys.argv[2:]]
    pki_root = tempfile.mkdtemp(prefix="nodecond-pki-")
    passed = failed = skipped = 0
    try:
        PKI = apiserver.make_pki(pki_root)
        for test in selected:
            workdir = tempfile.mkdtemp(prefix="nodecond-it-")
            print(f"integration: {test.__name__}", flush=True)
            try:
                test(workdir)
                passed += 1
                print("  ok", flush=True)
            except SkipTest as e:
                skipped += 1
                print(f"  skipped: {e}")
            except Exception:
                failed += 1
                print("  FAILED")
                traceback.print_exc()
                log = os.path.join(workdir, "agent.log")
                if os.path.exists(log):
                    with open(log) as f:
                        print("".join("    " + line for line in f.readlines()[-40:]))
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
    finally:
        shutil.rmtree(pki_root, ignore_errors=True)
    print(f"integration: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
