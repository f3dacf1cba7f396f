/*
 * Asynchronous Redis for Kore workers.
 *
 * Each worker keeps one connection to Redis and pipelines every command
 * over it with hiredis' asynchronous API. Nothing here ever blocks the
 * worker on Redis: the socket is non-blocking, hiredis only reads and
 * writes when Kore's event loop says the socket is ready, and every
 * command is answered within its time budget, by Redis or by a timeout.
 * The one exception is name resolution: hiredis 0.14 resolves the host
 * with getaddrinfo(3) inside the connect call, so a host name (rather than
 * an address) costs a blocking lookup on each connection attempt, and a
 * broken resolver stalls the worker for its timeout once per attempt.
 *
 * The event loop adapter. The connection's event is a single static
 * struct that starts with struct kore_event, the way Kore's own
 * connections do, and it is never freed. Kore hands out a whole batch of
 * epoll events before any timer runs, and a connection can die in the
 * middle of a batch (an HTTP handler's command fails a write); a freed
 * event later in the same batch would be a use after free. With a static
 * event the handler simply finds ctx NULL and returns, and a new
 * connection is only ever opened from a timer, outside any batch.
 * Interest is level-triggered, unlike Kore's own sockets. hiredis reads at
 * most 16 KiB per redisAsyncHandleRead() and writes once per
 * redisAsyncHandleWrite(), and does not say whether it saw EAGAIN, so
 * with EPOLLET a large reply or a partial write would wait for the next
 * unrelated packet. Level-triggered costs one more epoll_wait round when
 * more is pending, and EPOLLOUT is requested only while hiredis has
 * output queued (addWrite/delWrite), so an idle connection costs nothing.
 * Interest changes are cached so that hiredis' habit of calling addRead
 * after every read does not cost an epoll_ctl each time.
 * kore_platform_disable_write() does not exist in this Kore build; a
 * change of mask is an EPOLL_CTL_MOD through kore_platform_event_schedule,
 * and only an empty mask removes the fd.
 *
 * The connection's life. IDLE (a reconnect timer pending) -> CONNECTING
 * (TCP connect, then AUTH and SELECT when the URL asks, then PING) -> UP
 * (PING answered: commands accepted) -> CLOSING (hiredis is failing the
 * pending callbacks) -> IDLE. A TCP connect is not proof of life: a
 * stopped Redis still completes the handshake in its kernel, so only a
 * PING answer within REDIS_HANDSHAKE_MS makes the cache usable again.
 * Every way out of a connection (refused, reset, EOF, failed handshake,
 * tripped, below) ends in hiredis' cleanup hook, which schedules the next
 * attempt: 100 ms, doubling to 5 s. The delay returns to 100 ms only once
 * a command has been answered within its budget, so a Redis that answers
 * PING but not commands in time is retried ever more slowly instead of
 * flapping ten times a second. One line is logged when the cache goes
 * down and one when it comes back, never one per attempt.
 *
 * Commands and the budget. hiredis 0.14 has no timeouts for the async
 * API. The privdata hiredis carries for a command is a small heap ticket,
 * struct redis_op, never the caller's object: hiredis gives it back with
 * the reply, or with NULL when the connection goes, possibly long after
 * the caller has gone. The ticket is freed only then. The caller's
 * callback is cleared when the budget runs out (the caller hears
 * REDIS_ST_TIMEOUT at once) or when the caller cancels, so a late reply
 * finds nobody to call. Since every command gets the same budget,
 * deadlines expire in the order commands were sent: they sit on a FIFO
 * and one one-shot Kore timer is armed for the oldest. A Kore timer per
 * command would cost a linear walk of Kore's sorted timer list per
 * command, exactly when thousands are in flight.
 *
 * A stalled Redis (CLIENT PAUSE, SIGSTOP, a dead host behind a silent
 * network) keeps the TCP connection open but answers nothing, while
 * commands pile up in hiredis' output buffer and as tickets. Two limits:
 *  - At most REDIS_INFLIGHT_MAX tickets, timed out ones included, so a
 *    stall costs a bounded amount of memory (a few MB); beyond it
 *    redis_up() is 0 and new commands are refused.
 *  - REDIS_TRIP_TIMEOUTS timeouts in a row, with no command answered in
 *    budget for REDIS_TRIP_MS, close the connection and reconnect. This
 *    drops the stale output buffer and tickets at once (a paused Redis
 *    would otherwise execute the whole backlog of stale commands when it
 *    wakes) and, more importantly, makes redis_up() 0 for the duration,
 *    so callers skip the cache at no cost instead of paying the full
 *    budget on every request. Both conditions are needed: a count alone
 *    would trip on one burst issued faster than any Redis can answer
 *    (or on a worker busy elsewhere for a few ms), a duration alone on a
 *    single slow command at low traffic. The price is a reconnect after a
 *    stall of a quarter second that a patient client would have sat out;
 *    for a cache with a budget of a few ms that is the right side to err.
 *
 * A deadline is judged by this worker's clock in its own loop, which
 * handles I/O before timers; a worker that was busy for longer than the
 * budget would expire commands whose replies already sit in the socket.
 * So before expiring anything the timer reads once more: a reply that is
 * there is used, however late.
 *
 * Not supported: anything whose replies are not one per command (pub/sub,
 * MONITOR, CLIENT REPLY), TLS, Unix sockets.
 */

