/* static_files: the web UI's files. The set of servable files is listed
 * once at start by walking WWW_DIR (regular files only, no dot files, no
 * symlinks); a request is answered only when its path equals one of those
 * names exactly. A request path is never joined onto a folder, so there is
 * no traversal to defend against, and civetweb's document_root (and its
 * directory-redirect code) is never used. Contents are read at request
 * time, so edits to existing files show without a restart. */
#ifndef ORDERS_STATIC_FILES_H
#define ORDERS_STATIC_FILES_H

#include "err.h"

#include <civetweb.h>

struct static_files;

/* List the files under dir. NULL with err if dir cannot be read; a NULL
 * set is valid below and serves nothing (an api without its web UI). */
struct static_files *static_files_load(const char *dir, struct err *err);
void static_files_free(struct static_files *sf);
size_t static_files_count(const struct static_files *sf);

/* Serve path ("/" means "/index.html") if it is one of the files: returns
 * the status sent (200, 304), or 0 when there is no such file (or sf is
 * NULL). The connection's headers (security_use_page_headers: CORS, the
 * page's Content-Security-Policy...) go with it. */
int static_files_serve(struct static_files *sf, struct mg_connection *c, const char *path,
		       int head_only);

#endif
