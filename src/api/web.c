/*
 * The web app and the API reference, served by every instance from the
 * module itself: kodev compiles each file under assets/ into it (the
 * symbols asset_<name>_<ext>, asset_len_..., asset_sha256_... of its
 * generated assets.h), so `kodev build` ships the pages and no instance
 * reads a file at run time.
 *
 *	GET /			the web app (assets/web/index.html)
 *	GET /docs		the API reference: Swagger UI, assets/web/docs.html
 *	GET /openapi.json	the OpenAPI document (below)
 *	GET /static/<file>	the app's scripts and styles, and the vendor
 *				files `make assets` copies from npm;
 *				config.json: what the deployment tells the
 *				app (the monitoring links it shows)
 *
 * Only the files of the table below are served. Each answer carries the
 * file's SHA-256 as its ETag and asks caches to revalidate every time
 * (no-cache): a browser or nginx keeps the bytes and gets a 304 until a
 * deploy changes them, never a stale app.
 *
 * The OpenAPI document is assets/openapi.json merged with the route
 * table (api/routes.c), once per worker: every route of the table must
 * have its operation in the file and every operation in the file a route
 * in the table, or the worker does not start. The table gives each
 * operation its summary, its operationId and its parameters (path
 * segments, and the query parameters the dispatcher accepts, from the
 * same lists it checks requests against); the file gives the rest
 * (bodies, responses, schemas). The two cannot drift apart.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/common.h"
#include "api/routes.h"
#include "config/config.h"
#include "core/query.h"
#include "http/respond.h"
#include "obs/log.h"

#include "assets.h"	/* kodev's, from assets/: after Kore's headers */

struct web_asset {
	const char		*name;		/* under /static/ */
	const u_int8_t		*data;
	const u_int32_t		*len;
	const char *const	*etag;		/* "\"<sha256>\"" */
	const char		*type;
};

#define ASSET(n, sym, type)	\
	{ n, asset_##sym, &asset_len_##sym, &asset_sha256_##sym, type }

#define TYPE_HTML	"text/html; charset=utf-8"
#define TYPE_JS		"text/javascript; charset=utf-8"
#define TYPE_CSS	"text/css; charset=utf-8"
#define TYPE_TEXT	"text/plain; charset=utf-8"

static const struct web_asset page_home =
    ASSET("index.html", index_html, TYPE_HTML);
static const struct web_asset page_docs =
    ASSET("docs.html", docs_html, TYPE_HTML);

static const struct web_asset statics[] = {
	ASSET("app.js", app_js, TYPE_JS),
	ASSET("app.css", app_css, TYPE_CSS),
	ASSET("docs.js", docs_js, TYPE_JS),
	ASSET("favicon.svg", favicon_svg, "image/svg+xml"),
	ASSET("uplot.min.js", uplot_min_js, TYPE_JS),
	ASSET("uplot.min.css", uplot_min_css, TYPE_CSS),
	ASSET("uplot.LICENSE.txt", uplot_LICENSE_txt, TYPE_TEXT),
	ASSET("swagger-ui-bundle.js", swagger_ui_bundle_js, TYPE_JS),
	ASSET("swagger-ui.css", swagger_ui_css, TYPE_CSS),
	ASSET("swagger-ui.LICENSE.txt", swagger_ui_LICENSE_txt, TYPE_TEXT),
	ASSET("swagger-ui-bundle.LICENSE.txt", swagger_ui_bundle_LICENSE_txt,
	    TYPE_TEXT),
};

/*
 * The pages load nothing from anywhere else; Swagger UI's styles are
 * partly inline and its images data: URIs.
 */
#define PAGE_CSP							\
	"default-src 'self'; img-src 'self' data: blob:; "		\
	"style-src 'self' 'unsafe-inline'; script-src 'self'; "		\
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "	\
	"form-action 'self'"

static int	serve(struct http_request *, const void *, size_t,
		    const char *, const char *, int);
static int	etag_matches(struct http_request *, const char *);
static json_t	*openapi_build(void);
static int	operation_fill(json_t *, const struct api_route *);
static json_t	*parameter_ref(json_t *, const char *, const char *);
static char	*openapi_path(const char *);
static const char *method_name(int);
static int	openapi_unmatched(json_t *);

/* Built once per worker by web_openapi_init(); read-only afterwards. */
static char	*openapi_text;
static size_t	 openapi_len;
static char	 openapi_etag[24];
static char	*webconfig_text;
static char	 webconfig_etag[24];

static void	etag_of(const char *, size_t, char *, size_t);

int
web_home(struct http_request *req, struct http_ctx *h)
{
	return (serve(req, page_home.data, *page_home.len, *page_home.etag,
	    page_home.type, 1));
}

int
web_docs(struct http_request *req, struct http_ctx *h)
{
	return (serve(req, page_docs.data, *page_docs.len, *page_docs.etag,
	    page_docs.type, 1));
}

int
web_static(struct http_request *req, struct http_ctx *h)
{
	const struct web_asset	*a;
	size_t			 i;

	if (!strcmp(h->param, "config.json")) {
		return (serve(req, webconfig_text, strlen(webconfig_text),
		    webconfig_etag, "application/json; charset=utf-8", 0));
	}
	for (i = 0; i < sizeof(statics) / sizeof(statics[0]); i++) {
		a = &statics[i];
		if (!strcmp(a->name, h->param))
			return (serve(req, a->data, *a->len, *a->etag,
			    a->type, 0));
	}
	return (api_not_found(req, "file"));
}

int
web_openapi(struct http_request *req, struct http_ctx *h)
{
	return (serve(req, openapi_text, openapi_len, openapi_etag,
	    "application/json; charset=utf-8", 0));
}

static int
serve(struct http_request *req, const void *data, size_t len,
    const char *etag, const char *type, int page)
{
	http_response_header(req, "etag", etag);
	http_response_header(req, "cache-control", "no-cache");
	http_response_header(req, "x-content-type-options", "nosniff");
	if (page) {
		http_response_header(req, "content-security-policy",
		    PAGE_CSP);
		http_response_header(req, "referrer-policy", "same-origin");
	}
	if (etag_matches(req, etag)) {
		http_response(req, 304, NULL, 0);
		return (KORE_RESULT_OK);
	}
	respond_text(req, 200, type, data, len);
	return (KORE_RESULT_OK);
}

/* If-None-Match: "*" or a list of tags, weak ones compared weakly. */
static int
etag_matches(struct http_request *req, const char *etag)
{
	const char	*v, *p;
	size_t		 n = strlen(etag);

	if (!http_request_header(req, "if-none-match", &v))
		return (0);
	for (p = v; *p != '\0'; p++) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '*')
			return (1);
		if (p[0] == 'W' && p[1] == '/')
			p += 2;
		if (!strncmp(p, etag, n))
			return (1);
		if ((p = strchr(p, ',')) == NULL)
			break;
	}
	return (0);
}