#include <sys/epoll.h>
#include <sys/queue.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#include <kore/kore.h>

#include "cache/redis.h"
#include "core/redisurl.h"
#include "core/resp.h"
#include "obs/log.h"

/* Not one of Kore's KORE_TYPE_*; only a debugger ever reads it. */
#define REDIS_EVENT_TYPE	0x52

#define REDIS_INFLIGHT_MAX	10000
#define REDIS_TRIP_TIMEOUTS	32
#define REDIS_TRIP_MS		250
#define REDIS_BACKOFF_MIN_MS	100
#define REDIS_BACKOFF_MAX_MS	5000
#define REDIS_HANDSHAKE_MS	1000
/* A command shorter than this is framed on the stack: a GET, a fill. */
#define RESP_STACK		1024

enum conn_state {
	CONN_IDLE,
	CONN_CONNECTING,
	CONN_UP,
	CONN_CLOSING
};

/* The ticket: owned by hiredis from the send until its callback. */
struct redis_op {
	redis_cb		 cb;	/* NULL once answered, expired, cancelled */
	void			*arg;
	u_int64_t		 deadline;
	int			 waiting;	/* on the waiting FIFO */
	TAILQ_ENTRY(redis_op)	 list;
};

struct redis_conn {
	struct kore_event	 evt;		/* first: Kore casts to it */
	int			 fd;
	int			 mask;		/* epoll interest now set */
	redisAsyncContext	*ctx;
	enum conn_state		 state;
	struct kore_timer	*handshake_timer;
	const char		*close_reason;	/* why we closed, if we did */
};

static void	conn_open(void);
static void	conn_close(const char *);
static void	conn_lost(const char *);
static void	conn_event(void *, int);
static void	conn_connected(const redisAsyncContext *, int);
static void	conn_handshake_reply(redisAsyncContext *, void *, void *);
static void	conn_handshake_expired(void *, u_int64_t);
static void	conn_retry_later(void);
static void	conn_retry(void *, u_int64_t);
static void	conn_announce(int, const char *);

/* Set once per worker by redis_on_up(); called from the handshake. */
static void	(*on_up)(int);
static int	been_up;

static void	ev_add_read(void *);
static void	ev_del_read(void *);
static void	ev_add_write(void *);
static void	ev_del_write(void *);
static void	ev_cleanup(void *);
static void	ev_update(int, int);

