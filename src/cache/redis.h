/*
 * Asynchronous Redis for Kore workers: one connection per worker, kept
 * open by this module, and commands that answer within a time budget or
 * not at all. Design and limits are described at the top of redis.c.
 *
 * Contract for a command:
 *  - redis_command*() returns NULL when the cache is not usable (down,
 *    connecting, too many commands in flight) or the command could not
 *    be formatted; cb is then never called.
 *  - Otherwise cb is called exactly once, unless redis_cancel() came
 *    first: with REDIS_ST_OK or REDIS_ST_ERROR and the reply,
 *    REDIS_ST_TIMEOUT when the budget ran out first (a later reply is
 *    dropped), or REDIS_ST_DOWN when the connection was lost first. It
 *    runs from Kore's event loop (socket events or timers), never from
 *    inside redis_command*() or redis_cancel().
 *  - One reply per command: no SUBSCRIBE, MONITOR or CLIENT REPLY.
 *  - The returned op is valid until cb has been called or redis_cancel()
 *    has been; after either, forget it. Typical use: keep it in the
 *    request's context, clear it in cb, cancel it in the request's
 *    cleanup if still set.
 *  - With cb NULL the command is fire-and-forget: the return value only
 *    says whether it was queued and must not be passed to redis_cancel().
 *  - cb may issue or cancel commands; it must not block.
 */
#ifndef CACHE_REDIS_H
#define CACHE_REDIS_H

#include <stddef.h>

#include <hiredis/hiredis.h>

/* Not REDIS_OK/REDIS_ERR: hiredis defines those as macros. */
enum redis_status {
	REDIS_ST_OK,		/* reply holds the answer */
	REDIS_ST_ERROR,		/* Redis refused the command: reply->str */
	REDIS_ST_TIMEOUT,	/* no answer within the budget; reply NULL */
	REDIS_ST_DOWN		/* connection lost first; reply NULL */
};

struct redis_op;

/* reply belongs to hiredis and is valid only during the call. */
typedef void	(*redis_cb)(void *arg, enum redis_status st,
		    redisReply *reply);

/*
 * Per worker, from kore_worker_configure(): starts connecting in the
 * background. url is redis://[[user]:password@]host[:port][/db]; a URL
 * that does not parse is logged and leaves the cache off for good
 * (redis_up() stays 0). budget_ms is each command's time budget.
 */
void		 redis_init(const char *url, int budget_ms);

/* 1 when a command issued now would be accepted. */
int		 redis_up(void);

struct redis_op	*redis_command(redis_cb cb, void *arg, const char *fmt, ...);
/* Binary-safe form: argvlen[i] bytes of argv[i], argvlen NULL = strlen. */
struct redis_op	*redis_command_argv(redis_cb cb, void *arg, int argc,
		    const char **argv, const size_t *argvlen);

/*
 * cb runs each time the connection becomes usable, before any other
 * command of this worker is sent on it; reconnect is 0 the first time.
 */
void		 redis_on_up(void (*cb)(int reconnect));

/* cb will not be called for op; op must not be used again. */
void		 redis_cancel(struct redis_op *op);

#endif
