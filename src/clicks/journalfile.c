/*
 * Mapping a worker's click journal. The file is locked (flock) for as long
 * as the worker lives: a worker of another instance pointed at the same
 * directory by mistake, or a leftover of a killed parent, finds it taken
 * and goes on without a journal rather than writing into another's. The
 * lock goes with the process, so the worker forked after a crash takes it
 * at once.
 *
 * A new journal gets an id of 128 random bits (/dev/urandom): the
 * database keeps the last click stored per id (db/migrations/031), so ids
 * must never repeat across instances, hosts or a deleted file. A journal
 * written before the machine last booted starts afresh under a new id
 * (core/clickjournal.h says why); what it held is the loss a machine crash
 * may cause, logged.
 *
 * The file's blocks are allocated up front (fallocate): a store
 * into a hole of a shared mapping on a full disk is a SIGBUS, which
 * would kill every redirect that records a click. A disk too full for
 * the journal leaves the worker without one instead.
 */

#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <kore/kore.h>

#include "clicks/journalfile.h"
#include "obs/log.h"

static int	journal_id(char out[CLICKJ_ID_LEN + 1]);
static int	boot_id(char out[40]);
static int	journal_fail(const char *, const char *, int);

int
journalfile_open(struct clickj *j, const char *dir, unsigned int slot,
    int mb)
{
	char		 path[1024], id[CLICKJ_ID_LEN + 1], boot[40];
	size_t		 len = (size_t)mb * 1024 * 1024;
	uint64_t	 dropped;
	void		*base;
	int		 fd, n;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return (journal_fail(dir, "mkdir", -1));
	n = snprintf(path, sizeof(path), "%s/clicks-%u.journal", dir, slot);
	if (n < 0 || (size_t)n >= sizeof(path))
		return (journal_fail(dir, "path too long", -1));
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return (journal_fail(path, "open", -1));
	if (flock(fd, LOCK_EX | LOCK_NB) == -1)
		return (journal_fail(path, "flock (held by another process)",
		    fd));
	/* fallocate(2) itself: glibc's emulation would write every block. */
	if (fallocate(fd, 0, 0, (off_t)len) == -1)
		return (journal_fail(path, "fallocate", fd));
	base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		return (journal_fail(path, "mmap", fd));
	if (journal_id(id) == -1 || boot_id(boot) == -1) {
		(void)munmap(base, len);
		return (journal_fail(path, "/dev/urandom or boot_id", fd));
	}
	if (clickj_attach(j, base, len, id, boot, &dropped) == -1) {
		(void)munmap(base, len);
		return (journal_fail(path, "too small", fd));
	}
	if (dropped > 0) {
		log_event(LOG_LEVEL_ERROR, "click_journal_reset", "%s: written "
		    "before a reboot, or with another CLICK_JOURNAL_MB: %" PRIu64
		    " clicks it held are dropped", path, dropped);
	}
	/* The mapping and the lock live as long as the worker: fd stays. */
	return (0);
}

static int
journal_id(char out[CLICKJ_ID_LEN + 1])
{
	unsigned char	raw[CLICKJ_ID_LEN / 2];
	ssize_t		n;
	size_t		i;
	int		fd;

	if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	n = read(fd, raw, sizeof(raw));
	(void)close(fd);
	if (n != (ssize_t)sizeof(raw))
		return (-1);
	for (i = 0; i < sizeof(raw); i++)
		(void)snprintf(out + i * 2, 3, "%02x", raw[i]);
	return (0);
}

/* The kernel's id of this boot: 36 characters and a newline. */
static int
boot_id(char out[40])
{
	ssize_t		n;
	int		fd;

	fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return (-1);
	n = read(fd, out, 39);
	(void)close(fd);
	if (n < 32)
		return (-1);
	out[n] = '\0';
	out[strcspn(out, "\n")] = '\0';
	return (0);
}

static int
journal_fail(const char *what, const char *step, int fd)
{
	int	saved = errno;

	if (fd != -1)
		(void)close(fd);
	log_event(LOG_LEVEL_ERROR, "click_journal_off", "%s: %s: %s; clicks "
	    "go unjournaled (a crash loses those in memory)", what, step,
	    strerror(saved));
	return (-1);
}
