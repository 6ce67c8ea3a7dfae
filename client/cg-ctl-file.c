/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-ctl-file.h"

#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>

/* read(2), again after EINTR; -errno on failure. */
static ssize_t
read_retrying(int fd, void *buf, size_t size)
{
	for (;;) {
		ssize_t n = read(fd, buf, size);

		if (n >= 0)
			return n;
		if (errno != EINTR)
			return -errno;
	}
}

int
cg_read_file(const char *path, size_t max, char **ret, size_t *ret_size)
{
	_cleanup_close_ int fd_close = -1;
	_cleanup_free_ char *buf = NULL;
	size_t size = 0, allocated = 0;
	int fd;

	if (streq(path, "-"))
		fd = STDIN_FILENO;
	else {
		fd = fd_close = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return -errno;
	}

	for (;;) {
		ssize_t n;

		if (allocated - size < 4096) {
			size_t want = allocated == 0 ? 65536 : allocated * 2;
			char *p;

			if (allocated > max + 1)
				return -EFBIG;
			p = realloc(buf, want + 1);
			if (p == NULL)
				return -ENOMEM;
			buf = p;
			allocated = want;
		}
		n = read_retrying(fd, buf + size, allocated - size);
		if (n < 0)
			return (int)n;
		if (n == 0)
			break;
		size += (size_t)n;
		if (size > max)
			return -EFBIG;
	}
	if (buf == NULL) {
		buf = malloc(1);
		if (buf == NULL)
			return -ENOMEM;
	}
	buf[size] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_size = size;
	return 0;
}

static int
split_path(const char *path, char **ret_dir, char **ret_base)
{
	_cleanup_free_ char *a = NULL, *b = NULL;
	char *dir, *base;

	a = strdup(path);
	b = strdup(path);
	if (a == NULL || b == NULL)
		return -ENOMEM;
	dir = strdup(dirname(a));
	base = strdup(basename(b));
	if (dir == NULL || base == NULL) {
		free(dir);
		free(base);
		return -ENOMEM;
	}
	*ret_dir = dir;
	*ret_base = base;
	return 0;
}

int
cg_check_output_path(const char *path)
{
	_cleanup_free_ char *dir = NULL, *base = NULL;
	struct stat st;
	int r;

	if (streq(path, "-"))
		return 0;
	r = split_path(path, &dir, &base);
	if (r < 0)
		return cg_log_oom();
	if (isempty(base) || streq(base, "/") || streq(base, ".") || streq(base, ".."))
		return cg_log_error_errno(EISDIR, "Output path %s names a directory, not a file.",
					  path);
	if (stat(path, &st) >= 0 && S_ISDIR(st.st_mode))
		return cg_log_error_errno(EISDIR, "Output path %s is a directory.", path);
	if (access(dir, W_OK) < 0)
		return cg_log_error_errno(errno, "Cannot write to directory %s: %s", dir,
					  cg_strerror(errno));
	return 0;
}

static int
copy_all(int in_fd, int out_fd, uint64_t *ret_copied)
{
	char buf[65536];
	uint64_t copied = 0;

	for (;;) {
		ssize_t n = read_retrying(in_fd, buf, sizeof(buf));
		const char *p = buf;

		if (n < 0)
			return (int)n;
		if (n == 0)
			break;
		while (n > 0) {
			ssize_t w = write(out_fd, p, (size_t)n);

			if (w < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			p += w;
			n -= w;
			copied += (uint64_t)w;
		}
	}
	*ret_copied = copied;
	return 0;
}

static int
random_name(const char *base, char **ret)
{
	uint64_t v = 0;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
		v = (uint64_t)getpid() << 32 ^ (uint64_t)cg_now_realtime_us();
	return asprintf(ret, ".#certgenctl-%s.%016llx", base, (unsigned long long)v) < 0 ? -ENOMEM
											 : 0;
}

/* One try at a name: >= 0 when it took it (the result), -EEXIST to try
 * another, or another negative errno. */
typedef int (*NameAttempt)(int dir_fd, const char *name, const void *data);

/* Tries up to 16 random hidden names for @base in dir_fd; *ret_name is the
 * one @attempt took. */
static int
with_random_name(int dir_fd, const char *base, NameAttempt attempt, const void *data,
		 char **ret_name)
{
	for (int i = 0; i < 16; i++) {
		_cleanup_free_ char *name = NULL;
		int r = random_name(base, &name);

		if (r < 0)
			return r;
		r = attempt(dir_fd, name, data);
		if (r >= 0) {
			*ret_name = TAKE_PTR(name);
			return r;
		}
		if (r != -EEXIST)
			return r;
	}
	return -EEXIST;
}

static int
create_exclusive(int dir_fd, const char *name, const void *data)
{
	int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);

	return fd >= 0 ? fd : -errno;
}

