#!/usr/bin/python3
"""Benchmark: API requests per hour of one agent at steady state with no changes.

Starts the test API server and `nodecond run --no-bpf` with the default
heartbeat (5m), Lease (40s) and resync (12h), waits out the start-up
requests, then counts every request for DURATION seconds and scales the
count to one hour. Usage: kube_requests.py BUILD/nodecond [DURATION_S]
"""

import collections
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import test_agent_api as it  # noqa: E402

WARMUP_S = 15


def main():
    it.NODECOND = os.path.abspath(sys.argv[1])
    duration = float(sys.argv[2]) if len(sys.argv) > 2 else 600
    pki = tempfile.mkdtemp(prefix="nodecond-bench-pki-")
    workdir = tempfile.mkdtemp(prefix="nodecond-bench-")
    try:
        it.PKI = it.apiserver.make_pki(pki)
        api = it.make_api(workdir)
        agent = it.Agent(workdir, api, heartbeat="5m").start()
        try:
            time.sleep(WARMUP_S)
            start = len(api.log)
            t0 = time.monotonic()
            time.sleep(duration)
            elapsed = time.monotonic() - t0
            window = api.log[start:]
        finally:
            agent.stop()
            api.stop()
    finally:
        shutil.rmtree(pki, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)

    kinds = collections.Counter()
    for r in window:
        watch = r["query"].get("watch") == "true"
        kinds[f"{r['method']} {'watch' if watch else r['path']}"] += 1
    print(f"measured {elapsed:.0f}s after a {WARMUP_S}s warm-up; requests per hour per node:")
    for kind, n in sorted(kinds.items()):
        print(f"  {n * 3600 / elapsed:8.1f}  {kind}  ({n} seen)")
    print(f"  {len(window) * 3600 / elapsed:8.1f}  total")


if __name__ == "__main__":
    sys.exit(main())
