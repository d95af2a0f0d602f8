#!/bin/sh
# Simulation-based calibration (Talts et al. 2018, arXiv:1804.06788) of the sampler.
#
# For r = 1..R: draw the parameters of tests/sbc/sbc.dens from its prior, simulate the
# Poisson process on its window, sample the posterior (1 chain, seed r), thin the draws
# to L = 99 and rank each true value among them.  If the sampler draws from the
# posterior the ranks are uniform on 0..L; a chi-square test on 10 bins per parameter
# checks that.  Exit 0: every p-value >= 0.001; 1: one is below (or more than 5% of the
# replications failed); 2: the setup failed (compile, simulation).
#
#   sh scripts/sbc.sh
#
# Environment:
#   DENSC           the compiler (default _build/densc in the repository)
#   PYTHON          a python3 with numpy and scipy (default /usr/bin/python3)
#   SBC_REPS        replications R (default 200)
#   SBC_WARMUP      warmup iterations per run (default 1000)
#   SBC_DRAWS       draws per run (default 1000; thinned to 99)
#   SBC_SEED_BASE   replication r uses seed SBC_SEED_BASE + r (default 0)
#   SBC_MU_SHIFT    simulate the data from mu + SBC_MU_SHIFT (default 0): a deliberately
#                   wrong setup, to see the check fail (e.g. 0.3)
#   SBC_KEEP        a directory to keep the work files in instead of a removed temp dir
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
DENSC=${DENSC:-$top/_build/densc}
PYTHON=${PYTHON:-/usr/bin/python3}
R=${SBC_REPS:-200}
WARMUP=${SBC_WARMUP:-1000}
DRAWS=${SBC_DRAWS:-1000}
SEED_BASE=${SBC_SEED_BASE:-0}
MU_SHIFT=${SBC_MU_SHIFT:-0}
model=$top/tests/sbc/sbc.dens
helper=$top/tests/sbc/sbc.py

case $R in ''|*[!0-9]*) echo "sbc.sh: SBC_REPS must be a positive integer" >&2; exit 2;; esac
[ "$R" -ge 1 ] || { echo "sbc.sh: SBC_REPS must be at least 1" >&2; exit 2; }
[ -x "$DENSC" ] || { echo "sbc.sh: no compiler at $DENSC (build first, or set DENSC)" >&2; exit 2; }

if [ -n "${SBC_KEEP:-}" ]; then
  tmp=$SBC_KEEP
  mkdir -p "$tmp"
else
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/sbc.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
fi

start=$(date +%s)
"$DENSC" "$model" -o "$tmp/sbc" || { echo "sbc.sh: densc failed" >&2; exit 2; }
"$PYTHON" "$helper" simulate "$tmp" "$R" --seed-base "$SEED_BASE" --mu-shift "$MU_SHIFT" ||
  { echo "sbc.sh: simulation failed" >&2; exit 2; }
[ "$MU_SHIFT" = 0 ] || echo "sbc.sh: NOTE: data simulated from mu + $MU_SHIFT (a deliberately wrong setup)"

r=1
while [ "$r" -le "$R" ]; do
  rc=0
  "$tmp/sbc" sample --data "$tmp/data_$r.csv" --out "$tmp/out_$r" --chains 1 \
    --warmup "$WARMUP" --draws "$DRAWS" --seed $((SEED_BASE + r)) --quiet \
    >"$tmp/summary_$r.txt" 2>"$tmp/stderr_$r.txt" || rc=$?
  echo "$rc" >"$tmp/rc_$r"
  if [ $((r % 50)) = 0 ] || [ "$r" = "$R" ]; then
    echo "sbc.sh: $r/$R runs ($(($(date +%s) - start)) s)" >&2
  fi
  r=$((r + 1))
done

status=0
"$PYTHON" "$helper" analyse "$tmp" "$R" --L 99 --bins 10 --alpha 0.001 || status=$?
echo "sbc.sh: $R replications, $WARMUP warmup + $DRAWS draws each, $(($(date +%s) - start)) s;" \
  "$( [ $status = 0 ] && echo PASS || echo FAIL)"
[ $status -le 1 ] || status=2
exit $status
