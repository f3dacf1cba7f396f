/*
 * HTTP client of the integration suite. One libcurl easy handle per test
 * process is reused (curl_easy_reset keeps its connection cache), so a
 * test's requests share keep-alive connections like a real client's.
 *
 * check_response() is where the contract's universal rules live; it runs
 * on every response, so a test about, say, PUT /urls also proves that
 * the PUT's answer carried an X-Request-Id and a JSON Content-Type.
 *
 * With SHORTENER_API_KEY set (an instance that requires keys, e.g. a
 * container of the compose topology), every request carries it as
 * X-Api-Key, the raw ones too, unless the test sends X-Api-Key or
 * Authorization itself. The contract is the same with keys on for a key
 * that may do everything (tests/security tests the keys themselves).
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <curl/curl.h>

#include "client.h"

#define RAW_TIMEOUT_MS	20000

struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

static CURL		*client_handle(void);
static const char	*api_key_header(void);
static void		 buf_append(struct buf *b, const void *p, size_t n);
static size_t		 on_body(char *p, size_t size, size_t n, void *arg);
static size_t		 on_header(char *p, size_t size, size_t n, void *arg);
static void		 resp_add_header(struct http_resp *r, const char *line,
			    size_t len);
static void		 resp_clear_headers(struct http_resp *r);
static void		 resp_finish(struct http_resp *r, struct buf *body);
static const char	*request_header(const char *const *headers,
			    const char *name);
static const char	*status_code_name(long status);
static int		 is_snake_case(const char *s);
static void		 check_response(const char *method, const char *path,
			    const char *const *req_headers,
			    const struct http_resp *r, int flags);
static void		 check_error_shape(const char *ctx,
			    const struct http_resp *r);
static char		*build_url(const char *path);
static int		 raw_connect(void);
static void		 raw_parse(struct http_resp *r, const char *data,
			    size_t len);
static long		 raw_expected_total(const char *data, size_t len);

static CURL	*easy;
static char	*base_url;

const char *
client_base_url(void)
{
	const char	*env;
	size_t		 len;

	if (base_url != NULL)
		return (base_url);
	env = getenv("SHORTENER_URL");
	if (env == NULL || *env == '\0')
		env = "http://127.0.0.1:8080";
	base_url = strdup(env);
	cr_assert_not_null(base_url);
	len = strlen(base_url);
	while (len > 0 && base_url[len - 1] == '/')
		base_url[--len] = '\0';
	return (base_url);
}

static CURL *
client_handle(void)
{
	if (easy == NULL) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		easy = curl_easy_init();
		cr_assert_not_null(easy, "curl_easy_init failed");
	}
	curl_easy_reset(easy);
	return (easy);
}

static void
buf_append(struct buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t	cap = b->cap ? b->cap : 1024;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = realloc(b->data, cap);
		cr_assert_not_null(b->data, "out of memory");
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	buf_append(arg, p, size * n);
	return (size * n);
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct http_resp	*r = arg;
	size_t			 len = size * n;

	/* A new status line (after a 100 Continue) starts a new header set. */
	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0)
		resp_clear_headers(r);
	else
		resp_add_header(r, p, len);
	return (len);
}

static void
resp_add_header(struct http_resp *r, const char *line, size_t len)
{
	const char	*colon, *v, *end;
	size_t		 nlen;

	end = line + len;
	while (end > line && (end[-1] == '\r' || end[-1] == '\n'))
		end--;
	if (end == line)
		return;
	colon = memchr(line, ':', (size_t)(end - line));
	if (colon == NULL)
		return;
	nlen = (size_t)(colon - line);
	v = colon + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	r->headers = realloc(r->headers,
	    (r->nheaders + 1) * sizeof(*r->headers));
	cr_assert_not_null(r->headers);
	r->headers[r->nheaders].name = strndup(line, nlen);
	r->headers[r->nheaders].value = strndup(v, (size_t)(end - v));
	r->nheaders++;
}

