#!/bin/sh
# Configures and builds densc in _build/ (out of tree; $BUILD_DIR overrides). Extra
# arguments go to configure.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ -x configure ] && [ configure -nt configure.ac ] && [ configure -nt Makefile.am ] || autoreconf -fi >/dev/null
build=${BUILD_DIR:-_build}
mkdir -p "$build"
cd "$build"
src=$top
if [ ! -f Makefile ] || [ "$*" != "$(cat .configure-args 2>/dev/null)" ]; then
  "$src/configure" -q "$@"
  echo "$*" > .configure-args
fi
make -s -j"$(nproc)"
