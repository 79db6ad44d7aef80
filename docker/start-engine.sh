#!/usr/bin/env bash
# Makes a Docker engine answer on this machine: installs Debian's docker.io (and debootstrap, for the base image)
# when missing, starts dockerd in the background when nothing answers, and waits for it. Exit 0 when `docker info`
# works; otherwise prints why and exits 1 (callers decide whether that is fatal). Needs root for the install.
set -uo pipefail
log=${DOCKERD_LOG:-/var/log/labkit-dockerd.log}

answers() { timeout 10 docker info >/dev/null 2>&1; }

if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; then
  echo "== docker/start-engine: installing docker.io and debootstrap from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq -o Acquire::Retries=3 docker.io debootstrap >/dev/null || {
    echo "== docker/start-engine: apt-get install docker.io debootstrap failed" >&2
    exit 1
  }
fi
if answers; then
  echo "== docker/start-engine: an engine already answers"
  exit 0
fi
echo "== docker/start-engine: starting dockerd (log: $log)"
mkdir -p "$(dirname "$log")"
nohup dockerd >>"$log" 2>&1 &
for _ in $(seq 1 60); do
  answers && { echo "== docker/start-engine: engine ready"; exit 0; }
  sleep 1
done
echo "== docker/start-engine: dockerd did not answer within 60 s; last lines of its log:" >&2
tail -n 20 "$log" >&2
exit 1
