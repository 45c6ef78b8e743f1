#!/usr/bin/env bash
# Installs what Glint needs to build and run (Debian 12 packages). Run as root
# (or with sudo available). Skips apt when everything is already installed.
set -euo pipefail
PACKAGES=(build-essential cmake pkg-config ccache git procps
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libgoogle-glog-dev libgtest-dev libgmock-dev libmsgpack-cxx-dev
  libboost-dev libbenchmark-dev nlohmann-json3-dev libsqlite3-dev libssl-dev openssl
  libhiredis-dev redis-server iproute2 libcli11-dev libarchive-dev
  # The deploy tests: systemd-analyze for the units, a YAML reader for the manifests.
  systemd python3-yaml
  # The dashboard's browser test: a real headless browser; the metrics
  # test reads the text with Prometheus' own parser.
  chromium python3-prometheus-client)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
