#!/usr/bin/python3
"""Replays each hand-written history in this directory with pid.yaml and
compares the transitions with NAME.expected.

An expected file lists one transition per line: time, kind, from, to, reason
and the taints after it (comma-separated key:effect, "-" for none). A file
whose one line starts with "exit N: " expects that exit code and that text in
the error output instead. Usage: run.py BUILD/nodecond
"""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def describe(transition):
    taints = ",".join(f"{t['key']}:{t['effect']}" for t in transition["taints"]) or "-"
    return " ".join([transition["time"], transition["kind"], transition["from"], transition["to"],
                     transition["reason"], taints])


def check(nodecond, name):
    with open(os.path.join(HERE, name + ".expected")) as f:
        expected = f.read().splitlines()
    result = subprocess.run([nodecond, "replay", "--config", "pid.yaml", "-o", "json", name + ".ndjson"],
                            cwd=HERE, capture_output=True, text=True, timeout=30)
    if expected and expected[0].startswith("exit "):
        code, message = expected[0][len("exit "):].split(": ", 1)
        assert result.returncode == int(code), f"exit code {result.returncode}, expected {code}: {result.stderr}"
        assert message in result.stderr, f"expected \"{message}\" in: {result.stderr}"
        return
    assert result.returncode == 0, result.stderr
    got = [describe(json.loads(line)) for line in result.stdout.splitlines()]
    assert got == expected, "transitions differ:\n  got:      " + "\n            ".join(got) + \
        "\n  expected: " + "\n            ".join(expected)


def main():
    nodecond = os.path.abspath(sys.argv[1])
    names = sorted(f[:-len(".ndjson")] for f in os.listdir(HERE) if f.endswith(".ndjson"))
    passed = failed = 0
    for name in names:
        print(f"replay: {name}")
        try:
            check(nodecond, name)
            passed += 1
            print("  ok")
        except AssertionError as e:
            failed += 1
            print(f"  FAILED: {e}")
    print(f"replay: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
