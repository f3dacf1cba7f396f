/*
 * QR code images (see qrimage.h).
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>
#include <zlib.h>

#include "core/qrimage.h"
#include "core/query.h"
#include "core/xalloc.h"

static QRcode	*encode(const char *, int);
static int	 module_at(const QRcode *, int, int);
static void	 put32(unsigned char *, uint32_t);
static size_t	 chunk(unsigned char *, const char *, const unsigned char *,
		    size_t);

const char *
qr_options_parse(const char *size, const char *ecc, const char *margin,
    struct qr_options *o, const char **why)
{
	static const char	levels[] = "LMQH";
	int64_t			v;

	o->size = QR_SIZE_DEFAULT;
	o->level = 1;
	o->margin = QR_MARGIN_DEFAULT;

	if (size != NULL) {
		if (query_int64(size, &v) == -1 || v < QR_SIZE_MIN ||
		    v > QR_SIZE_MAX) {
			*why = "must be an integer from 64 to 2048 (pixels)";
			return ("size");
		}
		o->size = (int)v;
	}
	if (ecc != NULL) {
		if (strlen(ecc) != 1 || strchr(levels, ecc[0]) == NULL) {
			*why = "must be one of L, M, Q, H";
			return ("ecc");
		}
		o->level = (int)(strchr(levels, ecc[0]) - levels);
	}
	if (margin != NULL) {
		if (query_int64(margin, &v) == -1 || v < 0 ||
		    v > QR_MARGIN_MAX) {
			*why = "must be an integer from 0 to 16 (modules)";
			return ("margin");
		}
		o->margin = (int)v;
	}
	return (NULL);
}

static QRcode *
encode(const char *text, int level)
{
	return (QRcode_encodeString8bit(text, 0, (QRecLevel)level));
}

char *
qr_svg(const char *text, const struct qr_options *o, size_t *len)
{
	QRcode		*qr;
	char		*out, *p;
	size_t		 cap;
	int		 x, y, n, side;

	if ((qr = encode(text, o->level)) == NULL)
		return (NULL);
	side = qr->width + 2 * o->margin;
	cap = 512 + (size_t)qr->width * qr->width * 24;
	out = xmalloc(cap);
	p = out;
	p += snprintf(p, cap, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
	    "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
	    "shape-rendering=\"crispEdges\" role=\"img\">\n"
	    "<title>QR code</title>\n"
	    "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n"
	    "<path fill=\"#000\" d=\"", o->size, o->size, side, side, side,
	    side);
	for (y = 0; y < qr->width; y++) {
		for (x = 0; x < qr->width; x++) {
			if (!(qr->data[y * qr->width + x] & 1))
				continue;
			n = snprintf(p, cap - (size_t)(p - out),
			    "M%d %dh1v1h-1z", x + o->margin, y + o->margin);
			p += n;
		}
	}
	p += snprintf(p, cap - (size_t)(p - out), "\"/>\n</svg>\n");
	QRcode_free(qr);
	*len = (size_t)(p - out);
	return (out);
}

/* Whether module (mx, my) is dark; the quiet zone around is light. */
static int
module_at(const QRcode *qr, int mx, int my)
{
	if (mx < 0 || my < 0 || mx >= qr->width || my >= qr->width)
		return (0);
	return (qr->data[my * qr->width + mx] & 1);
}

unsigned char *
qr_png(const char *text, const struct qr_options *o, size_t *len)
{
	static const unsigned char	sig[8] = {
		0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'
	};
	QRcode		*qr;
	unsigned char	*raw, *z, *out, ihdr[13];
	size_t		 stride, rawlen, off;
	uLongf		 zlen;
	int		 x, y, side, mx, my;

	if ((qr = encode(text, o->level)) == NULL)
		return (NULL);
	side = qr->width + 2 * o->margin;

	/* One filter byte (none) and size bits per row; 1 is white. */
	stride = 1 + ((size_t)o->size + 7) / 8;
	rawlen = stride * (size_t)o->size;
	raw = xmalloc(rawlen);
	memset(raw, 0, rawlen);
	for (y = 0; y < o->size; y++) {
		my = (int)(((int64_t)y * 2 + 1) * side / (2 * o->size));
		for (x = 0; x < o->size; x++) {
			mx = (int)(((int64_t)x * 2 + 1) * side / (2 * o->size));
			if (!module_at(qr, mx - o->margin, my - o->margin))
				raw[y * stride + 1 + x / 8] |= 0x80 >> (x % 8);
		}
	}
	QRcode_free(qr);

	zlen = compressBound(rawlen);
	z = xmalloc(zlen);
	if (compress2(z, &zlen, raw, rawlen, 9) != Z_OK)
		abort();
	free(raw);

	out = xmalloc(8 + 25 + 12 + zlen + 12);
	memcpy(out, sig, 8);
	off = 8;
	put32(ihdr, (uint32_t)o->size);
	put32(ihdr + 4, (uint32_t)o->size);
	ihdr[8] = 1;	/* bit depth */
	ihdr[9] = 0;	/* grayscale */
	ihdr[10] = ihdr[11] = ihdr[12] = 0;
	off += chunk(out + off, "IHDR", ihdr, sizeof(ihdr));
	off += chunk(out + off, "IDAT", z, zlen);
	off += chunk(out + off, "IEND", NULL, 0);
	free(z);
	*len = off;
	return (out);
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* Length, type, data, CRC of type and data; returns the bytes written. */
static size_t
chunk(unsigned char *out, const char *type, const unsigned char *data,
    size_t len)
{
	uLong	crc;

	put32(out, (uint32_t)len);
	memcpy(out + 4, type, 4);
	if (len > 0)
		memcpy(out + 8, data, len);
	crc = crc32(0L, out + 4, (uInt)(len + 4));
	put32(out + 8 + len, (uint32_t)crc);
	return (12 + len);
}