/*
 * The document, or a fatal error naming the route or operation that has
 * no counterpart: a worker that would serve a wrong document does not
 * start, and `make test` starts one.
 */
void
web_openapi_init(void)
{
	json_t		*doc;

	if ((doc = openapi_build()) == NULL)
		fatal("openapi: the document does not match the route table");
	openapi_text = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (openapi_text == NULL)
		fatal("openapi: cannot serialise the document");
	openapi_len = strlen(openapi_text);
	etag_of(openapi_text, openapi_len, openapi_etag, sizeof(openapi_etag));

	doc = json_pack("{s:s?, s:s?, s:s}",
	    "prometheus_url", config.web_prometheus_url[0] != '\0' ?
	    config.web_prometheus_url : NULL,
	    "grafana_url", config.web_grafana_url[0] != '\0' ?
	    config.web_grafana_url : NULL,
	    "public_base_url", config.public_base_url);
	if (doc == NULL || (webconfig_text = json_dumps(doc, 0)) == NULL)
		fatal("web: cannot build config.json");
	json_decref(doc);
	etag_of(webconfig_text, strlen(webconfig_text), webconfig_etag,
	    sizeof(webconfig_etag));
}

/* FNV-1a 64 of a text, as a quoted ETag. */
static void
etag_of(const char *text, size_t len, char *out, size_t outlen)
{
	uint64_t	h = 14695981039346656037ULL;
	size_t		i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)text[i];
		h *= 1099511628211ULL;
	}
	(void)snprintf(out, outlen, "\"%016llx\"", (unsigned long long)h);
}

static json_t *
openapi_build(void)
{
	const struct api_route	*routes;
	json_t			*doc, *servers, *server;
	json_error_t		 err;
	size_t			 n, i;
	int			 ok = 1;

	doc = json_loadb((const char *)asset_openapi_json,
	    asset_len_openapi_json, JSON_PRESERVE_ORDER, &err);
	if (doc == NULL) {
		log_event(LOG_LEVEL_ERROR, "openapi", "assets/openapi.json: "
		    "line %d: %s", err.line, err.text);
		return (NULL);
	}

	servers = json_array();
	server = json_object();
	json_object_set_new(server, "url", json_string(config.public_base_url));
	json_array_append_new(servers, server);
	json_object_set_new(doc, "servers", servers);

	routes = api_routes(&n);
	for (i = 0; i < n; i++)
		ok &= operation_fill(doc, &routes[i]);
	ok &= openapi_unmatched(doc);
	if (!ok) {
		json_decref(doc);
		return (NULL);
	}
	return (doc);
}

