-- wrk script of the redirect benchmark (scripts/bench_redirect.py) for a
-- fixed URL: it adds a machine-readable summary line to wrk's report, and
-- takes the method from BENCH_METHOD (GET by default; HEAD makes the app
-- redirect without recording a click). No request() or response()
-- function: wrk keeps sending its one pre-built request and never parses
-- response headers, so the load generator costs as little CPU as it can
-- on a machine it shares with the servers.

wrk.method = os.getenv("BENCH_METHOD") or "GET"

-- BENCH_DELAY_MS: a steady load instead of as fast as possible. Each
-- connection waits a random 0..2x that many milliseconds (whole ones:
-- wrk's timers) before its next request, so 64 connections with a mean
-- of 8 ms offer about 8 000 requests/s, without moving in lockstep.
-- wrk times each request from its send, so the wait is not latency.
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if delay_ms then
	function delay()
		return math.random(0, 2 * delay_ms)
	end
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("bench-result requests=%d duration_us=%d "
	    .. "p50_us=%d p90_us=%d p99_us=%d max_us=%d connect=%d read=%d "
	    .. "write=%d status=%d timeout=%d\n",
	    summary.requests, summary.duration,
	    latency:percentile(50), latency:percentile(90),
	    latency:percentile(99), latency.max,
	    e.connect, e.read, e.write, e.status, e.timeout))
end
