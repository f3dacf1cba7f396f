/*
 * Streamed response bodies.
 *
 * Kore 4.1 answers a request with one buffer and a Content-Length; its
 * own Python binding streams by hand, and this does the same in C. The
 * connection is marked CONN_IS_BUSY before the headers go out, so that
 * Kore does not start reading the next request (a pipelined one would
 * otherwise be answered in the middle of this body), and the request
 * keeps returning KORE_RESULT_RETRY, asleep, while its pieces are written.
 *
 * Each piece is one netbuf that points at the caller's memory
 * (net_send_stream); Kore calls stream_sent() when the kernel has taken
 * the last byte, or when the connection goes away with the piece still
 * queued. Either way the piece is released there and then, so the caller
 * owns at most one piece at a time. When the connection is gone Kore has
 * already marked the request for deletion (owner NULL) and woken it, and
 * frees it only after this callback: stream_sent() releases and does not
 * touch the request.
 *
 * "Connection: close" (asked by the client, or HTTP/1.0) makes Kore's
 * response writer set CONN_CLOSE_EMPTY, which would close the connection
 * as soon as the headers are out; the flag is held back until the body
 * is complete. HTTP/1.0 has no chunked encoding: its body ends with the
 * connection.
 */

#include <stdio.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "http/stream.h"

static int	stream_sent(struct netbuf *);

void
stream_begin(struct http_stream *s, struct http_request *req, int status)
{
	struct connection	*c = req->owner;

	memset(s, 0, sizeof(*s));
	s->req = req;
	s->head = req->method == HTTP_METHOD_HEAD;
	s->chunked = !(req->flags & HTTP_VERSION_1_0);

	c->flags |= CONN_IS_BUSY;
	req->flags |= HTTP_REQUEST_NO_CONTENT_LENGTH;
	if (s->chunked)
		http_response_header(req, "transfer-encoding", "chunked");
	http_response(req, status, NULL, 0);

	if (c->flags & CONN_CLOSE_EMPTY) {
		c->flags &= ~CONN_CLOSE_EMPTY;
		s->close = 1;
	}
}

void
stream_write(struct http_stream *s, const void *data, size_t len,
    void (*release)(void *), void *arg)
{
	struct connection	*c = s->req->owner;
	struct netbuf		*nb;
	char			 size[24];
	int			 n;

	if (s->head || len == 0 || c == NULL) {
		release(arg);
		return;
	}

	s->release = release;
	s->arg = arg;
	s->pending = 1;

	/* Asleep first: the flush below may finish the piece at once. */
	http_request_sleep(s->req);
	if (s->chunked) {
		n = snprintf(size, sizeof(size), "%zx\r\n", len);
		net_send_queue(c, size, (size_t)n);
	}
	net_send_stream(c, (void *)data, len, stream_sent, &nb);
	nb->extra = s;
	if (s->chunked)
		net_send_queue(c, "\r\n", 2);

	if (net_send_flush(c) == KORE_RESULT_ERROR)
		kore_connection_disconnect(c);
}

void
stream_put(struct http_stream *s, const void *data, size_t len)
{
	struct connection	*c = s->req->owner;
	char			 size[24];
	int			 n;

	if (s->head || len == 0 || c == NULL)
		return;

	if (s->chunked) {
		n = snprintf(size, sizeof(size), "%zx\r\n", len);
		net_send_queue(c, size, (size_t)n);
	}
	net_send_queue(c, data, len);
	if (s->chunked)
		net_send_queue(c, "\r\n", 2);
}

void
stream_end(struct http_stream *s)
{
	struct connection	*c = s->req->owner;

	if (c == NULL)
		return;

	if (s->chunked && !s->head)
		net_send_queue(c, "0\r\n\r\n", 5);
	c->flags &= ~CONN_IS_BUSY;
	if (s->close)
		c->flags |= CONN_CLOSE_EMPTY;
	else
		http_start_recv(c);
}

static int
stream_sent(struct netbuf *nb)
{
	struct http_stream	*s = nb->extra;

	s->pending = 0;
	s->release(s->arg);
	s->release = NULL;
	s->arg = NULL;
	if (s->req->owner != NULL)
		http_request_wakeup(s->req);

	return (KORE_RESULT_OK);
}
