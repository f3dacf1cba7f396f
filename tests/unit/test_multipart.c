/*
 * multipart/form-data: the boundary of a Content-Type, and the part a
 * handler asks for, as browsers, curl and RFC 7578 shape them.
 */

#include <string.h>

#include <criterion/criterion.h>

#include "core/multipart.h"

static void
boundary_is(const char *ct, const char *want)
{
	char	buf[MULTIPART_BOUNDARY_MAX + 1];
	int	rc = multipart_boundary(ct, buf, sizeof(buf));

	if (want == NULL) {
		cr_expect_eq(rc, -1, "%s: accepted (%s)", ct, rc == 0 ? buf : "");
		return;
	}
	cr_expect_eq(rc, 0, "%s: refused", ct);
	if (rc == 0)
		cr_expect_str_eq(buf, want, "%s", ct);
}

/* 70 characters, the longest boundary RFC 2046 allows. */
#define B70	"0123456789012345678901234567890123456789" \
		"012345678901234567890123456789"

Test(multipart, boundary)
{
	boundary_is("multipart/form-data; boundary=abc", "abc");
	boundary_is("Multipart/Form-Data;boundary=abc", "abc");
	boundary_is("multipart/form-data; BOUNDARY=\"a b:c\"", "a b:c");
	boundary_is("multipart/form-data; charset=utf-8; boundary=x-1", "x-1");
	boundary_is("multipart/form-data ; boundary = q ", "q");
	boundary_is("multipart/form-data; boundary=------------------------"
	    "d74496d66958873e", "------------------------d74496d66958873e");
	boundary_is("multipart/mixed; boundary=abc", NULL);
	boundary_is("multipart/form-data", NULL);
	boundary_is("multipart/form-data; boundary=", NULL);
	boundary_is("multipart/form-data; boundary=\"\"", NULL);
	boundary_is("multipart/form-data; boundary=\"ends with \"", NULL);
	boundary_is("multipart/form-data; boundary=\"a\"b", NULL);
	boundary_is("multipart/form-data; boundary=a; boundary=b", NULL);
	boundary_is("multipart/form-data; boundary=\"unterminated", NULL);
	boundary_is("multipart/form-data; boundary=\"bad;char\"", NULL);
	boundary_is("multipart/form-data; boundary=" B70, B70);
	boundary_is("multipart/form-data; boundary=" B70 "0", NULL);
	boundary_is("application/json", NULL);
}

static enum multipart_result
find(const char *body, const char *name, const char **data, size_t *len)
{
	return (multipart_find(body, strlen(body), "XyZ", name, data, len));
}

static void
part_is(const char *body, const char *name, const char *want)
{
	const char	*data;
	size_t		 len;

	cr_assert_eq(find(body, name, &data, &len), MULTIPART_FOUND,
	    "%s not found in: %s", name, body);
	cr_expect_eq(len, strlen(want));
	cr_expect(len == strlen(want) && !memcmp(data, want, len),
	    "%s: got \"%.*s\"", name, (int)len, data);
}

#define CD	"Content-Disposition: form-data; "

Test(multipart, curl_style_body)
{
	static const char	body[] =
	    "--XyZ\r\n"
	    CD "name=\"file\"; filename=\"users.csv\"\r\n"
	    "Content-Type: text/csv\r\n"
	    "\r\n"
	    "id,username\r\n1,a\r\n"
	    "\r\n--XyZ\r\n"
	    CD "name=\"note\"\r\n"
	    "\r\n"
	    "hi"
	    "\r\n--XyZ--\r\n";

	part_is(body, "file", "id,username\r\n1,a\r\n");
	part_is(body, "note", "hi");
}

