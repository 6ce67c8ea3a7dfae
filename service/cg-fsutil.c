/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-fsutil.h"

#include <errno.h>
#include <fcntl.h>
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
