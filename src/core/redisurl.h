/*
 * Redis connection URLs, redis://[[user]:password@]host[:port][/db].
 * Pure parsing, no Kore and no hiredis: the cache glue turns the result
 * into a connect, an AUTH and a SELECT.
 */
#ifndef REDISURL_H
#define REDISURL_H

#define REDISURL_HOST_MAX	255
#define REDISURL_USER_MAX	127
#define REDISURL_PASSWORD_MAX	511
#define REDISURL_DEFAULT_PORT	6379

struct redis_url {
	char	host[REDISURL_HOST_MAX + 1];	/* brackets of [v6] removed */
	char	user[REDISURL_USER_MAX + 1];	/* "" = AUTH password only */
	char	password[REDISURL_PASSWORD_MAX + 1];	/* "" = no AUTH */
	int	port;
	int	db;				/* 0 = no SELECT needed */
};

/*
 * Fills out and returns 0, or returns -1 with *err pointing at a static
 * reason fit for a log line (it never quotes the password).
 */
int	redisurl_parse(const char *url, struct redis_url *out,
	    const char **err);

#endif
