# tests/setup.sh — sourced by the shell test drivers: strict mode, paths, a temp dir.
set -eu
export LC_ALL=C
: "${top_srcdir:?run through make check}"
: "${top_builddir:?run through make check}"
DENSC="$top_builddir/densc"
TMPD=$(mktemp -d "${TMPDIR:-/tmp}/densc-test.XXXXXX")
trap 'rm -rf "$TMPD"' EXIT
