#!/usr/bin/python3
"""End-to-end tests of `nodecond run` in local mode on the real kernel.

Each test starts the agent with its own configuration and socket, drives a
real condition (processes for PIDPressure, a full tmpfs for DiskPressure),
and reads the transitions from the socket. Needs root; prints a skip line
otherwise. Usage: test_local_mode.py BUILD/nodecond
"""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

NODECOND = None
# A transition must be visible on the socket within this many seconds of the
# load crossing its threshold.
VISIBLE_WITHIN_S = 3.0
# Transition period the tests configure, so a kind returns to False quickly.
TRANSITION_PERIOD_S = 2


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=5):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def get(sock_path, path):
    conn = UnixHTTPConnection(sock_path)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


def get_json(sock_path, path):
    status, body = get(sock_path, path)
    if status != 200:
        raise AssertionError(f"GET {path} answered {status}: {body}")
    return json.loads(body)


class Agent:
    """One `nodecond run` process with a configuration in its own directory."""

    def __init__(self, workdir, config_text, extra_args=(), wrapper=()):
        self.workdir = workdir
        self.socket = os.path.join(workdir, "nodecond.sock")
        self.config = os.path.join(workdir, "config.yaml")
        self.log_path = os.path.join(workdir, "agent.log")
        with open(self.config, "w") as f:
            f.write(config_text)
        self.log = open(self.log_path, "w")
        args = list(wrapper) + [NODECOND, "run", "--config", self.config,
                                "--socket", self.socket] + list(extra_args)
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"agent exited with {self.proc.returncode}:\n{self.read_log()}")
            try:
                status, _ = get(self.socket, "/readyz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"agent not ready within {timeout}s:\n{self.read_log()}")

    def condition(self, kind):
        for c in get_json(self.socket, "/v1/conditions")["conditions"]:
            if c["kind"] == kind:
                return c
        return None

    def wait_status(self, kind, status, timeout):
        """Polls until the kind has the status; returns the seconds it took."""
        start = time.monotonic()
        last = None
        while time.monotonic() - start < timeout:
            last = self.condition(kind)
            if last and last["status"] == status:
                return time.monotonic() - start
            time.sleep(0.02)
        raise AssertionError(f"{kind} did not become {status} within {timeout:.1f}s; last: {last}")

    def read_log(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


def base_config(workdir, nodefs, conditions_yaml):
    return f"""apiVersion: nodecond.io/v1alpha1
kind: NodecondConfiguration
nodeName: e2e-node
sampleInterval: 200ms
stateFile: {workdir}/state.json
paths:
  nodefs: {nodefs}
  imagefs: {nodefs}
conditions:
{conditions_yaml}
"""


def test_pid_pressure(workdir):
    probe = Agent(workdir, base_config(workdir, workdir, ""))
    try:
        probe.wait_ready()
        signals = {s["name"]: s for s in get_json(probe.socket, "/v1/signals")["signals"]}
    finally:
        probe.stop()
    available = signals["pid.available"]["value"]
    # Fire when 150 more tasks exist than now; the test starts 300.
    limit = int(available) - 150
    conditions = f"""  PIDPressure:
    thresholds:
      - expression: pid.available<{limit}
    transitionPeriod: {TRANSITION_PERIOD_S}s
"""
    agent = Agent(workdir, base_config(workdir, workdir, conditions))
    children = []
    try:
        agent.wait_ready()
        agent.wait_status("PIDPressure", "False", 5)

        # The threshold is crossed when the 151st process exists; time from there.
        crossed_at = None
        for i in range(300):
            children.append(subprocess.Popen(["sleep", "120"]))
            if i == 150:
                crossed_at = time.monotonic()
        agent.wait_status("PIDPressure", "True", VISIBLE_WITHIN_S)
        delay = time.monotonic() - crossed_at
        print(f"  PIDPressure True at most {delay:.2f}s after the threshold was crossed")
        assert delay <= VISIBLE_WITHIN_S, f"PIDPressure became True {delay:.2f}s after the crossing"
        message = agent.condition("PIDPressure")["message"]
        assert "pid.available" in message, f"message does not name the signal: {message}"

        for child in children:
            child.kill()
        for child in children:
            child.wait()
        children = []
        took = agent.wait_status("PIDPressure", "False", TRANSITION_PERIOD_S + VISIBLE_WITHIN_S)
        print(f"  PIDPressure False {took:.2f}s after the processes exited "
              f"(transition period {TRANSITION_PERIOD_S}s)")
        assert took >= TRANSITION_PERIOD_S - 0.3, f"returned to False after {took:.2f}s, before the transition period"

        events = get_json(agent.socket, "/v1/events")["events"]
        pid_events = [(e["from"], e["to"]) for e in events
                      if e["type"] == "transition" and e["kind"] == "PIDPressure"]
        assert ("False", "True") in pid_events, pid_events
        assert ("True", "False") in pid_events, pid_events
    finally:
        for child in children:
            child.kill()
            child.wait()
        agent.stop()


def test_disk_pressure(workdir):
    mount_point = os.path.join(workdir, "nodefs")
    os.mkdir(mount_point)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "nodecond-e2e", mount_point], check=True)
    conditions = f"""  DiskPressure:
    thresholds:
      - expression: nodefs.available<50%
    transitionPeriod: {TRANSITION_PERIOD_S}s
"""
    agent = Agent(workdir, base_config(workdir, mount_point + "/kubelet", conditions))
    try:
        agent.wait_ready()
        agent.wait_status("DiskPressure", "False", 5)
        signals = {s["name"]: s for s in get_json(agent.socket, "/v1/signals")["signals"]}
        detail = signals["nodefs.available"].get("detail", "")
        assert mount_point in detail, f"nodefs detail does not name the tmpfs mount: {detail}"

        fill = os.path.join(mount_point, "fill")
        with open(fill, "wb") as f:
            f.write(b"\0" * (12 * 1024 * 1024))
            f.flush()
            os.fsync(f.fileno())
        took = agent.wait_status("DiskPressure", "True", VISIBLE_WITHIN_S)
        print(f"  DiskPressure True {took:.2f}s after the tmpfs filled")

        os.unlink(fill)
        took = agent.wait_status("DiskPressure", "False", TRANSITION_PERIOD_S + VISIBLE_WITHIN_S)
        print(f"  DiskPressure False {took:.2f}s after the file was removed")
    finally:
        agent.stop()
        subprocess.run(["umount", mount_point], check=False)


