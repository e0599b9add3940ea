// The least a thread-per-connection HTTP/1.1 server can do, as the floor under `rustcorn serve sync` in
// servers-vs-nginx.sh: 64 threads (sync's default), each accepting a connection and serving it alone until it
// closes, a blocking recv, every complete head (up to a blank line) answered with the bytes `serve sync` sends for
// /health, no parsing, no timeouts, no limits. The threads live as long as the server, so that /proc counts their
// context switches.
// Not a server to use: it only measures what the model itself costs on this machine (the blocked thread's
// wake-up and context switch per request), which no code inside the model can avoid.
// Usage: thread-per-connection PORT (binds 127.0.0.1:PORT, prints "Listening at: http://127.0.0.1:PORT").
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char RESPONSE[] = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 31\r\n"
                               "x-worker-pid: 1000\r\ndate: Tue, 01 Dec 2026 00:00:00 GMT\r\n\r\n"
                               "{\"message\":\"ok\",\"duration\":0.0}";

#define THREADS 64

static void serve(int fd) {
    int one = 1;
    char buffer[16384];
    size_t filled = 0;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (;;) {
        ssize_t count = recv(fd, buffer + filled, sizeof buffer - filled, 0);
        if (count <= 0) break;
        filled += (size_t)count;
        char *end;
        while ((end = memmem(buffer, filled, "\r\n\r\n", 4)) != NULL) {
            if (send(fd, RESPONSE, sizeof RESPONSE - 1, MSG_NOSIGNAL) < 0) goto done;
            size_t used = (size_t)(end + 4 - buffer);
            memmove(buffer, buffer + used, filled - used);
            filled -= used;
        }
        if (filled == sizeof buffer) break;
    }
done:
    close(fd);
}

static void *accept_loop(void *listener) {
    for (;;) {
        int connection = accept((int)(long)listener, NULL, NULL);
        if (connection >= 0) serve(connection);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    int listener = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1])),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(listener, (struct sockaddr *)&address, sizeof address) || listen(listener, 1024)) {
        perror("bind");
        return 1;
    }
    printf("Listening at: http://127.0.0.1:%s\n", argv[1]);
    fflush(stdout);
    pthread_t threads[THREADS];
    for (int index = 0; index < THREADS; index++) {
        if (pthread_create(&threads[index], NULL, accept_loop, (void *)(long)listener) != 0) {
            perror("pthread_create");
            return 1;
        }
    }
    pthread_join(threads[0], NULL);
    return 0;
}
