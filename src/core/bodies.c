/*
 * Request bodies, resource by resource. Every field is read even after an
 * earlier one failed, so that one 422 lists every problem at once.
 */

#include <string.h>

#include "core/bodies.h"
#include "core/validate.h"

static void	lifecycle(json_t *, int64_t, struct url_body *, json_t *);
static int	verdict(const json_t *);

int
body_user(json_t *body, int create, struct user_body *b, json_t *errors)
{
	int	flags = create ? FIELD_REQUIRED : 0;

	memset(b, 0, sizeof(*b));
	if (field_string(body, "username", flags, validate_username, errors,
	    &b->username, &b->username_len) != FIELD_SET)
		b->username = NULL;
	if (field_string(body, "email", flags, validate_email, errors,
	    &b->email, &b->email_len) != FIELD_SET)
		b->email = NULL;

	return (verdict(errors));
}

int
body_url_create(json_t *body, int64_t now, int user_flags,
    struct url_body *b, json_t *errors)
{
	memset(b, 0, sizeof(*b));
	b->is_active = 1;
	b->has_user_id = field_int(body, "user_id", user_flags, errors,
	    &b->user_id) == FIELD_SET;
	if (field_string(body, "original_url", FIELD_REQUIRED, validate_url,
	    errors, &b->original_url, &b->original_url_len) != FIELD_SET)
		b->original_url = NULL;
	b->title = field_string(body, "title", FIELD_NULLABLE, validate_title,
	    errors, &b->title_text, &b->title_len);
	b->has_active = field_bool(body, "is_active", 0, errors,
	    &b->is_active) == FIELD_SET;
	if (!b->has_active)
		b->is_active = 1;
	if (field_string(body, "short_code", FIELD_NULLABLE,
	    validate_custom_code, errors, &b->short_code,
	    &b->short_code_len) != FIELD_SET)
		b->short_code = NULL;
	lifecycle(body, now, b, errors);

	return (verdict(errors));
}

int
body_url_update(json_t *body, int64_t now, struct url_body *b,
    json_t *errors)
{
	memset(b, 0, sizeof(*b));
	if (field_string(body, "original_url", 0, validate_url, errors,
	    &b->original_url, &b->original_url_len) != FIELD_SET)
		b->original_url = NULL;
	b->title = field_string(body, "title", FIELD_NULLABLE, validate_title,
	    errors, &b->title_text, &b->title_len);
	b->has_active = field_bool(body, "is_active", 0, errors,
	    &b->is_active) == FIELD_SET;
	lifecycle(body, now, b, errors);

	return (verdict(errors));
}

int
body_event_create(json_t *body, struct event_body *b, json_t *errors)
{
	memset(b, 0, sizeof(*b));
	field_int(body, "url_id", FIELD_REQUIRED, errors, &b->url_id);
	field_int(body, "user_id", FIELD_REQUIRED, errors, &b->user_id);
	field_string(body, "event_type", FIELD_REQUIRED, validate_event_type,
	    errors, &b->event_type, &b->event_type_len);
	if (field_object(body, "details", FIELD_NULLABLE, errors,
	    &b->details) != FIELD_SET)
		b->details = NULL;

	return (verdict(errors));
}

/* expires_at and max_clicks: a value that breaks its rule reads as invalid. */
static void
lifecycle(json_t *body, int64_t now, struct url_body *b, json_t *errors)
{
	b->expires_at = field_string(body, "expires_at", FIELD_NULLABLE,
	    validate_expiry, errors, &b->expires_at_text, &b->expires_at_len);
	if (b->expires_at == FIELD_SET &&
	    timestamp_epoch(b->expires_at_text) <= now) {
		json_object_set_new(errors, "expires_at",
		    json_string("must be in the future"));
		b->expires_at = FIELD_INVALID;
	}
	b->max_clicks = field_int(body, "max_clicks", FIELD_NULLABLE, errors,
	    &b->max_clicks_value);
	if (b->max_clicks == FIELD_SET && (b->max_clicks_value < 1 ||
	    b->max_clicks_value > URL_MAX_CLICKS_MAX)) {
		json_object_set_new(errors, "max_clicks",
		    json_string("must be an integer from 1 to 1000000000000"));
		b->max_clicks = FIELD_INVALID;
	}
}

static int
verdict(const json_t *errors)
{
	return (json_object_size(errors) == 0 ? 0 : -1);
}
