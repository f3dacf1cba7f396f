/*
 * field_at_offset(), which names the field of a 422 "number is out of
 * range" from the byte offset jansson reports.
 *
 * Input, first byte even: arbitrary text, an offset and a buffer size
 * (the raw contract: any offset, any bytes). The text lies in a buffer of
 * exactly its length, so a read at or past it is an ASan report; the
 * name, when there is one, fits the buffer and is valid UTF-8.
 *
 * First byte odd: a program that builds a JSON object, members with
 * arbitrary keys (escaped, sometimes as \uXXXX), values of every type,
 * blanks in every place, and one member whose value holds a number too
 * large (maybe deep inside arrays and objects). jansson must refuse it
 * with a numeric overflow, and field_at_offset() at jansson's position
 * must give that member's key: decoded, cut to the buffer at a character
 * boundary. (jansson refuses "\u0000" in a key, so keys hold no NUL.)
 */

#include <string.h>

#include "core/fields.h"
#include "core/validate.h"
#include "fuzz.h"

struct text {
	char	*s;
	size_t	 len;
	size_t	 cap;
};

static void	raw(struct fz *);
static void	built(struct fz *);
static void	put(struct text *, const char *, size_t);
static void	puts_(struct text *, const char *);
static void	blank(struct fz *, struct text *);
static void	string(struct fz *, struct text *, const char *, size_t);
static void	value(struct fz *, struct text *, int, int);

static const char	*huge[] = {
	"99999999999999999999", "-99999999999999999999", "1e999",
	"-1e400", "123456789012345678901234567890",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz	f;

	fz_init(&f, data, size);
	if (fz_u8(&f) % 2 == 0)
		raw(&f);
	else
		built(&f);
	return (0);
}

static void
raw(struct fz *f)
{
	const char	*name;
	char		*text, buf[256];
	size_t		 pos, buflen;

	pos = fz_range(f, 0xffff);
	buflen = fz_range(f, sizeof(buf));
	text = fz_copy(f->p, f->n);
	name = field_at_offset(text, f->n, pos, buf, buflen);
	if (name != NULL)
		CHECK(name == buf && strlen(buf) < buflen &&
		    utf8_valid(buf, strlen(buf)), "name of %zu bytes in %zu",
		    strlen(buf), buflen);
	free(text);
}

static void
built(struct fz *f)
{
	struct text	 t = { NULL, 0, 0 };
	json_error_t	 err;
	json_t		*j;
	char		*key, *want, buf[256], *text;
	const char	*got;
	size_t		 i, n, target, klen, buflen, cut;

	n = 1 + fz_range(f, 5);
	target = fz_range(f, n - 1);
	buflen = 1 + fz_range(f, sizeof(buf) - 1);
	want = NULL;
	blank(f, &t);
	puts_(&t, "{");
	for (i = 0; i < n; i++) {
		if (i > 0) {
			blank(f, &t);
			puts_(&t, ",");
		}
		blank(f, &t);
		key = fz_bytes(f, 160, &klen);
		/* jansson refuses a NUL in a key ("\u0000"): no body. */
		if (!utf8_valid(key, klen) || memchr(key, '\0', klen) != NULL) {
			free(key);
			key = strdup("k");
			klen = 1;
		}
		string(f, &t, key, klen);
		blank(f, &t);
		puts_(&t, ":");
		blank(f, &t);
		value(f, &t, 0, i == target);
		if (i == target)
			want = key;
		else
			free(key);
	}
	blank(f, &t);
	puts_(&t, "}");

	/* The expected name: the key cut as a C string in buflen bytes. */
	klen = strlen(want);
	cut = klen < buflen - 1 ? klen : buflen - 1;
	while (cut > 0 && cut < klen && ((unsigned char)want[cut] & 0xc0) ==
	    0x80)
		cut--;
	want[cut] = '\0';

	text = fz_copy((const uint8_t *)t.s, t.len);
	j = json_loadb(text, t.len, JSON_ALLOW_NUL, &err);
	CHECK(j == NULL && json_error_code(&err) == json_error_numeric_overflow,
	    "jansson read \"%.*s\": %s", (int)t.len, t.s, err.text);
	got = field_at_offset(text, t.len, (size_t)err.position, buf, buflen);
	CHECK(got != NULL && strcmp(got, want) == 0, "in \"%.*s\" at %d: "
	    "got \"%s\", want \"%s\"", (int)t.len, t.s, err.position,
	    got != NULL ? got : "(null)", want);
	free(text);
	free(want);
	free(t.s);
}

static void
put(struct text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		t->cap = (t->len + n + 1) * 2;
		if ((t->s = realloc(t->s, t->cap)) == NULL)
			abort();
	}
	memcpy(t->s + t->len, s, n);
	t->len += n;
	t->s[t->len] = '\0';
}

static void
puts_(struct text *t, const char *s)
{
	put(t, s, strlen(s));
}

/* JSON's four blanks, none to a few. */
static void
blank(struct fz *f, struct text *t)
{
	static const char	ws[] = " \t\n\r";
	size_t			n = fz_range(f, 3);

	while (n-- > 0)
		put(t, &ws[fz_u8(f) % 4], 1);
}

/* A JSON string of s, escaped by jansson, sometimes ASCII only. */
static void
string(struct fz *f, struct text *t, const char *s, size_t len)
{
	json_t	*j;
	char	*enc;

	j = json_stringn(s, len);
	CHECK(j != NULL, "valid UTF-8 refused by jansson");
	enc = json_dumps(j, JSON_ENCODE_ANY |
	    (fz_u8(f) % 2 ? JSON_ENSURE_ASCII : 0));
	CHECK(enc != NULL, "json_dumps");
	puts_(t, enc);
	free(enc);
	json_decref(j);
}

/* Any value; with the overflow somewhere inside when huge is set. */
static void
value(struct fz *f, struct text *t, int depth, int with_huge)
{
	size_t	 n, i, at, len;
	char	*s;
	int	 kind = fz_u8(f) % 6;

	if (depth >= 4)
		kind = with_huge ? 0 : 1;
	switch (kind) {
	case 0:
		if (with_huge) {
			puts_(t, huge[fz_range(f, 4)]);
			return;
		}
		puts_(t, "-12.5e3");
		return;
	case 1:
		if (with_huge) {
			value(f, t, depth, 1);
			return;
		}
		s = fz_bytes(f, 40, &len);
		if (!utf8_valid(s, len))
			len = 0;
		string(f, t, s, len);
		free(s);
		return;
	case 2:
	case 3:
		n = 1 + fz_range(f, 3);
		at = fz_range(f, n - 1);
		puts_(t, kind == 2 ? "[" : "{");
		for (i = 0; i < n; i++) {
			if (i > 0)
				puts_(t, ",");
			blank(f, t);
			if (kind == 3) {
				s = fz_bytes(f, 10, &len);
				if (!utf8_valid(s, len) ||
				    memchr(s, '\0', len) != NULL)
					len = 0;
				string(f, t, s, len);
				free(s);
				puts_(t, ":");
			}
			value(f, t, depth + 1, with_huge && i == at);
			blank(f, t);
		}
		puts_(t, kind == 2 ? "]" : "}");
		return;
	default:
		if (with_huge) {
			value(f, t, depth, 1);
			return;
		}
		puts_(t, kind == 4 ? "null" : "true");
		return;
	}
}
