/* migrate: which files are migrations and the version each records (the
 * part of the name before '_', as scripts/migrate.sh always recorded it). */
#include "migrate.h"

#include "harness.h"

static void expect_version(const char *name, const char *want)
{
	char v[16] = "unchanged";
	int rc = migrate_version_of(name, v, sizeof(v));
	if (want) {
		CHECK(rc == 0);
		CHECK_STR(v, want);
	} else {
		if (rc == 0)
			fprintf(stderr, "'%s' taken as a migration (version '%s')\n", name, v);
		CHECK(rc < 0);
	}
}

int main(void)
{
	expect_version("001_orders.sql", "001");
	expect_version("004_app_role.sql", "004");
	expect_version("010_a_b_c.sql", "010");
	expect_version("5.sql", "5");
	expect_version("123.sql", "123");
	expect_version("2024x_thing.sql", "2024x");
	expect_version("_001.sql", NULL);
	expect_version("orders.sql", NULL);
	expect_version("001_orders.sql~", NULL);
	expect_version("001_orders.SQL", NULL);
	expect_version(".sql", NULL);
	expect_version("1", NULL);
	expect_version("", NULL);
	expect_version("0123456789012345678_too_long.sql", NULL); /* does not fit in 16 */
	HARNESS_END();
}
