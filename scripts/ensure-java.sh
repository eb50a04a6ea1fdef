#!/usr/bin/env bash
# Make sure Java 17 is installed for the Spark engine (JOINEDUP_ENGINE=spark): Debian's
# openjdk-17-jre-headless at /usr/lib/jvm/java-17-openjdk-*. Does nothing when it is there.
# joinedup's Spark session runs on this Java 17 whatever `java` on the PATH is (store/spark.py).
set -euo pipefail
cd "$(dirname "$0")"
./apt-ensure.sh ensure-java 'compgen -G "/usr/lib/jvm/java-17-openjdk-*/bin/java"' openjdk-17-jre-headless
