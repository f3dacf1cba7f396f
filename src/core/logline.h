/*
 * One JSON log line built in a caller's buffer: {"k":"v","n":1,...}\n.
 * Values are escaped as JSON requires, invalid UTF-8 becoming U+FFFD; a
 * line that would not fit is cut at a field boundary and still closed,
 * so the output is always one valid JSON object per line. Pure logic.
 */
#ifndef LOGLINE_H
#define LOGLINE_H

#include <stddef.h>
#include <stdint.h>

struct logline {
	char	*buf;
	size_t	 cap;
	size_t	 len;
	int	 truncated;
};

void	logline_begin(struct logline *l, char *buf, size_t cap);
/* A string field; NULL becomes null. */
void	logline_str(struct logline *l, const char *key, const char *value);
void	logline_int(struct logline *l, const char *key, int64_t value);
/* A number with three decimals (durations in milliseconds). */
void	logline_ms(struct logline *l, const char *key, double value);
/* Closes the object and adds '\n'; returns the line's length. */
size_t	logline_end(struct logline *l);

#endif
