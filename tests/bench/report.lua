-- wrk script of the redirect benchmark (scripts/bench-redirect.sh) for a
-- fixed URL: it adds a machine-readable summary line to wrk's report, and
-- takes the method from BENCH_METHOD (GET by default; HEAD makes the app
-- redirect without recording a click). No request() or response()
-- function: wrk keeps sending its one pre-built request and never parses
-- response headers, so the load generator costs as little CPU as it can
-- on a machine it shares with the servers.

wrk.method = os.getenv("BENCH_METHOD") or "GET"

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