static void
resp_clear_headers(struct http_resp *r)
{
	size_t	i;

	for (i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	r->headers = NULL;
	r->nheaders = 0;
}

static void
resp_finish(struct http_resp *r, struct buf *body)
{
	json_error_t	err;

	if (body->data == NULL)
		buf_append(body, "", 0);
	r->body = body->data;
	r->body_len = body->len;
	if (r->body_len > 0)
		r->json = json_loadb(r->body, r->body_len, 0, &err);
}

static const char *
request_header(const char *const *headers, const char *name)
{
	size_t	nlen = strlen(name);

	if (headers == NULL)
		return (NULL);
	for (; *headers != NULL; headers++) {
		if (strncasecmp(*headers, name, nlen) == 0 &&
		    (*headers)[nlen] == ':') {
			const char *v = *headers + nlen + 1;

			while (*v == ' ')
				v++;
			return (v);
		}
	}
	return (NULL);
}

static char *
build_url(const char *path)
{
	char	*url;

	if (asprintf(&url, "%s%s", client_base_url(), path) < 0)
		cr_assert_fail("asprintf");
	return (url);
}

struct http_resp *
http_request(const char *method, const char *path,
    const char *const *headers, const void *body, size_t body_len, int flags)
{
	struct http_resp	*r;
	struct curl_slist	*hl = NULL;
	struct buf		 b = { NULL, 0, 0 };
	CURL			*c;
	CURLcode		 rc;
	char			*url;
	const char *const	*h;
	int			 is_head;

	r = calloc(1, sizeof(*r));
	cr_assert_not_null(r);
	c = client_handle();
	url = build_url(path);
	is_head = strcasecmp(method, "HEAD") == 0;
	/*
	 * A body-less POST/PUT/PATCH still says Content-Length: 0, as real
	 * clients do; without a length Kore answers 411 before the app sees
	 * the request (test_errors covers that case on a raw socket).
	 */
	if (body == NULL && (strcmp(method, "POST") == 0 ||
	    strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0)) {
		body = "";
		body_len = 0;
	}

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);

	if (is_head) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)body_len);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	}

	for (h = headers; h != NULL && *h != NULL; h++)
		hl = curl_slist_append(hl, *h);
	if (api_key_header() != NULL &&
	    request_header(headers, "X-Api-Key") == NULL &&
	    request_header(headers, "Authorization") == NULL)
		hl = curl_slist_append(hl, api_key_header());
	if (body != NULL && request_header(headers, "Content-Type") == NULL)
		hl = curl_slist_append(hl,
		    "Content-Type: application/json; charset=utf-8");
	hl = curl_slist_append(hl, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);

	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		r->transport_error = 1;
		cr_log_error("%s %s: curl: %s", method, path,
		    curl_easy_strerror(rc));
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &r->elapsed);
	curl_slist_free_all(hl);
	free(url);
	resp_finish(r, &b);
	check_response(method, path, headers, r, flags);
	return (r);
}

struct http_resp *
http_get(const char *path)
{
	return (http_request("GET", path, NULL, NULL, 0, 0));
}

struct http_resp *
http_getf(const char *fmt, ...)
{
	struct http_resp	*r;
	va_list			 ap;
	char			*path;

	va_start(ap, fmt);
	if (vasprintf(&path, fmt, ap) < 0)
		cr_assert_fail("vasprintf");
	va_end(ap);
	r = http_get(path);
	free(path);
	return (r);
}

struct http_resp *
http_head(const char *path)
{
	return (http_request("HEAD", path, NULL, NULL, 0, 0));
}

struct http_resp *
http_delete(const char *path)
{
	return (http_request("DELETE", path, NULL, NULL, 0, 0));
}

struct http_resp *
http_send(const char *method, const char *path, const char *json_text)
{
	return (http_request(method, path, NULL, json_text,
	    strlen(json_text), 0));
}

struct http_resp *
http_sendf(const char *method, const char *path, const char *fmt, ...)
{
	struct http_resp	*r;
	va_list			 ap;
	char			*body;

	va_start(ap, fmt);
	if (vasprintf(&body, fmt, ap) < 0)
		cr_assert_fail("vasprintf");
	va_end(ap);
	r = http_send(method, path, body);
	free(body);
	return (r);
}

struct http_resp *
http_send_json(const char *method, const char *path, json_t *body)
{
	struct http_resp	*r;
	char			*text;

	text = json_dumps(body, JSON_COMPACT);
	cr_assert_not_null(text);
	r = http_send(method, path, text);
	free(text);
	return (r);
}

