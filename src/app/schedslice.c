/*
 * The worker's scheduler slice.
 *
 * Linux's fair scheduler (EEVDF, 6.6 and later) lets a task that woke up
 * take the CPU from the one running there, and leaves the loser waiting
 * for the next periodic balance, milliseconds away, even while the other
 * core idles. On a machine shared with PostgreSQL that is exactly what a
 * click insert does to a worker in the middle of its batch of requests:
 * the benchmark's tail at a steady load was those waits. Since 6.12 a
 * SCHED_OTHER task may ask for a shorter slice (sched_attr.sched_runtime,
 * 0.1 to 100 ms): its deadlines come earlier, so it is the one that gets
 * the CPU when both want it, and it gives the CPU back sooner. It costs
 * no priority and needs no privilege. Older kernels accept and ignore
 * the value. See docs/decisions.md.
 */

#include <sys/syscall.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "app/schedslice.h"
#include "obs/log.h"

/* The kernel's struct sched_attr; glibc 2.36 has no wrapper for it. */
struct slice_attr {
	uint32_t	size;
	uint32_t	sched_policy;
	uint64_t	sched_flags;
	int32_t		sched_nice;
	uint32_t	sched_priority;
	uint64_t	sched_runtime;
	uint64_t	sched_deadline;
	uint64_t	sched_period;
};

void
sched_slice_apply(int slice_us)
{
	struct slice_attr	attr;

	if (slice_us <= 0)
		return;

	/* Read first: the policy and nice value the worker was given stay. */
	memset(&attr, 0, sizeof(attr));
	if (syscall(SYS_sched_getattr, 0, &attr, sizeof(attr), 0) == -1 ||
	    attr.sched_policy != 0) {
		log_event(LOG_LEVEL_WARN, "sched_slice",
		    "scheduler slice left alone: %s", attr.sched_policy != 0 ?
		    "the worker is not SCHED_OTHER" : strerror(errno));
		return;
	}
	attr.size = sizeof(attr);
	attr.sched_runtime = (uint64_t)slice_us * 1000;
	if (syscall(SYS_sched_setattr, 0, &attr, 0) == -1) {
		log_event(LOG_LEVEL_WARN, "sched_slice",
		    "cannot set a %d us scheduler slice: %s", slice_us,
		    strerror(errno));
	}
}
