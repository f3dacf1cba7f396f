/*
 * Process life cycle: what the parent prepares before it forks the
 * workers, what each worker does after the fork, how a worker stops and
 * how a reload is done, and the seccomp additions workers need. This is
 * the top of the layers: the one file that wires them together.
 *
 * The database is registered, not connected: kore_pgsql opens
 * connections lazily, so a database that is down at start costs a 503
 * per request and a log line, never a crash loop, and the service picks
 * it up again by itself when it returns.
 *
 * Reloads (kodev reload, SIGHUP). Kore 4.1 reloads a module with
 * dlclose() and dlopen(), in the parent and in each worker: every static
 * variable starts afresh, and whatever Kore still holds that points into
 * the old copy (timers, the Redis connection's event, requests in flight
 * and their handler states) would point at unmapped memory. So a worker
 * never reloads in place. Its onload hook refuses (the worker keeps the
 * module it runs) and the worker stops as on SIGTERM, its requests in
 * flight answered and its clicks written, then exits with EXIT_RELOAD,
 * which Kore's parent answers by forking a new worker from its own,
 * freshly loaded, module: configured from scratch, with new request ids
 * and its metrics slot in the same shared mapping (obs/metrics.c). New
 * connections wait in the listen queue meanwhile; none is refused.
 */

#include <sys/syscall.h>

#include <kore/kore.h>
#include <kore/http.h>
#include <kore/pgsql.h>
#include <kore/seccomp.h>

#include "assets.h"	/* kodev's, from assets/ */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/auth.h"
#include "api/common.h"
#include "app/schedslice.h"
#include "config/config.h"
#include "cache/limiter.h"
#include "cache/redis.h"
#include "cache/urlcache.h"
#include "clicks/clickwriter.h"
#include "clicks/retention.h"
#include "core/urlhost.h"
#include "db/codelookup.h"
#include "db/db.h"
#include "http/cors.h"
#include "http/respond.h"
#include "obs/metrics.h"
#include "obs/log.h"

#define DRAIN_MS	5000
/* A worker that stopped for a reload: not 0, so that Kore forks anew. */
#define EXIT_RELOAD	75

void	kore_parent_configure(int, char **);
void	kore_worker_configure(void);
void	kore_worker_teardown(void);
void	kore_parent_teardown(void);
int	shortener_onload(int);

static void	config_or_die(void);
static void	url_policy_load(void);
static void	deps_sample(struct metrics_deps *);
static void	reload_stop(void *, u_int64_t);
static void	drain_requests(void);

/* Owned by this worker: it stops to be replaced, not for good. */
static int	reloading;

/*
 * The asan flavor (conf/build.conf) only: what the sanitizer runtime does
 * in a worker beyond Kore's list. LeakSanitizer's check at exit starts a
 * tracer task (clone, which Kore's tasks already allow) that finds the
 * worker's threads in /proc/self/task (getdents), checks its parent
 * (getppid) and ptrace-attaches to them while the worker waits
 * (sched_yield, wait4); prctl makes the worker traceable by it; reports
 * name the thread (gettid). A thread ASan starts for a Kore task (the
 * bulk import) asks for its stack bounds, which reads the CPU set
 * (sched_getaffinity). Found with the kernel's audit records of
 * seccomp kills (dmesg) and strace (docs/testing.md); never part of a
 * production build.
 */
#if defined(SHORTENER_SANITIZE)
#define SANITIZER_SYSCALLS						\
	, KORE_SYSCALL_ALLOW(gettid),					\
	KORE_SYSCALL_ALLOW(getppid),					\
	KORE_SYSCALL_ALLOW(getdents),					\
	KORE_SYSCALL_ALLOW(prctl),					\
	KORE_SYSCALL_ALLOW(ptrace),					\
	KORE_SYSCALL_ALLOW(wait4),					\
	KORE_SYSCALL_ALLOW(sched_yield),				\
	KORE_SYSCALL_ALLOW(sched_getaffinity)
#else
#define SANITIZER_SYSCALLS
#endif

/*
 * The callgrind flavor (conf/build.conf) only, which `make bench` runs
 * under valgrind to count instructions per request: valgrind runs inside
 * the worker and the sandbox applies to its own system calls too. It
 * writes translated code to memory it maps writable and executable, which
 * Kore's filter refuses (mmap with PROT_WRITE|PROT_EXEC, mprotect with
 * PROT_EXEC): allowed here, before Kore's rules are reached. Its scheduler
 * asks for its thread id (gettid) and polls for pending signals
 * (rt_sigtimedwait); it reads the debug information of what the worker
 * loads (pread64, statx). It does not give the program the kernel's vDSO,
 * so glibc's time() becomes a system call (time). Found with
 * `seccomp_tracing yes` on a worker under valgrind serving health checks,
 * HITs, HEADs, MISSes, 404s and /metrics, and stopping; never part of a
 * production build.
 */
