/* SQLSTATE classes: core/sqlstate.c. */
#include <criterion/criterion.h>

#include "core/sqlstate.h"

Test(sqlstate, classes)
{
	cr_expect_eq(sqlstate_classify(""), SQLSTATE_UNAVAILABLE);
	cr_expect_eq(sqlstate_classify(NULL), SQLSTATE_UNAVAILABLE);
	cr_expect_eq(sqlstate_classify("08006"), SQLSTATE_UNAVAILABLE);
	cr_expect_eq(sqlstate_classify("57P01"), SQLSTATE_UNAVAILABLE);
	cr_expect_eq(sqlstate_classify("57P03"), SQLSTATE_UNAVAILABLE);
	cr_expect_eq(sqlstate_classify("53300"), SQLSTATE_UNAVAILABLE);
	cr_expect_eq(sqlstate_classify("57014"), SQLSTATE_TIMEOUT);
	cr_expect_eq(sqlstate_classify("40001"), SQLSTATE_TRANSIENT);
	cr_expect_eq(sqlstate_classify("40P01"), SQLSTATE_TRANSIENT);
	cr_expect_eq(sqlstate_classify("23505"), SQLSTATE_UNIQUE);
	cr_expect_eq(sqlstate_classify("23503"), SQLSTATE_FOREIGN_KEY);
	cr_expect_eq(sqlstate_classify("22P05"), SQLSTATE_BAD_VALUE);
	cr_expect_eq(sqlstate_classify("22003"), SQLSTATE_BAD_VALUE);
	cr_expect_eq(sqlstate_classify("42P01"), SQLSTATE_OTHER);
	cr_expect_eq(sqlstate_classify("53100"), SQLSTATE_OTHER);
	cr_expect_eq(sqlstate_classify("23514"), SQLSTATE_OTHER);
}

Test(sqlstate, retryable)
{
	cr_expect(sqlstate_retryable(""));
	cr_expect(sqlstate_retryable("08001"));
	cr_expect(sqlstate_retryable("40P01"));
	cr_expect(sqlstate_retryable("57014"));
	cr_expect(sqlstate_retryable("57P01"));
	cr_expect_not(sqlstate_retryable("23505"));
	cr_expect_not(sqlstate_retryable("22P05"));
	cr_expect_not(sqlstate_retryable("42601"));
}

Test(sqlstate, schema_behind)
{
	cr_assert(sqlstate_schema_behind("42883"));
	cr_assert(sqlstate_schema_behind("42P01"));
	cr_assert(!sqlstate_schema_behind("42601"), "a syntax error is a bug");
	cr_assert(!sqlstate_schema_behind("23505"));
	cr_assert(!sqlstate_schema_behind(""));
	cr_assert(!sqlstate_schema_behind(NULL));
	cr_assert(!sqlstate_retryable("42883"), "no immediate retry");
}
