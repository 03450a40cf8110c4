#!/bin/bash
# Runs the integration tests: the agent against the test API server.
# Debian's interpreter is called by path because python3-kubernetes installs
# for it only; a python3 earlier on PATH (pyenv) does not see the models.
# Usage: tests/integration/run.sh BUILD/nodecond [TEST_NAME...]
here=$(dirname "$0")
if ! /usr/bin/python3 -c 'import kubernetes' 2>/dev/null; then
	echo "integration: skipped: /usr/bin/python3 cannot import kubernetes; install python3-kubernetes (make deps)"
	echo "integration: 0 passed, 0 failed, 1 skipped"
	exit 0
fi
exec /usr/bin/python3 "$here/test_agent_api.py" "$@"
