-- wrk script of the redirect benchmark's MISS run
-- (scripts/bench_redirect.py): every request asks for a short code that
-- no request asked for before, so each one misses the cache and reads
-- PostgreSQL.
--
--   wrk -t N ... -s tests/bench/miss.lua http://HOST:PORT -- CODES_FILE N
--
-- CODES_FILE holds existing, active short codes, one a line, all
-- distinct; N is wrk's thread count (init runs before wrk has made every
-- thread, so the script cannot count them itself). Thread i of N sends
-- codes i, i+N, i+2N, ...: the threads never share a code. A thread that
-- reaches the end of its share starts again from its beginning (those
-- requests are cache hits); the benchmark compares the request count with
-- the number of codes and says so.

local count = 0
-- HEAD: the same lookups without their clicks (as in report.lua).
local method = os.getenv("BENCH_METHOD") or "GET"

-- Runs in wrk's main Lua state, once per thread, before that thread's init.
function setup(thread)
	count = count + 1
	thread:set("id", count)
end

function init(args)
	local path = args[1]
	nthreads = tonumber(args[2] or "")
	if path == nil or nthreads == nil then
		error("miss.lua: usage: wrk -t N ... -s miss.lua URL -- CODES_FILE N")
	end
	local f = assert(io.open(path, "r"))
	codes = {}
	local n = 0
	for line in f:lines() do
		n = n + 1
		-- Every thread reads the whole file and keeps its own share.
		-- The request is built here, once: wrk.format in request()
		-- cost the client more CPU per request than some servers it
		-- measures (docs/performance.md).
		if (n - id) % nthreads == 0 then
			codes[#codes + 1] = wrk.format(method, "/" .. line)
		end
	end
	f:close()
	if #codes == 0 then
		error("miss.lua: no codes for thread " .. id .. " in " .. path)
	end
	pos = 0
end

function request()
	pos = pos + 1
	if pos > #codes then
		pos = 1
	end
	return codes[pos]
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
