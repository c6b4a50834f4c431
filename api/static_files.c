#include "static_files.h"

#include "http.h"
#include "log.h"
#include "xalloc.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILES     512
#define MAX_DEPTH     4
#define MAX_FILE_SIZE (8 * 1024 * 1024)

struct static_file {
	char *url;  /* "/app.js" */
	char *path; /* "<dir>/app.js", built from readdir names only */
	const char *mime;
};

struct static_files {
	struct static_file files[MAX_FILES];
	size_t n;
};

static const char *mime_of(const char *name)
{
	static const struct {
		const char *ext, *mime;
	} types[] = {
	    {".html", "text/html; charset=utf-8"},
	    {".js", "text/javascript; charset=utf-8"},
	    {".mjs", "text/javascript; charset=utf-8"},
	    {".css", "text/css; charset=utf-8"},
	    {".json", "application/json; charset=utf-8"},
	    {".svg", "image/svg+xml"},
	    {".png", "image/png"},
	    {".ico", "image/x-icon"},
	    {".txt", "text/plain; charset=utf-8"},
	    {".webmanifest", "application/manifest+json"},
	};
	const char *dot = strrchr(name, '.');
	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].mime;
	return "application/octet-stream";
}

static void walk(struct static_files *sf, const char *dir, const char *url_prefix, int depth)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) && sf->n < MAX_FILES) {
		if (e->d_name[0] == '.')
			continue;
		char *path = xasprintf("%s/%s", dir, e->d_name);
		char *url = xasprintf("%s/%s", url_prefix, e->d_name);
		struct stat st;
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && depth < MAX_DEPTH) {
			walk(sf, path, url, depth + 1);
		} else if (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			struct static_file *f = &sf->files[sf->n++];
			f->url = url;
			f->path = path;
			f->mime = mime_of(e->d_name);
			continue;
		}
		free(path);
		free(url);
	}
	closedir(d);
}

struct static_files *static_files_load(const char *dir, struct err *err)
{
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		err_set(err, ERR_CONFIG, "WWW_DIR: cannot read directory '%s'", dir);
		return NULL;
	}
	struct static_files *sf = xcalloc(1, sizeof(*sf));
	walk(sf, dir, "", 0);
	return sf;
}

void static_files_free(struct static_files *sf)
{
	if (!sf)
		return;
	for (size_t i = 0; i < sf->n; i++) {
		free(sf->files[i].url);
		free(sf->files[i].path);
	}
	free(sf);
}

size_t static_files_count(const struct static_files *sf)
{
	return sf ? sf->n : 0;
}

int static_files_serve(struct static_files *sf, struct mg_connection *c, const char *path,
		       int head_only)
{
	if (!sf)
		return 0;
	if (strcmp(path, "/") == 0)
		path = "/index.html";
	const struct static_file *f = NULL;
	for (size_t i = 0; i < sf->n && !f; i++)
		if (strcmp(sf->files[i].url, path) == 0)
			f = &sf->files[i];
	if (!f)
		return 0;
	int fd = open(f->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_FILE_SIZE) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	char etag[64];
	snprintf(etag, sizeof(etag), "\"%llx-%llx\"", (unsigned long long)st.st_mtime,
		 (unsigned long long)st.st_size);
	const char *inm = mg_get_header(c, "If-None-Match");
	if (inm && strstr(inm, etag)) {
		close(fd);
		mg_printf(c,
			  "HTTP/1.1 304 Not Modified\r\nETag: %s\r\n"
			  "X-Content-Type-Options: nosniff\r\n%sContent-Length: 0\r\n\r\n",
			  etag, http_connection_headers(c));
		return 304;
	}
	size_t size = (size_t)st.st_size;
	char *data = xmalloc(size ? size : 1);
	size_t got = 0;
	while (got < size) {
		ssize_t n = read(fd, data + got, size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	mg_printf(c,
		  "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		  "Cache-Control: no-cache\r\nETag: %s\r\nX-Content-Type-Options: nosniff\r\n"
		  "%s\r\n",
		  f->mime, got, etag, http_connection_headers(c));
	if (!head_only)
		mg_write(c, data, got);
	free(data);
	return 200;
}