def test_without_bpf_permission(workdir):
    """With CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN dropped, the agent uses its fallbacks."""
    if shutil.which("capsh") is None:
        raise SkipTest("capsh is missing: apt-get install libcap2-bin")
    # Dropped from the bounding set, the capabilities are gone after capsh's execve.
    wrapper = ["capsh", "--drop=cap_bpf,cap_perfmon,cap_sys_admin", "--", "-c", 'exec "$0" "$@"']
    agent = Agent(workdir, base_config(workdir, workdir, ""), wrapper=wrapper)
    try:
        agent.wait_ready()
        time.sleep(0.5)
        data = get_json(agent.socket, "/v1/signals")
        signals = {s["name"]: s for s in data["signals"]}
        assert signals["pid.available"]["source"] == "procfs", signals["pid.available"]
        assert signals["pid.available"]["observed"], signals["pid.available"]
        assert signals["memory.stall"]["source"] == "psi", signals["memory.stall"]
        programs = {p["name"]: p for p in data["programs"]}
        for name, program in programs.items():
            assert not program["loaded"], f"program {name} loaded without permission"
            assert program.get("reason"), f"program {name} is disabled without a reason"
        log = agent.read_log()
        disabled_lines = [line for line in log.splitlines() if "disabled" in line and "bpf:" in line]
        assert len(disabled_lines) == len(programs), f"expected one log line per program:\n{log}"
        # Without disklat nothing counts untimed requests, so the family has no sample rather than 0.
        status, body = get(agent.socket, "/metrics")
        assert status == 200, status
        untimed = [l for l in body.splitlines() if l.startswith("nodecond_bpf_disk_untimed_requests_total")]
        assert not untimed, f"untimed request count without disklat: {untimed}"
        assert agent.proc.poll() is None, "agent exited"
        status, _ = get(agent.socket, "/healthz")
        assert status == 200
    finally:
        agent.stop()


