#!/usr/bin/env bash
# Make sure Debian's Chromium is here for the console's browser tests (Playwright drives it
# through executable_path; it downloads no browser of its own). Nothing is started here.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "Chromium is not installed; run as root or: apt-get install chromium" >&2
    exit 1
fi
echo "installing Chromium (Debian package) for the browser tests" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
