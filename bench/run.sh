#!/usr/bin/env bash
# bench/run.sh: shoal's process-level benchmark and its record.
#
# Runs, one after the other so that no step steals CPU from another:
#   1. the pipeline comparison, shoal, Prometheus agent mode and vmagent, on the same
#      synthetic targets (CPU-seconds per million samples, peak RSS);
#   2. the lab's handoff scenarios against a 3-node shoal fleet;
#   3. the Go benchmarks of the hot paths;
# and writes bench/RESULTS.md (or $BENCH_OUT). See bench/README.md.
#
# Every process it starts is stopped on exit, every port is chosen
# dynamically on 127.0.0.1 (or inside the lab's own network namespaces), and
# every step has a time limit. The defaults take about 13 minutes on two
# cores.
#
# Knobs (environment):
#   BENCH_WARMUP=15s BENCH_DURATION=3m   the pipeline's warm-up (per start) and measured time, per system
#   BENCH_ROUNDS=2                       alternating rounds (shoal, Prometheus, shoal, ...) sharing that time
#   BENCH_TARGETS=300 BENCH_SERIES=100   the pipeline's targets
#   BENCH_PROFILE=1                      profile shoal after its window (0: don't; a path: keep the profiles there)
#   BENCH_SCENARIOS="split crash rolling scaleup scaledown partition"
#   BENCH_SLOW=1                         also the cluster's gossip-convergence and failure-detection benchmarks
#   BENCH_SCALE=1                        also the scale series (30k to 3M active series per node, each system alone; about 40 minutes)
#   BENCH_SCALE_SIZES=30k:300x100:10s,... its points (LABEL:TARGETSxSERIES:INTERVAL)
#   BENCH_OUT=bench/RESULTS.md
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

WARMUP=${BENCH_WARMUP:-15s}
ROUNDS=${BENCH_ROUNDS:-2}
DURATION=${BENCH_DURATION:-3m}
TARGETS=${BENCH_TARGETS:-300}
SERIES=${BENCH_SERIES:-100}
PROFILE=${BENCH_PROFILE:-1}
SCENARIOS=${BENCH_SCENARIOS:-split crash rolling scaleup scaledown partition}
SLOW=${BENCH_SLOW:-0}
SCALE=${BENCH_SCALE:-0}
SCALE_SIZES=${BENCH_SCALE_SIZES:-30k:300x100:10s,300k:300x1000:10s,1M:1000x1000:10s,3M:1000x3000:30s}
OUT=${BENCH_OUT:-bench/RESULTS.md}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/shoal-bench.XXXXXX")
STEP_PID=""

