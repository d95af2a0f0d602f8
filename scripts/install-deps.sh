#!/bin/sh
# Installs the Debian packages densc needs to build, test and run (as root, or with sudo).
set -eu
PKGS="build-essential autoconf automake libtool pkg-config flex bison check
      libgsl-dev libcfitsio-dev zlib1g-dev liblbfgsb-dev libpng-dev valgrind"
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
missing=
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing:$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
