/*
 * The router's gate (http/router.h): who is calling and how often.
 * api/auth.c says how; docs/security.md what it means.
 */
#ifndef AUTH_H
#define AUTH_H

#include "http/router.h"

struct api_ctx;

/* Once per worker: the key cache. */
void			 api_auth_init(void);
enum gate_result	 api_gate(struct http_request *req, struct http_ctx *h);
/* What the gate holds, when the request is freed. */
void			 api_gate_release(struct api_ctx *ctx);
/* A key revoked through this worker stops working here at once. */
void			 api_auth_forget(const char *hash);

#endif