static struct redis_op	*op_create(redis_cb, void *);
static struct redis_op	*op_submitted(struct redis_op *, int);
static void		 op_reply(redisAsyncContext *, void *, void *);
static void		 op_finish(struct redis_op *, enum redis_status,
			    redisReply *);
static void		 op_expire(void *, u_int64_t);
static void		 op_arm_timer(void);

/* All owned by this worker. */
static struct redis_conn	conn;
static struct redis_url		target;
static u_int64_t		budget_ms;
static u_int64_t		backoff_ms = REDIS_BACKOFF_MIN_MS;
static int			retry_pending;
static int			expiry_armed;
static u_int32_t		inflight;
static u_int32_t		timeouts_in_row;
static u_int64_t		last_answer_ms;	/* last reply within budget */
static int			announced = -1;	/* -1 nothing yet, 0 down, 1 up */
static char			reason_buf[256];

static TAILQ_HEAD(, redis_op)	waiting = TAILQ_HEAD_INITIALIZER(waiting);

void
redis_init(const char *url, int budget)
{
	const char	*err;

	conn.fd = -1;
	conn.state = CONN_IDLE;
	if (redisurl_parse(url, &target, &err) == -1) {
		log_event(LOG_LEVEL_ERROR, "cache_config",
		    "REDIS_URL: %s; cache off", err);
		return;
	}

	budget_ms = budget > 0 ? (u_int64_t)budget : 1;
	conn.evt.type = REDIS_EVENT_TYPE;
	conn.evt.flags = 0;
	conn.evt.handle = conn_event;
	conn_open();
}

int
redis_up(void)
{
	return (conn.state == CONN_UP && inflight < REDIS_INFLIGHT_MAX);
}

struct redis_op *
redis_command(redis_cb cb, void *arg, const char *fmt, ...)
{
	struct redis_op	*op;
	va_list		 ap;
	int		 r;

	if ((op = op_create(cb, arg)) == NULL)
		return (NULL);
	va_start(ap, fmt);
	r = redisvAsyncCommand(conn.ctx, op_reply, op, fmt, ap);
	va_end(ap);
	return (op_submitted(op, r));
}

/*
 * Framed here (core/resp.c), not by hiredis' formatter: the same bytes at
 * a fraction of the instructions. hiredis copies them to its output buffer.
 */
struct redis_op *
redis_command_argv(redis_cb cb, void *arg, int argc, const char **argv,
    const size_t *argvlen)
{
	struct redis_op	*op;
	char		 stack[RESP_STACK];
	char		*cmd;
	size_t		 len;
	int		 r;

	if (argc < 1 || (op = op_create(cb, arg)) == NULL)
		return (NULL);
	len = resp_len(argc, argv, argvlen);
	cmd = len < sizeof(stack) ? stack : kore_malloc(len + 1);
	len = resp_write(cmd, argc, argv, argvlen);
	cmd[len] = '\0';	/* hiredis reads the command as a C string */
	r = redisAsyncFormattedCommand(conn.ctx, op_reply, op, cmd, len);
	if (cmd != stack)
		kore_free(cmd);
	return (op_submitted(op, r));
}

void
redis_on_up(void (*cb)(int))
{
	on_up = cb;
}

void
redis_cancel(struct redis_op *op)
{
	if (op->waiting) {
		TAILQ_REMOVE(&waiting, op, list);
		op->waiting = 0;
	}
	op->cb = NULL;
}

/*
 * Connection life.
 */

