#!/usr/bin/env bash
# Make sure PostgreSQL's server binaries are on this machine (Debian's package), for the tests
# and benchmarks that start a throwaway cluster of their own. Nothing is started here.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "PostgreSQL is not installed; run as root or: apt-get install postgresql" >&2
    exit 1
fi
echo "installing PostgreSQL (Debian package) for the tests" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql >/dev/null
