#!/bin/bash
# Runs the end-to-end tests against the given nodecond binary.
# The interpreter is Debian's, called by path: a python3 earlier on PATH
# (pyenv, a virtualenv) may lack nothing we use, but CI pins one interpreter.
exec /usr/bin/python3 "$(dirname "$0")/test_local_mode.py" "$@"