def raw_request(sock_path, data, read=True):
    """Sends raw bytes on the socket and returns the agent's response."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(sock_path)
        sock.sendall(data)
        if not read:
            return b""
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def test_socket_requests(workdir):
    """Every read endpoint responds; bad requests get a 4xx and leave the agent serving."""
    agent = Agent(workdir, base_config(workdir, workdir, ""))
    try:
        agent.wait_ready()
        mode = os.stat(agent.socket).st_mode & 0o777
        assert mode == 0o660, f"socket mode is {oct(mode)}, expected 0o660"

        for path in ("/v1/status", "/v1/conditions", "/v1/signals", "/v1/events"):
            data = get_json(agent.socket, path)
            assert isinstance(data, dict), path
        status = get_json(agent.socket, "/v1/status")
        assert status["nodeName"] == "e2e-node"
        assert status["mode"] == "local"
        kinds = {c["kind"] for c in status["conditions"]}
        assert kinds == {"MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable", "NotReady"}, kinds
        for c in status["conditions"]:
            assert c["lastTransitionTime"].endswith("Z"), c
        names = {s["name"] for s in status["signals"]}
        for name in ("memory.available", "memory.stall", "pid.available", "nodefs.available",
                     "nodefs.inodesFree", "net.routeLinks", "net.defaultRoute"):
            assert name in names, name
        assert get(agent.socket, "/healthz") == (200, "ok\n")

        status_code, body = get(agent.socket, "/v1/nothing")
        assert status_code == 404, (status_code, body)
        assert json.loads(body)["reason"] == "NotFound", (status_code, body)

        conn = UnixHTTPConnection(agent.socket)
        conn.request("DELETE", "/v1/status")
        resp = conn.getresponse()
        assert resp.status == 405, resp.status
        conn.close()

        conn = UnixHTTPConnection(agent.socket)
        conn.request("POST", "/v1/status", body=b"x" * (200 * 1024))
        resp = conn.getresponse()
        assert resp.status == 413, resp.status
        conn.close()

        answer = raw_request(agent.socket, b"this is not HTTP\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 400"), answer[:80]

        # A client that connects and never sends must not block others.
        idle = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        idle.connect(agent.socket)
        idle.sendall(b"GET /v1/status HTTP/1.1\r\n")
        assert get_json(agent.socket, "/v1/conditions")["conditions"]
        idle.close()
        assert agent.proc.poll() is None, "agent exited"
    finally:
        assert agent.stop() == 0, "agent did not exit cleanly on SIGTERM"
    assert not os.path.exists(agent.socket), "socket file left behind after SIGTERM"


def test_socket_file_stale_and_live(workdir):
    sock_path = os.path.join(workdir, "nodecond.sock")
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(sock_path)
    stale.close()  # bound but never listening: what a crashed agent leaves
    agent = Agent(workdir, base_config(workdir, workdir, ""))
    try:
        agent.wait_ready()
        assert "removing stale socket" in agent.read_log()

        result = subprocess.run([NODECOND, "run", "--config", agent.config, "--socket", agent.socket],
                                capture_output=True, text=True, timeout=10)
        assert result.returncode == 1, result
        assert "in use by a running agent" in result.stderr, result.stderr
        assert get(agent.socket, "/healthz")[0] == 200, "the first agent stopped serving"
    finally:
        agent.stop()


def test_state_file_protected(workdir):
    """A state file path never overwrites foreign files, and two agents cannot share one."""
    precious = os.path.join(workdir, "important.conf")
    with open(precious, "w") as f:
        f.write("precious: data\n")
    config = os.path.join(workdir, "c.yaml")
    for target, code in ((precious, 2), ("/dev/null", 2), (workdir, 2)):
        with open(config, "w") as f:
            f.write(f"stateFile: {target}\n")
        result = subprocess.run([NODECOND, "run", "--no-bpf", "--config", config,
                                 "--socket", os.path.join(workdir, "s.sock")],
                                capture_output=True, text=True, timeout=10)
        assert result.returncode == code, (target, result)
        assert target in result.stderr, result.stderr
        assert "stateFile" in result.stderr, result.stderr
    with open(precious) as f:
        assert f.read() == "precious: data\n"
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")

    agent = Agent(workdir, base_config(workdir, workdir, ""))
    try:
        agent.wait_ready()
        result = subprocess.run([NODECOND, "run", "--no-bpf", "--config", agent.config,
                                 "--socket", os.path.join(workdir, "second.sock")],
                                capture_output=True, text=True, timeout=10)
        assert result.returncode == 1, result
        assert "in use by another agent" in result.stderr, result.stderr
    finally:
        agent.stop()


def test_invalid_config_exit_code(workdir):
    config = os.path.join(workdir, "bad.yaml")
    with open(config, "w") as f:
        f.write("conditions:\n  MemoryPressure:\n    thresholds:\n      - expression: memory.available<10 Mi\n")
    result = subprocess.run([NODECOND, "run", "--config", config, "--socket", os.path.join(workdir, "s.sock")],
                            capture_output=True, text=True, timeout=10)
    assert result.returncode == 2, result
    assert "conditions.MemoryPressure.thresholds[0].expression" in result.stderr, result.stderr
    assert "10 Mi" in result.stderr, result.stderr
    assert not os.path.exists(os.path.join(workdir, "s.sock"))

    result = subprocess.run([NODECOND, "run", "--bogus"], capture_output=True, text=True, timeout=10)
    assert result.returncode == 2, result
    result = subprocess.run([NODECOND, "status", "--socket", os.path.join(workdir, "none.sock")],
                            capture_output=True, text=True, timeout=10)
    assert result.returncode == 1, result
    assert "no agent responded" in result.stderr, result.stderr


def test_reload_keeps_old_config_when_invalid(workdir):
    conditions = """  PIDPressure:
    thresholds:
      - expression: pid.available<1
