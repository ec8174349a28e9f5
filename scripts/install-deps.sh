#!/usr/bin/env bash
# Installs the Debian 12 packages approvald needs to build, test and run.
# Safe to run repeatedly: it only calls apt-get when something is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsqlite3-dev sqlite3
  libyaml-cpp-dev
  libspdlog-dev libfmt-dev
  libcli11-dev
  libssl-dev openssl
  libargon2-dev
  libmimalloc-dev
  libgtest-dev libgmock-dev googletest
  libbenchmark-dev
  nodejs npm
  chromium fonts-wqy-microhei
  curl
)

# `install-deps.sh --fuzz` (what `make fuzz` runs) adds clang 19 with
# libFuzzer and the sanitizer runtimes: Debian's default clang 14 cannot
# compile libstdc++ 12's <expected>. Only the fuzz targets need it.
# `install-deps.sh --bench` (what `make bench` runs) adds wrk, the second
# load client of bench/run-api-bench.sh.
for arg in "$@"; do
  [[ "$arg" == --fuzz ]] && PACKAGES+=(clang-19 libclang-rt-19-dev)
  [[ "$arg" == --bench ]] && PACKAGES+=(wrk)
done

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js may come from outside Debian's packages (a newer build on PATH); accept it.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