#if defined(SHORTENER_VALGRIND)
#define VALGRIND_SYSCALLS						\
	KORE_SYSCALL_ALLOW(mmap),					\
	KORE_SYSCALL_ALLOW(mprotect),					\
	KORE_SYSCALL_ALLOW(gettid),					\
	KORE_SYSCALL_ALLOW(rt_sigtimedwait),				\
	KORE_SYSCALL_ALLOW(pread64),					\
	KORE_SYSCALL_ALLOW(statx),					\
	KORE_SYSCALL_ALLOW(time),
#else
#define VALGRIND_SYSCALLS
#endif

/*
 * What links may point to (core/urlhost.c): loaded by the parent before
 * the fork, again by a worker forked after a module reload (empty
 * statics); read-only afterwards.
 */
static struct urlhost_policy	url_policy;
static int			url_policy_loaded;

/*
 * Debian 12's glibc implements stat(2) and friends with newfstatat, which
 * Kore 4.1's worker filter lacks; without it libpq's connect and fopen
 * kill the worker. The rest serve libpq and hiredis over TCP; mremap is
 * glibc's realloc() of a large block, e.g. hiredis' read buffer growing
 * for a reply of a few hundred KB. sendmmsg is glibc's resolver sending
 * its A and AAAA queries at once: libpq and hiredis resolve host names
 * (`postgres`, `redis` under docker-compose) inside the worker. It is the
 * only call `seccomp_tracing yes` reported in a container through
 * start-up, reads, writes, redirects, and reconnects after Redis and
 * PostgreSQL were restarted or paused. clone3 and rseq are how Debian 12's
 * glibc starts a thread (Kore's task filter allows only clone): the
 * bulk import's task threads (api/bulk.c). flock keeps one worker per
 * click journal file, fallocate gives it its blocks
 * (clicks/journalfile.c).
 */
KORE_SECCOMP_FILTER("shortener",
	VALGRIND_SYSCALLS
	KORE_SYSCALL_ALLOW(newfstatat),
	KORE_SYSCALL_ALLOW(getdents64),
	KORE_SYSCALL_ALLOW(uname),
	KORE_SYSCALL_ALLOW(getsockname),
	KORE_SYSCALL_ALLOW(getpeername),
	KORE_SYSCALL_ALLOW(getsockopt),
	KORE_SYSCALL_ALLOW(socket),
	KORE_SYSCALL_ALLOW(connect),
	KORE_SYSCALL_ALLOW(ioctl),
	KORE_SYSCALL_ALLOW(poll),
	KORE_SYSCALL_ALLOW(pipe2),
	KORE_SYSCALL_ALLOW(getrusage),
	KORE_SYSCALL_ALLOW(sysinfo),
	KORE_SYSCALL_ALLOW(prlimit64),
	KORE_SYSCALL_ALLOW(ftruncate),
	KORE_SYSCALL_ALLOW(flock),
	KORE_SYSCALL_ALLOW(fallocate),
	KORE_SYSCALL_ALLOW(rename),
	KORE_SYSCALL_ALLOW(mkdir),
	KORE_SYSCALL_ALLOW(mremap),
	KORE_SYSCALL_ALLOW(sendmmsg),
	KORE_SYSCALL_ALLOW(sched_getattr),
	KORE_SYSCALL_ALLOW(sched_setattr),
	KORE_SYSCALL_ALLOW(clone3),
	KORE_SYSCALL_ALLOW(rseq)
	SANITIZER_SYSCALLS
);

/* Before the workers fork: what they must share is mapped here. */
void
kore_parent_configure(int argc, char **argv)
{
	config_or_die();
	log_init();
	url_policy_load();
	metrics_init();
	log_event(LOG_LEVEL_INFO, "instance_start", "shortener starting");
}

void
kore_parent_teardown(void)
{
	log_event(LOG_LEVEL_INFO, "instance_stop", "shortener stopped");
}

/*
 * The parent read the configuration before it forked this worker; a
 * parent whose module was reloaded since has an empty copy.
 */
void
kore_worker_configure(void)
{
	if (!config.loaded)
		config_or_die();
	log_init();
	if (!url_policy_loaded)
		url_policy_load();
	sched_slice_apply(config.worker_slice_us);
	request_id_init();
	db_init();
	redis_init(config.redis_url, config.cache_budget_ms);
	urlcache_init();
	limiter_init();
	api_auth_init();
	cors_init();
	clickwriter_init((const char *)asset_isbot_patterns_json,
	    asset_len_isbot_patterns_json);
	retention_init();
	metrics_deps_source(deps_sample);
	metrics_worker_start();
	log_worker_start();
	api_routes_register();
	db_probe();
	log_event(LOG_LEVEL_INFO, "worker_start", "worker %u started",
	    worker->id);
}

