#!/usr/bin/env bash
# run.sh - installs what feedd needs (Debian 12), builds it and runs the whole
# test suite with ctest.  This is the README's test command and CI's.
#   BUILD_DIR=dir            build directory (default: build)
#   FEEDD_CMAKE_ARGS="..."   extra cmake arguments (CI: -DFEEDD_SANITIZE=ON)
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/deps.sh
feedd_install_deps
build=${BUILD_DIR:-build}
# shellcheck disable=SC2086
feedd_build "$build" ${FEEDD_CMAKE_ARGS:-}
ctest --test-dir "$build" --output-on-failure -j2