/* The table's part of one operation; 0 when the file lacks it. */
static int
operation_fill(json_t *doc, const struct api_route *r)
{
	const struct endpoint	*ep = &r->ep;
	const char *const	*lists[2] = { NULL, NULL };
	const char		*tmpl, *p;
	json_t			*op, *params, *ref;
	char			*path, name[32];
	size_t			 i, k, len;

	tmpl = route_get(ep->route)->template;
	path = openapi_path(tmpl);
	op = json_object_get(json_object_get(json_object_get(doc, "paths"),
	    path), method_name(ep->method));
	if (op == NULL || !json_is_object(op)) {
		log_event(LOG_LEVEL_ERROR, "openapi", "route %s %s has no "
		    "operation in assets/openapi.json", method_name(ep->method),
		    path);
		kore_free(path);
		return (0);
	}
	kore_free(path);

	json_object_set_new(op, "x-route", json_true());
	json_object_set_new(op, "operationId", json_string(r->operation));
	json_object_set_new(op, "summary", json_string(r->summary));
	params = json_array();

	for (p = tmpl; (p = strchr(p, ':')) != NULL; p += len) {
		len = strcspn(p + 1, "/") + 1;
		(void)snprintf(name, sizeof(name), "path_%.*s", (int)len - 1,
		    p + 1);
		if ((ref = parameter_ref(doc, name, tmpl)) == NULL)
			goto missing;
		json_array_append_new(params, ref);
	}

	if (ep->query == QUERY_LIST || ep->query == QUERY_PARAMS)
		lists[0] = ep->params;
	if (ep->query == QUERY_LIST)
		lists[1] = page_params;
	for (k = 0; k < 2; k++) {
		for (i = 0; lists[k] != NULL && lists[k][i] != NULL; i++) {
			if ((ref = parameter_ref(doc, lists[k][i],
			    tmpl)) == NULL)
				goto missing;
			json_array_append_new(params, ref);
		}
	}

	if (json_array_size(params) > 0)
		json_object_set_new(op, "parameters", params);
	else
		json_decref(params);
	return (1);

missing:
	json_decref(params);
	return (0);
}

/* A $ref to components.parameters.<name>, which must exist. */
static json_t *
parameter_ref(json_t *doc, const char *name, const char *tmpl)
{
	char	ref[96];

	if (json_object_get(json_object_get(json_object_get(doc,
	    "components"), "parameters"), name) == NULL) {
		log_event(LOG_LEVEL_ERROR, "openapi", "parameter %s of %s is "
		    "not in components.parameters", name, tmpl);
		return (NULL);
	}
	(void)snprintf(ref, sizeof(ref), "#/components/parameters/%s", name);
	return (json_pack("{s:s}", "$ref", ref));
}

/* Every operation of the file was filled from a route (x-route). */
static int
openapi_unmatched(json_t *doc)
{
	const char	*path, *method;
	json_t		*item, *op;
	int		 ok = 1;

	json_object_foreach(json_object_get(doc, "paths"), path, item) {
		json_object_foreach(item, method, op) {
			if (!strcmp(method, "parameters") ||
			    !strcmp(method, "summary") ||
			    !strcmp(method, "description"))
				continue;
			if (json_object_get(op, "x-route") == NULL) {
				log_event(LOG_LEVEL_ERROR, "openapi",
				    "operation %s %s has no route in the "
				    "table", method, path);
				ok = 0;
			}
			json_object_del(op, "x-route");
		}
	}
	return (ok);
}

/* "/urls/:id/stats" -> "/urls/{id}/stats"; malloc'd. */
static char *
openapi_path(const char *tmpl)
{
	char	*out, *o;

	out = kore_malloc(strlen(tmpl) * 2 + 1);
	for (o = out; *tmpl != '\0'; tmpl++) {
		if (*tmpl != ':') {
			*o++ = *tmpl;
			continue;
		}
		*o++ = '{';
		tmpl++;
		while (*tmpl != '\0' && *tmpl != '/')
			*o++ = *tmpl++;
		*o++ = '}';
		if (*tmpl == '\0')
			break;
		*o++ = *tmpl;
	}
	*o = '\0';
	return (out);
}

static const char *
method_name(int method)
{
	switch (method) {
	case ROUTE_GET:
		return ("get");
	case ROUTE_POST:
		return ("post");
	case ROUTE_PUT:
		return ("put");
	case ROUTE_DELETE:
		return ("delete");
	case ROUTE_PATCH:
		return ("patch");
	default:
		return ("options");
	}
}
