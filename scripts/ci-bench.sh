#!/usr/bin/env bash
# `make bench-ci` and `make baseline`. Runs the quick suite with CI_BENCH_REPETITIONS repetitions (the Mann-Whitney
# test in `rustcorn bench compare` needs several), then:
#   check (default): compares the run with results/baseline.json plus the latest passing lines of
#     results/history.jsonl; on a suspected regression measures again and fails only if the re-run confirms it.
#     Summary in results/ci/summary.md (the GitHub workflow appends it to the job summary); one line per CI run is
#     appended to results/history.jsonl. Exit 0 pass, 1 confirmed regression (or the run itself failed), 2 unusable
#     input (no baseline, schema mismatch).
#   baseline: makes the run results/baseline.json (refused if a target failed or the run has no calibration).
# Knobs (environment): RUSTCORN (target/release/rustcorn), CI_BENCH_SUITE (bench-suite/quick.toml),
# CI_BENCH_REPETITIONS (3), CI_BENCH_THRESHOLD (30%, see results/README.md), CI_BENCH_BASELINE (results/baseline.json),
# CI_BENCH_HISTORY (results/history.jsonl; "none" to neither read nor append), CI_BENCH_OUT (results/ci),
# CI_BENCH_RESULTS (results: where run folders go).
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=${1:-check}
RUSTCORN=${RUSTCORN:-target/release/rustcorn}
SUITE=${CI_BENCH_SUITE:-bench-suite/quick.toml}
REPETITIONS=${CI_BENCH_REPETITIONS:-3}
THRESHOLD=${CI_BENCH_THRESHOLD:-30%}
BASELINE=${CI_BENCH_BASELINE:-results/baseline.json}
HISTORY=${CI_BENCH_HISTORY:-results/history.jsonl}
OUT=${CI_BENCH_OUT:-results/ci}
RESULTS=${CI_BENCH_RESULTS:-results}

mkdir -p "$OUT"

# The suite as committed, with its top-level `repetitions` set to $REPETITIONS (top-level keys precede tables).
ci_suite() {
    local suite="$OUT/$(basename "$SUITE" .toml)-ci.toml"
    {
        echo "# $SUITE with repetitions = $REPETITIONS, written by scripts/ci-bench.sh"
        echo "repetitions = $REPETITIONS"
        grep -v '^repetitions[[:space:]]*=' "$SUITE"
    } >"$suite"
    echo "$suite"
}

# Runs the suite; prints the path of its results.json. The run's own output goes to stderr and $OUT/run-$1.log.
run_suite() {
    local log="$OUT/run-$1.log" status=0
    "$RUSTCORN" bench run "$CI_SUITE" --results-dir "$RESULTS" >"$log" 2>&1 || status=$?
    cat "$log" >&2
    if [ "$status" -ne 0 ]; then
        echo "ci-bench: the benchmark run failed (exit $status)" >&2
        exit "$status"
    fi
    local results
    results=$(sed -n 's/^Results: //p' "$log" | tail -n 1)
    if [ -z "$results" ] || [ ! -f "$results" ]; then
        echo "ci-bench: the benchmark run printed no results path" >&2
        exit 1
    fi
    echo "$results"
}

# rustcorn bench compare BASELINE NEW [flags]; never exits the script, returns compare's status.
compare() {
    local new=$1
    shift
    local history_flags=()
    if [ "$HISTORY" != none ]; then history_flags=(--history "$HISTORY"); fi
    local status=0
    "$RUSTCORN" bench compare "$BASELINE" "$new" --threshold "$THRESHOLD" "${history_flags[@]}" "$@" || status=$?
    return "$status"
}

append_flag() {
    if [ "$HISTORY" != none ]; then echo --append-history; fi
}

CI_SUITE=$(ci_suite)

if [ "$MODE" = baseline ]; then
    new=$(run_suite baseline)
    "$RUSTCORN" bench baseline "$new" --out "$BASELINE"
    exit 0
fi
if [ "$MODE" != check ]; then
    echo "usage: $0 [check|baseline]" >&2
    exit 2
fi
if [ ! -f "$BASELINE" ]; then
    echo "ci-bench: no $BASELINE: run \`make baseline\` on the CI machine (or commit one) first" >&2
    exit 2
fi

first=$(run_suite first)
status=0
compare "$first" --summary "$OUT/summary-first.md" || status=$?
if [ "$status" -eq 0 ]; then
    # The same comparison again, this time recording the run in the history (one line per CI run).
    compare "$first" --summary "$OUT/summary.md" $(append_flag) >/dev/null
    exit 0
fi
if [ "$status" -ne 1 ]; then
    exit "$status"
fi

echo "ci-bench: suspected regression; measuring again before failing" >&2
second=$(run_suite second)
status=0
compare "$second" --first-attempt "$first" --summary "$OUT/summary.md" $(append_flag) || status=$?
{
    echo
    echo "<details><summary>First attempt (before the re-run)</summary>"
    echo
    cat "$OUT/summary-first.md"
    echo
    echo "</details>"
} >>"$OUT/summary.md"
exit "$status"