# cleanup stops the running step's whole process group (shoalbench, go test
# and everything they started; their children also die with them through
# Pdeathsig), then removes the scratch directory.
cleanup() {
	local rc=$?
	if [[ -n "$STEP_PID" ]] && kill -0 "$STEP_PID" 2>/dev/null; then
		kill -TERM -- "-$STEP_PID" 2>/dev/null || true
		for _ in $(seq 1 100); do
			kill -0 "$STEP_PID" 2>/dev/null || break
			sleep 0.1 # waiting for a process to exit; there is nothing to poll but its pid
		done
		kill -KILL -- "-$STEP_PID" 2>/dev/null || true
	fi
	rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT TERM

log() { printf '%s bench: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# step NAME LIMIT OUTFILE CMD...: runs CMD in its own process group with a
# time limit, its stdout into OUTFILE and its stderr into the log. A step
# that fails or overruns leaves a section saying so instead of its figures.
step() {
	local name=$1 limit=$2 out=$3
	shift 3
	log "$name (limit $limit)"
	local start=$SECONDS rc=0
	setsid timeout --signal=TERM --kill-after=30s "$limit" "$@" >"$out" 2> >(tee -a "$WORK/$name.log" >&2) &
	STEP_PID=$!
	wait "$STEP_PID" || rc=$?
	STEP_PID=""
	log "$name took $((SECONDS - start)) s (exit $rc)"
	if [[ $rc -ne 0 ]]; then
		{
			cat "$out"
			echo
			if [[ $rc -eq 124 || $rc -eq 137 ]]; then
				echo "**$name did not finish within $limit.** The end of its log:"
			else
				echo "**$name failed (exit $rc).** The end of its log:"
			fi
			echo
			echo '```'
			tail -n 15 "$WORK/$name.log" 2>/dev/null || true
			echo '```'
			echo
		} >"$out.failed"
		mv "$out.failed" "$out"
	fi
	return 0
}

# vmagent, pinned, built from source with the Go toolchain (Debian's
# victoria-metrics package is from 2022 and starts a service on install).
VMAGENT_VERSION=v1.151.0
if [[ -z "${VMAGENT_BIN:-}" ]]; then
	log "building vmagent $VMAGENT_VERSION (go install; under a minute on two cores)"
	GOBIN="$WORK/vm" go install "github.com/VictoriaMetrics/VictoriaMetrics/app/vmagent@$VMAGENT_VERSION"
	export VMAGENT_BIN="$WORK/vm/vmagent"
fi

log "building bin/shoal and the bench tool"
mkdir -p bin
go build -o bin/shoal ./cmd/shoal
go build -o "$WORK/shoalbench" ./bench/shoalbench
SHOAL="$ROOT/bin/shoal"
BENCH="$WORK/shoalbench"

step machine 1m "$WORK/0-machine.md" "$BENCH" machine -shoal "$SHOAL"

profile_flag=()
case "$PROFILE" in
0 | "") ;;
1) profile_flag=(-profile "$WORK/profile") ;;
*) profile_flag=(-profile "$PROFILE") ;;
esac
step pipeline 18m "$WORK/1-pipeline.md" "$BENCH" pipeline -shoal "$SHOAL" \
	-targets "$TARGETS" -series "$SERIES" -interval 2s \
	-warmup "$WARMUP" -duration "$DURATION" -rounds "$ROUNDS" "${profile_flag[@]}"

# shellcheck disable=SC2086 # SCENARIOS is a list of words
step handoff 6m "$WORK/2-handoff.md" "$BENCH" handoff -shoal "$SHOAL" \
	-limit 2m -budget 5m $SCENARIOS

# The Go benchmarks: "package benchtime pattern". The short benchtimes keep
# the whole section near a minute of running.
GOBENCH=(
	"./internal/cluster 1s ^Benchmark(Owns|Ownership)"
	"./internal/scrape 1s ."
	"./internal/remotewrite 1s ."
	"./internal/component/prometheus/relabel 1s ."
	"./internal/component/discovery/relabel 1s ."
	"./internal/syntax/... 1s ."
	"./internal/runtime 1s ."
	"./internal/web 1s ."
)
if [[ "$SLOW" == 1 ]]; then
	GOBENCH+=("./internal/cluster 2x ^Benchmark(GossipConvergence|FailureDetection)")
fi
# gobench runs each "package benchtime pattern" it is given, marking each
# run in the output so that the record says how the figures were made.
gobench() {
	local spec pkg pattern benchtime
	for spec in "$@"; do
		read -r pkg benchtime pattern <<<"$spec"
		echo "#shoalbench go test -run '^\$' -bench '$pattern' -benchtime $benchtime $pkg"
		timeout --kill-after=10s 4m go test -run '^$' -bench "$pattern" -benchtime "$benchtime" -timeout 3m "$pkg" 2>&1 || true
	done
}
export -f gobench
step gobench-run 8m "$WORK/gobench.txt" bash -c 'gobench "$@"' gobench "${GOBENCH[@]}"
# A background job's standard input is /dev/null, so the output is passed
# by name.
step gobench 1m "$WORK/3-gobench.md" "$BENCH" gobench -title "3. Go benchmarks" -in "$WORK/gobench.txt"

: >"$WORK/4-scale.md"
if [[ "$SCALE" == 1 ]]; then
	step scale 75m "$WORK/4-scale.md" "$BENCH" scale -shoal "$SHOAL" -sizes "$SCALE_SIZES"
fi

cat "$WORK"/0-machine.md "$WORK"/1-pipeline.md "$WORK"/2-handoff.md "$WORK"/3-gobench.md "$WORK"/4-scale.md >"$OUT"
# Hand-written records that a run does not measure are kept as they are.
if [[ -f bench/PLACEMENT.md ]]; then
	{ echo; cat bench/PLACEMENT.md; } >>"$OUT"
fi
log "wrote $OUT"
