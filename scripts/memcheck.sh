#!/usr/bin/env bash
# Memory safety of the native code (`npm run memcheck`, also run by .ci/run):
#  1. the C++ GC shim built with AddressSanitizer and UBSan, loaded into a real Node for the
#     paths that stress it most: every GC counted, worker teardown mid-GC, exit during churn;
#  2. the Rust logic's unit tests under valgrind's memcheck (the statistics sweeps are left
#     out: they are safe code and take minutes under valgrind).
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== shim under AddressSanitizer + UBSan"
c++ -shared -fPIC -std=c++20 -fvisibility=hidden -fno-exceptions -fno-rtti -g \
  -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
  -I "$(dirname "$(dirname "$(command -v node)")")/include/node" src/gc_shim.cc -o "$work/shim-asan.so"
asan_env=(
  "LD_PRELOAD=$(c++ -print-file-name=libasan.so):$(c++ -print-file-name=libubsan.so)"
  "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1"
  "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1"
  "LEAKWATCH_SHIM_PATH=$work/shim-asan.so"
)
run_asan() {
  echo "-- $*"
  env "${asan_env[@]}" "$@"
}
run_asan node __test__/fixtures/gc-count.js
run_asan node --max-semi-space-size=1 __test__/fixtures/gc-count.js
WORKERS=100 run_asan node __test__/fixtures/worker-churn.js
for ms in 100 250 400; do
  EXIT_AFTER_MS=$ms env "${asan_env[@]}" node -r ./js/register.js __test__/fixtures/exit-during-workers.js 2>/dev/null \
    || [ $? -eq 5 ] || { echo "exit-during-workers failed"; exit 1; }
done
echo "shim: clean"

echo "== Rust unit tests under valgrind memcheck"
cargo test --no-default-features --no-run --message-format=json 2>/dev/null \
  | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const l of s.split("\n")){try{const m=JSON.parse(l);if(m.profile&&m.profile.test&&m.executable)console.log(m.executable)}catch{}}})' \
  > "$work/tests.txt"
while read -r exe; do
  # The verdicts' own tests are pure arithmetic over long simulated series: hours under
  # valgrind, and nothing unsafe to find. Everything that feeds them or reads them runs.
  valgrind --quiet --error-exitcode=1 --leak-check=no "$exe" --quiet \
    --skip verdict::trend:: --skip verdict::stats:: --skip verdict::memory:: --skip verdict::resources::
done < "$work/tests.txt"
echo "rust: clean"
