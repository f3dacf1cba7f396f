/*
 * The users CSV of POST /users/bulk.
 *
 * libcsv does the quoting rules; this file adds what libcsv does not
 * know: which column is which, line numbers, validation and duplicates.
 *
 * The parser runs in libcsv's default, lenient mode. Strict mode stops at
 * the first malformed quote and would abort the whole import, while the
 * contract says a bad row must never stop the rest. Lenient mode accepts
 * CRLF, LF or CR line ends, quoted fields holding commas, quotes ("") and
 * newlines, trims unquoted leading and trailing blanks, and never reports
 * empty lines, so blank lines are skipped for free.
 *
 * libcsv reports fields and records, not positions. To number lines the
 * input is fed one physical line at a time: a record can only end at a
 * line terminator, so between two calls we know whether a record is open,
 * and the first non-blank byte after a closed record is where the next
 * one starts. Lines are 1-based, the header being line 1; a record whose
 * quoted field spans lines carries the line it starts on.
 *
 * Rows are checked in file order and the first acceptable row wins: a
 * later row with the same id or the same email (ASCII case-insensitive,
 * as emails are unique in the database) is an error. A rejected row
 * claims neither its id nor its email, so a good row after a bad one with
 * the same id is kept. Both sets are small open-addressing hash tables so
 * a large file stays linear.
 *
 * Only the columns the import uses are validated (and so checked for
 * UTF-8); extra columns are ignored entirely, whatever they hold.
 */

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <csv.h>

#include "core/csvusers.h"
#include "core/query.h"
#include "core/validate.h"
#include "core/xalloc.h"

#define COL_NONE	((size_t)-1)
#define SEEN_MIN_CAP	64

/* One record as libcsv delivers it, each field NUL-terminated in buf. */
struct record {
	char	*buf;
	size_t	 len;
	size_t	 cap;
	size_t	*off;
	size_t	*flen;
	size_t	 n;
	size_t	 ncap;
};

/* Where the header put each column we use; COL_NONE when absent. */
struct columns {
	size_t	count;
	size_t	id;
	size_t	username;
	size_t	email;
	size_t	created_at;
};

struct seen_slot {
	uint64_t	hash;
	size_t		row;	/* index + 1; 0 marks an empty slot */
};

struct seen {
	struct seen_slot	*slots;
	size_t			 cap;	/* a power of two */
	size_t			 used;
};

typedef int	(*seen_match)(const struct csvusers_row *, const void *);

struct parse {
	struct csvusers	*out;
	struct record	 rec;
	struct columns	 cols;
	int		 have_header;
	const char	*why;		/* the file is unusable: a 400 */
	long		 line;		/* physical line being fed */
	long		 rec_line;	/* line the open record started on */
	int		 in_record;
	size_t		 max_rows;	/* 0: no limit */
	size_t		 rows_cap;
	size_t		 errors_cap;
	struct seen	 ids;
	struct seen	 emails;
};

static void		 feed(struct csv_parser *p, struct parse *ps,
			    const char *data, size_t len);
static size_t		 line_end(const char *data, size_t len, size_t pos);
static int		 is_blank(const char *s, size_t len);
static void		 on_field(void *s, size_t len, void *arg);
static void		 on_record(int c, void *arg);
static void		 header_read(struct parse *ps);
static int		 header_is(const char *s, size_t len,
			    const char *name);
static size_t		*header_slot(struct columns *cols, const char *s,
			    size_t len);
static void		 row_read(struct parse *ps);
static int		 row_check(struct parse *ps, struct csvusers_row *row,
			    char *msg, size_t msglen);
static int		 id_parse(const char *s, size_t len, int64_t *out);
static int		 row_duplicate(struct parse *ps,
			    const struct csvusers_row *row, char *msg,
			    size_t msglen);
static void		 row_accept(struct parse *ps,
			    const struct csvusers_row *row);
static void		 row_error(struct parse *ps, const char *msg);
static const char	*field(const struct record *rec, size_t col,
			    size_t *len);
