#include "http_socket.h"

#include "clock.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int remaining_ms(long long deadline_ms)
{
	long long left = deadline_ms - clock_now_ms();
	if (left < 0)
		return 0;
	return left > 1000000000 ? 1000000000 : (int)left;
}

int http_wait_readable(int fd, long long deadline_ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	int r = poll(&pfd, 1, remaining_ms(deadline_ms));
	if (r < 0)
		return errno == EINTR ? 0 : -1;
	return r > 0;
}

int http_connect(const char *host, const char *port, long long deadline_ms, struct err *err)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0)
		return err_set(err, ERR_UNAVAILABLE, "cannot resolve host '%s': %s", host,
			       gai_strerror(rc));
	int fd = -1;
	int last = ECONNREFUSED;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			last = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};
			int pr;
			do {
				pr = poll(&pfd, 1, remaining_ms(deadline_ms));
			} while (pr < 0 && errno == EINTR && remaining_ms(deadline_ms) > 0);
			if (pr > 0) {
				int soerr = 0;
				socklen_t sl = sizeof(soerr);
				if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 &&
				    !soerr)
					break;
				last = soerr ? soerr : errno;
			} else {
				last = ETIMEDOUT;
			}
		} else {
			last = errno;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return err_set(err, ERR_UNAVAILABLE, "%s", strerror(last));
	return fd;
}

int http_send_all(int fd, const void *data, size_t len, long long deadline_ms, struct err *err)
{
	const char *p = data;
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return err_set(err, ERR_UNAVAILABLE, "send failed: %s", strerror(errno));
		struct pollfd pfd = {.fd = fd, .events = POLLOUT};
		int left = remaining_ms(deadline_ms);
		if (left == 0)
			return err_set(err, ERR_UNAVAILABLE, "timed out sending the request");
		if (poll(&pfd, 1, left) < 0 && errno != EINTR)
			return err_set(err, ERR_UNAVAILABLE, "poll failed: %s", strerror(errno));
	}
	return 0;
}
