/*
 * QR codes of short links, as SVG or PNG (GET /urls/<id>/qr.svg, .png).
 *
 * libqrencode (Debian's libqrencode) makes the symbol; this draws it.
 * SVG: one path of unit squares in a viewBox of modules, scaled to the
 * asked size by the viewer, crisp at any zoom. PNG: 1-bit grayscale,
 * exactly size x size pixels, each pixel taking the colour of the module
 * under its centre; zlib (already linked by libpq) compresses it, and the
 * chunk CRCs are zlib's crc32. Both black on white with a quiet zone of
 * margin modules (the standard asks 4). Pure logic, no Kore.
 */
#ifndef QRIMAGE_H
#define QRIMAGE_H

#include <stddef.h>

#define QR_SIZE_MIN	64
#define QR_SIZE_MAX	2048
#define QR_SIZE_DEFAULT	256
#define QR_MARGIN_MAX	16
#define QR_MARGIN_DEFAULT	4

struct qr_options {
	int	size;		/* pixels per side */
	int	level;		/* 0..3: L, M, Q, H */
	int	margin;		/* quiet zone, in modules */
};

/*
 * Reads size, ecc (L, M, Q or H) and margin from their query values
 * (NULL: default) into o; NULL, or the name of the bad parameter with
 * what is wrong in *why (static storage).
 */
const char	*qr_options_parse(const char *size, const char *ecc,
		    const char *margin, struct qr_options *o,
		    const char **why);

/*
 * The symbol for text as an image; malloc'd, its length in *len. NULL
 * when text cannot be encoded (too long for a QR code).
 */
char		*qr_svg(const char *text, const struct qr_options *o,
		    size_t *len);
unsigned char	*qr_png(const char *text, const struct qr_options *o,
		    size_t *len);

#endif
