#!/usr/bin/env bash
# Installs what lft needs on a fresh Debian machine that has Node.js and npm: the npm packages (Bun,
# TypeScript and Biome as dev dependencies, the runtime libraries), OpenBLAS (apt, when missing and we
# are root), then builds the C kernels in ffi/cpu. Idempotent and quiet when everything is in place.
# npm ci installs exactly package-lock.json and never rewrites it, so set-up changes no tracked file.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x node_modules/.bin/bun ] || [ ! -x node_modules/.bin/biome ] || [ package.json -nt node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages from package-lock.json (Bun, TypeScript, Biome, tinybench; runtime: neverthrow, chevrotain, yaml, ...)"
  if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  else
    npm install --no-audit --no-fund --loglevel=error
  fi
fi

if [ ! -f /usr/include/x86_64-linux-gnu/openblas-pthread/cblas.h ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "setup: installing libopenblas-dev with apt"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q libopenblas-dev >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q libopenblas-dev >/dev/null; }
  else
    echo "setup: OpenBLAS headers are missing; install Debian's libopenblas-dev (as root: apt-get install libopenblas-dev)" >&2
    exit 1
  fi
fi

# The test suite drives the REPL through a real terminal with tmux (skipped, with the reason, without it).
if [ "${1:-}" = "--test" ] && ! command -v tmux >/dev/null; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "setup: installing tmux with apt (for the REPL terminal test)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q tmux >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q tmux >/dev/null; } || echo "setup: tmux could not be installed; the REPL terminal test will be skipped" >&2
  fi
fi

# The board's browser test drives headless Chromium through playwright-core (skipped, with the reason, without it).
if [ "${1:-}" = "--test" ] && ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "setup: installing chromium with apt (for the board's browser test)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; } || echo "setup: chromium could not be installed; the board's browser test will be skipped" >&2
  fi
fi

# Data parallelism over MPI: OpenMPI's mpirun and mpicc (the MPI tests are skipped, with the reason, without them).
if [ "${1:-}" = "--test" ] && ! command -v mpicc >/dev/null; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "setup: installing openmpi-bin and libopenmpi-dev with apt (for the data-parallel tests)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q openmpi-bin libopenmpi-dev >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q openmpi-bin libopenmpi-dev >/dev/null; } || echo "setup: OpenMPI could not be installed; the MPI tests will be skipped" >&2
  fi
fi

make --no-print-directory -s ffi
# The MPI shim (ffi/mpi/build/liblft_mpi.so) when OpenMPI's compiler is here; lft launch says how to get it otherwise.
if command -v mpicc >/dev/null; then make --no-print-directory -s mpi; fi
