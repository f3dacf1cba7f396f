/*
 * The floor of the redirect benchmark: a Kore module that answers every
 * request, whatever its path or method, with the 302 the shortener sends
 * on a cache hit (same status and the same response headers, a Location
 * of typical length), and does nothing else. What separates the app from
 * this is the app's own work per redirect: routing, the Redis round trip,
 * the click hand-off, logging and metrics.
 */

#include <kore/kore.h>
#include <kore/http.h>

/*
 * The callgrind flavor (build.conf) runs under valgrind for `make bench`'s
 * instructions per request: the same additions to the sandbox as the
 * app's callgrind flavor, for the same reasons (src/app/init.c).
 */
#if defined(TRIVIAL_VALGRIND)
#include <kore/seccomp.h>

KORE_SECCOMP_FILTER("trivial302",
	KORE_SYSCALL_ALLOW(mmap),
	KORE_SYSCALL_ALLOW(mprotect),
	KORE_SYSCALL_ALLOW(gettid),
	KORE_SYSCALL_ALLOW(rt_sigtimedwait),
	KORE_SYSCALL_ALLOW(pread64),
	KORE_SYSCALL_ALLOW(statx),
	KORE_SYSCALL_ALLOW(time)
);
#endif

int	dispatch(struct http_request *);

#define LOCATION	"https://example.com/articles/2025/benchmark-landing-page"

int
dispatch(struct http_request *req)
{
	http_response_header(req, "location", LOCATION);
	http_response_header(req, "cache-control", "private, max-age=0");
	http_response_header(req, "x-cache", "HIT");
	http_response(req, 302, NULL, 0);
	return (KORE_RESULT_OK);
}
