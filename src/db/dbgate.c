/*
 * The connect gate (see dbgate.h) and its probe.
 *
 * The probe is libpq's non-blocking connect: PQconnectStart(), then
 * PQconnectPoll() whenever the socket is ready for what libpq last asked
 * for. A timer looks at the socket every PROBE_TICK_MS with a poll(2)
 * that does not wait, so the worker never blocks on it (the host name
 * is still resolved synchronously by PQconnectStart(), as by any libpq
 * connect: give an address to avoid that). PQconnectPoll() ignores
 * connect_timeout, so a probe has its own deadline.
 *
 * A probe that fails by itself (connection refused, or the server said
 * no, "too many clients" say) proves that a connect does not stall: the
 * gate then opens again after PROBE_RETRY_MS, the plain hold-off, and
 * kore_pgsql may use its pooled connections and try its own connects as
 * before. Only a probe that ran into its deadline keeps the gate closed;
 * it is tried again after a backoff doubling up to PROBE_BACKOFF_MAX_MS:
 * a paused server keeps each such connection in its listen queue and has
 * to answer all of them when it resumes.
 */

#include <sys/param.h>

#include <inttypes.h>
#include <poll.h>

#include <kore/kore.h>
#include <kore/pgsql.h>

#include "config/config.h"
#include "db/dbgate.h"
#include "obs/log.h"

#define PROBE_TICK_MS		25
#define PROBE_DEADLINE_MS	2000
#define PROBE_RETRY_MS		250
#define PROBE_BACKOFF_MAX_MS	2000
/* Per tick: the loop ends even if the socket stayed ready forever. */
#define PROBE_STEPS_MAX		8

enum probe_result {
	PROBE_CONNECTED,
	PROBE_FAILED,
	PROBE_TIMED_OUT
};

static void	probe_start(void);
static void	probe_step(void);
static int	probe_ready(void);
static void	probe_end(enum probe_result);
static void	probe_later(u_int64_t);
static void	probe_tick(void *, u_int64_t);
static void	gate_reopen(void *, u_int64_t);

/*
 * Owned by this worker. While the gate is closed, exactly one one-shot
 * timer of ours is pending: it looks at the probe in progress (conn) or
 * starts the next one. While it is open there is neither timer nor conn.
 */
static struct {
	int				 closed;
	u_int64_t			 closed_at;
	u_int32_t			 probes;	/* since it closed */
	PGconn				*conn;
	PostgresPollingStatusType	 want;		/* conn's next step */
	u_int64_t			 deadline;	/* conn's */
	u_int64_t			 backoff;	/* after a time-out */
} gate;

int
db_connect_allowed(void)
{
	return (!gate.closed);
}

void
db_connect_failed(void)
{
	if (gate.closed)
		return;

	gate.closed = 1;
	gate.closed_at = kore_time_ms();
	gate.probes = 0;
	gate.backoff = PROBE_RETRY_MS;
	probe_start();
}

static void
probe_start(void)
{
	gate.probes++;
	gate.conn = PQconnectStart(config.database_url);
	if (gate.conn == NULL) {
		/* Out of memory: nothing to finish, just try again. */
		probe_later(PROBE_RETRY_MS);
		return;
	}
	if (PQstatus(gate.conn) == CONNECTION_BAD) {
		probe_end(PROBE_FAILED);
		return;
	}

	gate.deadline = kore_time_ms() + PROBE_DEADLINE_MS;
	/* libpq's protocol: wait for the socket to be writable first. */
	gate.want = PGRES_POLLING_WRITING;
	probe_step();
}

/* Moves the probe on as far as its socket allows, then looks later. */
static void
probe_step(void)
{
	int	i;

	for (i = 0; i < PROBE_STEPS_MAX && probe_ready(); i++) {
		gate.want = PQconnectPoll(gate.conn);
		if (gate.want == PGRES_POLLING_OK) {
			probe_end(PROBE_CONNECTED);
			return;
		}
		if (gate.want == PGRES_POLLING_FAILED) {
			probe_end(PROBE_FAILED);
			return;
		}
	}

	if (kore_time_ms() >= gate.deadline) {
		probe_end(PROBE_TIMED_OUT);
		return;
	}
	probe_later(PROBE_TICK_MS);
}

/* 1 when the socket is ready for gate.want (an error counts as ready). */
static int
probe_ready(void)
{
	struct pollfd	pfd;

	if (gate.want != PGRES_POLLING_READING &&
	    gate.want != PGRES_POLLING_WRITING)
		return (1);
	/* No socket: PQconnectPoll() reports what went wrong. */
	if ((pfd.fd = PQsocket(gate.conn)) == -1)
		return (1);

	pfd.events = gate.want == PGRES_POLLING_READING ? POLLIN : POLLOUT;
	pfd.revents = 0;
	return (poll(&pfd, 1, 0) == 1);
}

static void
probe_end(enum probe_result result)
{
	u_int64_t	delay = PROBE_RETRY_MS;

	if (result == PROBE_CONNECTED) {
		log_event(LOG_LEVEL_DEBUG, "database_probe", "probe %" PRIu32
		    " connected: connects allowed again after %" PRIu64 " ms",
		    gate.probes, kore_time_ms() - gate.closed_at);
		gate.closed = 0;
	} else if (result == PROBE_FAILED) {
		log_event(LOG_LEVEL_DEBUG, "database_probe", "probe %" PRIu32
		    " answered at once (%s): connects allowed again in %d ms",
		    gate.probes, PQerrorMessage(gate.conn), PROBE_RETRY_MS);
	} else {
		log_event(LOG_LEVEL_DEBUG, "database_probe", "probe %" PRIu32
		    " got no answer in %d ms", gate.probes, PROBE_DEADLINE_MS);
		delay = gate.backoff;
		gate.backoff = MIN(gate.backoff * 2, PROBE_BACKOFF_MAX_MS);
	}

	PQfinish(gate.conn);
	gate.conn = NULL;
	if (result == PROBE_FAILED) {
		kore_timer_add(gate_reopen, PROBE_RETRY_MS, NULL,
		    KORE_TIMER_ONESHOT);
		return;
	}
	if (gate.closed)
		probe_later(delay);
}

static void
gate_reopen(void *arg, u_int64_t now)
{
	gate.closed = 0;
}

static void
probe_later(u_int64_t ms)
{
	kore_timer_add(probe_tick, ms, NULL, KORE_TIMER_ONESHOT);
}

static void
probe_tick(void *arg, u_int64_t now)
{
	if (gate.conn == NULL)
		probe_start();
	else
		probe_step();
}