"""
    agent = Agent(workdir, base_config(workdir, workdir, conditions))
    try:
        agent.wait_ready()
        agent.wait_status("PIDPressure", "False", 5)
        with open(agent.config, "w") as f:
            f.write(base_config(workdir, workdir, "  PIDPressure:\n    thresholds:\n      - expression: pid.available<\n"))
        agent.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert "keeping the running configuration" in agent.read_log(), agent.read_log()
        assert agent.proc.poll() is None

        # A valid reload takes effect: a limit above the capacity makes PIDPressure True.
        with open(agent.config, "w") as f:
            f.write(base_config(workdir, workdir,
                                "  PIDPressure:\n    thresholds:\n      - expression: pid.available<100%\n"))
        agent.proc.send_signal(signal.SIGHUP)
        agent.wait_status("PIDPressure", "True", VISIBLE_WITHIN_S)
    finally:
        agent.stop()


def test_restart_keeps_transition_time(workdir):
    agent = Agent(workdir, base_config(workdir, workdir, ""))
    try:
        agent.wait_ready()
        before = {c["kind"]: c["lastTransitionTime"] for c in get_json(agent.socket, "/v1/conditions")["conditions"]}
    finally:
        agent.stop()
    time.sleep(1.1)  # transition times have a resolution of one second
    agent = Agent(workdir, base_config(workdir, workdir, ""))
    try:
        agent.wait_ready()
        after = {c["kind"]: c["lastTransitionTime"] for c in get_json(agent.socket, "/v1/conditions")["conditions"]}
        assert before == after, (before, after)
        events = [e for e in get_json(agent.socket, "/v1/events")["events"] if e["type"] == "transition"]
        assert events == [], f"a restart with unchanged statuses made transitions: {events}"
    finally:
        agent.stop()


def post(sock_path, path, body):
    conn = UnixHTTPConnection(sock_path)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


def test_taints_and_tolerations(workdir):
    """A True condition yields its taint; pods are checked against it over the socket and the CLI."""
    conditions = """  PIDPressure:
    thresholds:
      - expression: pid.available<100%
"""
    agent = Agent(workdir, base_config(workdir, workdir, conditions))
    try:
        agent.wait_ready()
        agent.wait_status("PIDPressure", "True", 5)
        taints = get_json(agent.socket, "/v1/taints")
        assert taints["writer"] == "controller", taints
        keys = [(t["key"], t["effect"]) for t in taints["taints"]]
        assert keys == [("nodecond.io/pid-pressure", "NoSchedule")], keys

        plain_pod = {"kind": "Pod", "metadata": {"name": "web"}, "spec": {"containers": []}}
        status, body = post(agent.socket, "/v1/tolerations", json.dumps(plain_pod))
        assert status == 200, body
        verdict = json.loads(body)
        assert verdict["pod"] == "web"
        assert verdict["schedulable"] is False, verdict
        assert verdict["taints"][0]["tolerated"] is False, verdict

        tolerant = [{"key": "nodecond.io/pid-pressure", "operator": "Exists"}]
        status, body = post(agent.socket, "/v1/tolerations", json.dumps(tolerant))
        assert status == 200, body
        assert json.loads(body)["schedulable"] is True, body

        status, body = post(agent.socket, "/v1/tolerations", '[{"operator": "Equal"}]')
        assert status == 400, (status, body)
        assert "tolerations[0].operator" in json.loads(body)["message"], body
        status, body = get(agent.socket, "/v1/tolerations")
        assert status == 405, status

        pod_file = os.path.join(workdir, "pod.json")
        with open(pod_file, "w") as f:
            json.dump(plain_pod, f)
        result = subprocess.run([NODECOND, "tolerates", "-f", pod_file, "--socket", agent.socket],
                                capture_output=True, text=True, timeout=10)
        assert result.returncode == 0, result
        assert "nodecond.io/pid-pressure" in result.stdout, result.stdout
        assert "blocked" in result.stdout, result.stdout

        result = subprocess.run([NODECOND, "tolerates", "-f", "-", "--socket", agent.socket],
                                input='[{"operator": "Equal"}]', capture_output=True, text=True, timeout=10)
        assert result.returncode == 2, result
        assert "tolerations[0].operator" in result.stderr, result.stderr

        result = subprocess.run([NODECOND, "taints", "-o", "json", "--socket", agent.socket],
                                capture_output=True, text=True, timeout=10)
        assert result.returncode == 0, result
        taints_file = os.path.join(workdir, "taints.json")
        with open(taints_file, "w") as f:
            f.write(result.stdout)
    finally:
        agent.stop()

    # With --taints the check needs no agent.
    result = subprocess.run([NODECOND, "tolerates", "-f", pod_file, "--taints", taints_file, "-o", "json",
                             "--socket", os.path.join(workdir, "none.sock")],
                            capture_output=True, text=True, timeout=10)
    assert result.returncode == 0, result
    assert json.loads(result.stdout)["schedulable"] is False, result.stdout


def test_watch_streams_transitions(workdir):
    """Several /v1/watch streams and `nodecond watch` each receive a real transition."""
    mount_point = os.path.join(workdir, "nodefs")
    os.mkdir(mount_point)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "nodecond-e2e", mount_point], check=True)
    conditions = """  DiskPressure:
    thresholds:
      - expression: nodefs.available<50%
    transitionPeriod: 1s
