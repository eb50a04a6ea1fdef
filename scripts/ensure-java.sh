#!/usr/bin/env bash
# Make sure Java 17 is installed for the Spark engine (JOINEDUP_ENGINE=spark): Debian's
# openjdk-17-jre-headless at /usr/lib/jvm/java-17-openjdk-*. Does nothing when it is there.
# joinedup's Spark session runs on this Java 17 whatever `java` on the PATH is (store/spark.py).
set -euo pipefail

if compgen -G "/usr/lib/jvm/java-17-openjdk-*/bin/java" >/dev/null; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "ensure-java: Java 17 is missing and we are not root (no sudo)." >&2
    echo "ensure-java: install it with: apt-get install -y openjdk-17-jre-headless" >&2
    exit 1
fi

echo "ensure-java: installing Debian's openjdk-17-jre-headless..." >&2
export DEBIAN_FRONTEND=noninteractive
# the package's post-install script needs the man page folder, which slim images drop
$SUDO mkdir -p /usr/share/man/man1
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null

if ! compgen -G "/usr/lib/jvm/java-17-openjdk-*/bin/java" >/dev/null; then
    echo "ensure-java: apt-get finished but no /usr/lib/jvm/java-17-openjdk-*/bin/java." >&2
    exit 1
fi
echo "ensure-java: $(/usr/lib/jvm/java-17-openjdk-*/bin/java -version 2>&1 | head -1)" >&2