struct http_resp *
http_multipart(const char *path, const char *field, const char *filename,
    const void *data, size_t len, const char *extra_field,
    const char *extra_value)
{
	struct http_resp	*r;
	struct curl_slist	*hl = NULL;
	struct buf		 b = { NULL, 0, 0 };
	curl_mime		*mime;
	curl_mimepart		*part;
	CURL			*c;
	CURLcode		 rc;
	char			*url;

	r = calloc(1, sizeof(*r));
	cr_assert_not_null(r);
	c = client_handle();
	url = build_url(path);

	mime = curl_mime_init(c);
	if (field != NULL) {
		part = curl_mime_addpart(mime);
		curl_mime_name(part, field);
		curl_mime_data(part, data, len);
		curl_mime_filename(part, filename);
		curl_mime_type(part, "text/csv");
	}
	if (extra_field != NULL) {
		part = curl_mime_addpart(mime);
		curl_mime_name(part, extra_field);
		curl_mime_data(part, extra_value, CURL_ZERO_TERMINATED);
	}
	hl = curl_slist_append(hl, "Expect:");

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);

	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		r->transport_error = 1;
		cr_log_error("POST %s (multipart): curl: %s", path,
		    curl_easy_strerror(rc));
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &r->elapsed);
	curl_mime_free(mime);
	curl_slist_free_all(hl);
	free(url);
	resp_finish(r, &b);
	check_response("POST", path, NULL, r, 0);
	return (r);
}

static int
raw_connect(void)
{
	struct addrinfo	 hints, *res, *ai;
	const char	*p, *hstart;
	char		 host[256], port[16];
	size_t		 hlen;
	int		 fd = -1;

	p = client_base_url();
	if (strncmp(p, "http://", 7) == 0)
		p += 7;
	hstart = p;
	while (*p != '\0' && *p != ':' && *p != '/')
		p++;
	hlen = (size_t)(p - hstart);
	cr_assert(hlen > 0 && hlen < sizeof(host), "bad SHORTENER_URL");
	memcpy(host, hstart, hlen);
	host[hlen] = '\0';
	if (*p == ':') {
		size_t	i = 0;

		for (p++; isdigit((unsigned char)*p) && i < sizeof(port) - 1;)
			port[i++] = *p++;
		port[i] = '\0';
	} else {
		strcpy(port, "80");
	}

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	cr_assert_eq(getaddrinfo(host, port, &hints, &res), 0,
	    "getaddrinfo(%s, %s)", host, port);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd == -1)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return (fd);
}

/* Header block + Content-Length when both are known, else -1. */
static long
raw_expected_total(const char *data, size_t len)
{
	const char	*end, *p;
	long		 hdr;

	end = memmem(data, len, "\r\n\r\n", 4);
	if (end == NULL)
		return (-1);
	hdr = (long)(end - data) + 4;
	for (p = data; p < end; p++) {
		if ((p == data || p[-1] == '\n') &&
		    strncasecmp(p, "Content-Length:", 15) == 0)
			return (hdr + strtol(p + 15, NULL, 10));
	}
	return (-1);
}

static void
raw_parse(struct http_resp *r, const char *data, size_t len)
{
	struct buf	 body = { NULL, 0, 0 };
	const char	*end, *line, *nl;

	end = memmem(data, len, "\r\n\r\n", 4);
	if (len < 12 || strncmp(data, "HTTP/1.", 7) != 0 || end == NULL) {
		r->transport_error = 1;
		resp_finish(r, &body);
		return;
	}
	r->status = strtol(data + 9, NULL, 10);
	line = memchr(data, '\n', len);
	for (line = line + 1; line < end; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(end + 2 - line));
		if (nl == NULL)
			break;
		resp_add_header(r, line, (size_t)(nl - line + 1));
	}
	buf_append(&body, end + 4, len - (size_t)(end + 4 - data));
	resp_finish(r, &body);
}

int
client_behind_nginx(void)
{
	const char	*v = getenv("SHORTENER_BEHIND_NGINX");

	return (v != NULL && strcmp(v, "1") == 0);
}

/* "X-Api-Key: KEY" from SHORTENER_API_KEY, or NULL when unset. */
static const char *
api_key_header(void)
{
	static char	 line[256];
	const char	*key = getenv("SHORTENER_API_KEY");

	if (key == NULL || *key == '\0')
		return (NULL);
	if (line[0] == '\0')
		snprintf(line, sizeof(line), "X-Api-Key: %s", key);
	return (line);
}

/*
 * REQ with the API key's header after its request line, in a buffer the
 * caller frees (its length in *outlen), or NULL: no key, no request line,
 * or the request names a key or credentials itself.
 */
