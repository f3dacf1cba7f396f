/*
 * The one place that writes responses: JSON bodies, the API's error shape,
 * and the headers every response carries.
 */
#ifndef RESPOND_H
#define RESPOND_H

#include <stddef.h>
#include <jansson.h>

struct http_request;

/* Seeds this worker's request id generator; once per worker. */
void	request_id_init(void);
/* Room for a request id and its NUL. */
#define REQUEST_ID_SIZE		129

/*
 * Takes X-Request-Id from the request (when sane) or makes one, sets it
 * on the response and copies it into id.
 */
void	request_id_assign(struct http_request *req, char id[REQUEST_ID_SIZE]);

void	respond_json(struct http_request *req, int status, const void *body,
	    size_t len);
/* Only the JSON Content-Type, for a body sent otherwise (a stream). */
void	respond_content_json(struct http_request *req);
/* Serialises and frees obj. */
void	respond_object(struct http_request *req, int status, json_t *obj);
void	respond_error(struct http_request *req, int status, const char *code,
	    const char *msg);
/* 422 with a "fields" object; takes ownership of fields. */
void	respond_invalid(struct http_request *req, json_t *fields);
/* 422 for one field. */
void	respond_invalid_field(struct http_request *req, const char *field,
	    const char *problem);
/* Adds Retry-After with the configured delay. */
void	respond_retry_after(struct http_request *req);
/* 503 with Retry-After. */
void	respond_unavailable(struct http_request *req, const char *what);
/* 405 with Allow. */
void	respond_bad_method(struct http_request *req, int allowed);
void	respond_no_content(struct http_request *req);
/* A body that is not JSON (GET /metrics). */
void	respond_text(struct http_request *req, int status,
	    const char *content_type, const void *body, size_t len);

#endif
