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

#include <stdint.h>

struct http_request;

enum metrics_cache_result {
	METRICS_CACHE_HIT,
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

/* Parent, once, before the workers fork (kore_parent_configure). */
void	metrics_init(void);
/* Each worker as it starts (kore_worker_configure). */
void	metrics_worker_start(void);

/* route: enum route_id; method: ROUTE_* bit (core/route.h). */
void	metrics_request(int route, int method, int status, double seconds);
void	metrics_inflight(int delta);
void	metrics_cache_lookup(enum metrics_cache_result r);
void	metrics_redirect(enum metrics_redirect_outcome o);
/* One statement's duration; failed: 0 ok, 1 refused by the server, 2 unreachable. */
void	metrics_db_query(double seconds, int failed);
void	metrics_dependency_up(int postgres_up, int redis_up);

/* The GET /metrics handler's work: the exposition text, malloc'd. */
char	*metrics_render(size_t *len);

#endif
