/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Without libFuzzer: run a fuzz target once on every file of the corpus
 * directories given as arguments (a regression test of the seeds and of
 * every crash input saved there). */
#include <glib.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
replay_dir(const char *path)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GDir) dir = g_dir_open(path, 0, &error);
	const char *name;
	int count = 0;

	if (dir == NULL) {
		g_printerr("%s\n", error->message);
		return -1;
	}
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *file = g_build_filename(path, name, NULL);
		g_autofree char *contents = NULL;
		gsize length = 0;

		if (!g_file_test(file, G_FILE_TEST_IS_REGULAR))
			continue;
		if (!g_file_get_contents(file, &contents, &length, &error)) {
			g_printerr("%s\n", error->message);
			return -1;
		}
		LLVMFuzzerTestOneInput((const uint8_t *)contents, length);
		count++;
	}
	return count;
}

int
main(int argc, char **argv)
{
	int total = 0;

	for (int i = 1; i < argc; i++) {
		int count = replay_dir(argv[i]);

		if (count < 0)
			return 1;
		total += count;
	}
	if (total == 0) {
		g_printerr("no corpus files replayed\n");
		return 1;
	}
	g_print("replayed %d inputs\n", total);
	return 0;
}
