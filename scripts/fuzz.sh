#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang, ASan and UBSan in build-fuzz/, and runs
# each for SECONDS (default 15) on a copy of its seed corpus, several at a time.
#
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# TARGET is a fuzz target's name, with or without "_fuzzer" (parse, http_request, ...); all of
# them by default. Exits non-zero when any target crashes, hangs or breaks an invariant, and
# prints where the input that did it was saved, with the command that replays it.
#
# Environment:
#   FUZZ_JOBS=N        targets run at the same time (default: the number of CPUs)
#   FUZZ_KEEP_GOING=1  do not stop a target at its first crash: collect every crashing input
#                      for the whole time (libFuzzer's fork mode), for long runs
#   FUZZ_BUILD_DIR=DIR the build directory (default: build-fuzz)
#   FUZZ_BUILD_TESTS=ON  keep the unit tests configured in that build (scripts/sanitize.sh shares it)
#
# A crash's input stays in DIR/fuzz-run/<target>/artifacts/; copy it to
# tests/fuzz/crashes/<target>-<what it shows> to keep it. The corpus a run grows is left in
# DIR/fuzz-run/<target>/corpus/ (the seeds in tests/fuzz/corpus/ are never written to).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

seconds=15
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi
build=${FUZZ_BUILD_DIR:-build-fuzz}
jobs=${FUZZ_JOBS:-$(nproc)}
keep_going=${FUZZ_KEEP_GOING:-0}

# The build's own packages, then clang with libFuzzer and the sanitizer runtimes (Debian 12:
# clang-14 and libclang-rt-14-dev).
bash scripts/install-deps.sh run
probe() {
  command -v clang++ >/dev/null || return 1
  local dir rc=0
  dir=$(mktemp -d)
  echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' >"$dir/p.cc"
  clang++ -fsanitize=fuzzer,address,undefined "$dir/p.cc" -o "$dir/p" >/dev/null 2>&1 || rc=1
  rm -rf "$dir"
  return $rc
}
if ! probe; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "fuzz: needs clang++ with libFuzzer: apt-get install clang libclang-rt-14-dev (as root)" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev
  probe || { echo "fuzz: clang++ still cannot link a libFuzzer target" >&2; exit 1; }
fi

# Which targets: every tests/fuzz/*_fuzzer.cc unless named.
all=()
for source in tests/fuzz/*_fuzzer.cc; do
  all+=("$(basename "$source" .cc)")
done
targets=()
if [ $# -eq 0 ]; then
  targets=("${all[@]}")
else
  for name in "$@"; do
    name=${name%_fuzzer}_fuzzer
    if [ ! -f "tests/fuzz/$name.cc" ]; then
      echo "fuzz: no target $name; the targets are: ${all[*]}" >&2
      exit 2
    fi
    targets+=("$name")
  done
fi

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DWE_SANITIZE=ON -DWE_FUZZ=ON -DWE_BUILD_TESTS="${FUZZ_BUILD_TESTS:-OFF}" -DWE_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" --target "${targets[@]}"

# Sanitizer reports that stop the run, with symbols; leaks count too.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_dir=$root/$build/fuzz-run
# Runs one target in its own directory; its libFuzzer output goes to log.txt there.
run_one() {
  local target=$1 dir=$run_dir/$1
  rm -rf "$dir"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp -R "tests/fuzz/corpus/$target/." "$dir/corpus/"
  local args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
              -artifact_prefix="$dir/artifacts/")
  [ -f "tests/fuzz/$target.dict" ] && args+=(-dict="$root/tests/fuzz/$target.dict")
  [ "$keep_going" = 1 ] && args+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  # libFuzzer stops itself; the guard is for an exit that never comes (a sanitizer report on a
  # heap of gigabytes can take minutes).
  local rc=0
  (cd "$dir" && timeout -k 10 $((seconds + 120)) "$root/$build/tests/fuzz/$target" "${args[@]}" corpus \
     >log.txt 2>&1) || rc=$?
  echo "$rc" >"$dir/rc"
}

# The line that says why an input failed, from the log of the run that found it or, in fork mode
# (whose log does not keep it), from replaying the input.
cause() {
  local target=$1 artifact=$2 log=$3
  if [ "$keep_going" = 1 ]; then
    log=$(mktemp)
    timeout -k 5 60 "$build/tests/fuzz/$target" -timeout=10 -rss_limit_mb=2048 "$artifact" >"$log" 2>&1 || true
  fi
  grep -aE 'runtime error|invariant failed|accepted by|at once:|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)' \
    "$log" | head -n 2 | cut -c1-200
  [ "$keep_going" = 1 ] && rm -f "$log"
  return 0
}

start=$SECONDS
echo "fuzz: ${#targets[@]} target(s), ${seconds}s each, $jobs at a time"
running=0
for target in "${targets[@]}"; do
  run_one "$target" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait

# One line per target, then what each failure left behind.
failed=0
printf '%-26s %-7s %8s %7s %7s\n' target result exec/s cov corpus
for target in "${targets[@]}"; do
  dir=$run_dir/$target
  rc=$(cat "$dir/rc")
  # The last status line: "#N ... cov: C ft: F corp: K/S ... exec/s: E ..." (fork mode:
  # "#N: cov: C ft: F corp: K exec/s E ... time: Ts ...").
  status=$(grep -aE '^#[0-9]+' "$dir/log.txt" | tail -n 1 || true)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$status")
  corp=$(sed -nE 's/.* corp: ([0-9]+).*/\1/p' <<<"$status")
  execs=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+)/\1/p' "$dir/log.txt" | tail -n 1)
  if [ -z "$execs" ] && [ "$keep_going" = 1 ]; then
    runs=$(sed -nE 's/^#([0-9]+):.* time: ([0-9]+)s.*/\1 \2/p' <<<"$status")
    [ -n "$runs" ] && execs=$(awk '{ if ($2 > 0) print int($1 / $2) }' <<<"$runs")
  fi
  [ -z "$execs" ] && execs=$(sed -nE 's/.* exec\/s: ([0-9]+).*/\1/p' <<<"$status")
  result=ok
  if [ "$rc" != 0 ] || [ -n "$(find "$dir/artifacts" -type f)" ]; then
    result=FAILED
    failed=1
  fi
  printf '%-26s %-7s %8s %7s %7s\n' "$target" "$result" "${execs:--}" "${cov:--}" "${corp:--}"
done
for target in "${targets[@]}"; do
  dir=$run_dir/$target
  mapfile -t artifacts < <(find "$dir/artifacts" -type f | sort)
  [ "$(cat "$dir/rc")" = 0 ] && [ ${#artifacts[@]} -eq 0 ] && continue
  echo
  echo "== $target: exit status $(cat "$dir/rc"), ${#artifacts[@]} failing input(s); log: $dir/log.txt"
  grep -aE '^SUMMARY' "$dir/log.txt" | sort -u | head -n 3 || true
  shown=0
  for artifact in "${artifacts[@]}"; do
    if [ "$shown" -ge 5 ]; then
      echo "   ... and $((${#artifacts[@]} - shown)) more in $dir/artifacts/"
      break
    fi
    echo "   input:  $artifact"
    cause "$target" "$artifact" "$dir/log.txt" | sed 's/^/   cause:  /'
    echo "   replay: $build/tests/fuzz/$target $artifact"
    shown=$((shown + 1))
  done
  [ ${#artifacts[@]} -eq 0 ] && echo "   (no input saved; see the log)"
done
echo
echo "fuzz: $((SECONDS - start))s fuzzing, ${SECONDS}s in all: $([ "$failed" = 1 ] && echo FAILED || echo no crash)"
exit "$failed"