static char *
raw_with_key(const char *req, size_t len, size_t *outlen)
{
	const char	*hdr = api_key_header(), *eol;
	char		*out;
	size_t		 head, hlen;

	if (hdr == NULL)
		return (NULL);
	eol = memmem(req, len, "\r\n", 2);
	if (eol == NULL || memmem(req, len, "\r\nX-Api-Key:", 12) != NULL ||
	    memmem(req, len, "\r\nAuthorization:", 16) != NULL)
		return (NULL);
	head = (size_t)(eol - req) + 2;
	hlen = strlen(hdr);
	out = malloc(len + hlen + 2);
	cr_assert_not_null(out);
	memcpy(out, req, head);
	memcpy(out + head, hdr, hlen);
	memcpy(out + head + hlen, "\r\n", 2);
	memcpy(out + head + hlen + 2, req + head, len - head);
	*outlen = len + hlen + 2;
	return (out);
}

struct http_resp *
http_raw(const void *req, size_t len, int flags)
{
	struct http_resp	*r;
	struct buf		 in = { NULL, 0, 0 };
	struct pollfd		 pfd;
	const char		*p = req, *sp;
	char			 chunk[65536], method[16], path[256];
	char			*keyed;
	size_t			 off = 0, i;
	ssize_t			 n;
	long			 want;
	int			 fd;

	r = calloc(1, sizeof(*r));
	cr_assert_not_null(r);
	keyed = raw_with_key(req, len, &len);
	if (keyed != NULL)
		p = req = keyed;
	fd = raw_connect();
	cr_assert(fd != -1, "connect to %s: %s", client_base_url(),
	    strerror(errno));

	while (off < len) {
		n = send(fd, p + off, len - off, MSG_NOSIGNAL);
		if (n <= 0)
			break;	/* the server may answer early and close */
		off += (size_t)n;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		if (poll(&pfd, 1, RAW_TIMEOUT_MS) <= 0)
			break;
		n = recv(fd, chunk, sizeof(chunk), 0);
		if (n <= 0)
			break;
		buf_append(&in, chunk, (size_t)n);
		want = raw_expected_total(in.data, in.len);
		if (want >= 0 && in.len >= (size_t)want)
			break;
	}
	close(fd);
	free(keyed);
	if (in.data == NULL)
		buf_append(&in, "", 0);
	raw_parse(r, in.data, in.len);
	free(in.data);

	/* Method and path of the request line, for the checks' messages. */
	for (i = 0; i < sizeof(method) - 1 && i < len && p[i] != ' '; i++)
		method[i] = p[i];
	method[i] = '\0';
	sp = memchr(p, ' ', len);
	snprintf(path, sizeof(path), "%.*s", sp ? (int)strcspn(sp + 1,
	    " \r\n") : 0, sp ? sp + 1 : "");
	check_response(method, path, NULL, r, flags);
	return (r);
}

const char *
http_header(const struct http_resp *r, const char *name)
{
	size_t	i;

	for (i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return (r->headers[i].value);
	return (NULL);
}

void
http_free(struct http_resp *r)
{
	if (r == NULL)
		return;
	resp_clear_headers(r);
	free(r->body);
	json_decref(r->json);
	free(r);
}

static const char *
status_code_name(long status)
{
	switch (status) {
	case 400:
		return ("bad_request");
	case 404:
		return ("not_found");
	case 405:
		return ("method_not_allowed");
	case 409:
		return ("conflict");
	case 413:
		return ("payload_too_large");
	case 414:
		return ("uri_too_long");
	case 422:
		return ("validation_failed");
	case 503:
		return ("service_unavailable");
	default:
		return (NULL);
	}
}

static int
is_snake_case(const char *s)
{
	if (s == NULL || !islower((unsigned char)*s))
		return (0);
	for (; *s != '\0'; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s)
		    && *s != '_')
			return (0);
	return (1);
}

