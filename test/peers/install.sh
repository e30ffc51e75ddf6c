#!/usr/bin/env bash
# Installs every Debian peer the test suites use (test/peers/packages.txt). Needs root.
# Peers that must not be installed (tftpd-hpa fights with atftpd) are extracted by their suites instead.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mapfile -t packages < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/packages.txt")
if [ "$(id -u)" -ne 0 ]; then
  echo "npm run peers: run as root (it uses apt-get)" >&2
  exit 1
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "peers: all ${#packages[@]} packages already installed"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "peers: installed ${missing[*]}"
