#!/usr/bin/env bash
# Builds labkit's images on the local Docker engine without any image registry:
#   base      Debian bookworm from Debian's packages (debootstrap), imported as labkit-base:bookworm
#   standins  labkit-standin-postgres and labkit-standin-redis: Debian's PostgreSQL and Redis behind the
#             official postgres/redis images' interface (same variables, ports, entrypoint and readiness)
#   sandbox   labkit-sandbox: where `labkit grade --sandbox docker` runs learner programs (Python only, small)
#   sandbox-polyglot  labkit-sandbox-polyglot: labkit-sandbox plus Debian's C/C++, Go, Rust, Node.js and Java
#             toolchains, for `labkit grade --sandbox polyglot` (about 2 GB; needs sandbox first)
#   grader    labkit-grader: the whole kit, for `docker run ... labkit grade LAB --impl /submission`
# Usage: docker/build-images.sh [base] [standins] [sandbox] [grader]   (no argument: base standins sandbox)
# Every step is skipped or served from the build cache when its inputs did not change.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
kit="$(dirname "$here")"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(base standins sandbox)
BASE_IMAGE=labkit-base:bookworm

say() { printf '== docker/build-images: %s\n' "$*"; }

build_base() {
  # Re-importing a fresh debootstrap would change the base's id and invalidate every cached layer above it,
  # so an existing base is kept; `docker image rm labkit-base:bookworm` forces a rebuild.
  if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    say "$BASE_IMAGE exists, kept"
    return
  fi
  command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }
  local root
  root="$(mktemp -d /tmp/labkit-base.XXXXXX)"
  say "debootstrap bookworm (minbase) into $root"
  debootstrap --variant=minbase bookworm "$root" >"$root.log" 2>&1 || { tail -20 "$root.log"; exit 1; }
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker import \
    -c 'ENV LANG=C.UTF-8' -c 'CMD ["/bin/bash"]' \
    -c 'LABEL org.opencontainers.image.title="labkit base: Debian bookworm from debootstrap"' \
    - "$BASE_IMAGE" >/dev/null
  rm -rf "$root" "$root.log"
  say "imported $BASE_IMAGE"
}

build() {  # build TAG CONTEXT_DIR
  say "building $1"
  docker build -q -t "$1" "$2" >/dev/null
}

# Python packages are downloaded here, by the host's pip with the host's configuration, and installed in the image
# from files with --no-index: a build needs no route to a package index, and nothing of the host's pip setup
# (index, certificates) ends up in an image.
build_with_wheels() {  # build_with_wheels TAG SOURCE_DIR PIP_DOWNLOAD_ARGS...
  local tag="$1" source="$2" context
  shift 2
  context="$(mktemp -d /tmp/labkit-build.XXXXXX)"
  cp -r "$source/." "$context/"
  mkdir -p "$context/wheels"
  say "downloading wheels for $tag"
  "${PYTHON:-python3}" -m pip download -q --disable-pip-version-check -d "$context/wheels" "$@"
  say "building $tag"
  docker build -q -t "$tag" "$context" >/dev/null || { rm -rf "$context"; return 1; }
  rm -rf "$context"
}

build_grader() {
  # The context is the kit's sources (never the developer's .venv or caches) and wheels of its dependencies.
  local context
  context="$(mktemp -d /tmp/labkit-build.XXXXXX)"
  (cd "$kit" && tar -c --exclude='__pycache__' --exclude='*.pyc' --exclude='*.egg-info' --exclude='build' \
      pyproject.toml README.md LICENSE graders labs solutions) | tar -C "$context" -x
  cp "$here/grader/Dockerfile" "$context/Dockerfile"
  say "downloading wheels for labkit-grader:latest"
  # async-timeout: redis needs it on the image's Python 3.11.2, a marker a newer host Python skips.
  "${PYTHON:-python3}" -m pip wheel -q --disable-pip-version-check -w "$context/wheels" "$kit" 'async-timeout>=4.0.3'
  say "building labkit-grader:latest"
  docker build -q -t labkit-grader:latest "$context" >/dev/null || { rm -rf "$context"; return 1; }
  rm -rf "$context"
}

for target in "${targets[@]}"; do
  case "$target" in
    base) build_base ;;
    standins)
      build labkit-standin-postgres:latest "$here/standins/postgres"
      build labkit-standin-redis:latest "$here/standins/redis" ;;
    sandbox) build_with_wheels labkit-sandbox:latest "$here/sandbox" -r "$here/sandbox/requirements.txt" ;;
    sandbox-polyglot) build labkit-sandbox-polyglot:latest "$here/sandbox-polyglot" ;;
    grader) build_grader ;;
    *) echo "unknown target $target (base, standins, sandbox, sandbox-polyglot, grader)" >&2; exit 2 ;;
  esac
done
