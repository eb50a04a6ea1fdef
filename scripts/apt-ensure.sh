#!/usr/bin/env bash
# Install Debian packages with apt-get, as root or through sudo, when a check says they are
# missing. Used by ensure-chromium.sh and ensure-java.sh (the Makefile's `browser` and `java`).
#
#   scripts/apt-ensure.sh NAME 'CHECK COMMAND' PACKAGE...
#
# Does nothing when CHECK COMMAND succeeds. Otherwise installs PACKAGE... and runs the check
# again; exits 1 with the apt-get command to run by hand when it cannot install.
set -euo pipefail

name=$1 check=$2
shift 2

if bash -c "$check" >/dev/null 2>&1; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "$name: $* missing and we are not root (no sudo)." >&2
    echo "$name: install it with: apt-get install -y $*" >&2
    exit 1
fi

echo "$name: installing Debian's $*..." >&2
export DEBIAN_FRONTEND=noninteractive
# some packages' post-install scripts (Java's) need the man page folder, which slim images drop
$SUDO mkdir -p /usr/share/man/man1
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null

if ! bash -c "$check" >/dev/null 2>&1; then
    echo "$name: apt-get finished but the check still fails: $check" >&2
    exit 1
fi
