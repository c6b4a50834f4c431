/* paths: finding www/ and schema/ from the executable's location: the build
 * tree (a parent up to three levels up with a Makefile and the folder),
 * then <exe dir>/../share/orders/<name>, then the compiled-in data folder. */
#include "paths.h"

#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[] = "/tmp/test_paths_XXXXXX";

/* mkdir -p root/rel */
static void make_dir(const char *rel)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (char *p = path + strlen(root) + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
	}
	mkdir(path, 0755);
}

/* An empty file root/rel, making its folders first. */
static void make_file(const char *rel)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s", rel);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		make_dir(dir);
	}
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	FILE *f = fopen(path, "w");
	if (f)
		fclose(f);
}

/* The search for root/exe_rel, as a path relative to root ("" = not found). */
static void expect(const char *exe_rel, const char *name, const char *datadir_rel,
		   const char *want_rel)
{
	char exe[512], datadir[512], want[512];
	snprintf(exe, sizeof(exe), "%s/%s", root, exe_rel);
	snprintf(datadir, sizeof(datadir), "%s/%s", root, datadir_rel ? datadir_rel : "");
	snprintf(want, sizeof(want), "%s/%s", root, want_rel);
	char *got = paths_find_data_dir_for(exe, name, datadir_rel ? datadir : NULL);
	if (*want_rel) {
		CHECK_STR(got, want);
	} else {
		if (got)
			fprintf(stderr, "%s: expected nothing, got %s\n", exe_rel, got);
		CHECK(got == NULL);
	}
	free(got);
}

static void test_build_tree(void)
{
	make_file("repo/Makefile");
	make_dir("repo/www");
	make_dir("repo/schema");
	make_dir("repo/build/san");
	expect("repo/build/orders-api", "www", NULL, "repo/www");
	expect("repo/build/orders-api", "schema", NULL, "repo/schema");
	expect("repo/build/san/orders-api", "www", NULL, "repo/www");
	expect("repo/build/a/b/orders-api", "www", NULL, "repo/www"); /* three up */
	expect("repo/build/a/b/c/orders-api", "www", NULL, "");	      /* four: too far */
	expect("repo/build/orders-api", "nothing", NULL, "");	      /* no such folder */
	/* a folder without a Makefile beside it is not a build tree */
	make_dir("nomake/www");
	expect("nomake/bin/orders-api", "www", NULL, "");
	/* a file named www is not the folder */
	make_file("filewww/Makefile");
	make_file("filewww/www");
	expect("filewww/build/orders-api", "www", NULL, "");
}

static void test_prefix_and_datadir(void)
{
	make_dir("usr/share/orders/www");
	make_dir("usr/share/orders/schema");
	expect("usr/bin/orders-api", "www", NULL, "usr/share/orders/www");
	expect("usr/bin/orders-api", "schema", NULL, "usr/share/orders/schema");
	/* the build tree wins over an install prefix */
	make_dir("both/share/orders/www");
	make_file("both/Makefile");
	make_dir("both/www");
	expect("both/bin/orders-api", "www", NULL, "both/www");
	/* last resort: the compiled-in folder */
	make_dir("data/www");
	expect("elsewhere/bin/orders-api", "www", "data", "data/www");
	expect("elsewhere/bin/orders-api", "schema", "data", "");
	/* the prefix wins over the compiled-in folder */
	expect("usr/bin/orders-api", "www", "data", "usr/share/orders/www");

	char datadir[512], want[512];
	snprintf(datadir, sizeof(datadir), "%s/data", root);
	snprintf(want, sizeof(want), "%s/data/www", root);
	/* no usable executable path: only the compiled-in folder */
	char *got = paths_find_data_dir_for(NULL, "www", datadir);
	CHECK_STR(got, want);
	free(got);
	got = paths_find_data_dir_for("relative/bin/orders-api", "www", datadir);
	CHECK_STR(got, want);
	free(got);
	got = paths_find_data_dir_for("/orders-api", "no-such-folder-here", NULL);
	CHECK(got == NULL);
	free(got);
	got = paths_find_data_dir_for("/", "no-such-folder-here", NULL);
	CHECK(got == NULL);
	free(got);
}

/* This test binary lives in <checkout>/<build>/tests/: it finds the
 * checkout's www/ and schema/. */
static void test_self(void)
{
	char *exe = paths_self_exe(NULL);
	CHECK(exe && exe[0] == '/' && strstr(exe, "test_paths"));
	char *www = paths_find_data_dir("www");
	char *schema = paths_find_data_dir("schema");
	CHECK(www && strlen(www) > 4 && strcmp(www + strlen(www) - 4, "/www") == 0);
	CHECK(schema && strlen(schema) > 7 && strcmp(schema + strlen(schema) - 7, "/schema") == 0);
	if (www) {
		char index[1024];
		snprintf(index, sizeof(index), "%s/index.html", www);
		CHECK(access(index, R_OK) == 0);
	}
	free(exe);
	free(www);
	free(schema);
}

int main(void)
{
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	test_build_tree();
	test_prefix_and_datadir();
	test_self();
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", root);
	HARNESS_END();
}