Test(multipart, what_kore_dropped)
{
	/* No filename, two bytes of content, a quoted token name. */
	part_is("--XyZ\r\n" CD "name=file\r\n\r\nab\r\n--XyZ--", "file", "ab");
	part_is("--XyZ\r\n" CD "name=\"file\"\r\n\r\n\r\n--XyZ--", "file", "");
	/* Headers in any case, the name after the filename, escapes. */
	part_is("--XyZ\r\ncontent-DISPOSITION:form-data;filename=\"a\";"
	    "name=\"fi\\le\"\r\n\r\nx\r\n--XyZ--", "file", "x");
}

Test(multipart, preamble_padding_and_lookalikes)
{
	part_is("preamble --XyZ\r\n\r\n--XyZ \t\r\n" CD "name=\"file\"\r\n"
	    "\r\ndata\r\n--XyZ--\r\nepilogue", "file", "data");
	/* "\r\n--XyZx" is content, not a delimiter. */
	part_is("--XyZ\r\n" CD "name=\"file\"\r\n\r\na\r\n--XyZx\r\nb"
	    "\r\n--XyZ--", "file", "a\r\n--XyZx\r\nb");
	/* The first part of that name wins. */
	part_is("--XyZ\r\n" CD "name=\"file\"\r\n\r\none\r\n--XyZ\r\n" CD
	    "name=\"file\"\r\n\r\ntwo\r\n--XyZ--", "file", "one");
	/* A part without headers is allowed; it has no name. */
	part_is("--XyZ\r\n\r\nanon\r\n--XyZ\r\n" CD "name=\"file\"\r\n\r\nf"
	    "\r\n--XyZ--", "file", "f");
}

Test(multipart, absent_and_malformed)
{
	const char	*data;
	size_t		 len;

	cr_expect_eq(find("--XyZ\r\n" CD "name=\"other\"\r\n\r\nx\r\n--XyZ--",
	    "file", &data, &len), MULTIPART_ABSENT);
	cr_expect_eq(find("--XyZ--", "file", &data, &len), MULTIPART_ABSENT);
	cr_expect_eq(find("", "file", &data, &len), MULTIPART_MALFORMED);
	cr_expect_eq(find("no delimiter at all", "file", &data, &len),
	    MULTIPART_MALFORMED);
	/* Truncated: no delimiter after the content. */
	cr_expect_eq(find("--XyZ\r\n" CD "name=\"file\"\r\n\r\nx", "file",
	    &data, &len), MULTIPART_MALFORMED);
	/* Headers without the empty line. */
	cr_expect_eq(find("--XyZ\r\n" CD "name=\"file\"\r\n--XyZ--", "file",
	    &data, &len), MULTIPART_MALFORMED);
	/* Bare LF is not a line end here. */
	cr_expect_eq(find("--XyZ\n" CD "name=\"file\"\n\nx\n--XyZ--", "file",
	    &data, &len), MULTIPART_MALFORMED);
	/* Not form-data, or a name that is not quite "file". */
	cr_expect_eq(find("--XyZ\r\nContent-Disposition: attachment; name="
	    "\"file\"\r\n\r\nx\r\n--XyZ--", "file", &data, &len),
	    MULTIPART_ABSENT);
	cr_expect_eq(find("--XyZ\r\n" CD "name=\"File\"\r\n\r\nx\r\n--XyZ--",
	    "file", &data, &len), MULTIPART_ABSENT);
	cr_expect_eq(find("--XyZ\r\n" CD "name=\"file\r\n\r\nx\r\n--XyZ--",
	    "file", &data, &len), MULTIPART_ABSENT);
}

/* Content is binary: NUL bytes and CRs stay, the span is exact. */
Test(multipart, binary_content)
{
	static const char	body[] = "--XyZ\r\n" CD "name=\"file\"\r\n\r\n"
	    "a\0b\r\rc\r\n--XyZ--";
	const char		*data;
	size_t			 len;

	cr_assert_eq(multipart_find(body, sizeof(body) - 1, "XyZ", "file",
	    &data, &len), MULTIPART_FOUND);
	cr_expect_eq(len, 6);
	cr_expect(!memcmp(data, "a\0b\r\rc", 6));
}
