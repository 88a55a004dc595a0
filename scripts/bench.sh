#!/usr/bin/env bash
# bench.sh measures the gateway and prints the results (make bench runs it):
#
#   BenchmarkPipeline   messages per second, p50 and p99 latency and the
#                       peak memory of the whole pipeline on a SQLite file,
#                       with 1 and with 64 sessions
#   BenchmarkIdleRSS    resident memory of an idle "bot serve", and after
#                       it has answered some messages
#   BenchmarkLoopTurn   CPU of one agent turn without tools against the
#                       fake model server at zero latency
#   BenchmarkAPIStatus  requests per second and latency of GET
#                       /api/agent/status from 8 clients
#   BenchmarkAPIChat    the same for POST /api/agent/chat through the
#                       pipeline and the fake model at zero latency
#   BenchmarkAutomations
#                       start-up of the automation engine over 100,000
#                       pending reminders, its memory, and how late it
#                       fires 10 reminders a second for 20 s
#   BenchmarkTelegram   messages per second and latency through the fake
#                       Bot API with its rate limits: 10 messages a second
#                       from 100 chats, and 64 chats at full speed, where
#                       Telegram's 30 a second is the limit
#
# BENCHTIME sets how many messages each pipeline case sends (default
# 3000x); the whole run takes about a minute, plus 40 s for
# BenchmarkTelegram and 35 s for
# BenchmarkAutomations, which measures the engine once whatever BENCHTIME
# says (its ns/op is one FireDue with nothing due).
set -euo pipefail

cd "$(dirname "$0")/.."

go=${GO:-go}
benchtime=${BENCHTIME:-3000x}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

if ! "$go" test -run '^$' \
	-bench 'BenchmarkPipeline|BenchmarkIdleRSS|BenchmarkLoopTurn|BenchmarkAPI|BenchmarkAutomations' \
	-benchtime="$benchtime" \
	./core/pipeline ./core/agent ./bot ./httpapi ./core/automation >"$out" 2>&1; then
	cat "$out"
	exit 1
fi

# BenchmarkTelegram runs at Telegram's pace: 300 messages take about 40 s.
if ! "$go" test -run '^$' -bench BenchmarkTelegram -benchtime=300x \
	./adapters/telegram >>"$out" 2>&1; then
	cat "$out"
	exit 1
fi

grep -E '^(goos|goarch|cpu|Benchmark)' "$out" | awk '!seen[$0]++'
