/*
 * The JSON request bodies of each resource: which fields a call reads,
 * their types, which are required or may be null, and the validator each
 * value must pass. A handler binds what these return; the body fuzzer
 * (tests/fuzz/fuzz_body.c) drives the very same functions. Pure (jansson,
 * core/fields.c, core/validate.c).
 *
 * Each reader records every problem in errors (field name -> message, the
 * "fields" of a 422) and returns 0 when there was none, -1 otherwise.
 * Strings point into body, which must outlive their use. Unknown fields
 * are ignored, as the contract says.
 */
#ifndef BODIES_H
#define BODIES_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "core/fields.h"

/* POST /users (both fields required), PUT /users/<id> (either). */
struct user_body {
	const char	*username;	/* NULL: not given */
	size_t		 username_len;
	const char	*email;		/* NULL: not given */
	size_t		 email_len;
};

int	body_user(json_t *body, int create, struct user_body *b,
	    json_t *errors);

/* The largest max_clicks a link may have (db/migrations/020). */
#define URL_MAX_CLICKS_MAX	INT64_C(1000000000000)

/*
 * POST /urls and PUT /urls/<id>. The lifecycle fields (migration 020):
 * expires_at, the contract's timestamp, later than now (seconds since the
 * epoch, the caller's clock), or null for none; max_clicks, an integer
 * from 1 to URL_MAX_CLICKS_MAX, or null for no cap. Both optional.
 */
struct url_body {
	int64_t			 user_id;	/* create only */
	int			 has_user_id;
	const char		*original_url;	/* NULL: not given (update) */
	size_t			 original_url_len;
	enum field_result	 title;		/* FIELD_SET, _NULL or _ABSENT */
	const char		*title_text;
	size_t			 title_len;
	int			 has_active;
	int			 is_active;
	const char		*short_code;	/* NULL: draw a random one */
	size_t			 short_code_len;
	enum field_result	 expires_at;	/* FIELD_SET, _NULL or _ABSENT */
	const char		*expires_at_text;
	size_t			 expires_at_len;
	enum field_result	 max_clicks;	/* FIELD_SET, _NULL or _ABSENT */
	int64_t			 max_clicks_value;
};

/*
 * user_flags: FIELD_REQUIRED, or 0 when the caller supplies the user (an
 * API key scoped to one: user_id may then be left out).
 */
int	body_url_create(json_t *body, int64_t now, int user_flags,
	    struct url_body *b, json_t *errors);
int	body_url_update(json_t *body, int64_t now, struct url_body *b,
	    json_t *errors);

/* POST /events. */
struct event_body {
	int64_t		 url_id;
	int64_t		 user_id;
	const char	*event_type;
	size_t		 event_type_len;
	json_t		*details;	/* borrowed; NULL: absent or null */
};

int	body_event_create(json_t *body, struct event_body *b,
	    json_t *errors);

#endif
