/* Sampled request lines: weights add up to the requests, failures kept. */

#include <criterion/criterion.h>

#include "core/logsample.h"

/* n success requests in one second; returns lines written, adds weights. */
static uint32_t
burst(struct logsample *s, uint64_t sec, uint32_t n, uint64_t *weights)
{
	uint32_t	i, w, lines = 0;

	for (i = 0; i < n; i++) {
		w = logsample_take(s, sec, 1);
		if (w > 0) {
			lines++;
			*weights += w;
		}
	}
	return (lines);
}

Test(logsample, rate_zero_writes_every_line)
{
	struct logsample	s;
	uint64_t		weights = 0;

	logsample_init(&s, 0, 100);
	cr_expect_eq(burst(&s, 1, 50000, &weights), 50000);
	cr_expect_eq(weights, 50000);
}

Test(logsample, below_the_rate_every_line)
{
	struct logsample	s;
	uint64_t		weights = 0;

	logsample_init(&s, 1000, 100);
	cr_expect_eq(burst(&s, 7, 1000, &weights), 1000);
	cr_expect_eq(burst(&s, 8, 1000, &weights), 1000);
	cr_expect_eq(weights, 2000);
}

Test(logsample, above_the_rate_one_in_every_weighted)
{
	struct logsample	s;
	uint64_t		weights = 0;

	logsample_init(&s, 1000, 100);
	/* 1000 in full, then 30000 more: 300 lines of weight 100. */
	cr_expect_eq(burst(&s, 3, 31000, &weights), 1300);
	cr_expect_eq(weights, 31000);
}

Test(logsample, leftover_rides_on_the_next_success_line)
{
	struct logsample	s;
	uint64_t		weights = 0;

	logsample_init(&s, 10, 100);
	/* 10 in full, 150 more: one line of 100, 50 skipped and pending. */
	cr_expect_eq(burst(&s, 1, 160, &weights), 11);
	cr_expect_eq(weights, 110);
	/* A failure is written alone and carries none of them. */
	cr_expect_eq(logsample_take(&s, 1, 0), 1);
	/* The next second's first success line carries the 50. */
	cr_expect_eq(logsample_take(&s, 2, 1), 51);
}

Test(logsample, failures_are_always_written)
{
	struct logsample	s;
	uint32_t		i;

	logsample_init(&s, 1, 1000);
	(void)logsample_take(&s, 1, 1);
	for (i = 0; i < 5000; i++)
		cr_assert_eq(logsample_take(&s, 1, 0), 1);
}

Test(logsample, every_zero_is_every_one)
{
	struct logsample	s;
	uint64_t		weights = 0;

	logsample_init(&s, 1, 0);
	cr_expect_eq(burst(&s, 1, 10, &weights), 10);
	cr_expect_eq(weights, 10);
}
