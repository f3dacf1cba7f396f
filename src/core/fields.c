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
static size_t			string_end(const char *, size_t, size_t);
static const char		*key_decode(const char *, size_t, char *,
				    size_t);

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
 * A scan of text[0..pos): strings are skipped whole, brackets counted, and
 * a string at depth 1 followed by a ':' (blanks between) becomes the
 * current key; a ',' at depth 1 or the object's end drops it. Nothing at
 * or past pos is read, whatever pos is: a string cut by pos ends there.
 */
const char *
field_at_offset(const char *text, size_t len, size_t pos, char *buf,
    size_t buflen)
{
	size_t		 i, start, str_start, str_len, key_start, key_len;
	int		 depth, have_key, after_str;

	if (pos > len)
		pos = len;

	depth = have_key = after_str = 0;
	str_start = str_len = key_start = key_len = 0;
	for (i = 0; i < pos; i++) {
		switch (text[i]) {
		case '"':
			start = i + 1;
			i = string_end(text, start, pos);
			after_str = depth == 1 && i < pos;
			str_start = start;
			str_len = i - start;
			continue;
		case ':':
			if (after_str) {
				have_key = 1;
				key_start = str_start;
				key_len = str_len;
			}
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
			if (--depth <= 0)
				have_key = 0;
			break;
		case ' ':
		case '\t':
		case '\n':
		case '\r':
			continue;
		}
		after_str = 0;
	}

	if (!have_key || buflen == 0)
		return (NULL);
	/* The key's closing quote lies before pos: the whole token is there. */
	return (key_decode(text + key_start - 1, key_len + 2, buf, buflen));
}

/* The index of the quote closing the string at start, or pos. */
static size_t
string_end(const char *text, size_t start, size_t pos)
{
	size_t	i;

	for (i = start; i < pos && text[i] != '"'; i++) {
		if (text[i] == '\\' && i + 1 < pos)
			i++;
	}

	return (i);
}

/*
 * The key as the client meant it: escapes decoded (jansson reads the
 * string token), then cut to buflen - 1 bytes at a character boundary, so
 * that the field name put into the 422 is valid UTF-8. A decoded NUL ends
 * the name, as it would any C string.
 */
static const char *
key_decode(const char *token, size_t len, char *buf, size_t buflen)
{
	json_t		*key;
	const char	*s;
	size_t		 n;

	key = json_loadb(token, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (key == NULL || !json_is_string(key)) {
		json_decref(key);
		return (NULL);
	}

	s = json_string_value(key);
	n = json_string_length(key);
	if (n > buflen - 1) {
		n = buflen - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	json_decref(key);
	return (buf);
}
