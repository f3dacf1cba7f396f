/*
 * The endpoints (their table: api/routes.c). Each handler is run by the
 * dispatcher, with the route matched, the query string checked and (for
 * JSON writes) the body parsed into a JSON object; each one sends exactly
 * one response.
 */
#ifndef API_H
#define API_H

#include "http/context.h"

/* The filters of each list (users.c, urls.c, events.c), NULL-ended. */
extern const char *const	users_list_names[];
extern const char *const	urls_list_names[];
extern const char *const	events_list_names[];
extern const char *const	keys_list_names[];
/* The query parameters of the endpoints that take some (NULL-ended). */
extern const char *const	url_stats_names[];
extern const char *const	url_qr_names[];

int	users_list(struct http_request *, struct http_ctx *);
int	users_create(struct http_request *, struct http_ctx *);
int	users_bulk(struct http_request *, struct http_ctx *);
int	user_get(struct http_request *, struct http_ctx *);
int	user_update(struct http_request *, struct http_ctx *);
int	user_delete(struct http_request *, struct http_ctx *);

int	urls_list(struct http_request *, struct http_ctx *);
int	urls_create(struct http_request *, struct http_ctx *);
int	url_get(struct http_request *, struct http_ctx *);
int	url_update(struct http_request *, struct http_ctx *);
int	url_delete(struct http_request *, struct http_ctx *);
int	url_stats(struct http_request *, struct http_ctx *);
int	url_qr_svg(struct http_request *, struct http_ctx *);
int	url_qr_png(struct http_request *, struct http_ctx *);

int	events_list(struct http_request *, struct http_ctx *);
int	events_create(struct http_request *, struct http_ctx *);
int	event_get(struct http_request *, struct http_ctx *);
int	event_delete(struct http_request *, struct http_ctx *);

int	keys_list(struct http_request *, struct http_ctx *);
int	keys_create(struct http_request *, struct http_ctx *);
int	key_get(struct http_request *, struct http_ctx *);
int	key_revoke(struct http_request *, struct http_ctx *);

int	redirect(struct http_request *, struct http_ctx *);

int	ops_health(struct http_request *, struct http_ctx *);
int	ops_ready(struct http_request *, struct http_ctx *);

int	metrics_page(struct http_request *, struct http_ctx *);

int	web_home(struct http_request *, struct http_ctx *);
int	web_docs(struct http_request *, struct http_ctx *);
int	web_static(struct http_request *, struct http_ctx *);
int	web_openapi(struct http_request *, struct http_ctx *);
/* Builds GET /openapi.json from the route table; once per worker. */
void	web_openapi_init(void);

#endif
