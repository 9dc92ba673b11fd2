#!/usr/bin/env bash
# End-to-end test of the startup cache (docs/operations.md, "Fast startup"): the package step
# made one for the JDK the launcher runs, `./sluice` starts with it mapped, and a launcher whose
# cache does not fit (another jar, a damaged file) still starts, with the JVM's notice on stderr
# and stdout left to the access log. Needs target/sluice.jar and its cache (./mvnw package).
#
#   e2e/startup-cache.sh
#
# Prints one line per check and ends with "N passed, M failed"; exits 1 if any check failed.
set -euo pipefail
if [[ -n "${SKIP_STARTUP_CACHE:-}" ]]; then
  echo "startup cache: skipped (SKIP_STARTUP_CACHE is set, the package step made none)"
  exit 0
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
WORK="$ROOT/e2e/.work/startup-cache"
. "$ROOT/e2e/lib.sh"
. "$ROOT/scripts/find-jdk.sh"
T=60

major=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$JAVA_HOME/release")
if [[ "$major" -ge 25 ]]; then CACHE=target/sluice.aot; else CACHE=target/sluice.jsa; fi
VERSION_LINE="$(timeout "$T" "$JAVA_HOME/bin/java" -jar target/sluice.jar version)"

check_built() {
  [[ -s "$ROOT/$CACHE" ]] || { echo "no $CACHE next to target/sluice.jar for JDK $major ($JAVA_HOME)"; return 1; }
}
check "package: $CACHE was made for JDK $major" check_built

check_mapped() {
  # A class of sluice's own comes from the cache ("shared objects file", "(top)" for a dynamic
  # AppCDS archive), not from the jar.
  SLUICE_JAVA_OPTS="-Xlog:class+load=info:file=$WORK/classes.log" timeout "$T" ./sluice version >"$WORK/mapped.out" 2>"$WORK/mapped.err" ||
    { echo "./sluice version failed:"; cat "$WORK/mapped.out" "$WORK/mapped.err"; return 1; }
  [[ "$(cat "$WORK/mapped.out")" == "$VERSION_LINE" ]] || { echo "stdout:"; cat "$WORK/mapped.out"; return 1; }
  grep -q 'class,load\] dev\.sluice\.cli\.SluiceCommand source: shared objects file' "$WORK/classes.log" ||
    { echo "dev.sluice.cli.SluiceCommand was not loaded from the cache:"; grep 'dev\.sluice\.cli\.SluiceCommand ' "$WORK/classes.log"; return 1; }
}
check "./sluice: the JVM maps $CACHE" check_mapped

# A copy of the launcher whose cache was made for another jar (or is not a cache at all):
# the JVM must refuse it, say so on stderr only, and run sluice anyway.
unfit_home() { # DIR CACHE_CONTENT_FROM
  mkdir -p "$1/scripts" "$1/target"
  cp sluice "$1/"
  cp scripts/find-jdk.sh "$1/scripts/"
  cp target/sluice.jar "$1/target/"
  if [[ -f "$2" ]]; then cp "$2" "$1/$CACHE"; fi
}
check_unfit() { # DIR
  [[ -f "$1/$CACHE" ]] || { echo "no $CACHE to copy"; return 1; }
  timeout "$T" "$1/sluice" version >"$1/out" 2>"$1/err" || { echo "exit status $?:"; cat "$1/out" "$1/err"; return 1; }
  [[ "$(cat "$1/out")" == "$VERSION_LINE" ]] || { echo "stdout is not only the version line:"; cat "$1/out"; return 1; }
  [[ -s "$1/err" ]] || { echo "no notice about the unusable cache on stderr"; return 1; }
}
unfit_home "$WORK/other-jar" "$ROOT/$CACHE"
check "./sluice: a cache made for another jar path is refused, sluice starts, stdout clean" check_unfit "$WORK/other-jar"
head -c 4096 /dev/urandom >"$WORK/garbage"
unfit_home "$WORK/garbage-cache" "$WORK/garbage"
check "./sluice: a damaged cache is refused, sluice starts, stdout clean" check_unfit "$WORK/garbage-cache"

summary_and_exit