static void
conn_open(void)
{
	redisAsyncContext	*ac;

	conn.state = CONN_CONNECTING;
	conn.close_reason = NULL;

	if ((ac = redisAsyncConnect(target.host, target.port)) == NULL)
		fatal("redis: out of memory");
	if (ac->err) {
		/* Refused at once (common on loopback) or unresolvable. */
		(void)snprintf(reason_buf, sizeof(reason_buf), "%s",
		    ac->errstr);
		redisAsyncFree(ac);
		conn_lost(reason_buf);
		return;
	}

	conn.ctx = ac;
	conn.fd = ac->c.fd;
	conn.mask = 0;
	ac->ev.data = &conn;
	ac->ev.addRead = ev_add_read;
	ac->ev.delRead = ev_del_read;
	ac->ev.addWrite = ev_add_write;
	ac->ev.delWrite = ev_del_write;
	ac->ev.cleanup = ev_cleanup;

	/* Also asks for the first write event, which ends the connect. */
	(void)redisAsyncSetConnectCallback(ac, conn_connected);
	conn.handshake_timer = kore_timer_add(conn_handshake_expired,
	    REDIS_HANDSHAKE_MS, NULL, KORE_TIMER_ONESHOT);
}

/*
 * Safe anywhere, including inside a hiredis callback, where hiredis
 * defers the free until the callback returns. Either way ev_cleanup()
 * follows and takes it from there.
 */
static void
conn_close(const char *reason)
{
	if (conn.ctx == NULL || conn.state == CONN_CLOSING)
		return;
	conn.close_reason = reason;
	conn.state = CONN_CLOSING;
	redisAsyncFree(conn.ctx);
}

/* The connection is gone, for whatever reason: try again later. */
static void
conn_lost(const char *reason)
{
	if (conn.handshake_timer != NULL) {
		kore_timer_remove(conn.handshake_timer);
		conn.handshake_timer = NULL;
	}
	conn.state = CONN_IDLE;
	conn_announce(0, reason);
	conn_retry_later();
}

static void
conn_event(void *arg, int error)
{
	struct redis_conn	*c = arg;
	int			 flags;

	flags = c->evt.flags;
	c->evt.flags = 0;

	/* Errors and hang-ups reach hiredis as a failing read or connect. */
	if (error)
		flags |= KORE_EVENT_READ;

	if ((flags & KORE_EVENT_READ) && c->ctx != NULL)
		redisAsyncHandleRead(c->ctx);
	if ((flags & KORE_EVENT_WRITE) && c->ctx != NULL)
		redisAsyncHandleWrite(c->ctx);
}

/* hiredis passes a const context here; commands need conn.ctx, the same. */
static void
conn_connected(const redisAsyncContext *unused, int status)
{
	redisAsyncContext	*ac = conn.ctx;

	/* On failure hiredis frees the context next; ev_cleanup() logs. */
	if (status != REDIS_OK)
		return;

	if (target.password[0] != '\0' && target.user[0] != '\0') {
		(void)redisAsyncCommand(ac, conn_handshake_reply, "AUTH",
		    "AUTH %s %s", target.user, target.password);
	} else if (target.password[0] != '\0') {
		(void)redisAsyncCommand(ac, conn_handshake_reply, "AUTH",
		    "AUTH %s", target.password);
	}
	if (target.db != 0) {
		(void)redisAsyncCommand(ac, conn_handshake_reply, "SELECT",
		    "SELECT %d", target.db);
	}
	(void)redisAsyncCommand(ac, conn_handshake_reply, "PING", "PING");
}

/* privdata names the step: a static string, nothing to free. */
static void
conn_handshake_reply(redisAsyncContext *ac, void *r, void *privdata)
{
	redisReply	*reply = r;
	const char	*step = privdata;

	if (reply == NULL || ac != conn.ctx || conn.state != CONN_CONNECTING)
		return;

	if (reply->type == REDIS_REPLY_ERROR) {
		(void)snprintf(reason_buf, sizeof(reason_buf),
		    "%s refused: %s", step, reply->str);
		conn_close(reason_buf);
		return;
	}
	if (strcmp(step, "PING") != 0)
		return;

	if (conn.handshake_timer != NULL) {
		kore_timer_remove(conn.handshake_timer);
		conn.handshake_timer = NULL;
	}
	conn.state = CONN_UP;
	timeouts_in_row = 0;
	last_answer_ms = kore_time_ms();
	conn_announce(1, NULL);
	if (on_up != NULL)
		on_up(been_up);
	been_up = 1;
}