static void		 record_reset(struct record *rec);
static void		 record_free(struct record *rec);
static uint64_t		 hash_id(int64_t id);
static uint64_t		 hash_email(const char *s);
static int		 match_id(const struct csvusers_row *row,
			    const void *key);
static int		 match_email(const struct csvusers_row *row,
			    const void *key);
static size_t		 seen_find(const struct seen *t,
			    const struct csvusers_row *rows, uint64_t hash,
			    seen_match match, const void *key);
static void		 seen_add(struct seen *t, uint64_t hash, size_t row);
static json_t		*must(json_t *json);
static json_t		*string_or_null(const char *s);

const char	csvusers_too_many[] = "the file has more rows than allowed";

int
csvusers_parse(const char *data, size_t len, struct csvusers *out,
    const char **why)
{
	return (csvusers_parse_max(data, len, 0, out, why));
}

int
csvusers_parse_max(const char *data, size_t len, size_t max_rows,
    struct csvusers *out, const char **why)
{
	struct csv_parser	p;
	struct parse		ps;

	memset(out, 0, sizeof(*out));
	memset(&ps, 0, sizeof(ps));
	ps.out = out;
	ps.line = 1;
	ps.max_rows = max_rows;

	/* Spreadsheets on Windows start UTF-8 files with a byte order mark. */
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
		data += 3;
		len -= 3;
	}

	if (csv_init(&p, 0) != 0)
		abort();
	feed(&p, &ps, data, len);
	(void)csv_fini(&p, on_field, on_record, &ps);
	csv_free(&p);

	record_free(&ps.rec);
	free(ps.ids.slots);
	free(ps.emails.slots);

	if (ps.why == NULL && !ps.have_header)
		ps.why = "empty CSV";
	if (ps.why != NULL) {
		csvusers_free(out);
		if (why != NULL)
			*why = ps.why;
		return (-1);
	}

	if (why != NULL)
		*why = NULL;
	return (0);
}

void
csvusers_free(struct csvusers *c)
{
	size_t	i;

	for (i = 0; i < c->nrows; i++) {
		free(c->rows[i].username);
		free(c->rows[i].email);
		free(c->rows[i].created_at);
	}
	for (i = 0; i < c->nerrors; i++)
		free(c->errors[i].message);

	free(c->rows);
	free(c->errors);
	memset(c, 0, sizeof(*c));
}

json_t *
csvusers_rows_json(const struct csvusers *c)
{
	const struct csvusers_row	*row;
	json_t				*arr, *obj;
	size_t				 i;

	arr = must(json_array());
	for (i = 0; i < c->nrows; i++) {
		row = &c->rows[i];
		obj = must(json_object());
		if (json_object_set_new(obj, "line",
		    must(json_integer(row->line))) == -1 ||
		    json_object_set_new(obj, "id", row->has_id ?
		    must(json_integer(row->id)) : json_null()) == -1 ||
		    json_object_set_new(obj, "username",
		    string_or_null(row->username)) == -1 ||
		    json_object_set_new(obj, "email",
		    string_or_null(row->email)) == -1 ||
		    json_object_set_new(obj, "created_at",
		    string_or_null(row->created_at)) == -1 ||
		    json_array_append_new(arr, obj) == -1)
			abort();
	}

	return (arr);
}

json_t *
csvusers_errors_json(const struct csvusers *c)
{
	json_t	*arr, *obj;
	size_t	 i;

	arr = must(json_array());
	for (i = 0; i < c->nerrors; i++) {
		obj = must(json_object());
		if (json_object_set_new(obj, "line",
		    must(json_integer(c->errors[i].line))) == -1 ||
		    json_object_set_new(obj, "error",
		    must(json_string(c->errors[i].message))) == -1 ||
		    json_array_append_new(arr, obj) == -1)
			abort();
	}

	return (arr);
}

