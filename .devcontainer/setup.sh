#!/usr/bin/env bash
# Runs once when the dev container is created (postCreateCommand), from the checkout's root: labkit in .venv
# (on PATH through remoteEnv), and psql for `labkit services up` when the image lacks it. Safe to run again.
set -euo pipefail

python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -e .

if ! command -v psql >/dev/null && command -v apt-get >/dev/null; then
    sudo=""
    if [ "$(id -u)" != 0 ]; then sudo="sudo -n"; fi
    # Only a convenience: the playground says how to connect without it.
    { $sudo apt-get update -qq && $sudo apt-get install -y -qq postgresql-client; } >/dev/null 2>&1 \
        || echo "psql not installed; labkit services up will print how to connect instead"
fi

.venv/bin/labkit list
echo "Ready: try 'labkit grade tcp-kv --impl solutions/tcp-kv', then 'labkit watch tcp-kv' and edit labs/tcp-kv/server.py"