static void
conn_handshake_expired(void *arg, u_int64_t now)
{
	/* Kore frees a one-shot timer after this returns: never remove it. */
	conn.handshake_timer = NULL;

	if (conn.state != CONN_CONNECTING)
		return;
	(void)snprintf(reason_buf, sizeof(reason_buf),
	    "no answer to the connection handshake within %d ms",
	    REDIS_HANDSHAKE_MS);
	conn_close(reason_buf);
}

static void
conn_retry_later(void)
{
	if (retry_pending)
		return;
	retry_pending = 1;
	(void)kore_timer_add(conn_retry, backoff_ms, NULL, KORE_TIMER_ONESHOT);
	backoff_ms *= 2;
	if (backoff_ms > REDIS_BACKOFF_MAX_MS)
		backoff_ms = REDIS_BACKOFF_MAX_MS;
}

static void
conn_retry(void *arg, u_int64_t now)
{
	retry_pending = 0;
	if (conn.state == CONN_IDLE)
		conn_open();
}

static void
conn_announce(int up, const char *reason)
{
	if (up == announced)
		return;
	announced = up;
	if (up) {
		log_event(LOG_LEVEL_INFO, "cache_up", "redis up (%s:%d db %d)",
		    target.host,
		    target.port, target.db);
	} else {
		log_event(LOG_LEVEL_WARN, "cache_down", "redis down (%s:%d: %s); "
		    "cache bypassed, "
		    "reconnecting in the background", target.host, target.port,
		    reason);
	}
}

/*
 * The adapter: hiredis' ev hooks onto Kore's epoll.
 */

static void
ev_add_read(void *arg)
{
	ev_update(EPOLLIN, 0);
}

static void
ev_del_read(void *arg)
{
	ev_update(0, EPOLLIN);
}

static void
ev_add_write(void *arg)
{
	ev_update(EPOLLOUT, 0);
}

static void
ev_del_write(void *arg)
{
	ev_update(0, EPOLLOUT);
}

/* Called by hiredis once per context, just before it closes the fd. */
static void
ev_cleanup(void *arg)
{
	const char	*reason;

	if (conn.mask != 0)
		kore_platform_disable_read(conn.fd);
	conn.mask = 0;
	conn.fd = -1;

	if (conn.close_reason != NULL)
		reason = conn.close_reason;
	else if (conn.ctx->err)
		reason = conn.ctx->errstr;
	else
		reason = "connection closed";
	/* errstr dies with the context: keep a copy for the log line. */
	if (reason != reason_buf) {
		(void)snprintf(reason_buf, sizeof(reason_buf), "%s", reason);
		reason = reason_buf;
	}
	conn.ctx = NULL;
	conn_lost(reason);
}

static void
ev_update(int add, int del)
{
	int	mask;

	if (conn.fd == -1)
		return;
	mask = (conn.mask | add) & ~del;
	if (mask == conn.mask)
		return;

	if (mask == 0)
		kore_platform_disable_read(conn.fd);
	else
		kore_platform_event_schedule(conn.fd, mask, 0, &conn);
	conn.mask = mask;
}

/*
 * Commands.
 */

static struct redis_op *
op_create(redis_cb cb, void *arg)
{
	struct redis_op	*op;

	if (!redis_up())
		return (NULL);
	op = kore_malloc(sizeof(*op));
	op->cb = cb;
	op->arg = arg;
	op->waiting = 0;
	return (op);
}

/*
 * r is what hiredis said when handed the command: REDIS_ERR for a bad
 * format or a context already being torn down.
 */
