/*
 * Field validation for the API's resources. Every validator returns NULL
 * when the value is acceptable, else a short human message (static storage)
 * that goes into the "fields" object of a 422. Lengths are counted in
 * Unicode code points; input is known-valid UTF-8 (jansson checked it) but
 * may hold NUL bytes, which PostgreSQL text cannot store.
 *
 * Every string validator refuses a NUL ("must not contain NUL characters")
 * and invalid UTF-8 (the CSV import hands raw bytes). username and
 * event_type also refuse control characters (C0, DEL, C1) and blank values
 * (only Unicode whitespace or invisible characters); title accepts any
 * text, empty included; url refuses whitespace, control and
 * bidirectional control characters, user information and backslashes
 * in the authority, and hosts core/urlhost.c refuses.
 */
#ifndef VALIDATE_H
#define VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#define USERNAME_MAX	64
#define EMAIL_MAX	254
#define URL_MAX		2048
#define TITLE_MAX	200
#define EVENT_TYPE_MAX	64
#define KEY_NAME_MAX	100

const char	*validate_username(const char *s, size_t len);
const char	*validate_email(const char *s, size_t len);
const char	*validate_url(const char *s, size_t len);
const char	*validate_title(const char *s, size_t len);
const char	*validate_event_type(const char *s, size_t len);
/* An API key's name: 1..100 characters, not blank, no controls. */
const char	*validate_key_name(const char *s, size_t len);
/* Custom short code: shape [A-Za-z0-9_-]{3,32} and not a reserved word. */
const char	*validate_custom_code(const char *s, size_t len);
/* "YYYY-MM-DD HH:MM:SS" or with 'T'; a real calendar date and time. */
const char	*validate_timestamp(const char *s, size_t len);

/*
 * A link's expiry: exactly the contract's "YYYY-MM-DDTHH:MM:SS" (UTC, no
 * zone, no fraction), a real date and time from year 2000 to 9999. That
 * it lies in the future is the caller's check (it knows the time).
 */
const char	*validate_expiry(const char *s, size_t len);
/* "YYYY-MM-DD", a real date from year 2000 to 9999. */
const char	*validate_date(const char *s, size_t len);
/*
 * Seconds since 1970-01-01T00:00:00 of a timestamp validate_expiry()
 * accepted (or days, of a date validate_date() accepted).
 */
int64_t		 timestamp_epoch(const char *s);
int64_t		 date_days(const char *s);

/* Number of code points in valid UTF-8. */
size_t		 utf8_length(const char *s, size_t len);
/*
 * Decodes the code point at s into *cp; returns its length in bytes, or 0
 * when the sequence is truncated, overlong, a surrogate or > U+10FFFF.
 */
size_t		 utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);
/* 1 when s is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
int		 utf8_valid(const char *s, size_t len);

#endif
