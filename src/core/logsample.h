/*
 * Which request lines a worker writes when it answers more than it can
 * afford to log (core/logsample.c). Pure logic.
 */
#ifndef LOGSAMPLE_H
#define LOGSAMPLE_H

#include <stdint.h>

struct logsample {
	uint32_t	rate;		/* success lines a second in full; 0 all */
	uint32_t	every;		/* above it, one line per `every` */
	uint64_t	second;		/* of the current window */
	uint32_t	in_second;	/* success lines written in it */
	uint32_t	skipped;	/* success lines not written since the
					   last one that was */
};

void		logsample_init(struct logsample *s, uint32_t rate,
		    uint32_t every);
/*
 * For a request answered at `second` (any monotonic count of seconds):
 * 0 when its line is not written, else the number of requests the line
 * stands for (itself and the success lines skipped before it; failures
 * always 1).
 */
uint32_t	logsample_take(struct logsample *s, uint64_t second,
		    int success);

#endif
