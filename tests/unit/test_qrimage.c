/* QR code images: options, SVG and PNG framing. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <zlib.h>

#include "core/qrimage.h"

Test(qrimage, options)
{
	struct qr_options	o;
	const char		*why = NULL;

	cr_expect_null(qr_options_parse(NULL, NULL, NULL, &o, &why));
	cr_expect_eq(o.size, 256);
	cr_expect_eq(o.level, 1);
	cr_expect_eq(o.margin, 4);
	cr_expect_null(qr_options_parse("64", "H", "0", &o, &why));
	cr_expect_eq(o.size, 64);
	cr_expect_eq(o.level, 3);
	cr_expect_eq(o.margin, 0);
	cr_expect_str_eq(qr_options_parse("63", NULL, NULL, &o, &why), "size");
	cr_expect_str_eq(qr_options_parse("2049", NULL, NULL, &o, &why),
	    "size");
	cr_expect_str_eq(qr_options_parse("12px", NULL, NULL, &o, &why),
	    "size");
	cr_expect_str_eq(qr_options_parse("", NULL, NULL, &o, &why), "size");
	cr_expect_str_eq(qr_options_parse(NULL, "X", NULL, &o, &why), "ecc");
	cr_expect_str_eq(qr_options_parse(NULL, "l", NULL, &o, &why), "ecc");
	cr_expect_str_eq(qr_options_parse(NULL, "LM", NULL, &o, &why), "ecc");
	cr_expect_str_eq(qr_options_parse(NULL, NULL, "17", &o, &why),
	    "margin");
	cr_expect_str_eq(qr_options_parse(NULL, NULL, "-1", &o, &why),
	    "margin");
	cr_expect_not_null(why);
}

Test(qrimage, svg)
{
	struct qr_options	o = { 300, 2, 4 };
	size_t			len;
	char			*svg;

	svg = qr_svg("http://127.0.0.1:8080/abc123", &o, &len);
	cr_assert_not_null(svg);
	cr_expect_eq(strlen(svg), len);
	cr_expect_not_null(strstr(svg, "width=\"300\" height=\"300\""));
	/* Version 3 at level Q: 29 modules and 4 of quiet zone each side. */
	cr_expect_not_null(strstr(svg, "viewBox=\"0 0 37 37\""), "%s", svg);
	cr_expect_not_null(strstr(svg, "<path fill=\"#000\" d=\"M"));
	cr_expect_not_null(strstr(svg, "</svg>"));
	free(svg);
}

static uint32_t
get32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

Test(qrimage, png)
{
	struct qr_options	o = { 200, 1, 4 };
	unsigned char		*png, *raw;
	size_t			 len, stride, x, y;
	uLongf			 rawlen;
	uint32_t		 idat;
	int			 dark = 0;

	png = qr_png("http://127.0.0.1:8080/abc123", &o, &len);
	cr_assert_not_null(png);
	cr_expect(!memcmp(png, "\x89PNG\r\n\x1a\n", 8));
	cr_expect(!memcmp(png + 12, "IHDR", 4));
	cr_expect_eq(get32(png + 16), 200);
	cr_expect_eq(get32(png + 20), 200);
	cr_expect_eq(get32(png + 29), crc32(0, png + 12, 17), "IHDR's CRC");
	idat = get32(png + 33);
	cr_expect(!memcmp(png + 37, "IDAT", 4));
	cr_expect(!memcmp(png + len - 8, "IEND", 4));

	stride = 1 + (200 + 7) / 8;
	rawlen = stride * 200;
	raw = malloc(rawlen);
	cr_assert_eq(uncompress(raw, &rawlen, png + 41, idat), Z_OK);
	cr_assert_eq(rawlen, stride * 200);
	/* The quiet zone's corner is white; the finder's corner black. */
	cr_expect(raw[1] & 0x80, "top-left pixel is white");
	for (y = 0; y < 200; y++) {
		cr_expect_eq(raw[y * stride], 0, "filter byte");
		for (x = 0; x < 200; x++)
			dark += !(raw[y * stride + 1 + x / 8] & (0x80 >> (x % 8)));
	}
	cr_expect(dark > 200 * 200 / 5 && dark < 200 * 200 * 3 / 5,
	    "a plausible share of dark pixels: %d", dark);
	free(raw);
	free(png);
}
