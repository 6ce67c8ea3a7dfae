/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sse-client: N concurrent server-sent-event streams on loopback, one
 * thread, epoll, for tests/bench/sse-fanout.py. It opens N HTTP/1.1 GETs
 * (stream i asks for PREFIX + ids[i % n_ids], with the given headers),
 * waits until every stream has its 200 headers (for certgen-http that is
 * after the bridge's GetProgress/Subscribe/GetProgress; for nchan after the
 * subscription), prints "READY ...", lets the streams settle, records every
 * event received during the window and prints one "RESULT ..." line.
 *
 * Latency of an event = receipt time - the event's creation time, both
 * CLOCK_REALTIME:
 *  - receipt: the kernel's arrival time of the bytes on the client socket
 *    (SO_TIMESTAMPNS on recvmsg: the time the server's write reached the
 *    loopback device, so the client's own scheduling does not count); the
 *    user-space read time is kept too ("read_*" keys) as a check that the
 *    client keeps up.
 *  - creation: with --map (the publisher's "progressId sequence timestamp_us"
 *    lines, written from certgend's ProgressChanged signals) certgend's own
 *    timestamp_us; otherwise, or for an event missing from the map, the
 *    JSON "timestamp" (milliseconds, truncated: up to 1 ms too early).
 *
 * Bounded: every wait has a deadline (--connect-timeout-s, --window-s), the
 * samples are capped (--max-samples), and the process ends by itself.
 *
 *   sse-client --port P --prefix /api/certificates/progress/ --ids ID[,ID...]
 *              -n N [--header "Authorization: Bearer T"] [--map FILE]
 *              [--window-s 10] [--settle-ms 1000] [--connect-timeout-s 90]
 *              [--max-pending 200]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "cg-bench-clock.h"

#define MAX_IDS 64
#define MAX_HEADERS 8
#define LINE_MAX_BYTES 8192
#define HEAD_MAX_BYTES 4096

enum conn_state { C_IDLE, C_CONNECTING, C_HEAD, C_BODY, C_DONE, C_FAILED };
enum chunk_state { K_SIZE, K_SIZE_EXT, K_SIZE_LF, K_DATA, K_DATA_CR, K_DATA_LF, K_END };

typedef struct {
	int fd;
	uint8_t state;
	uint8_t chunked;
	uint8_t kstate;
	uint8_t have_data;
	uint16_t id_index;
	uint16_t head_len;
	uint16_t line_len;
	uint32_t chunk_left;
	uint32_t events;    /* events during the window */
	int64_t data_ts_ms; /* "timestamp" of the event being read */
	uint64_t data_seq;  /* "sequence" of the event being read */
	size_t sent;
	char *buf; /* head (HEAD_MAX_BYTES) while C_HEAD, then the SSE line */
} Conn;

typedef struct {
	int64_t rx_us;	 /* kernel arrival */
	int64_t read_us; /* user-space read */
	int64_t ts_ms;
	uint32_t seq;
	uint16_t id_index;
} Sample;

static const char *opt_prefix = "/api/certificates/progress/";
static char *ids[MAX_IDS];
static int n_ids;
static const char *headers[MAX_HEADERS];
static int n_headers;
static int opt_port;
static int opt_n;
static double opt_window_s = 10.0;
static int opt_settle_ms = 1000;
static double opt_connect_timeout_s = 90.0;
static int opt_max_pending = 200;
static const char *opt_map;
static size_t opt_max_samples = 20u * 1000u * 1000u;

static Conn *conns;
static Sample *samples;
static size_t n_samples;
static size_t dropped_samples;
static int recording;
static int64_t now_rx_us, now_read_us; /* of the bytes being parsed */
static long n_ended_early, n_bad_status, n_connect_errors, n_overlong;

static void
die(const char *what)
{
	perror(what);
	exit(2);
}

/* ---- SSE ------------------------------------------------------------------ */

static const char *
find_key(const char *line, size_t len, const char *key)
{
	const char *p;

	if (line == NULL)
		return NULL;
	p = memmem(line, len, key, strlen(key));
	return p != NULL ? p + strlen(key) : NULL;
}

static void
sse_line(Conn *c, char *line, size_t len)
{
	if (len == 0) {
		if (c->have_data && recording) {
			c->events++;
			if (n_samples < opt_max_samples) {
				Sample *s = &samples[n_samples++];

				s->rx_us = now_rx_us;
				s->read_us = now_read_us;
				s->ts_ms = c->data_ts_ms;
				s->seq = (uint32_t)c->data_seq;
				s->id_index = c->id_index;
			} else {
				dropped_samples++;
			}
		}
		c->have_data = 0;
		return;
	}
	if (len >= 5 && memcmp(line, "data:", 5) == 0) {
		const char *ts, *seq;

		line[len] = '\0';
		ts = find_key(line, len, "\"timestamp\":");
		seq = find_key(line, len, "\"sequence\":");
		if (ts != NULL) {
			c->data_ts_ms = strtoll(ts, NULL, 10);
			c->data_seq = seq != NULL ? strtoull(seq, NULL, 10) : 0;
			c->have_data = 1;
		}
	}
	/* id:, retry:, comments: nothing to record */
}

static void
sse_feed(Conn *c, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char ch = p[i];

		if (ch == '\n') {
			size_t len = c->line_len;

			if (len > 0 && c->buf[len - 1] == '\r')
				len--;
			sse_line(c, c->buf, len);
			c->line_len = 0;
			continue;
		}
		if (c->line_len < LINE_MAX_BYTES - 1) {
			c->buf[c->line_len++] = ch;
		} else {
			n_overlong++; /* keep going; this line is lost */
		}
	}
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Body bytes, through the chunked decoder when needed. 0: go on; -1: the
 * body ended (last chunk) or is malformed. */
static int
body_feed(Conn *c, const char *p, size_t n)
{
	size_t i = 0;

	if (!c->chunked) {
		sse_feed(c, p, n);
		return 0;
	}
	while (i < n) {
		switch (c->kstate) {
		case K_SIZE: {
			int v = hexval(p[i]);

			if (v >= 0) {
				c->chunk_left = c->chunk_left * 16 + (uint32_t)v;
			} else if (p[i] == '\r') {
				c->kstate = K_SIZE_LF;
			} else if (p[i] == ';') {
				c->kstate = K_SIZE_EXT;
			} else {
				return -1;
			}
			i++;
			break;
		}
		case K_SIZE_EXT:
			if (p[i] == '\r')
				c->kstate = K_SIZE_LF;
			i++;
			break;
		case K_SIZE_LF:
			if (p[i++] != '\n')
				return -1;
			if (c->chunk_left == 0) {
				c->kstate = K_END;
				return -1;
			}
			c->kstate = K_DATA;
			break;
		case K_DATA: {
			size_t take = n - i < c->chunk_left ? n - i : c->chunk_left;

			sse_feed(c, p + i, take);
			i += take;
			c->chunk_left -= (uint32_t)take;
			if (c->chunk_left == 0)
				c->kstate = K_DATA_CR;
			break;
		}
		case K_DATA_CR:
			if (p[i++] != '\r')
				return -1;
			c->kstate = K_DATA_LF;
			break;
		case K_DATA_LF:
			if (p[i++] != '\n')
				return -1;
			c->kstate = K_SIZE;
			c->chunk_left = 0;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

/* ---- HTTP ----------------------------------------------------------------- */

static char request_buf[MAX_IDS][2048];
static size_t request_len[MAX_IDS];

static void
build_requests(void)
{
	for (int i = 0; i < n_ids; i++) {
		int len = snprintf(request_buf[i], sizeof(request_buf[i]),
				   "GET %s%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
				   "Accept: text/event-stream\r\nCache-Control: no-cache\r\n",
				   opt_prefix, ids[i], opt_port);

		for (int h = 0; h < n_headers; h++)
			len += snprintf(request_buf[i] + len, sizeof(request_buf[i]) - (size_t)len,
					"%s\r\n", headers[h]);
		len += snprintf(request_buf[i] + len, sizeof(request_buf[i]) - (size_t)len, "\r\n");
		if ((size_t)len >= sizeof(request_buf[i])) {
			fprintf(stderr, "sse-client: request too long\n");
			exit(2);
		}
		request_len[i] = (size_t)len;
	}
}

static long n_pending, n_ready, n_closed;

static void
conn_close(int epfd, Conn *c, uint8_t state)
{
	if (c->fd >= 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
	if (c->state == C_CONNECTING || c->state == C_HEAD)
		n_pending--;
	if (c->state == C_BODY)
		n_closed++;
	c->state = state;
}

static void
conn_open(int epfd, Conn *c, int index)
{
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt_port)};
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP,
				 .data.u32 = (uint32_t)index};
	int one = 1;

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		die("socket");
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(c->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	c->state = C_CONNECTING;
	n_pending++;
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 && errno != EINPROGRESS) {
		n_connect_errors++;
		conn_close(epfd, c, C_FAILED);
		return;
	}
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		die("epoll_ctl");
}

static void
conn_send(int epfd, Conn *c)
{
	const char *req = request_buf[c->id_index];
	size_t len = request_len[c->id_index];

	while (c->sent < len) {
		ssize_t w = send(c->fd, req + c->sent, len - c->sent, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			n_connect_errors++;
			conn_close(epfd, c, C_FAILED);
			return;
		}
		c->sent += (size_t)w;
	}
	{
		struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP,
					 .data.u32 = (uint32_t)(c - conns)};

		epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
	}
	c->state = C_HEAD;
}

/* Headers complete in c->buf[0..end): check the status, find the framing,
 * feed what followed the headers to the body. */
static void
conn_head_done(int epfd, Conn *c, size_t end, size_t have)
{
	char *head = c->buf;
	int status = 0;

	head[end - 1] = '\0';
	if (sscanf(head, "HTTP/1.%*d %d", &status) != 1 || status != 200) {
		if (n_bad_status < 3)
			fprintf(stderr, "sse-client: stream %ld: %.200s\n", (long)(c - conns),
				head);
		n_bad_status++;
		conn_close(epfd, c, C_FAILED);
		return;
	}
	c->chunked = strcasestr(head, "transfer-encoding: chunked") != NULL;
	c->kstate = K_SIZE;
	c->chunk_left = 0;
	c->state = C_BODY;
	n_pending--;
	n_ready++;
	{
		char rest[HEAD_MAX_BYTES];
		size_t n = have - end;

		memcpy(rest, head + end, n);
		c->line_len = 0;
		if (body_feed(c, rest, n) < 0) {
			n_ended_early++;
			conn_close(epfd, c, C_DONE);
		}
	}
}

static char rbuf[256 * 1024];

static void
conn_read(int epfd, Conn *c)
{
	for (int rounds = 0; rounds < 16; rounds++) {
		char control[CMSG_SPACE(sizeof(struct timespec)) + 64];
		struct iovec iov;
		struct msghdr mh = {0};
		struct cmsghdr *cm;
		ssize_t n;

		if (c->state == C_HEAD) {
			iov.iov_base = c->buf + c->head_len;
			iov.iov_len = HEAD_MAX_BYTES - 1 - c->head_len;
		} else {
			iov.iov_base = rbuf;
			iov.iov_len = sizeof(rbuf);
		}
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = control;
		mh.msg_controllen = sizeof(control);
		n = recvmsg(c->fd, &mh, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			if (c->state == C_BODY)
				n_ended_early++;
			conn_close(epfd, c, c->state == C_BODY ? C_DONE : C_FAILED);
			return;
		}
		if (n == 0) {
			if (c->state == C_BODY)
				n_ended_early++;
			else
				n_connect_errors++;
			conn_close(epfd, c, c->state == C_BODY ? C_DONE : C_FAILED);
			return;
		}
		now_read_us = cg_bench_realtime_us();
		now_rx_us = now_read_us;
		for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
				struct timespec ts;

				memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
				now_rx_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
			}
		}
		if (c->state == C_HEAD) {
			char *end;

			c->head_len += (uint16_t)n;
			c->buf[c->head_len] = '\0';
			end = strstr(c->buf, "\r\n\r\n");
			if (end != NULL) {
				conn_head_done(epfd, c, (size_t)(end - c->buf) + 4, c->head_len);
				if (c->state != C_BODY)
					return;
			} else if (c->head_len >= HEAD_MAX_BYTES - 1) {
				n_bad_status++;
				conn_close(epfd, c, C_FAILED);
				return;
			}
			continue;
		}
		if (body_feed(c, rbuf, (size_t)n) < 0) {
			n_ended_early++;
			conn_close(epfd, c, C_DONE);
			return;
		}
		if ((size_t)n < sizeof(rbuf))
			return;
	}
}

