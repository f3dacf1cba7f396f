/*
 * The endpoints. Each handler is run by the dispatcher, with the route
 * matched, the query string parsed and (for JSON writes) the body parsed
 * into a JSON object; each one sends exactly one response.
 */
#ifndef API_H
#define API_H

#include "http/context.h"

struct api_list;

/* The lists (users.c, urls.c, events.c): their filters for the router. */
extern const struct api_list	users_list_def;
extern const struct api_list	urls_list_def;
extern const struct api_list	events_list_def;

int	users_list(struct http_request *, struct api_ctx *);
int	users_create(struct http_request *, struct api_ctx *);
int	users_bulk(struct http_request *, struct api_ctx *);
int	user_get(struct http_request *, struct api_ctx *);
int	user_update(struct http_request *, struct api_ctx *);
int	user_delete(struct http_request *, struct api_ctx *);

int	urls_list(struct http_request *, struct api_ctx *);
int	urls_create(struct http_request *, struct api_ctx *);
int	url_get(struct http_request *, struct api_ctx *);
int	url_update(struct http_request *, struct api_ctx *);
int	url_delete(struct http_request *, struct api_ctx *);
int	url_stats(struct http_request *, struct api_ctx *);

int	events_list(struct http_request *, struct api_ctx *);
int	events_create(struct http_request *, struct api_ctx *);
int	event_get(struct http_request *, struct api_ctx *);
int	event_delete(struct http_request *, struct api_ctx *);

int	redirect(struct http_request *, struct api_ctx *);

int	ops_health(struct http_request *, struct api_ctx *);
int	ops_ready(struct http_request *, struct api_ctx *);

int	metrics_page(struct http_request *, struct api_ctx *);

#endif
