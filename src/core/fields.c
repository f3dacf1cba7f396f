/*
 * Typed field reads. Every read goes through field_lookup(), which settles
 * absent, null and required once, so the typed readers only check types.
 */

#include <string.h>

#include "core/fields.h"

static enum field_result	field_lookup(json_t *, const char *, int,
				    json_t *, json_t **);
static enum field_result	field_error(json_t *, const char *,
				    const char *);

enum field_result
field_string(json_t *body, const char *key, int flags, field_check check,
    json_t *errors, const char **out, size_t *out_len)
{
	enum field_result	 r;
	json_t			*v;
	const char		*problem;

	if ((r = field_lookup(body, key, flags, errors, &v)) != FIELD_SET)
		return (r);
	if (!json_is_string(v))
		return (field_error(errors, key, "must be a string"));

	*out = json_string_value(v);
	*out_len = json_string_length(v);
	if (check != NULL && (problem = check(*out, *out_len)) != NULL)
		return (field_error(errors, key, problem));

	return (FIELD_SET);
}

enum field_result
field_int(json_t *body, const char *key, int flags, json_t *errors,
    int64_t *out)
{
	enum field_result	 r;
	json_t			*v;

	if ((r = field_lookup(body, key, flags, errors, &v)) != FIELD_SET)
		return (r);
	if (!json_is_integer(v))
		return (field_error(errors, key, "must be an integer"));

	*out = (int64_t)json_integer_value(v);
	return (FIELD_SET);
}

enum field_result
field_bool(json_t *body, const char *key, int flags, json_t *errors, int *out)
{
	enum field_result	 r;
	json_t			*v;

	if ((r = field_lookup(body, key, flags, errors, &v)) != FIELD_SET)
		return (r);
	if (!json_is_boolean(v))
		return (field_error(errors, key, "must be a boolean"));

	*out = json_is_true(v);
	return (FIELD_SET);
}

enum field_result
field_object(json_t *body, const char *key, int flags, json_t *errors,
    json_t **out)
{
	enum field_result	 r;
	json_t			*v;

	if ((r = field_lookup(body, key, flags, errors, &v)) != FIELD_SET)
		return (r);
	if (!json_is_object(v))
		return (field_error(errors, key, "must be a JSON object"));

	*out = v;
	return (FIELD_SET);
}

static enum field_result
field_lookup(json_t *body, const char *key, int flags, json_t *errors,
    json_t **v)
{
	if ((*v = json_object_get(body, key)) == NULL) {
		if (flags & FIELD_REQUIRED)
			return (field_error(errors, key, "is required"));
		return (FIELD_ABSENT);
	}

	if (json_is_null(*v)) {
		if (flags & FIELD_NULLABLE)
			return (FIELD_NULL);
		return (field_error(errors, key, "must not be null"));
	}

	return (FIELD_SET);
}

static enum field_result
field_error(json_t *errors, const char *key, const char *problem)
{
	json_object_set_new(errors, key, json_string(problem));
	return (FIELD_INVALID);
}

/*
 * A scan of the valid prefix text[0..pos): strings are skipped whole,
 * brackets counted, and the last string at depth 1 that is followed by
 * a ':' is the key being read.
 */
const char *
field_at_offset(const char *text, size_t len, size_t pos, char *buf,
    size_t buflen)
{
	size_t		 i, start, key_start, key_len;
	int		 depth, have_key;

	if (pos > len)
		pos = len;

	depth = have_key = 0;
	key_start = key_len = 0;
	for (i = 0; i < pos; i++) {
		switch (text[i]) {
		case '"':
			start = ++i;
			while (i < pos && text[i] != '"')
				i += text[i] == '\\' ? 2 : 1;
			if (depth == 1) {
				key_start = start;
				key_len = i - start;
			}
			break;
		case ':':
			if (depth == 1)
				have_key = 1;
			break;
		case ',':
			if (depth == 1)
				have_key = 0;
			break;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			depth--;
			break;
		}
	}

	if (!have_key || buflen == 0)
		return (NULL);
	if (key_len >= buflen)
		key_len = buflen - 1;
	memcpy(buf, text + key_start, key_len);
	buf[key_len] = '\0';
	return (buf);
}
