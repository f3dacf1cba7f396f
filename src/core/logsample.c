/*
 * Sampled request lines above a rate.
 *
 * A worker at 30 000 cache hits a second spends more on its request log
 * (formatting, the write, the kernel's writeback of the file) than the
 * issue's budget of 5% allows, and nobody reads 30 000 identical lines a
 * second: the metrics count every request. So, per worker and per second
 * of the clock, the first `rate` successful requests (status < 400) get
 * their line; after that one line in `every` is written, and it carries
 * the number of successful requests it stands for, itself and those
 * skipped since the previous line (the log's "sample" field): summing the
 * lines' weights gives back the exact count of requests. What was
 * skipped after the last line written of a burst rides on the next
 * success line, whenever it comes. Failures are always written, with
 * weight 1, and never carry skipped successes. rate 0 writes every line.
 */

#include "core/logsample.h"

void
logsample_init(struct logsample *s, uint32_t rate, uint32_t every)
{
	s->rate = rate;
	s->every = every > 0 ? every : 1;
	s->second = 0;
	s->in_second = 0;
	s->skipped = 0;
}

uint32_t
logsample_take(struct logsample *s, uint64_t second, int success)
{
	uint32_t	weight;

	if (!success || s->rate == 0)
		return (1);

	if (second != s->second) {
		s->second = second;
		s->in_second = 0;
	}
	if (s->in_second < s->rate) {
		s->in_second++;
		weight = s->skipped + 1;
		s->skipped = 0;
		return (weight);
	}

	s->skipped++;
	if (s->skipped < s->every)
		return (0);
	weight = s->skipped;
	s->skipped = 0;
	return (weight);
}
