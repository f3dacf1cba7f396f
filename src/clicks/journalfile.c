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
 * must never repeat across instances, hosts or a deleted file.
 */

#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <kore/kore.h>

#include "clicks/journalfile.h"
#include "obs/log.h"

static int	journal_id(char out[CLICKJ_ID_LEN + 1]);
static int	journal_fail(const char *, const char *, int);

int
journalfile_open(struct clickj *j, const char *dir, unsigned int slot,
    int mb)
{
	char	 path[1024], id[CLICKJ_ID_LEN + 1];
	size_t	 len = (size_t)mb * 1024 * 1024;
	void	*base;
	int	 fd, n;

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
	if (ftruncate(fd, (off_t)len) == -1)
		return (journal_fail(path, "ftruncate", fd));
	base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		return (journal_fail(path, "mmap", fd));
	if (journal_id(id) == -1) {
		(void)munmap(base, len);
		return (journal_fail(path, "/dev/urandom", fd));
	}
	if (clickj_attach(j, base, len, id) == -1) {
		(void)munmap(base, len);
		return (journal_fail(path, "too small", fd));
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
