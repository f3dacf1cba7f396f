/*
 * Parses the users CSV of POST /users/bulk (header id,username,email,
 * created_at; id and created_at optional, extra columns ignored, any
 * column order). Every row is validated here; a bad row becomes an error
 * with its line number and never stops the rest. Duplicate ids or emails
 * (case-insensitive) inside one file keep the first row and report the
 * later ones. Pure logic (libcsv, jansson).
 *
 * Lines are 1-based, the header being line 1; blank lines are skipped but
 * counted. A row must have as many fields as the header. A header-only
 * file is fine (0 rows); a file without even a header is "empty CSV".
 * Error messages name the field: "email: must contain exactly one '@'".
 */
#ifndef CSVUSERS_H
#define CSVUSERS_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define CSVUSERS_MAX_ERRORS	100

struct csvusers_row {
	long	 line;		/* 1-based line where the record starts */
	int	 has_id;
	int64_t	 id;
	char	*username;
	char	*email;
	char	*created_at;	/* NULL when absent or empty */
};

struct csvusers_error {
	long	 line;
	char	*message;
};

struct csvusers {
	struct csvusers_row	*rows;
	size_t			 nrows;
	struct csvusers_error	*errors;	/* first CSVUSERS_MAX_ERRORS */
	size_t			 nerrors;
	size_t			 skipped;	/* all bad rows, even uncapped */
};

/*
 * Returns 0, or -1 with *why set (static message) when the file is empty,
 * has no header, or lacks the username or email column: a 400.
 */
int	 csvusers_parse(const char *data, size_t len, struct csvusers *out,
	    const char **why);
/*
 * The same, with at most max_rows data rows (good and bad; 0: no
 * limit): one more stops the parse with *why = csvusers_too_many.
 */
int	 csvusers_parse_max(const char *data, size_t len, size_t max_rows,
	    struct csvusers *out, const char **why);
extern const char	csvusers_too_many[];
void	 csvusers_free(struct csvusers *c);

/* [{"line","id"|null,"username","email","created_at"|null}, ...] */
json_t	*csvusers_rows_json(const struct csvusers *c);
/* [{"line","error"}, ...] */
json_t	*csvusers_errors_json(const struct csvusers *c);

#endif
