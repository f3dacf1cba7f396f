/*
 * Settings that differ between deployments, read from the environment
 * once per worker process.
 * Kore's own tuning (workers, limits, bind address) lives in
 * conf/shortener.conf instead. See docs/configuration.md.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>

#define DB_NAME		"db"
#define DB_LONG_NAME	"db_long"	/* same database, longer timeout */

struct app_config {
	const char	*database_url;
	const char	*redis_url;
	int		 cache_budget_ms;	/* per Redis command */
	int		 cache_ttl;		/* seconds, positive entries */
	int		 cache_negative_ttl;	/* seconds, unknown codes */
	int		 cache_tombstone_ms;	/* after an invalidation */
	int		 local_cache_ms;	/* worker copies; 0: none */
	int		 worker_slice_us;	/* scheduler slice; 0: kernel's */
	const char	*log_level;
	size_t		 json_body_max;
	int		 retry_after;		/* seconds, on 503 */
	const char	*public_base_url;	/* short_url, Location */
	int		 db_statement_timeout_ms;
	int		 db_long_statement_timeout_ms;
	long		 list_max_rows;		/* whole lists; 400 above */
	long		 list_offset_max;	/* deepest OFFSET served */
	long		 list_count_max;	/* rows counted for a total */
};

/*
 * Written by config_load() when a worker starts, from the environment it
 * inherited; read-only afterwards.
 */
extern struct app_config	config;

void	config_load(void);

#endif
