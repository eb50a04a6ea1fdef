#!/usr/bin/env bash
# Make sure Debian's chromium is installed at /usr/bin/chromium (used by the browser tests).
# Does nothing when it is already there; never runs `playwright install`.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "ensure-chromium: /usr/bin/chromium is missing and we are not root (no sudo)." >&2
    echo "ensure-chromium: install it with: apt-get install -y chromium" >&2
    exit 1
fi

echo "ensure-chromium: installing Debian's chromium package..." >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null

if [ ! -x /usr/bin/chromium ]; then
    echo "ensure-chromium: apt-get finished but /usr/bin/chromium is still missing." >&2
    exit 1
fi
echo "ensure-chromium: $(/usr/bin/chromium --version 2>/dev/null || echo chromium installed)" >&2