/* One physical line per csv_parse() call; see the top of the file. */
static void
feed(struct csv_parser *p, struct parse *ps, const char *data, size_t len)
{
	size_t	pos, end;

	/* A file found unusable (too many rows) is not read further. */
	for (pos = 0; pos < len && ps->why == NULL; pos = end) {
		end = line_end(data, len, pos);
		if (!ps->in_record && !is_blank(data + pos, end - pos)) {
			ps->in_record = 1;
			ps->rec_line = ps->line;
		}

		/* Lenient libcsv only stops short when out of memory. */
		if (csv_parse(p, data + pos, end - pos, on_field, on_record,
		    ps) != end - pos)
			abort();

		if (data[end - 1] == '\n' || data[end - 1] == '\r')
			ps->line++;
	}
}

/* Index just past the line's terminator (CRLF, LF or CR), or len. */
static size_t
line_end(const char *data, size_t len, size_t pos)
{
	for (; pos < len; pos++) {
		if (data[pos] == '\n')
			return (pos + 1);
		if (data[pos] == '\r') {
			if (pos + 1 < len && data[pos + 1] == '\n')
				return (pos + 2);
			return (pos + 1);
		}
	}

	return (len);
}

/* What libcsv skips between records: its blanks and line terminators. */
static int
is_blank(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return (0);
	}

	return (1);
}

static void
on_field(void *s, size_t len, void *arg)
{
	struct parse	*ps = arg;
	struct record	*rec = &ps->rec;

	if (rec->n == rec->ncap) {
		rec->ncap = rec->ncap == 0 ? 8 : rec->ncap * 2;
		rec->off = xreallocarray(rec->off, rec->ncap, sizeof(size_t));
		rec->flen = xreallocarray(rec->flen, rec->ncap,
		    sizeof(size_t));
	}
	if (rec->len + len + 1 > rec->cap) {
		rec->cap = (rec->len + len + 1) * 2;
		rec->buf = xreallocarray(rec->buf, rec->cap, 1);
	}

	/* libcsv passes a NULL buffer for an empty first field. */
	if (len > 0)
		memcpy(rec->buf + rec->len, s, len);
	rec->buf[rec->len + len] = '\0';

	rec->off[rec->n] = rec->len;
	rec->flen[rec->n] = len;
	rec->n++;
	rec->len += len + 1;
}

static void
on_record(int c, void *arg)
{
	struct parse	*ps = arg;

	(void)c;

	if (ps->why == NULL) {
		if (!ps->have_header)
			header_read(ps);
		else
			row_read(ps);
	}

	ps->in_record = 0;
	record_reset(&ps->rec);
}

static void
header_read(struct parse *ps)
{
	const char	*name;
	size_t		 i, len, *slot;

	ps->have_header = 1;
	ps->cols.count = ps->rec.n;
	ps->cols.id = ps->cols.username = COL_NONE;
	ps->cols.email = ps->cols.created_at = COL_NONE;

	for (i = 0; i < ps->rec.n; i++) {
		name = field(&ps->rec, i, &len);
		if ((slot = header_slot(&ps->cols, name, len)) == NULL)
			continue;	/* extra columns are ignored */
		if (*slot != COL_NONE) {
			ps->why = "CSV header names a column twice";
			return;
		}
		*slot = i;
	}

	if (ps->cols.username == COL_NONE)
		ps->why = "CSV header has no username column";
	else if (ps->cols.email == COL_NONE)
		ps->why = "CSV header has no email column";
}

static size_t *
header_slot(struct columns *cols, const char *s, size_t len)
{
	/* Quoted names keep their blanks; trim them here. */
	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;

	if (header_is(s, len, "id"))
		return (&cols->id);
	if (header_is(s, len, "username"))
		return (&cols->username);
	if (header_is(s, len, "email"))
		return (&cols->email);
	if (header_is(s, len, "created_at"))
		return (&cols->created_at);

	return (NULL);
}

static int
header_is(const char *s, size_t len, const char *name)
{
	return (strlen(name) == len && strncasecmp(s, name, len) == 0);
}

