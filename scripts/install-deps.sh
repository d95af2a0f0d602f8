#!/bin/sh
# Installs the Debian packages densc needs to build, test and run (as root, or with sudo).
# Non-interactive; says what it installs and lets apt's lines through, so a long install
# on a fresh machine is visibly progressing.
set -eu
#   build:   build-essential autoconf automake libtool pkg-config flex bison help2man
#   libs:    libgsl-dev libcfitsio-dev zlib1g-dev liblbfgsb-dev (brings gfortran's runtime)
#            libplplot-dev plplot-driver-cairo (figures: PNG, PDF and SVG through cairo)
#   tests:   check valgrind (scripts/valgrind.sh) git (.ci/run builds a fresh clone)
PKGS="build-essential autoconf automake libtool pkg-config flex bison help2man
      libgsl-dev libcfitsio-dev zlib1g-dev liblbfgsb-dev libplplot-dev plplot-driver-cairo
      check valgrind git"
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
missing=
n=0
for p in $PKGS; do
  n=$((n + 1))
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
  echo "install-deps: all $n Debian packages are installed"
  exit 0
fi
echo "install-deps: installing$missing"
echo "install-deps: apt-get update"
$SUDO apt-get update -q
echo "install-deps: apt-get install (may take several minutes on a fresh machine)"
# -q: one line per step (no animated bar); the dpkg lines (Unpacking, Setting up) stay;
# another apt running (unattended upgrades) is waited for rather than failed on
# (env after sudo: sudo would drop DEBIAN_FRONTEND from the environment)
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  -o Dpkg::Progress-Fancy=0 -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=600 $missing
echo "install-deps: done"
