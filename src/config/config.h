/*
 * Settings that differ between deployments, read from the environment
 * once, by the Kore parent before it forks the workers (which inherit
 * them) and again by a worker the parent forked after a module reload.
 * This is the one place the environment is read; every other file reads
 * config. It includes only the pure core (parsers of what it reads):
 * every layer may use it.
 * Kore's own tuning (workers, limits, bind address) lives in
 * conf/shortener.conf instead. Every setting: docs/configuration.md.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>

#include "core/netaddr.h"

#define DB_NAME		"db"
#define DB_LONG_NAME	"db_long"	/* same database, longer timeout */
/* Same database and timeout: named statements, generic plans (db/db.c). */
#define DB_NAMED_NAME	"db_named"

struct app_config {
	int		 loaded;
	const char	*database_url;
	const char	*redis_url;
	int		 cache_budget_ms;	/* per Redis command */
	int		 cache_ttl;		/* seconds, positive entries */
	int		 cache_negative_ttl;	/* seconds, unknown codes */
	int		 cache_tombstone_ms;	/* after an invalidation */
	int		 local_cache_ms;	/* worker copies; 0: none */
	int		 worker_slice_us;	/* scheduler slice; 0: kernel's */
	int		 log_level;		/* LOG_LEVEL, see obs/log.h */
	int		 log_request_rate;	/* success lines/s/worker */
	int		 log_sample_every;	/* above it, 1 line in N */
	struct cidr_list trusted_proxies;	/* TRUSTED_PROXIES */
	size_t		 json_body_max;
	int		 retry_after;		/* seconds, on 503 */
	const char	*public_base_url;	/* short_url, Location */
	int		 db_statement_timeout_ms;
	int		 db_long_statement_timeout_ms;
	long		 list_max_rows;		/* whole lists; 400 above */
	long		 list_offset_max;	/* deepest OFFSET served */
	long		 list_count_max;	/* rows counted for a total */
	int		 keys_required;		/* API_KEYS_REQUIRED */
	int		 key_cache_ms;		/* a worker trusts a lookup */
	long		 rate_key;		/* per key per minute; 0 off */
	long		 rate_address;		/* per address per minute */
	const char	*cors_origins;		/* comma-separated; "" none */
	int		 allow_private_hosts;	/* links to internal addresses */
	const char	*blocklist_file;	/* "" none */
	const char	*click_journal_dir;	/* "" or "off": no journal */
	int		 click_journal_mb;	/* per worker */
	int		 click_retention_days;	/* 0: keep every click */
	int		 click_upkeep_s;	/* partition upkeep period */
	size_t		 bulk_body_max;		/* POST /users/bulk, bytes */
	long		 bulk_max_rows;
	const char	*web_prometheus_url;	/* linked by the web app; "" */
	const char	*web_grafana_url;	/* linked by the web app; "" */
};

/* Log levels, lowest first (obs/log.c names them). */
#define CONFIG_LOG_DEBUG	0
#define CONFIG_LOG_INFO		1
#define CONFIG_LOG_WARN		2
#define CONFIG_LOG_ERROR	3

/*
 * Written by config_load() from the environment; read-only afterwards.
 * config.loaded tells whether this process's copy is filled (a module
 * reload starts a new, empty one).
 */
extern struct app_config	config;

/*
 * Reads the environment into config. NULL on success, else what is wrong
 * (a setting the service cannot run with), for the caller to stop on.
 */
const char	*config_load(void);

#endif
