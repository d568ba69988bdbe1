#!/usr/bin/env bash
# The official Node SDKs (openai, @anthropic-ai/sdk) for the tests that drive mediagate from
# Node, installed from tests/node/package-lock.json (`npm ci`), once per lockfile. Node.js
# itself is the machine's (Debian's nodejs package where it is missing).
set -euo pipefail
cd "$(dirname "$0")/../tests/node"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    if [ "$(id -u)" != 0 ]; then
        echo "Node.js is not installed; run as root or: apt-get install nodejs npm" >&2
        exit 1
    fi
    echo "installing Node.js (Debian package) for the Node SDK tests" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
stamp="node_modules/.installed-$(cksum < package-lock.json | cut -d' ' -f1)"
if [ ! -e "$stamp" ]; then
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
    touch "$stamp"
fi