static void
handle_event(int epfd, struct epoll_event *ev)
{
	Conn *c = &conns[ev->data.u32];

	if (c->fd < 0)
		return;
	if (c->state == C_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);

		if ((ev->events & (EPOLLERR | EPOLLHUP)) != 0 ||
		    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
			n_connect_errors++;
			conn_close(epfd, c, C_FAILED);
			return;
		}
		conn_send(epfd, c);
		return;
	}
	if (ev->events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		conn_read(epfd, c);
}

/* ---- the map and the statistics ----------------------------------------- */

static int64_t *map_ts[MAX_IDS];
static uint32_t map_len[MAX_IDS];

static void
load_map(void)
{
	FILE *f;
	char id[128];
	unsigned long long seq;
	long long ts;

	if (opt_map == NULL)
		return;
	f = fopen(opt_map, "r");
	if (f == NULL) {
		perror(opt_map);
		return;
	}
	while (fscanf(f, "%127s %llu %lld", id, &seq, &ts) == 3) {
		for (int i = 0; i < n_ids; i++) {
			if (strcmp(id, ids[i]) != 0 || seq > 10000000)
				continue;
			if (seq >= map_len[i]) {
				uint32_t len = map_len[i] ? map_len[i] : 1024;

				while (len <= seq)
					len *= 2;
				map_ts[i] = realloc(map_ts[i], len * sizeof(int64_t));
				if (map_ts[i] == NULL)
					die("realloc");
				for (uint32_t k = map_len[i]; k < len; k++)
					map_ts[i][k] = 0;
				map_len[i] = len;
			}
			map_ts[i][seq] = ts;
		}
	}
	fclose(f);
}

