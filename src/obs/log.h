/*
 * JSON logs on stdout: one line per request, and one per event worth an
 * operator's attention (start, stop, a dependency going down or coming
 * back). Lines are written whole, in writes of at most PIPE_BUF bytes, so
 * lines of different workers never interleave.
 */
#ifndef LOG_H
#define LOG_H

struct http_request;

enum log_level {
	LOG_LEVEL_DEBUG,	/* the values of config.log_level */
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR
};

/* After config_load(), in each process that logs. */
void	log_init(void);
/* In each worker: request lines are then batched (see log.c). */
void	log_worker_start(void);
/* Writes what is batched; at worker exit. */
void	log_flush(void);

/* {"time","level","event","msg",...}; msg is printf-formatted. */
void	log_event(enum log_level level, const char *event, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));

struct log_request {
	const char	*request_id;
	const char	*client;	/* the address judged the client's */
	const char	*route;		/* template, "/urls/:id" */
	const char	*cache;		/* X-Cache, or NULL */
	int		 status;
	double		 duration_ms;
};

void	log_request(struct http_request *req, const struct log_request *r);

#endif