static struct redis_op *
op_submitted(struct redis_op *op, int r)
{
	if (r != REDIS_OK) {
		kore_free(op);
		return (NULL);
	}

	inflight++;
	op->deadline = kore_time_ms() + budget_ms;
	op->waiting = 1;
	TAILQ_INSERT_TAIL(&waiting, op, list);
	op_arm_timer();
	return (op);
}

/* hiredis' callback for every command: the only place a ticket dies. */
static void
op_reply(redisAsyncContext *ac, void *r, void *privdata)
{
	struct redis_op	*op = privdata;
	redisReply	*reply = r;

	inflight--;

	if (reply == NULL) {
		/* The context is being freed: refuse commands from callbacks. */
		conn.state = CONN_CLOSING;
		op_finish(op, REDIS_ST_DOWN, NULL);
	} else {
		/* Still waiting means it beat the timer: Redis is keeping up. */
		if (op->waiting || kore_time_ms() <= op->deadline) {
			timeouts_in_row = 0;
			last_answer_ms = kore_time_ms();
			backoff_ms = REDIS_BACKOFF_MIN_MS;
		}
		op_finish(op, reply->type == REDIS_REPLY_ERROR ?
		    REDIS_ST_ERROR : REDIS_ST_OK, reply);
	}
	kore_free(op);
}

/* Delivers st to the caller unless the op was already settled. */
static void
op_finish(struct redis_op *op, enum redis_status st, redisReply *reply)
{
	redis_cb	cb;

	if (op->waiting) {
		TAILQ_REMOVE(&waiting, op, list);
		op->waiting = 0;
	}
	if ((cb = op->cb) == NULL)
		return;
	op->cb = NULL;
	cb(op->arg, st, reply);
}

static void
op_expire(void *arg, u_int64_t unused)
{
	struct redis_op	*op;
	u_int64_t	 now;

	expiry_armed = 0;

	/* Replies already in the socket count, see the top of the file. */
	op = TAILQ_FIRST(&waiting);
	if (op != NULL && op->deadline <= kore_time_ms() &&
	    conn.state == CONN_UP)
		redisAsyncHandleRead(conn.ctx);
	/* Read after the replies: last_answer_ms must not be in the future. */
	now = kore_time_ms();

	/* Re-read the head each time: a callback may cancel other ops. */
	while ((op = TAILQ_FIRST(&waiting)) != NULL && op->deadline <= now) {
		timeouts_in_row++;
		op_finish(op, REDIS_ST_TIMEOUT, NULL);
	}

	if (timeouts_in_row >= REDIS_TRIP_TIMEOUTS &&
	    now - last_answer_ms >= REDIS_TRIP_MS && conn.state == CONN_UP) {
		(void)snprintf(reason_buf, sizeof(reason_buf),
		    "no answer within the %" PRIu64 " ms budget for %" PRIu64
		    " ms, %u commands in a row", budget_ms,
		    now - last_answer_ms, timeouts_in_row);
		conn_close(reason_buf);
	}
	op_arm_timer();
}

/*
 * One timer for the oldest deadline. With nothing waiting but a trip due
 * on time alone (at the in-flight limit no new command can come along to
 * arm it), one for the moment the trip falls due. At least 1 ms away: a
 * timer due "now" would run again within the same kore_timer_run() pass,
 * which hands it a stale clock, and could spin.
 */
static void
op_arm_timer(void)
{
	struct redis_op	*op;
	u_int64_t	 now, due, delay;

	if (expiry_armed)
		return;
	if ((op = TAILQ_FIRST(&waiting)) != NULL)
		due = op->deadline;
	else if (timeouts_in_row >= REDIS_TRIP_TIMEOUTS &&
	    conn.state == CONN_UP)
		due = last_answer_ms + REDIS_TRIP_MS;
	else
		return;
	now = kore_time_ms();
	delay = due > now ? due - now : 1;
	expiry_armed = 1;
	(void)kore_timer_add(op_expire, delay, NULL, KORE_TIMER_ONESHOT);
}
