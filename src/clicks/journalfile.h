/*
 * The click journal's file: one per worker slot, mapped shared, so what a
 * worker appends is in the page cache the moment it is written and
 * survives the worker (core/clickjournal.h has the format).
 */
#ifndef JOURNALFILE_H
#define JOURNALFILE_H

#include <stddef.h>

#include "core/clickjournal.h"

/*
 * Opens (creating it and dir if needed) dir/clicks-<slot>.journal of mb
 * MiB, locks it and attaches j to it. 0, or -1 with the reason logged (the
 * worker then writes its clicks without a journal).
 */
int	journalfile_open(struct clickj *j, const char *dir, unsigned int slot,
	    int mb);

#endif