"""
    agent = Agent(workdir, base_config(workdir, mount_point, conditions))
    streams = []
    cli = None
    try:
        agent.wait_ready()
        agent.wait_status("DiskPressure", "False", 5)
        for _ in range(5):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(10)
            sock.connect(agent.socket)
            sock.sendall(b"GET /v1/watch HTTP/1.1\r\nHost: localhost\r\n\r\n")
            streams.append(sock)
        cli = subprocess.Popen([NODECOND, "watch", "-o", "json", "--socket", agent.socket],
                               stdout=subprocess.PIPE, text=True)
        time.sleep(0.5)
        assert get(agent.socket, "/healthz")[0] == 200, "watchers blocked other clients"

        with open(os.path.join(mount_point, "fill"), "wb") as f:
            f.write(b"\0" * (6 * 1024 * 1024))
        agent.wait_status("DiskPressure", "True", VISIBLE_WITHIN_S)

        for sock in streams:
            data = b""
            while b"KernelDiskPressure" not in data:
                chunk = sock.recv(65536)
                assert chunk, f"stream closed before the transition arrived: {data!r}"
                data += chunk
            line = [l for l in data.split(b"\r\n") if b"KernelDiskPressure" in l][0]
            event = json.loads(line)
            assert (event["type"], event["kind"], event["from"], event["to"]) == \
                ("transition", "DiskPressure", "False", "True"), event
        first = json.loads(cli.stdout.readline())
        assert (first["kind"], first["to"]) == ("DiskPressure", "True"), first
    finally:
        for sock in streams:
            sock.close()
        if cli:
            cli.kill()
            cli.wait()
        assert agent.stop() == 0, "agent did not stop cleanly with watchers open"
        subprocess.run(["umount", mount_point], check=False)


def replay_transitions(config, recording):
    """Runs `nodecond replay -o json` and returns its transitions."""
    result = subprocess.run([NODECOND, "replay", "--config", config, "-o", "json", recording],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_record_then_replay(workdir):
    """A replay of the agent's own recording makes the transitions the agent published on /v1/events."""
    mount_point = os.path.join(workdir, "nodefs")
    os.mkdir(mount_point)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "nodecond-e2e", mount_point], check=True)
    conditions = """  DiskPressure:
    thresholds:
      - expression: nodefs.available<50%
    transitionPeriod: 1s
"""
    recording = os.path.join(workdir, "recording.ndjson")
    streamed = os.path.join(workdir, "streamed.ndjson")
    agent = Agent(workdir, base_config(workdir, mount_point, conditions), extra_args=["--record", recording])
    try:
        agent.wait_ready()
        agent.wait_status("DiskPressure", "False", 5)
        client = subprocess.Popen([NODECOND, "record", "--file", streamed, "--duration", "3s",
                                   "--socket", agent.socket], stdout=subprocess.PIPE, text=True)
        time.sleep(0.3)
        with open(os.path.join(mount_point, "fill"), "wb") as f:
            f.write(b"\0" * (6 * 1024 * 1024))
        agent.wait_status("DiskPressure", "True", VISIBLE_WITHIN_S)
        os.unlink(os.path.join(mount_point, "fill"))
        agent.wait_status("DiskPressure", "False", 1 + VISIBLE_WITHIN_S)
        out, _ = client.communicate(timeout=10)
        assert client.returncode == 0, out
        assert "recorded" in out, out
        published = [e for e in get_json(agent.socket, "/v1/events")["events"] if e["type"] == "transition"]
    finally:
        assert agent.stop() == 0, "agent did not stop cleanly while recording"
        subprocess.run(["umount", mount_point], check=False)

    replayed = replay_transitions(agent.config, recording)
    assert len(replayed) == len(published), (published, replayed)
    for agent_event, replay_event in zip(published, replayed):
        for field in ("kind", "conditionType", "from", "to", "reason", "message"):
            assert agent_event[field] == replay_event[field], (field, agent_event, replay_event)
        # /v1/events has whole seconds; the recording has milliseconds.
        assert replay_event["time"][:19] == agent_event["time"][:19], (agent_event, replay_event)
    kinds = [(e["kind"], e["from"], e["to"]) for e in replayed]
    assert ("DiskPressure", "False", "True") in kinds, kinds
    assert ("DiskPressure", "True", "False") in kinds, kinds
    print(f"  replay reproduced the agent's {len(published)} transitions")

    # The stream carries the same tick lines as the file, byte for byte.
    with open(recording) as f:
        recorded_lines = set(f.read().splitlines())
    with open(streamed) as f:
        streamed_ticks = [line for line in f.read().splitlines() if line.startswith('{"type":"tick"')]
    assert len(streamed_ticks) >= 10, f"only {len(streamed_ticks)} ticks streamed in 3s at 200ms"
    missing = [line for line in streamed_ticks if line not in recorded_lines]
    assert not missing, f"{len(missing)} streamed ticks differ from the recording: {missing[0][:200]}"


