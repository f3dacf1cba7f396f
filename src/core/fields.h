/*
 * Strictly typed reads of a request body's fields. A boolean is not an
 * integer, "1" is not an integer, null is not a string: each read either
 * yields a value of the declared type or records what is wrong under the
 * field's name in an errors object that becomes a 422. Pure (jansson).
 */
#ifndef FIELDS_H
#define FIELDS_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

enum field_result {
	FIELD_ABSENT,	/* not in the body */
	FIELD_NULL,	/* present and null, where null is allowed */
	FIELD_SET,	/* present, right type, valid */
	FIELD_INVALID	/* recorded in errors */
};

#define FIELD_REQUIRED	0x01
#define FIELD_NULLABLE	0x02

typedef const char	*(*field_check)(const char *, size_t);

enum field_result	field_string(json_t *body, const char *key, int flags,
			    field_check check, json_t *errors,
			    const char **out, size_t *out_len);
enum field_result	field_int(json_t *body, const char *key, int flags,
			    json_t *errors, int64_t *out);
enum field_result	field_bool(json_t *body, const char *key, int flags,
			    json_t *errors, int *out);
/* A JSON object; *out is borrowed from body. */
enum field_result	field_object(json_t *body, const char *key, int flags,
			    json_t *errors, json_t **out);

/*
 * The name of the top-level member of a JSON object text whose value
 * spans byte offset pos, decoded (escapes resolved) into buf and cut at a
 * character boundary to at most buflen - 1 bytes; NULL when pos lies
 * outside any member. Reads nothing at or past text + pos. jansson
 * reports where a number overflowed but not in which field, and the 422
 * must name the field.
 */
const char		*field_at_offset(const char *text, size_t len, size_t pos,
			    char *buf, size_t buflen);

#endif