/* Opens an unnamed (O_TMPFILE) file in dir_fd, or a hidden named one when
 * the file system cannot do that; *ret_name is set for the latter. */
static int
open_tmpfile(int dir_fd, const char *base, char **ret_name)
{
	int fd = openat(dir_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);

	if (fd >= 0) {
		*ret_name = NULL;
		return fd;
	}
	/* Kernels or file systems without O_TMPFILE say one of these. */
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return -errno;
	return with_random_name(dir_fd, base, create_exclusive, NULL, ret_name);
}

static int
link_proc_fd(int dir_fd, const char *name, const void *data)
{
	return linkat(AT_FDCWD, data, dir_fd, name, AT_SYMLINK_FOLLOW) >= 0 ? 0 : -errno;
}

/* Gives the O_TMPFILE a temporary name (linkat via /proc/self/fd, which
 * needs no privilege, unlike AT_EMPTY_PATH). */
static int
link_tmpfile(int fd, int dir_fd, const char *base, char **ret_name)
{
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return with_random_name(dir_fd, base, link_proc_fd, proc, ret_name);
}

int
cg_save_fd(int fd, const char *path, uint64_t expected_size)
{
	_cleanup_free_ char *dir = NULL, *base = NULL, *tmp_name = NULL;
	_cleanup_close_ int dir_fd = -1, tmp_fd = -1;
	uint64_t copied = 0;
	int r;

	if (streq(path, "-")) {
		r = copy_all(fd, STDOUT_FILENO, &copied);
		if (r < 0)
			return cg_log_error_errno(r,
						  "Failed to write the certificate to standard "
						  "output: %s",
						  cg_strerror(r));
		if (expected_size > 0 && copied != expected_size)
			return cg_log_error_errno(
			    EBADMSG, "The certificate is %llu bytes, expected %llu.",
			    (unsigned long long)copied, (unsigned long long)expected_size);
		return 0;
	}

	r = split_path(path, &dir, &base);
	if (r < 0)
		return cg_log_oom();
	dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0)
		return cg_log_error_errno(errno, "Failed to open directory %s: %s", dir,
					  cg_strerror(errno));

	tmp_fd = open_tmpfile(dir_fd, base, &tmp_name);
	if (tmp_fd < 0)
		return cg_log_error_errno(tmp_fd, "Failed to create a temporary file in %s: %s",
					  dir, cg_strerror(tmp_fd));

	r = copy_all(fd, tmp_fd, &copied);
	if (r >= 0 && expected_size > 0 && copied != expected_size)
		r = cg_log_error_errno(
		    EBADMSG, "The certificate is %llu bytes, expected %llu; not saved.",
		    (unsigned long long)copied, (unsigned long long)expected_size);
	else if (r < 0)
		cg_log_error_errno(r, "Failed to write the certificate: %s", cg_strerror(r));
	if (r >= 0 && fsync(tmp_fd) < 0)
		r = cg_log_error_errno(errno, "Failed to write the certificate: %s",
				       cg_strerror(errno));
	if (r >= 0 && tmp_name == NULL) {
		r = link_tmpfile(tmp_fd, dir_fd, base, &tmp_name);
		if (r < 0)
			cg_log_error_errno(r, "Failed to link the certificate into %s: %s", dir,
					   cg_strerror(r));
	}
	if (r >= 0 && renameat(dir_fd, tmp_name, dir_fd, base) < 0)
		r = cg_log_error_errno(errno, "Failed to rename the certificate to %s: %s", path,
				       cg_strerror(errno));
	if (r < 0) {
		if (tmp_name != NULL)
			(void)unlinkat(dir_fd, tmp_name, 0);
		return r;
	}
	return 0;
}
