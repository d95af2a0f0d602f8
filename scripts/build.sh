#!/bin/sh
# Configures and builds densc in _build/ (out of tree). Extra arguments go to configure.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ -x configure ] && [ configure -nt configure.ac ] && [ configure -nt Makefile.am ] || autoreconf -fi >/dev/null
mkdir -p _build
cd _build
if [ ! -f Makefile ] || [ "$*" != "$(cat .configure-args 2>/dev/null)" ]; then
  ../configure -q "$@"
  echo "$*" > .configure-args
fi
make -s -j"$(nproc)"
