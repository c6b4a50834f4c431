/* paths: where a program finds its own data folders ("www", "schema"), so
 * it runs from any working directory. The folder is looked for, in order:
 *   1. the build tree: a parent of the executable's folder, up to three
 *      levels up (build/orders-api, build/san/orders-api, ...), that holds
 *      both a Makefile and the folder;
 *   2. the install prefix: <executable's folder>/../share/orders/<name>;
 *   3. the compile-time ORDERS_DATADIR (the Makefile passes
 *      $(PREFIX)/share/orders): ORDERS_DATADIR/<name>.
 * The first that is a directory wins. Thread-safe (no shared state). */
#ifndef ORDERS_PATHS_H
#define ORDERS_PATHS_H

#include "err.h"

#ifndef ORDERS_DATADIR
#define ORDERS_DATADIR "/usr/local/share/orders"
#endif

/* The absolute path of the running executable (readlink /proc/self/exe).
 * Caller frees; NULL with err (ERR_SYSTEM) when it cannot be read. */
char *paths_self_exe(struct err *err) __attribute__((warn_unused_result));

/* The data folder `name` for the executable at `exe` (an absolute path),
 * searched as above with `datadir` as the last resort (NULL: skip it).
 * Returns a new string the caller frees, or NULL when no candidate is a
 * directory. Pure apart from stat(): unit-testable. */
char *paths_find_data_dir_for(const char *exe, const char *name, const char *datadir)
    __attribute__((warn_unused_result));

/* paths_find_data_dir_for() for the running executable and ORDERS_DATADIR.
 * Caller frees; NULL when not found (or /proc/self/exe is unreadable, when
 * only ORDERS_DATADIR is tried). */
char *paths_find_data_dir(const char *name) __attribute__((warn_unused_result));

#endif
