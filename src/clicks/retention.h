/*
 * The click partitions' upkeep and retention (clicks/retention.c).
 */
#ifndef RETENTION_H
#define RETENTION_H

/* Once per worker, after db_init(); only worker 1 runs the upkeep. */
void	retention_init(void);
/* At worker exit: drops an upkeep still running (the next run redoes it). */
void	retention_stop(void);

#endif