/* The module's onload hook (conf/shortener.conf): see the top. */
int
shortener_onload(int action)
{
	if (action != KORE_MODULE_UNLOAD || worker == NULL)
		return (KORE_RESULT_OK);

	/* Kore clears pending signals after this hook: stop from a timer. */
	if (!reloading) {
		reloading = 1;
		log_event(LOG_LEVEL_INFO, "worker_reload", "worker %u stops "
		    "to be replaced by one of the reloaded module", worker->id);
		kore_timer_add(reload_stop, 1, NULL, KORE_TIMER_ONESHOT);
	}
	return (KORE_RESULT_ERROR);
}

static void
reload_stop(void *arg, u_int64_t now)
{
	(void)kill(getpid(), SIGTERM);
}

static void
config_or_die(void)
{
	const char	*err;

	if ((err = config_load()) != NULL)
		fatal("configuration: %s", err);
}

/*
 * URL_ALLOW_PRIVATE_HOSTS, the public base URL's host and the operator's
 * blocklist (URL_BLOCKLIST_FILE). A blocklist that cannot be read or has
 * an entry that is no host stops the instance at start, where the
 * operator sees it, rather than letting every link through.
 */
static void
url_policy_load(void)
{
	FILE		*f;
	char		*text, err[160];
	size_t		 len, cap;

	text = NULL;
	len = 0;
	if (config.blocklist_file[0] != '\0') {
		if ((f = fopen(config.blocklist_file, "r")) == NULL)
			fatal("URL_BLOCKLIST_FILE %s: %s",
			    config.blocklist_file, strerror(errno));
		cap = 4096;
		text = kore_malloc(cap);
		while (!feof(f) && !ferror(f)) {
			if (len == cap) {
				cap *= 2;
				text = kore_realloc(text, cap);
			}
			len += fread(text + len, 1, cap - len, f);
		}
		if (ferror(f))
			fatal("URL_BLOCKLIST_FILE %s: read error",
			    config.blocklist_file);
		(void)fclose(f);
	}

	if (urlhost_policy_init(&url_policy, config.allow_private_hosts,
	    config.public_base_url, text, len, err, sizeof(err)) == -1)
		fatal("URL_BLOCKLIST_FILE %s: %s", config.blocklist_file, err);
	kore_free(text);
	urlhost_policy_use(&url_policy);
	url_policy_loaded = 1;
	log_event(LOG_LEVEL_INFO, "url_policy", "links: private hosts %s, "
	    "%zu blocked hosts or domains", config.allow_private_hosts ?
	    "allowed" : "refused", url_policy.nblocked);
}

/* What obs/metrics.c samples of the layers it may not include. */
static void
deps_sample(struct metrics_deps *d)
{
	struct clickwriter_stats	cs;

	clickwriter_stats(&cs);
	d->click_queue = cs.queued;
	d->clicks_dropped = cs.dropped;
	d->redis_up = redis_up();
}

/*
 * Kore 4.1 leaves its event loop as soon as a worker is told to stop,
 * dropping requests in flight (a POST whose row committed would never be
 * answered). The teardown hook runs before any connection is closed, so
 * it finishes them here: no more accepting, no more keep-alive, and the
 * loop turned by hand until no request is left or DRAIN_MS has passed.
 */
static void
drain_requests(void)
{
	u_int64_t	deadline;

	if (worker->has_lock) {
		kore_platform_disable_accept();
		worker->has_lock = 0;
	}
	http_keepalive_time = 0;
	code_lookup_drain();

	deadline = kore_time_ms() + DRAIN_MS;
	while (http_request_count > 0 && kore_time_ms() < deadline) {
		kore_platform_event_wait(50);
		kore_timer_run(kore_time_ms());
		http_process();
		kore_connection_prune(KORE_CONNECTION_PRUNE_DISCONNECT);
	}

	if (http_request_count > 0) {
		log_event(LOG_LEVEL_WARN, "drain_timeout", "%u requests still "
		    "in flight after %d ms", http_request_count, DRAIN_MS);
	}
}

/* Runs on a graceful stop: requests in flight and queued clicks first. */
void
kore_worker_teardown(void)
{
	drain_requests();
	retention_stop();
	clickwriter_flush();
	log_event(LOG_LEVEL_INFO, "worker_stop", "worker %u stopped%s",
	    worker->id, reloading ? " for a reload" : "");
	log_flush();
	if (reloading)
		exit(EXIT_RELOAD);
}