static void
check_error_shape(const char *ctx, const struct http_resp *r)
{
	json_t		*j = r->json, *err, *code, *st, *fields, *v;
	const char	*want, *k;
	size_t		 nkeys;

	cr_expect(json_is_object(j), "%s: error body is not a JSON object: %s",
	    ctx, r->body);
	if (!json_is_object(j))
		return;
	err = json_object_get(j, "error");
	code = json_object_get(j, "code");
	st = json_object_get(j, "status");
	fields = json_object_get(j, "fields");
	cr_expect(json_is_string(err) && json_string_length(err) > 0,
	    "%s: \"error\" must be a non-empty string: %s", ctx, r->body);
	cr_expect(json_is_string(code) && is_snake_case(json_string_value(code)),
	    "%s: \"code\" must be a snake_case string: %s", ctx, r->body);
	want = status_code_name(r->status);
	if (want != NULL && json_is_string(code))
		cr_expect_str_eq(json_string_value(code), want,
		    "%s: code for %ld must be %s: %s", ctx, r->status, want,
		    r->body);
	cr_expect(json_is_integer(st) && json_integer_value(st) == r->status,
	    "%s: \"status\" must be the integer %ld: %s", ctx, r->status,
	    r->body);
	nkeys = 3;
	if (r->status == 422) {
		cr_expect(json_is_object(fields) && json_object_size(fields) > 0,
		    "%s: a 422 needs a non-empty \"fields\" object: %s", ctx,
		    r->body);
		if (json_is_object(fields)) {
			nkeys++;
			json_object_foreach(fields, k, v)
				cr_expect(json_is_string(v),
				    "%s: fields.%s must be a string: %s", ctx, k,
				    r->body);
		}
	} else {
		cr_expect_null(fields, "%s: only a 422 carries \"fields\": %s",
		    ctx, r->body);
		if (fields != NULL)
			nkeys++;
	}
	cr_expect_eq(json_object_size(j), nkeys,
	    "%s: error body has extra keys: %s", ctx, r->body);
	if (r->status == 405)
		cr_expect_not_null(http_header(r, "Allow"),
		    "%s: a 405 needs an Allow header", ctx);
	if (r->status == 503 || r->status == 429)
		cr_expect_not_null(http_header(r, "Retry-After"),
		    "%s: a %ld needs a Retry-After header", ctx, r->status);
}

static void
check_response(const char *method, const char *path,
    const char *const *req_headers, const struct http_resp *r, int flags)
{
	const char	*ct, *rid, *sent;
	char		 ctx[512];
	int		 is_head;

	snprintf(ctx, sizeof(ctx), "%s %.300s -> %ld", method, path,
	    r->status);
	cr_expect(!r->transport_error, "%s: transport error", ctx);
	if (r->transport_error)
		return;
	cr_expect(r->status < 500 || r->status == 503,
	    "%s: server error (never a 5xx but 503): %.500s", ctx, r->body);

	is_head = strcasecmp(method, "HEAD") == 0;
	if (r->status == 204 || is_head) {
		cr_expect_eq(r->body_len, 0, "%s: must have no body", ctx);
	} else if (r->body_len > 0 && (flags & HTTP_TEXT)) {
		/* The caller checks the body and its Content-Type. */
	} else if (r->body_len > 0) {
		cr_expect_not_null(r->json, "%s: body is not JSON: %.500s",
		    ctx, r->body);
		if (!(flags & HTTP_RELAXED)) {
			ct = http_header(r, "Content-Type");
			cr_expect(ct != NULL &&
			    strncasecmp(ct, "application/json", 16) == 0,
			    "%s: Content-Type must be application/json, is %s",
			    ctx, ct ? ct : "(none)");
		}
	} else if (!(flags & HTTP_RELAXED) &&
	    (r->status < 300 || r->status >= 400)) {
		cr_expect_fail("%s: empty body where JSON is due", ctx);
	}

	if (flags & HTTP_RELAXED)
		return;

	rid = http_header(r, "X-Request-Id");
	cr_expect(rid != NULL && *rid != '\0', "%s: no X-Request-Id", ctx);
	sent = request_header(req_headers, "X-Request-Id");
	if (sent != NULL && rid != NULL)
		cr_expect_str_eq(rid, sent,
		    "%s: X-Request-Id not echoed (sent %s, got %s)", ctx, sent,
		    rid);

	if (r->status >= 400 && !is_head && !(flags & HTTP_NO_ERRSHAPE))
		check_error_shape(ctx, r);
}

void
expect_error(const struct http_resp *r, long status, const char *field)
{
	json_t	*fields;

	cr_assert_eq(r->status, status, "expected %ld, got %ld: %.500s",
	    status, r->status, r->body);
	if (status == 422 && field != NULL) {
		fields = json_object_get(r->json, "fields");
		cr_expect_not_null(json_object_get(fields, field),
		    "422 fields must name \"%s\": %.500s", field, r->body);
	}
}
