/*
 * A response body written in pieces, for bodies too large to hold at once
 * (a whole list): chunked transfer encoding on HTTP/1.1, the body ended by
 * closing the connection on HTTP/1.0. The request stays alive until
 * stream_end(), and each piece is written straight from the caller's
 * buffer: a piece is released, and the request woken, only once the
 * kernel has taken all of it, so a slow client holds one piece of memory,
 * never the whole body.
 */
#ifndef STREAM_H
#define STREAM_H

#include <stddef.h>

struct http_request;

struct http_stream {
	struct http_request	*req;
	int			 chunked;	/* else delimited by close */
	int			 close;		/* close once the body is out */
	int			 head;		/* HEAD: headers only */
	int			 pending;	/* a piece is being written */
	void			(*release)(void *);
	void			*arg;
};

/* Sends the status line and headers set so far; no Content-Length. */
void	stream_begin(struct http_stream *s, struct http_request *req,
	    int status);
/*
 * Queues len bytes of data (not copied) and puts the request to sleep;
 * release(arg) is called once they are written or the connection is
 * gone, and the request is woken. Nothing is written for a HEAD.
 */
void	stream_write(struct http_stream *s, const void *data, size_t len,
	    void (*release)(void *), void *arg);
/* Queues a copy of a few bytes (punctuation); written with the next. */
void	stream_put(struct http_stream *s, const void *data, size_t len);
/* Ends the body; the handler then returns KORE_RESULT_OK. */
void	stream_end(struct http_stream *s);

#endif