def test_record_rotation_and_bad_lines(workdir):
    """--record rotates at record.maxSize and keeps record.maxFiles files; bad lines stop replay with 2."""
    recording = os.path.join(workdir, "rotated.ndjson")
    config = base_config(workdir, workdir, "") + "record:\n  maxSize: 4Ki\n  maxFiles: 3\n"
    agent = Agent(workdir, config, extra_args=["--record", recording])
    try:
        agent.wait_ready()
        time.sleep(2.5)
    finally:
        assert agent.stop() == 0
    files = sorted(f for f in os.listdir(workdir) if f.startswith("rotated.ndjson"))
    assert files == ["rotated.ndjson", "rotated.ndjson.1", "rotated.ndjson.2"], files
    for name in files:
        with open(os.path.join(workdir, name)) as f:
            lines = f.read().splitlines()
        assert lines, f"{name} is empty"
        # A file passes maxSize only when one tick's lines alone are larger.
        assert len(lines) == 1 or os.path.getsize(os.path.join(workdir, name)) <= 4096, (name, len(lines))
    assert replay_transitions(agent.config, os.path.join(workdir, "rotated.ndjson")) is not None

    bad = os.path.join(workdir, "bad.ndjson")
    with open(bad, "w") as f:
        f.write('{"signals":[{"name":"pid.available","value":10}]}\n')
        f.write('{"signals":[{"name":"pid.available","value":"ten"}]}\n')
    result = subprocess.run([NODECOND, "replay", bad], capture_output=True, text=True, timeout=10)
    assert result.returncode == 2, result
    assert f"{bad}:2: field signals[0].value" in result.stderr, result.stderr

    bad_config = os.path.join(workdir, "bad-record.yaml")
    with open(bad_config, "w") as f:
        f.write("record:\n  maxFiles: 1\n")
    result = subprocess.run([NODECOND, "run", "--config", bad_config, "--socket", os.path.join(workdir, "x.sock")],
                            capture_output=True, text=True, timeout=10)
    assert result.returncode == 2, result
    assert "record.maxFiles" in result.stderr, result


def test_tolerates_given_taints(workdir):
    """`tolerates --taints` checks a pod against a hand-written taint list with no agent running."""
    taints_file = os.path.join(workdir, "taints.json")
    with open(taints_file, "w") as f:
        json.dump([{"key": "nodecond.io/memory-pressure", "effect": "NoSchedule"},
                   {"key": "nodecond.io/not-ready", "effect": "NoExecute", "timeAdded": "2026-01-01T00:00:00Z"}], f)
    pod_file = os.path.join(workdir, "pod.json")
    with open(pod_file, "w") as f:
        json.dump({"kind": "Pod", "metadata": {"name": "db"},
                   "spec": {"tolerations": [{"key": "nodecond.io/not-ready", "operator": "Exists",
                                             "effect": "NoExecute", "tolerationSeconds": 60}]}}, f)
    no_agent = ["--socket", os.path.join(workdir, "none.sock")]
    result = subprocess.run([NODECOND, "tolerates", "-f", pod_file, "--taints", taints_file, "-o", "json"] + no_agent,
                            capture_output=True, text=True, timeout=10)
    assert result.returncode == 0, result
    verdict = json.loads(result.stdout)
    assert [t["tolerated"] for t in verdict["taints"]] == [False, True], verdict
    assert verdict["schedulable"] is False, verdict
    assert verdict["eviction"] == {"when": "At", "time": "2026-01-01T00:01:00Z"}, verdict

    with open(taints_file, "w") as f:
        json.dump([{"key": "nodecond.io/pid-pressure", "effect": "Sometimes"}], f)
    result = subprocess.run([NODECOND, "tolerates", "-f", pod_file, "--taints", taints_file] + no_agent,
                            capture_output=True, text=True, timeout=10)
    assert result.returncode == 2, result
    assert "taints[0].effect" in result.stderr, result.stderr


def test_watch_slots_freed_and_stray_signals(workdir):
    """Closed watch streams free their slots within ticks; SIGUSR1 and SIGUSR2 do not stop the agent."""
    agent = Agent(workdir, base_config(workdir, workdir, ""))
    try:
        agent.wait_ready()
        streams = []
        for _ in range(64):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(agent.socket)
            sock.sendall(b"GET /v1/watch HTTP/1.1\r\nHost: localhost\r\n\r\n")
            streams.append(sock)
        time.sleep(1)
        assert get(agent.socket, "/v1/watch")[0] == 503, "the 65th watch stream was accepted"
        for sock in streams:
            sock.close()
        deadline = time.monotonic() + 5
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(5)
            sock.connect(agent.socket)
            sock.sendall(b"GET /v1/watch HTTP/1.1\r\nHost: localhost\r\n\r\n")
            head = sock.recv(64)
            sock.close()
            if head.startswith(b"HTTP/1.1 200"):
                break
            assert time.monotonic() < deadline, "watch slots stayed taken after their clients left"
            time.sleep(0.2)

        for sig in (signal.SIGUSR1, signal.SIGUSR2):
            agent.proc.send_signal(sig)
        time.sleep(0.5)
        assert agent.proc.poll() is None, "a stray signal stopped the agent"
        assert "ignoring it" in agent.read_log()
    finally:
        assert agent.stop() == 0


def test_sigterm_while_loading(workdir):
    """SIGTERM before the loop runs (while the samplers load) still stops cleanly."""
    for delay in (0.0, 0.05, 0.15):
        agent = Agent(workdir, base_config(workdir, workdir, ""))
        # The agent blocks the signal before it logs that it is starting.
        deadline = time.monotonic() + 10
        while " starting: " not in agent.read_log():
            assert agent.proc.poll() is None, agent.read_log()
            assert time.monotonic() < deadline, agent.read_log()
            time.sleep(0.001)
        time.sleep(delay)
        agent.proc.send_signal(signal.SIGTERM)
        code = agent.proc.wait(timeout=10)
        log = agent.read_log()
        agent.log.close()
        assert code == 0, f"SIGTERM {delay}s after start: exit {code}\n{log}"
        assert "agent: SIGTERM received; stopping" in log, log
        assert not os.path.exists(agent.socket), f"SIGTERM {delay}s after start left the socket file"


