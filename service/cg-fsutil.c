/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>

int
cg_fs_write_all(int fd, const void *data, gsize length)
{
	const char *p = data;

	while (length > 0) {
		ssize_t n = write(fd, p, length);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		p += n;
		length -= (gsize)n;
	}
	return 0;
}

int
cg_fs_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int errsv = 0;

	if (fd < 0)
		return errno;
	if (fsync(fd) < 0)
		errsv = errno;
	close(fd);
	return errsv;
}

static int
fs_failed(int errsv, const char *what, const char *where, const char **step, const char **step_path)
{
	*step = what;
	*step_path = where;
	return errsv;
}

int
cg_fs_replace_file(const char *dir, const char *path, const char *tmp_path, const void *data,
		   gsize length, int mode, const char **step, const char **step_path)
{
	int fd;
	int errsv;

	fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return fs_failed(errno, "create", tmp_path, step, step_path);
	errsv = cg_fs_write_all(fd, data, length);
	if (errsv == 0 && fsync(fd) < 0)
		errsv = errno;
	if (close(fd) < 0 && errsv == 0)
		errsv = errno;
	if (errsv != 0) {
		g_unlink(tmp_path);
		return fs_failed(errsv, "write", tmp_path, step, step_path);
	}
	if (rename(tmp_path, path) < 0) {
		errsv = errno;
		g_unlink(tmp_path);
		return fs_failed(errsv, "replace", path, step, step_path);
	}
	errsv = cg_fs_fsync_dir(dir);
	if (errsv != 0)
		return fs_failed(errsv, "fsync directory", dir, step, step_path);
	return 0;
}
