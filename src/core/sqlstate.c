/*
 * SQLSTATE classes (PostgreSQL, Appendix A). Only the first characters
 * decide, except for the few codes singled out: a cancelled statement is
 * 57014, a class of its own, whereas the rest of 57 is the server going
 * away; 53300 (too many connections) is the only class 53 code that means
 * "not now" rather than "out of resources for this statement".
 */

#include <string.h>

#include "core/sqlstate.h"

enum sqlstate_class
sqlstate_classify(const char *s)
{
	if (s == NULL || s[0] == '\0')
		return (SQLSTATE_UNAVAILABLE);
	if (!strcmp(s, "57014"))
		return (SQLSTATE_TIMEOUT);
	if (!strncmp(s, "08", 2) || !strncmp(s, "57P", 3) ||
	    !strcmp(s, "53300"))
		return (SQLSTATE_UNAVAILABLE);
	if (!strncmp(s, "40", 2))
		return (SQLSTATE_TRANSIENT);
	if (!strcmp(s, "23505"))
		return (SQLSTATE_UNIQUE);
	if (!strcmp(s, "23503"))
		return (SQLSTATE_FOREIGN_KEY);
	if (!strncmp(s, "22", 2))
		return (SQLSTATE_BAD_VALUE);
	return (SQLSTATE_OTHER);
}

int
sqlstate_retryable(const char *s)
{
	switch (sqlstate_classify(s)) {
	case SQLSTATE_UNAVAILABLE:
	case SQLSTATE_TRANSIENT:
	case SQLSTATE_TIMEOUT:
		return (1);
	default:
		return (0);
	}
}

int
sqlstate_schema_behind(const char *s)
{
	return (s != NULL && (!strcmp(s, "42883") || !strcmp(s, "42P01")));
}