def test_cli_commands(workdir):
    """Every client command works against a running agent, in both output formats."""
    agent = Agent(workdir, base_config(workdir, workdir, ""))
    try:
        agent.wait_ready()
        for command, expect in (("status", "KernelMemoryPressure"), ("conditions", "KernelPIDPressure"),
                                ("signals", "memory.available"), ("taints", "no taints"),
                                ("events", "TIME")):
            result = subprocess.run([NODECOND, command, "--socket", agent.socket],
                                    capture_output=True, text=True, timeout=10)
            assert result.returncode == 0, (command, result)
            assert expect in result.stdout, (command, result.stdout)
            result = subprocess.run([NODECOND, command, "-o", "json", "--socket", agent.socket],
                                    capture_output=True, text=True, timeout=10)
            assert result.returncode == 0, (command, result)
            json.loads(result.stdout)
            result = subprocess.run([NODECOND, command, "--help"], capture_output=True, text=True, timeout=10)
            assert result.returncode == 0, (command, result)
            assert "Usage:" in result.stdout, (command, result)
        for command in ("run", "watch", "tolerates", "version", "record", "replay"):
            result = subprocess.run([NODECOND, command, "--help"], capture_output=True, text=True, timeout=10)
            assert result.returncode == 0, (command, result)
            assert "Usage:" in result.stdout, (command, result)
        result = subprocess.run([NODECOND, "version"], capture_output=True, text=True, timeout=10)
        assert result.returncode == 0, result
        assert "libbpf" in result.stdout, result
        result = subprocess.run([NODECOND, "status", "-o", "yaml", "--socket", agent.socket],
                                capture_output=True, text=True, timeout=10)
        assert result.returncode == 2, result
        assert "yaml" in result.stderr, result
        result = subprocess.run([NODECOND, "frobnicate"], capture_output=True, text=True, timeout=10)
        assert result.returncode == 2, result
    finally:
        agent.stop()


