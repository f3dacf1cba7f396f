/*
 * multipart/form-data request bodies (RFC 7578 on RFC 2046): the boundary
 * from the Content-Type, and the content of the part a handler asks for
 * by name. The body is read in place: a part's content is a span of it,
 * nothing is copied. Pure logic, no Kore.
 *
 * Kore's own reader (http_populate_multipart_form) lives in the kore
 * binary, where it cannot be fuzzed or fixed; it also drops a file part
 * shorter than 3 bytes, a part without a filename, a quoted boundary and
 * a Content-Type with a parameter besides the boundary. This one takes
 * what RFC 7578 allows.
 */
#ifndef MULTIPART_H
#define MULTIPART_H

#include <stddef.h>

/* RFC 2046: a boundary has 1 to 70 characters. */
#define MULTIPART_BOUNDARY_MAX	70

/*
 * The boundary of a Content-Type value "multipart/form-data; boundary=X"
 * (case-insensitive type and parameter name, X a token or a quoted
 * string, other parameters allowed), NUL-terminated in buf, which holds
 * at least MULTIPART_BOUNDARY_MAX + 1 bytes. 0, or -1 when the value is
 * no multipart/form-data or has no valid boundary.
 */
int	multipart_boundary(const char *content_type, char *buf, size_t len);

enum multipart_result {
	MULTIPART_FOUND,
	MULTIPART_ABSENT,	/* well formed, no part of that name */
	MULTIPART_MALFORMED	/* no delimiter, a part without headers, ... */
};

/*
 * Finds the first part of body (len bytes) whose Content-Disposition is
 * form-data with the given name, with or without a filename; *data and
 * *data_len then span its content inside body. Parts are separated by
 * CRLF "--" boundary (the first may open the body); a part's headers end
 * at an empty line; the close delimiter "--" boundary "--" ends the
 * body. Parts after the one found are not checked.
 */
enum multipart_result	multipart_find(const char *body, size_t len,
			    const char *boundary, const char *name,
			    const char **data, size_t *data_len);

#endif
