-- wrk script of the SIGKILL tests (tests/stack, tests/compose): every
-- request carries a User-Agent of its own, "RUN-THREAD-N", which the click
-- it causes stores, so a click stored twice shows as a repeated one. The
-- last line is the figures the test reads: responses (wrk counts a request
-- once its response is whole) and those that were not 2xx or 3xx.
-- Usage: wrk -s crashload.lua URL -- PATH RUN

local threads = {}

function setup(thread)
	table.insert(threads, thread)
	thread:set("tid", #threads)
end

function init(args)
	path = args[1]
	run = args[2]
	n = 0
end

function request()
	n = n + 1
	return wrk.format("GET", path,
	    { ["User-Agent"] = string.format("%s-%d-%d", run, tid, n) })
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("crash-result responses=%d not_3xx=%d "
	    .. "connect=%d read=%d write=%d timeout=%d\n", summary.requests,
	    e.status, e.connect, e.read, e.write, e.timeout))
end