static double
pct(const int64_t *v, size_t n, double p)
{
	size_t k;

	if (n == 0)
		return -1;
	k = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return (double)v[k < n ? k : n - 1] / 1000.0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: sse-client --port P --ids ID[,ID...] -n N [--prefix PATH] "
			"[--header H]... [--map FILE] [--window-s S] [--settle-ms MS] "
			"[--connect-timeout-s S] [--max-pending K]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"port", required_argument, NULL, 'p'},
	    {"prefix", required_argument, NULL, 'P'},
	    {"ids", required_argument, NULL, 'i'},
	    {"header", required_argument, NULL, 'H'},
	    {"map", required_argument, NULL, 'm'},
	    {"window-s", required_argument, NULL, 'w'},
	    {"settle-ms", required_argument, NULL, 's'},
	    {"connect-timeout-s", required_argument, NULL, 'c'},
	    {"max-pending", required_argument, NULL, 'k'},
	    {NULL, 0, NULL, 0},
	};
	struct rlimit rl;
	struct epoll_event evs[512];
	int epfd, opt, next = 0;
	double t0, t_ready, t_rec = 0, t_end = 0, cpu0 = 0, cpu1 = 0;
	int64_t *lat, *lat_read, *lat_ms;
	size_t n_lat = 0, n_from_map = 0;
	long streams_with_events = 0;
	uint32_t ev_min = UINT32_MAX, ev_max = 0;
	long open_at_end = 0;

	while ((opt = getopt_long(argc, argv, "n:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			opt_port = atoi(optarg);
			break;
		case 'P':
			opt_prefix = optarg;
			break;
		case 'i':
			for (char *tok = strtok(optarg, ","); tok && n_ids < MAX_IDS;
			     tok = strtok(NULL, ","))
				ids[n_ids++] = tok;
			break;
		case 'H':
			if (n_headers < MAX_HEADERS)
				headers[n_headers++] = optarg;
			break;
		case 'm':
			opt_map = optarg;
			break;
		case 'w':
			opt_window_s = atof(optarg);
			break;
		case 's':
			opt_settle_ms = atoi(optarg);
			break;
		case 'c':
			opt_connect_timeout_s = atof(optarg);
			break;
		case 'k':
			opt_max_pending = atoi(optarg);
			break;
		case 'n':
			opt_n = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (opt_port <= 0 || n_ids == 0 || opt_n <= 0 || opt_n > 60000 || opt_window_s <= 0 ||
	    opt_window_s > 600 || opt_connect_timeout_s > 600 || opt_max_pending <= 0)
		usage();

	/* Room for N sockets. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)opt_n + 64) {
		rl.rlim_cur = (rlim_t)opt_n + 64;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			die("setrlimit(RLIMIT_NOFILE)");
	}
	build_requests();
	conns = calloc((size_t)opt_n, sizeof(Conn));
	if (conns == NULL)
		die("calloc");
	for (int i = 0; i < opt_n; i++) {
		conns[i].fd = -1;
		conns[i].id_index = (uint16_t)(i % n_ids);
		conns[i].buf = malloc(LINE_MAX_BYTES);
		if (conns[i].buf == NULL)
			die("malloc");
	}
	{
		size_t want = (size_t)((double)opt_n * opt_window_s * 40.0) + 100000;

		if (want < opt_max_samples)
			opt_max_samples = want;
	}
	samples = malloc(opt_max_samples * sizeof(Sample));
	if (samples == NULL)
		die("malloc samples");
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1");

	/* Connect, at most --max-pending streams not yet answered at a time. */
	t0 = cg_bench_monotonic_s();
	while (n_ready + n_connect_errors + n_bad_status < opt_n) {
		int nev;

		if (cg_bench_monotonic_s() - t0 > opt_connect_timeout_s)
			break;
		while (next < opt_n && n_pending < opt_max_pending)
			conn_open(epfd, &conns[next], next), next++;
		nev = epoll_wait(epfd, evs, 512, 100);
		for (int i = 0; i < nev; i++)
			handle_event(epfd, &evs[i]);
	}
	t_ready = cg_bench_monotonic_s();
	printf("READY streams=%ld failed=%ld connect_s=%.2f\n", n_ready, (long)opt_n - n_ready,
	       t_ready - t0);
	fflush(stdout);

	/* Settle, then record for the window. */
	while (1) {
		double now = cg_bench_monotonic_s();
		int nev;

		if (!recording && now - t_ready >= opt_settle_ms / 1000.0) {
			recording = 1;
			t_rec = now;
			cpu0 = cg_bench_cpu_s();
			for (int i = 0; i < opt_n; i++)
				conns[i].events = 0;
		}
		if (recording && now - t_rec >= opt_window_s)
			break;
		nev = epoll_wait(epfd, evs, 512, 20);
		for (int i = 0; i < nev; i++)
			handle_event(epfd, &evs[i]);
	}
	t_end = cg_bench_monotonic_s();
	cpu1 = cg_bench_cpu_s();
	recording = 0;
	for (int i = 0; i < opt_n; i++) {
		if (conns[i].state == C_BODY || conns[i].state == C_DONE) {
			if (conns[i].events > 0)
				streams_with_events++;
			if (conns[i].events < ev_min)
				ev_min = conns[i].events;
			if (conns[i].events > ev_max)
				ev_max = conns[i].events;
		}
	}
	for (int i = 0; i < opt_n; i++)
		if (conns[i].state == C_BODY)
			open_at_end++;
	/* The publisher writes the map as it goes; give it a moment for the
	 * last events of the window. */
	usleep(300 * 1000);
	load_map();

	lat = malloc((n_samples + 1) * sizeof(int64_t));
	lat_read = malloc((n_samples + 1) * sizeof(int64_t));
	lat_ms = malloc((n_samples + 1) * sizeof(int64_t));
	if (lat == NULL || lat_read == NULL || lat_ms == NULL)
		die("malloc");
	for (size_t i = 0; i < n_samples; i++) {
		const Sample *s = &samples[i];
		int64_t created = s->ts_ms * 1000;

		if (s->id_index < n_ids && s->seq < map_len[s->id_index] &&
		    map_ts[s->id_index][s->seq] != 0) {
			int64_t us = map_ts[s->id_index][s->seq];

			/* The map must agree with the event's own millisecond
			 * timestamp, or it is about another event. */
			if (us / 1000 == s->ts_ms) {
				created = us;
				n_from_map++;
			}
		}
		lat[n_lat] = s->rx_us - created;
		lat_read[n_lat] = s->read_us - created;
		lat_ms[n_lat] = s->rx_us - s->ts_ms * 1000;
		n_lat++;
	}
	qsort(lat, n_lat, sizeof(int64_t), cg_bench_compare_i64);
	qsort(lat_read, n_lat, sizeof(int64_t), cg_bench_compare_i64);
	qsort(lat_ms, n_lat, sizeof(int64_t), cg_bench_compare_i64);
	printf("RESULT sse-client streams=%ld ready=%ld open_at_end=%ld ended_early=%ld "
	       "bad_status=%ld connect_errors=%ld events=%zu dropped=%zu from_map=%zu "
	       "streams_with_events=%ld events_per_stream_min=%u events_per_stream_max=%u "
	       "window_s=%.2f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f "
	       "read_p50_ms=%.3f read_p99_ms=%.3f msts_p50_ms=%.3f msts_p99_ms=%.3f "
	       "client_cpu_pct=%.1f overlong_lines=%ld\n",
	       (long)opt_n, n_ready, open_at_end, n_ended_early, n_bad_status, n_connect_errors,
	       n_lat, dropped_samples, n_from_map, streams_with_events,
	       ev_min == UINT32_MAX ? 0 : ev_min, ev_max, t_end - t_rec, pct(lat, n_lat, 50),
	       pct(lat, n_lat, 90), pct(lat, n_lat, 99),
	       n_lat ? (double)lat[n_lat - 1] / 1000.0 : -1, pct(lat_read, n_lat, 50),
	       pct(lat_read, n_lat, 99), pct(lat_ms, n_lat, 50), pct(lat_ms, n_lat, 99),
	       100.0 * (cpu1 - cpu0) / (t_end - t_rec), n_overlong);
	fflush(stdout);
	for (int i = 0; i < opt_n; i++)
		if (conns[i].fd >= 0)
			close(conns[i].fd);
	return 0;
}
