/*
 * Environment configuration. Defaults suit the Docker-free development
 * stack; every value is documented under "Configuration" in README.md.
 */

#include <stdlib.h>
#include <string.h>

#include "app/config.h"

static const char	*env_or(const char *, const char *);
static long		 env_long(const char *, long, long, long);

struct app_config	config;

#define DEFAULT_DATABASE_URL \
	"postgresql://postgres@127.0.0.1:15432/shortener" \
	"?connect_timeout=2&gssencmode=disable"

void
config_load(void)
{
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
	config.log_level = env_or("LOG_LEVEL", "info");
	config.json_body_max = (size_t)env_long("JSON_BODY_MAX",
	    1024 * 1024, 1024, 16 * 1024 * 1024);
	config.retry_after = (int)env_long("RETRY_AFTER_SECONDS", 2, 1, 3600);
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