static void
row_read(struct parse *ps)
{
	struct csvusers_row	row;
	char			msg[128];

	if (ps->max_rows > 0 &&
	    ps->out->nrows + ps->out->skipped >= ps->max_rows) {
		ps->why = csvusers_too_many;
		return;
	}
	if (ps->rec.n != ps->cols.count) {
		(void)snprintf(msg, sizeof(msg),
		    "expected %zu fields, found %zu", ps->cols.count,
		    ps->rec.n);
		row_error(ps, msg);
		return;
	}

	memset(&row, 0, sizeof(row));
	row.line = ps->rec_line;

	if (row_check(ps, &row, msg, sizeof(msg)) == -1 ||
	    row_duplicate(ps, &row, msg, sizeof(msg)) == -1) {
		row_error(ps, msg);
		return;
	}

	row_accept(ps, &row);
}

/*
 * Validates the used fields; on success row->has_id and row->id are set
 * (the strings are copied only once the row is accepted).
 */
static int
row_check(struct parse *ps, struct csvusers_row *row, char *msg,
    size_t msglen)
{
	const char	*s, *err;
	size_t		 len;

	if (ps->cols.id != COL_NONE) {
		s = field(&ps->rec, ps->cols.id, &len);
		if (len > 0 && id_parse(s, len, &row->id) == -1) {
			(void)snprintf(msg, msglen,
			    "id: must be a positive integer");
			return (-1);
		}
		row->has_id = (len > 0);
	}

	s = field(&ps->rec, ps->cols.username, &len);
	if ((err = validate_username(s, len)) != NULL) {
		(void)snprintf(msg, msglen, "username: %s", err);
		return (-1);
	}

	s = field(&ps->rec, ps->cols.email, &len);
	if ((err = validate_email(s, len)) != NULL) {
		(void)snprintf(msg, msglen, "email: %s", err);
		return (-1);
	}

	if (ps->cols.created_at != COL_NONE) {
		s = field(&ps->rec, ps->cols.created_at, &len);
		if (len > 0 && (err = validate_timestamp(s, len)) != NULL) {
			(void)snprintf(msg, msglen, "created_at: %s", err);
			return (-1);
		}
	}

	return (0);
}

static int
id_parse(const char *s, size_t len, int64_t *out)
{
	/* A NUL inside the field would end the C string early. */
	if (strlen(s) != len || query_int64(s, out) == -1 || *out <= 0)
		return (-1);

	return (0);
}

static int
row_duplicate(struct parse *ps, const struct csvusers_row *row, char *msg,
    size_t msglen)
{
	const struct csvusers_row	*rows = ps->out->rows;
	const char			*email;
	size_t				 first;

	if (row->has_id && (first = seen_find(&ps->ids, rows,
	    hash_id(row->id), match_id, &row->id)) != 0) {
		(void)snprintf(msg, msglen,
		    "duplicate id %" PRId64 " (first on line %ld)", row->id,
		    rows[first - 1].line);
		return (-1);
	}

	email = field(&ps->rec, ps->cols.email, NULL);
	if ((first = seen_find(&ps->emails, rows, hash_email(email),
	    match_email, email)) != 0) {
		(void)snprintf(msg, msglen,
		    "duplicate email (first on line %ld)",
		    rows[first - 1].line);
		return (-1);
	}

	return (0);
}

static void
row_accept(struct parse *ps, const struct csvusers_row *row)
{
	struct csvusers		*out = ps->out;
	struct csvusers_row	*r;
	const char		*s;
	size_t			 len;

	if (out->nrows == ps->rows_cap) {
		ps->rows_cap = ps->rows_cap == 0 ? 64 : ps->rows_cap * 2;
		out->rows = xreallocarray(out->rows, ps->rows_cap,
		    sizeof(*out->rows));
	}

	r = &out->rows[out->nrows++];
	*r = *row;

	s = field(&ps->rec, ps->cols.username, &len);
	r->username = xmemdup(s, len);
	s = field(&ps->rec, ps->cols.email, &len);
	r->email = xmemdup(s, len);

	r->created_at = NULL;
	if (ps->cols.created_at != COL_NONE) {
		s = field(&ps->rec, ps->cols.created_at, &len);
		if (len > 0)
			r->created_at = xmemdup(s, len);
	}

	if (r->has_id)
		seen_add(&ps->ids, hash_id(r->id), out->nrows);
	seen_add(&ps->emails, hash_email(r->email), out->nrows);
}

