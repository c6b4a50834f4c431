#include "paths.h"

#include "xalloc.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Levels above the executable's folder searched for the build tree:
 * build/x (1), build/san/x (2), build/a/b/x (3). */
#define BUILD_TREE_LEVELS 3

static int is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Cut the last component off an absolute path in place: "/a/b" -> "/a",
 * "/a" -> "/"; returns 0, or -1 when path is already "/" (or relative). */
static int strip_last(char *path)
{
	char *slash = strrchr(path, '/');
	if (!slash || (slash == path && path[1] == '\0'))
		return -1;
	if (slash == path)
		slash[1] = '\0';
	else
		*slash = '\0';
	return 0;
}

/* "<dir>/<name>", without a doubled slash when dir is "/". Caller frees. */
static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir);
	return xasprintf("%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", name);
}

char *paths_self_exe(struct err *err)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n < 0) {
		err_set(err, ERR_SYSTEM, "cannot read /proc/self/exe: %s", strerror(errno));
		return NULL;
	}
	if ((size_t)n >= sizeof(buf) - 1) {
		err_set(err, ERR_SYSTEM, "cannot read /proc/self/exe: path too long");
		return NULL;
	}
	buf[n] = '\0';
	return xstrdup(buf);
}

/* <dir>/<name> when it is a directory, else NULL. Caller frees. */
static char *existing_dir(const char *dir, const char *name)
{
	char *cand = join(dir, name);
	if (is_dir(cand))
		return cand;
	free(cand);
	return NULL;
}

/* 1. a parent of exe_dir, up to BUILD_TREE_LEVELS up, with a Makefile and
 * the folder. Caller frees; NULL when none. */
static char *in_build_tree(const char *exe_dir, const char *name)
{
	char *found = NULL;
	char *up = xstrdup(exe_dir);
	for (int level = 1; level <= BUILD_TREE_LEVELS && !found; level++) {
		if (strip_last(up) < 0)
			break;
		char *makefile = join(up, "Makefile");
		if (is_file(makefile))
			found = existing_dir(up, name);
		free(makefile);
	}
	free(up);
	return found;
}

/* 2. <exe_dir>/../share/orders/<name>. Caller frees; NULL when absent. */
static char *in_prefix(const char *exe_dir, const char *name)
{
	char *found = NULL;
	char *prefix = xstrdup(exe_dir);
	if (strip_last(prefix) == 0) {
		char *share = join(prefix, "share/orders");
		found = existing_dir(share, name);
		free(share);
	}
	free(prefix);
	return found;
}

char *paths_find_data_dir_for(const char *exe, const char *name, const char *datadir)
{
	char *found = NULL;
	char *exe_dir = exe && exe[0] == '/' ? xstrdup(exe) : NULL;
	if (exe_dir && strip_last(exe_dir) == 0) {
		found = in_build_tree(exe_dir, name);
		if (!found)
			found = in_prefix(exe_dir, name);
	}
	/* 3. the compile-time data folder */
	if (!found && datadir && *datadir)
		found = existing_dir(datadir, name);
	free(exe_dir);
	return found;
}

char *paths_find_data_dir(const char *name)
{
	char *exe = paths_self_exe(NULL);
	char *found = paths_find_data_dir_for(exe, name, ORDERS_DATADIR);
	free(exe);
	return found;
}
