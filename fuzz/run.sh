#!/usr/bin/env bash
# Runs each fuzz target of auparse for SECONDS (default 600), one after the
# other (one fuzzer at a time: libFuzzer uses one core each).
#
#   fuzz/run.sh 600                  # every target, 10 minutes each
#   fuzz/run.sh 60 escape fschange   # only these targets
#
# Needs `cargo install cargo-fuzz` and a C++ compiler. Works on a stable
# toolchain: `--sanitizer none` (AddressSanitizer needs nightly's -Zsanitizer;
# with a nightly, or RUSTC_BOOTSTRAP=1 on stable, set SANITIZER=address).
# Seeds come from tests/fixtures/live and tests/hostile (fuzz/seeds.py);
# new corpus entries go to fuzz/corpus/TARGET, crashes to
# fuzz/artifacts/TARGET (copy them to tests/fuzz-regressions/TARGET/, where
# `cargo test --test fuzz_regressions` replays them).
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(feeder_formats fschange escape shortcuts grouping)
sanitizer=${SANITIZER:-none}
python3 seeds.py
status=0
for t in "${targets[@]}"; do
    echo "=== $t: ${secs}s (sanitizer $sanitizer) ==="
    mkdir -p "corpus/$t" "artifacts/$t"
    # -fork=1 -ignore_crashes=1: keep fuzzing after a crash (each one is
    # saved to artifacts/); -max_len 128 KiB fits the largest seed.
    if ! cargo fuzz run --sanitizer "$sanitizer" -O "$t" "corpus/$t" -- \
        -dict=audit.dict -max_total_time="$secs" -max_len=131072 \
        -timeout=20 -rss_limit_mb=2048 -fork=1 -ignore_crashes=1 \
        -print_final_stats=1; then
        status=1
    fi
    n=$(find "artifacts/$t" -type f | wc -l)
    echo "=== $t: done, $n crash/timeout input(s) in fuzz/artifacts/$t ==="
    [ "$n" = 0 ] || status=1
done
exit $status
