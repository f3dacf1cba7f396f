/*
 * The JSON log line (core/logline.c): every request logs its path, which
 * is raw bytes from the request line, and its request id, which a client
 * may choose. Input: a buffer size, then a program of fields (string,
 * integer, duration, null) with arbitrary keys and values.
 *
 * Properties: the line fits its buffer, ends with its only newline, and
 * is one JSON object that a strict parser reads (valid UTF-8 included);
 * a field that did not fit is left out whole and marks the line
 * truncated, a line not marked truncated holds every field; each field
 * present reads back as what was logged: strings byte for byte when they
 * were valid UTF-8 (invalid sequences show as U+FFFD), integers exactly,
 * durations to the microsecond, implausible durations as null.
 */

#include <math.h>
#include <jansson.h>
#include <string.h>

#include "core/logline.h"
#include "core/validate.h"
#include "fuzz.h"

#define FIELDS	12

struct op {
	int	 kind;		/* 0 string, 1 int, 2 ms, 3 null string */
	char	*key;
	char	*str;
	int64_t	 i;
	double	 ms;
};

static char	*replaced(const char *);
static int	same_field(json_t *, const struct op *);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz	 f;
	struct logline	 l;
	struct op	 ops[FIELDS];
	json_error_t	 err;
	json_t		*j, *v;
	const char	*key;
	char		*buf;
	uint64_t	 bits;
	size_t		 cap, n, i, len;

	fz_init(&f, data, size);
	cap = 3 + fz_range(&f, 600);
	if ((buf = malloc(cap)) == NULL)
		abort();
	logline_begin(&l, buf, cap);
	for (n = 0; n < FIELDS && f.n > 0; n++) {
		ops[n].kind = fz_u8(&f) % 4;
		ops[n].key = fz_str(&f, 24);
		ops[n].str = NULL;
		switch (ops[n].kind) {
		case 0:
			ops[n].str = fz_str(&f, 200);
			logline_str(&l, ops[n].key, ops[n].str);
			break;
		case 1:
			ops[n].i = (int64_t)fz_u64(&f);
			logline_int(&l, ops[n].key, ops[n].i);
			break;
		case 2:
			bits = fz_u64(&f);
			memcpy(&ops[n].ms, &bits, sizeof(bits));
			if (fz_u8(&f) % 2)	/* mostly plausible ones */
				ops[n].ms = (double)(bits % 100000000) / 1000;
			logline_ms(&l, ops[n].key, ops[n].ms);
			break;
		default:
			logline_str(&l, ops[n].key, NULL);
			break;
		}
	}
	len = logline_end(&l);

	CHECK(len <= cap && len == l.len && len >= 3 && buf[len - 1] == '\n',
	    "line of %zu bytes in %zu", len, cap);
	CHECK(memchr(buf, '\n', len - 1) == NULL, "a newline inside");
	j = json_loadb(buf, len - 1, 0, &err);
	CHECK(j != NULL && json_is_object(j), "not one JSON object (%s): "
	    "%.*s", err.text, (int)len, buf);

	/*
	 * Every member is a field as it was logged. A key may repeat in a
	 * program, and the later field may not have fit: any field of that
	 * key will do.
	 */
	for (i = 0; i < n; i++) {
		char *k = replaced(ops[i].key);

		free(ops[i].key);
		ops[i].key = k;
	}
	json_object_foreach(j, key, v) {
		for (i = n; i > 0 && (strcmp(ops[i - 1].key, key) != 0 ||
		    !same_field(v, &ops[i - 1])); i--)
			;
		CHECK(i > 0, "member \"%s\" is no field as logged", key);
	}
	if (!l.truncated) {
		for (i = 0; i < n; i++)
			CHECK(json_object_get(j, ops[i].key) != NULL,
			    "field %zu lost from an untruncated line", i);
	}
	json_decref(j);
	for (i = 0; i < n; i++) {
		free(ops[i].key);
		free(ops[i].str);
	}
	free(buf);
	return (0);
}

/* A member reads back as the field logged. */
static int
same_field(json_t *v, const struct op *op)
{
	char	*want;
	int	 same;

	switch (op->kind) {
	case 0:
		want = replaced(op->str);
		same = json_is_string(v) && !strcmp(json_string_value(v), want);
		free(want);
		return (same);
	case 1:
		return (json_is_integer(v) && json_integer_value(v) == op->i);
	case 2:
		if (!(op->ms >= 0.0 && op->ms < 1e12))
			return (json_is_null(v));
		return (json_is_number(v) && fabs(json_number_value(v) -
		    op->ms) <= 0.0005 + op->ms * 1e-15);
	default:
		return (json_is_null(v));
	}
}

/* s with every invalid UTF-8 sequence, byte by byte, as U+FFFD. */
static char *
replaced(const char *s)
{
	size_t		 len = strlen(s), i, n, o = 0;
	uint32_t	 cp;
	char		*out;

	if ((out = malloc(3 * len + 1)) == NULL)
		abort();
	for (i = 0; i < len; i += n) {
		n = utf8_decode((const unsigned char *)s + i, len - i, &cp);
		if (n == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			n = 1;
		} else {
			memcpy(out + o, s + i, n);
			o += n;
		}
	}
	out[o] = '\0';
	return (out);
}
