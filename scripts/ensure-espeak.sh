#!/usr/bin/env bash
# espeak-ng (Debian's package) for the sandbox's text-to-speech: real speech from the TTS
# models on test keys. Without it the sandbox falls back to a synthetic voice, so `make run`
# needs nothing; the tests want the real one. Nothing is started here.
set -euo pipefail
if command -v espeak-ng >/dev/null; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "espeak-ng is not installed; run as root or: apt-get install espeak-ng" >&2
    exit 1
fi
echo "installing espeak-ng (Debian package) for the sandbox's speech" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends espeak-ng >/dev/null
