/*
 * Environment configuration. Defaults suit the Docker-free development
 * stack; every value is documented in docs/configuration.md.
 *
 * A malformed or out-of-range number falls back to its default (and the
 * table in docs/configuration.md gives the range); a setting whose value
 * cannot be defaulted away (PUBLIC_BASE_URL) is an error the caller stops
 * on. Pure C, no Kore: the unit tests load it too.
 */

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"

static const char	*env_or(const char *, const char *);
static long		 env_long(const char *, long, long, long);
static const char	*base_url(const char *);
static int		 log_level(const char *);
static const char	*link_url(const char *);

struct app_config	config;

#define DEFAULT_DATABASE_URL \
	"postgresql://postgres@127.0.0.1:15432/shortener" \
	"?connect_timeout=2&gssencmode=disable"

const char *
config_load(void)
{
	const char	*bad;

	config.database_url = env_or("DATABASE_URL", DEFAULT_DATABASE_URL);
	config.redis_url = env_or("REDIS_URL", "redis://127.0.0.1:6380/0");
	config.cache_budget_ms = (int)env_long("REDIS_TIMEOUT_MS", 5, 1, 60000);
	config.cache_ttl = (int)env_long("CACHE_TTL_SECONDS", 300, 1, 86400);
	config.cache_negative_ttl = (int)env_long("CACHE_NEGATIVE_TTL_SECONDS",
	    10, 1, 3600);
	config.cache_tombstone_ms = (int)env_long("CACHE_TOMBSTONE_MS", 2000,
	    100, 60000);
	config.local_cache_ms = (int)env_long("LOCAL_CACHE_MS", 20, 0, 1000);
	config.worker_slice_us = (int)env_long("WORKER_SLICE_US", 100, 0,
	    100000);
	config.log_level = log_level(env_or("LOG_LEVEL", "info"));
	config.log_request_rate = (int)env_long("LOG_REQUEST_RATE", 1000, 0,
	    1000000);
	config.log_sample_every = (int)env_long("LOG_SAMPLE_EVERY", 100, 1,
	    1000000);
	if (cidr_list_parse(env_or("TRUSTED_PROXIES", ""),
	    &config.trusted_proxies, &bad) == -1)
		return ("TRUSTED_PROXIES must be a list of addresses and "
		    "CIDR ranges (at most 32)");
	config.json_body_max = (size_t)env_long("JSON_BODY_MAX",
	    1024 * 1024, 1024, 16 * 1024 * 1024);
	config.retry_after = (int)env_long("RETRY_AFTER_SECONDS", 2, 1, 3600);
	if ((config.public_base_url = base_url(env_or("PUBLIC_BASE_URL",
	    "http://127.0.0.1:8080"))) == NULL)
		return ("PUBLIC_BASE_URL must be an absolute http(s) URL "
		    "without query, fragment, quotes or spaces");
	config.db_statement_timeout_ms = (int)env_long(
	    "DB_STATEMENT_TIMEOUT_MS", 3000, 100, 600000);
	config.db_long_statement_timeout_ms = (int)env_long(
	    "DB_LONG_STATEMENT_TIMEOUT_MS", 8000, 100, 600000);
	config.list_max_rows = env_long("LIST_MAX_ROWS", 100000, 1,
	    100000000);
	config.list_offset_max = env_long("LIST_OFFSET_MAX", 10000, 0,
	    100000000);
	config.list_count_max = env_long("LIST_COUNT_MAX", 10000, 1,
	    1000000000);
	config.keys_required = (int)env_long("API_KEYS_REQUIRED", 0, 0, 1);
	config.key_cache_ms = (int)env_long("API_KEY_CACHE_MS", 2000, 0,
	    60000);
	config.rate_key = env_long("RATE_LIMIT_PER_KEY", 6000, 0, 100000000);
	config.rate_address = env_long("RATE_LIMIT_PER_ADDRESS", 1200, 0,
	    100000000);
	config.cors_origins = env_or("CORS_ALLOWED_ORIGINS", "");
	config.allow_private_hosts = (int)env_long("URL_ALLOW_PRIVATE_HOSTS",
	    0, 0, 1);
	config.blocklist_file = env_or("URL_BLOCKLIST_FILE", "");
	config.click_journal_dir = env_or("CLICK_JOURNAL_DIR", "journal");
	config.click_journal_mb = (int)env_long("CLICK_JOURNAL_MB", 32, 1,
	    4096);
	config.click_retention_days = (int)env_long("CLICK_RETENTION_DAYS", 0,
	    0, 36500);
	config.click_upkeep_s = (int)env_long("CLICK_UPKEEP_S", 3600, 1,
	    86400);
	config.bulk_body_max = (size_t)env_long("BULK_BODY_MAX",
	    16 * 1024 * 1024, 1024, 16 * 1024 * 1024);
	config.bulk_max_rows = env_long("BULK_MAX_ROWS", 50000, 1, 1000000);
	config.web_prometheus_url = link_url(env_or("WEB_PROMETHEUS_URL", ""));
	config.web_grafana_url = link_url(env_or("WEB_GRAFANA_URL", ""));
	config.loaded = 1;
	return (NULL);
}

/*
 * The public base URL must be an absolute http(s) URL without query,
 * fragment or spaces (it goes into session options and Location
 * headers); a trailing slash is dropped. NULL for anything else, which
 * stops the service at start, where the operator sees it, not at the
 * first create.
 */
static const char *
base_url(const char *v)
{
	static char	buf[512];	/* written once, by config_load() */
	size_t		len;

	if ((strncmp(v, "http://", 7) && strncmp(v, "https://", 8)) ||
	    strpbrk(v, " \t\r\n?#\\'\"") != NULL ||
	    (len = strlen(v)) >= sizeof(buf) || len <= 8)
		return (NULL);
	memcpy(buf, v, len + 1);
	while (len > 0 && buf[len - 1] == '/')
		buf[--len] = '\0';
	return (buf);
}

/* A link the web app shows: an http(s) URL without quotes or spaces, or "". */
static const char *
link_url(const char *v)
{
	if ((strncmp(v, "http://", 7) && strncmp(v, "https://", 8)) ||
	    strpbrk(v, " \t\r\n'\"<>\\") != NULL || strlen(v) > 500)
		return ("");
	return (v);
}

static int
log_level(const char *v)
{
	if (!strcasecmp(v, "debug"))
		return (CONFIG_LOG_DEBUG);
	if (!strcasecmp(v, "warn") || !strcasecmp(v, "warning"))
		return (CONFIG_LOG_WARN);
	if (!strcasecmp(v, "error"))
		return (CONFIG_LOG_ERROR);
	return (CONFIG_LOG_INFO);
}

static const char *
env_or(const char *name, const char *fallback)
{
	const char	*v;

	if ((v = getenv(name)) == NULL || *v == '\0')
		return (fallback);
	return (v);
}

/* A malformed or out-of-range number falls back to the default. */
static long
env_long(const char *name, long fallback, long min, long max)
{
	const char	*v;
	char		*end;
	long		 n;

	if ((v = getenv(name)) == NULL || *v == '\0')
		return (fallback);
	n = strtol(v, &end, 10);
	if (*end != '\0' || n < min || n > max)
		return (fallback);
	return (n);
}
