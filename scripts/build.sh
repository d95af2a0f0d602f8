#!/bin/sh
# Configures and builds densc in _build/ (out of tree; $BUILD_DIR overrides). Extra
# arguments go to configure.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
regen=
if ! { [ -x configure ] && [ configure -nt configure.ac ] && [ configure -nt Makefile.am ]; }; then
  regen=1
  # its warnings are shown; the notes on copying build-aux/ files are not
  log=$(mktemp)
  autoreconf -fi 2> "$log" >/dev/null || { cat "$log" >&2; rm -f "$log"; exit 1; }
  grep -v ": installing '" "$log" >&2 || true
  rm -f "$log"
fi
build=${BUILD_DIR:-_build}
mkdir -p "$build"
cd "$build"
src=$top
# configure again (quietly) after autoreconf, or make would, verbosely
if [ -n "$regen" ] || [ ! -f Makefile ] || [ "$*" != "$(cat .configure-args 2>/dev/null)" ]; then
  "$src/configure" -q "$@"
  echo "$*" > .configure-args
fi
make -s -j"$(nproc)"