def test_metrics(workdir):
    """The socket and the optional TCP address serve Prometheus text that promtool accepts."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = base_config(workdir, workdir, "") + f"metrics:\n  address: 127.0.0.1:{port}\n  bpfRunStats: true\n"
    agent = Agent(workdir, config)
    try:
        agent.wait_ready()
        time.sleep(0.5)
        status, body = get(agent.socket, "/metrics")
        assert status == 200, status
        for name in ("nodecond_condition_status{kind=\"MemoryPressure\"", "nodecond_memory_available_bytes",
                     "nodecond_pid_available", "nodecond_signal_observed", "nodecond_bpf_sampler_loaded",
                     "nodecond_socket_requests_total", "nodecond_bpf_disk_untimed_requests_total",
                     "process_resident_memory_bytes"):
            assert name in body, f"{name} missing from /metrics"
        # The family's HELP line names it too, so look for the sample itself.
        untimed = [l for l in body.splitlines() if l.startswith("nodecond_bpf_disk_untimed_requests_total ")]
        assert len(untimed) == 1, f"expected one untimed request count: {untimed}"
        assert untimed[0].split()[-1].isdigit(), f"untimed request count is not an integer: {untimed[0]}"
        assert "nodecond_bpf_run_stats_available 1" in body, "BPF run statistics were not enabled"
        subprocess.run(["true"], check=True)  # at least one fork for the fork program to count
        status, body = get(agent.socket, "/metrics")
        runs = [l for l in body.splitlines() if l.startswith("nodecond_bpf_program_runs_total{")]
        assert runs, "no per-program run counts"
        assert any(float(l.split()[-1]) > 0 for l in runs), runs
        promtool = shutil.which("promtool")
        if promtool:
            result = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True, text=True)
            assert result.returncode == 0, result.stdout + result.stderr
        else:
            print("  promtool not installed (apt-get install prometheus): lint skipped")

        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/metrics")
        resp = conn.getresponse()
        tcp_body = resp.read().decode()
        assert resp.status == 200, resp.status
        assert "nodecond_ticks_total" in tcp_body, resp.status
        conn.request("GET", "/v1/status")
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 404, "the TCP address must serve metrics only"
        conn.close()
    finally:
        agent.stop()


def test_systemd_notify_and_journal(workdir):
    """READY, STATUS, WATCHDOG and STOPPING reach NOTIFY_SOCKET; JOURNAL_STREAM adds priorities."""
    notify_path = os.path.join(workdir, "notify.sock")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    notify.settimeout(5)
    env = dict(os.environ, NOTIFY_SOCKET=notify_path, WATCHDOG_USEC="400000", JOURNAL_STREAM="8:12345")
    with open(os.path.join(workdir, "config.yaml"), "w") as f:
        f.write(base_config(workdir, workdir, ""))
    log = open(os.path.join(workdir, "agent.log"), "w")
    proc = subprocess.Popen([NODECOND, "run", "--config", os.path.join(workdir, "config.yaml"),
                             "--socket", os.path.join(workdir, "nodecond.sock")],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    messages = []
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and sum("WATCHDOG=1" in m for m in messages) < 2:
            messages.append(notify.recv(4096).decode())
        assert any(m == "READY=1" for m in messages), messages
        assert any(m.startswith("STATUS=") and "KernelMemoryPressure=" in m for m in messages), messages
        assert sum("WATCHDOG=1" in m for m in messages) >= 2, messages
        proc.send_signal(signal.SIGHUP)
        reload_messages = [notify.recv(4096).decode() for _ in range(2)]
        assert "RELOADING=1" in reload_messages, reload_messages
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        rest = []
        notify.settimeout(0.5)
        try:
            while True:
                rest.append(notify.recv(4096).decode())
        except socket.timeout:
            pass
        assert "STOPPING=1" in rest, rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
        notify.close()
    with open(os.path.join(workdir, "agent.log")) as f:
        lines = f.read().splitlines()
    assert lines and all(l.startswith("<") and l[1].isdigit() and l[2] == ">" for l in lines), lines[:5]
    assert any(l.startswith("<6>") for l in lines), lines[:5]


def test_valgrind_clean(workdir):
    """A run under memcheck, with requests of every kind, a reload and a stop, has no errors or leaks."""
    if shutil.which("valgrind") is None:
        raise SkipTest("valgrind is missing: apt-get install valgrind")
    suppressions = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "valgrind.supp")
    wrapper = ["valgrind", "--error-exitcode=99", "--leak-check=full", "--show-leak-kinds=definite,indirect",
               "--errors-for-leak-kinds=definite,indirect", f"--suppressions={suppressions}",
               f"--log-file={workdir}/valgrind.log"]
    agent = Agent(workdir, base_config(workdir, workdir, ""), wrapper=wrapper)
    try:
        agent.wait_ready(timeout=60)
        for path in ("/v1/status", "/v1/conditions", "/v1/signals", "/v1/taints", "/v1/events", "/metrics",
                     "/readyz", "/v1/nothing"):
            get(agent.socket, path)
        post(agent.socket, "/v1/tolerations", '{"spec": {"tolerations": [{"operator": "Exists"}]}}')
        post(agent.socket, "/v1/tolerations", '{"spec": {"tolerations": [{"operator": "Equal"}]}}')
        post(agent.socket, "/v1/tolerations", "{not json")
        watcher = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        watcher.connect(agent.socket)
        watcher.sendall(b"GET /v1/watch HTTP/1.1\r\nHost: localhost\r\n\r\n")
        agent.proc.send_signal(signal.SIGHUP)
        time.sleep(2)
        watcher.close()
    finally:
        code = agent.stop()
    with open(f"{workdir}/valgrind.log") as f:
        report = f.read()
    assert code == 0, f"valgrind reported errors (exit {code}):\n{report[-4000:]}"
    assert "ERROR SUMMARY: 0 errors" in report, report[-4000:]


class SkipTest(Exception):
    pass


def main():
    global NODECOND
    if len(sys.argv) < 2:
        print("usage: test_local_mode.py BUILD/nodecond [TEST_NAME...]", file=sys.stderr)
        return 2
    NODECOND = os.path.abspath(sys.argv[1])
    tests = [test_pid_pressure, test_disk_pressure, test_without_bpf_permission, test_socket_requests,
             test_socket_file_stale_and_live, test_state_file_protected, test_invalid_config_exit_code,
             test_reload_keeps_old_config_when_invalid, test_restart_keeps_transition_time,
             test_taints_and_tolerations, test_watch_streams_transitions, test_record_then_replay,
             test_record_rotation_and_bad_lines, test_tolerates_given_taints, test_watch_slots_freed_and_stray_signals, test_cli_commands, test_metrics,
             test_systemd_notify_and_journal, test_valgrind_clean, test_sigterm_while_loading]
    if len(sys.argv) > 2:
        tests = [t for t in tests if t.__name__ in sys.argv[2:]]
    passed = failed = skipped = 0
    if os.geteuid() != 0:
        print(f"e2e: skipped {len(tests)} tests: they need root (tmpfs mounts, BPF)")
        print(f"e2e: 0 passed, 0 failed, {len(tests)} skipped")
        return 0
    for test in tests:
        workdir = tempfile.mkdtemp(prefix="nodecond-e2e-")
        print(f"e2e: {test.__name__}")
        try:
            test(workdir)
            passed += 1
            print(f"  ok")
        except SkipTest as e:
            skipped += 1
            print(f"  skipped: {e}")
        except Exception:
            failed += 1
            print("  FAILED")
            traceback.print_exc()
            log = os.path.join(workdir, "agent.log")
            if os.path.exists(log):
                print("  agent log:")
                with open(log) as f:
                    print("".join("    " + line for line in f.readlines()[-40:]))
        finally:
            subprocess.run(["umount", os.path.join(workdir, "nodefs")], stderr=subprocess.DEVNULL, check=False)
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"e2e: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
