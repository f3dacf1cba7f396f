/*
 * Prometheus metrics of one instance (the Kore parent and its workers).
 *
 * Counters live in memory shared by all worker processes, mapped by the
 * parent before it forks them, so GET /metrics on any worker reports the
 * whole instance and counts survive a worker's respawn. Each worker
 * writes only its own slot (no locks); a scrape sums the slots.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum metrics_cache_result {
	METRICS_CACHE_HIT,
	METRICS_CACHE_LOCAL_HIT,	/* the worker's own copy, Redis not asked */
	METRICS_CACHE_MISS,
	METRICS_CACHE_NEGATIVE,	/* a cached "this code does not exist" */
	METRICS_CACHE_BYPASS,	/* Redis not usable: not asked */
	METRICS_CACHE_ERROR,	/* asked, but timeout or error reply */
	METRICS_CACHE_RESULTS
};

enum metrics_redirect_outcome {
	METRICS_REDIRECT_FOUND,		/* 302 */
	METRICS_REDIRECT_NOT_FOUND,	/* 404: unknown, inactive, deleted */
	METRICS_REDIRECT_UNAVAILABLE,	/* 503: database down on a miss */
	METRICS_REDIRECT_OUTCOMES
};

enum metrics_db_outcome {
	METRICS_DB_OK,
	METRICS_DB_REFUSED,	/* the server answered with an error */
	METRICS_DB_UNREACHABLE	/* no connection, or it broke */
};

/*
 * What the metrics cannot see for themselves: the click writer's queue and
 * drops, and whether Redis takes commands. The worker's start-up registers
 * a function that reads them (app/init.c), called at every sample: obs is
 * a sink and includes none of the layers it reports on.
 */
struct metrics_deps {
	uint64_t	click_queue;	/* clicks waiting, in flight included */
	uint64_t	clicks_dropped;	/* since the worker started */
	int		redis_up;
};

void	metrics_deps_source(void (*fn)(struct metrics_deps *));

/* Parent, once, before the workers fork (kore_parent_configure). */
void	metrics_init(void);
/* Each worker as it starts, after clickwriter_init(). */
void	metrics_worker_start(void);

/* Durations: a monotonic reading, then the seconds since it. */
void	metrics_clock(struct timespec *ts);
double	metrics_since(const struct timespec *ts);

/* route: enum route_id; method: ROUTE_* bit (core/route.h). */
void	metrics_request(int route, int method, int status, double seconds);
void	metrics_inflight(int delta);
void	metrics_cache_lookup(enum metrics_cache_result r);
void	metrics_redirect(enum metrics_redirect_outcome o);
/* One statement, from send to its end; also PostgreSQL's reachability. */
void	metrics_db_query(double seconds, enum metrics_db_outcome o);
/* The click writer stored a batch of n clicks. */
void	metrics_click_batch(size_t n);
void	metrics_lookup_batch(size_t n);

/* The GET /metrics handler's work: the exposition text, malloc'd. */
char	*metrics_render(size_t *len);

#endif
