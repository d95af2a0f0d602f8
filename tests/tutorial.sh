#!/bin/sh
# tests/tutorial.sh — keeps docs/tutorial.md honest about the command lines it shows.
#   The tutorial's ```sh blocks are read in order: VAR="…" lines are assigned (the
#   tutorial's $G), 'densc MODEL -o PROG' lines compile MODEL for real (into a temporary
#   directory), and for every './PROG COMMAND [KIND] …' the command (and plot's kind) must
#   exist ('PROG COMMAND [KIND] --help' exits 0) and every option used must be one that
#   this --help lists; densc's options likewise against 'densc --help'. So a renamed
#   option or command breaks this test. Also: the figures and documents the tutorial
#   links exist, each figure under 150 kB. Last, the checker must catch a misspelt option
#   and a misspelt plot kind in altered copies of the tutorial.
. "$top_srcdir/tests/setup.sh"
. "$top_srcdir/tests/checks.sh"
DOC="$top_srcdir/docs/tutorial.md"
mkdir -p "$TMPD/bin"

# the lines of the ```sh blocks of $1, continuation lines joined
sh_lines() {
  awk '/^```sh[ \t]*$/ { f = 1; next } /^```/ { f = 0 } f' "$1" |
    sed -e ':a' -e '/\\$/N; s/\\\n//; ta'
}

# opt_listed HELPFILE OPT: OPT is defined on an option line of HELPFILE ('  --data FILE',
# '  -o, --output=PROG', '      --check'), not merely mentioned in a description
opt_listed() {
  grep -qE -- "^ +(-[A-Za-z], )?$2([ =[]|\$)" "$1" ||
    { case $2 in -?) grep -qE -- "^ +$2, --" "$1" ;; *) false ;; esac; }
}

# lint DOC: checks DOC's command lines; sets $lint_n (checks) and $lint_bad (failures),
# printing each failure
lint() {
  lint_n=0
  lint_bad=0
  rm -f "$TMPD/bin/"*
  sh_lines "$1" > "$TMPD/lines"
  set -f
  while IFS= read -r line; do
    case $line in
      ''|'#'*) continue ;;
      [A-Za-z_]*=*) case ${line%%=*} in *[!A-Za-z0-9_]*) ;; *) eval "$line"; continue ;; esac ;;
    esac
    # one command per line: split at && ; |, drop a redirection at the end
    printf '%s\n' "$line" | sed -e 's/ *&& */\n/g; s/ *; */\n/g; s/ *| */\n/g' \
      -e "s/ [0-9]*> *[^ ']*\$//" > "$TMPD/cmds"
    while IFS= read -r cmd; do
      eval "set -- $cmd"
      [ $# -gt 0 ] || continue
      case $1 in
        densc)
          "$DENSC" --help < /dev/null > "$TMPD/help" 2>&1
          shift
          out=
          model=
          while [ $# -gt 0 ]; do
            case $1 in
              -o) out=$2; lint_opt densc "$1"; shift ;;
              -*) lint_opt densc "${1%%=*}" ;;
              *) model=$1 ;;
            esac
            shift
          done
          if [ -n "$out" ] && [ -n "$model" ]; then
            lint_n=$((lint_n + 1))
            if ! (cd "$top_srcdir" && "$DENSC" "$model" -o "$TMPD/bin/${out##*/}") < /dev/null > "$TMPD/err" 2>&1; then
              lint_bad=$((lint_bad + 1)); echo "FAIL: tutorial: densc $model -o $out does not compile"
              sed 's/^/    /' "$TMPD/err"
            fi
          fi ;;
        ./*)
          prog=${1#./}
          lint_n=$((lint_n + 1))
          if [ ! -x "$TMPD/bin/$prog" ]; then
            lint_bad=$((lint_bad + 1)); echo "FAIL: tutorial: $1 is run before a 'densc … -o $prog' made it"
            continue
          fi
          shift
          what=${1:-}
          [ "$what" = plot ] && what="plot ${2:-}"
          # shellcheck disable=SC2086
          if ! "$TMPD/bin/$prog" $what --help < /dev/null > "$TMPD/help" 2>&1; then
            lint_bad=$((lint_bad + 1)); echo "FAIL: tutorial: '$prog $what' is not a command ($prog $what --help fails)"
            continue
          fi
          for a in "$@"; do
            case $a in --*|-[A-Za-z]) lint_opt "$prog $what" "${a%%=*}" ;; esac
          done ;;
      esac
    done < "$TMPD/cmds"
  done < "$TMPD/lines"
  set +f
}
lint_opt() {   # lint_opt WHAT OPT, against $TMPD/help
  lint_n=$((lint_n + 1))
  opt_listed "$TMPD/help" "$2" ||
    { lint_bad=$((lint_bad + 1)); echo "FAIL: tutorial: '$1' has no option $2 (not in its --help)"; }
}

## 1. the tutorial as it is
lint "$DOC"
check "the tutorial's command lines ($lint_n checks)" '[ $lint_bad = 0 ] && [ $lint_n -gt 50 ]'
# the commands the tutorial must show at all
for c in info optimize 'plot data' 'plot model' 'plot knots' 'plot density' 'plot track' \
         'plot trace' sample summary predict members; do
  check "the tutorial runs '$c'" "sh_lines '$DOC' | grep -qE '^\\./[a-z0-9_-]+ $c( |\$)'"
done

## 2. what it links
for f in $(grep -oE '\]\(figures/[^)]+\)' "$DOC" | sed 's/^](//; s/)$//'); do
  check "figure $f exists, under 150 kB" \
    "[ -f '$top_srcdir/docs/$f' ] && [ \$(wc -c < '$top_srcdir/docs/$f') -lt 153600 ]"
done
for f in $(grep -oE '\]\([a-z]+\.md[#)]' "$DOC" | sed 's/^](//; s/[#)]$//' | sort -u); do
  check "document $f exists" "[ -f '$top_srcdir/docs/$f' ]"
done
check "README.md links the tutorial" "grep -qF 'docs/tutorial.md' '$top_srcdir/README.md'"

## 3. the checker catches a misspelt option, a wrong kind, an unknown densc option
sed '0,/ --draws /s// --drawz /' "$DOC" > "$TMPD/t1.md"
lint "$TMPD/t1.md" > "$TMPD/lint"
check "a misspelt option fails" '[ $lint_bad = 1 ] && grep -qF "no option --drawz" "$TMPD/lint"'
sed '0,/ plot trace /s// plot traces /' "$DOC" > "$TMPD/t2.md"
lint "$TMPD/t2.md" > "$TMPD/lint"
check "a misspelt plot kind fails" '[ $lint_bad = 1 ] && grep -qF "plot traces" "$TMPD/lint"'
sed '0,/^densc \(.*\) -o /s//densc \1 --outptu /' "$DOC" > "$TMPD/t3.md"
lint "$TMPD/t3.md" > "$TMPD/lint"
check "a misspelt densc option fails" 'grep -qF "no option --outptu" "$TMPD/lint"'

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