static void
row_error(struct parse *ps, const char *msg)
{
	struct csvusers	*out = ps->out;

	/* Every bad row is counted; only the first ones are described. */
	out->skipped++;
	if (out->nerrors == CSVUSERS_MAX_ERRORS)
		return;

	if (out->nerrors == ps->errors_cap) {
		ps->errors_cap = ps->errors_cap == 0 ? 16 : ps->errors_cap * 2;
		out->errors = xreallocarray(out->errors, ps->errors_cap,
		    sizeof(*out->errors));
	}

	out->errors[out->nerrors].line = ps->rec_line;
	out->errors[out->nerrors].message = xstrdup(msg);
	out->nerrors++;
}

/* The callers only ask for columns the record has (count was checked). */
static const char *
field(const struct record *rec, size_t col, size_t *len)
{
	if (len != NULL)
		*len = rec->flen[col];

	return (rec->buf + rec->off[col]);
}

static void
record_reset(struct record *rec)
{
	rec->len = 0;
	rec->n = 0;
}

static void
record_free(struct record *rec)
{
	free(rec->buf);
	free(rec->off);
	free(rec->flen);
	memset(rec, 0, sizeof(*rec));
}

/* splitmix64's finaliser: ids are often consecutive, spread them out. */
static uint64_t
hash_id(int64_t id)
{
	uint64_t	x = (uint64_t)id;

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;

	return (x ^ (x >> 31));
}

/* FNV-1a over the ASCII-lowercased bytes, matching match_email(). */
static uint64_t
hash_email(const char *s)
{
	uint64_t	h = 0xcbf29ce484222325ULL;
	unsigned char	c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		h = (h ^ c) * 0x100000001b3ULL;
	}

	return (h);
}

static int
match_id(const struct csvusers_row *row, const void *key)
{
	return (row->has_id && row->id == *(const int64_t *)key);
}

static int
match_email(const struct csvusers_row *row, const void *key)
{
	return (strcasecmp(row->email, key) == 0);
}

/* Returns the matching row's index + 1, or 0. */
static size_t
seen_find(const struct seen *t, const struct csvusers_row *rows,
    uint64_t hash, seen_match match, const void *key)
{
	size_t	i;

	if (t->cap == 0)
		return (0);

	for (i = hash & (t->cap - 1); t->slots[i].row != 0;
	    i = (i + 1) & (t->cap - 1)) {
		if (t->slots[i].hash == hash &&
		    match(&rows[t->slots[i].row - 1], key))
			return (t->slots[i].row);
	}

	return (0);
}

/* Keeps the load under one half so probes stay short. */
static void
seen_add(struct seen *t, uint64_t hash, size_t row)
{
	struct seen_slot	*old;
	size_t			 oldcap, i, j;

	if ((t->used + 1) * 2 > t->cap) {
		old = t->slots;
		oldcap = t->cap;
		t->cap = oldcap == 0 ? SEEN_MIN_CAP : oldcap * 2;
		t->slots = xreallocarray(NULL, t->cap, sizeof(*t->slots));
		memset(t->slots, 0, t->cap * sizeof(*t->slots));
		t->used = 0;
		for (i = 0; i < oldcap; i++) {
			if (old[i].row != 0)
				seen_add(t, old[i].hash, old[i].row);
		}
		free(old);
	}

	for (j = hash & (t->cap - 1); t->slots[j].row != 0;
	    j = (j + 1) & (t->cap - 1))
		;
	t->slots[j].hash = hash;
	t->slots[j].row = row;
	t->used++;
}

static json_t *
must(json_t *json)
{
	if (json == NULL)
		abort();

	return (json);
}

/* The strings were validated as UTF-8 without NUL: json_string() holds. */
static json_t *
string_or_null(const char *s)
{
	if (s == NULL)
		return (json_null());

	return (must(json_string(s)));
}
