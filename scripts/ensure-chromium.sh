#!/usr/bin/env bash
# Make sure Debian's chromium is installed at /usr/bin/chromium (used by the browser tests).
# Does nothing when it is already there; never runs `playwright install`.
set -euo pipefail
cd "$(dirname "$0")"
./apt-ensure.sh ensure-chromium 'test -x /usr/bin/chromium' chromium
