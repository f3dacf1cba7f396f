/*
 * Preloaded next to the ASan runtime when an uninstrumented kore runs the
 * sanitized module (scripts/app.sh). Not part of the module: nothing here
 * is called by the shortener.
 *
 * Why it exists. A preloaded libasan initialises on the first malloc in
 * the process. Under kore that malloc happens inside newlocale(), called
 * by libp11-kit's constructor (kore -> libpq -> ... -> p11-kit) while
 * glibc holds its setlocale lock as a writer. Part of ASan's start-up is
 * dlsym(RTLD_DEFAULT, "swift_demangle") followed by dlerror(), and
 * dlerror() translates its message with dcgettext(), which takes and
 * releases that same lock: the release drops newlocale's write lock and
 * newlocale's own release then underflows the reader count. From then on
 * every write lock on it waits forever, and p11-kit's destructor
 * (freelocale) hangs every kore process at exit.
 *
 * With a swift_demangle in the global scope dlsym() succeeds, dlerror()
 * has nothing to translate, and the lock is left alone. ASan calls this
 * only to demangle Swift symbols, which this process has none of.
 */

#include <stddef.h>

char	*swift_demangle(const char *, size_t, char *, size_t *, unsigned int);

char *
swift_demangle(const char *mangled, size_t len, char *out, size_t *out_len,
    unsigned int flags)
{
	(void)mangled;
	(void)len;
	(void)out;
	(void)out_len;
	(void)flags;
	return (NULL);
}
