/*
 * A lighter load generator for the WebSocket echo figures of run.py: the
 * `ws-echo` scenario of loadgen.js, in C on one epoll loop, so that the
 * generator is not the limit where Node's `ws` client saturates its core
 * (about 100k msg/s).  Same options and the same JSON line as loadgen.js:
 *
 *   wsecho ws-echo --port P --conns N --payload text16|text1k|bin16
 *          [--path /engine.io/] [--warmup S] [--duration S]
 *          [--server-pid PID[,PID...]] [--clk-tck HZ] [--start-at EPOCH_MS]
 *          [--hist] [--open-concurrency K (accepted, unused)]
 *
 * Each connection opens an Engine.IO v4 WebSocket session (HTTP upgrade,
 * then the open packet), answers pings with pongs and runs a closed loop:
 * send the message, wait for its echo, send again.  Client frames are
 * masked with a fixed key (the payload and key never change, so each frame
 * is built once).  Only 127.0.0.1 is contacted; a hard alarm ends the
 * process whatever happens.
 *
 * Build: cc -O2 -o wsecho wsecho.c -lm
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PIDS 64
#define MAX_CORES 256
#define BUF_SIZE (1 << 16)

static int port, conns = 1;
static const char *path = "/engine.io/", *payload_kind = "text16";
static double warmup = 1.0, duration = 5.0;
static int pids[MAX_PIDS], npids;
static long clk_tck = 100;
static double start_at_ms;
static int want_hist;

static unsigned char *msg_frame; /* the masked client frame of the message */
static size_t msg_frame_len, expect_len;
static int msg_binary;
static unsigned char pong_frame[7];

typedef struct {
    int fd;
    int open;       /* the upgrade was answered and the open packet came */
    int upgraded;   /* the 101 came */
    unsigned char *buf;
    size_t len;
    double sent_at;
} conn_t;

static conn_t *cs;
static double *lat;
static size_t nlat, cap_lat = 4 * 1024 * 1024;
static long long count, bad, dropped;
static int measuring, running = 1;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double epoch_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void emit_error(const char *msg) {
    printf("{\"error\": \"%s\"}\n", msg);
    fflush(stdout);
    exit(1);
}

static size_t build_frame(unsigned char *out, int opcode, const unsigned char *data,
                          size_t n) {
    static const unsigned char key[4] = {0x3a, 0x91, 0x5c, 0xe7};
    size_t h = 0;
    out[h++] = 0x80 | opcode;
    if (n < 126) {
        out[h++] = 0x80 | n;
    } else if (n < 65536) {
        out[h++] = 0x80 | 126;
        out[h++] = n >> 8;
        out[h++] = n & 0xff;
    } else {
        out[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--) out[h++] = (n >> (8 * i)) & 0xff;
    }
    memcpy(out + h, key, 4);
    h += 4;
    for (size_t i = 0; i < n; i++) out[h + i] = data[i] ^ key[i & 3];
    return h + n;
}

static void make_payload(void) {
    unsigned char data[1100];
    size_t n;
    if (!strcmp(payload_kind, "text16")) {
        n = 17;
        memcpy(data, "4abcdefghijklmnop", n);
    } else if (!strcmp(payload_kind, "text1k")) {
        n = 1025;
        data[0] = '4';
        memset(data + 1, 'x', 1024);
    } else if (!strcmp(payload_kind, "bin16")) {
        n = 16;
        memcpy(data, "0123456789abcdef", n);
        msg_binary = 1;
    } else {
        emit_error("unknown payload");
        return;
    }
    expect_len = n;
    msg_frame = malloc(n + 14);
    msg_frame_len = build_frame(msg_frame, msg_binary ? 2 : 1, data, n);
    build_frame(pong_frame, 1, (const unsigned char *)"3", 1);
}

/* The sockets are blocking: a partial write (never seen in a closed loop
 * of small frames) is finished rather than lost. */
static int write_all(int fd, const unsigned char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= w;
    }
    return 0;
}

static void send_message(conn_t *c) {
    c->sent_at = now_ms();
    if (write_all(c->fd, msg_frame, msg_frame_len) < 0 && running) dropped++;
}

/* One complete server frame (unmasked): opcode, payload. */
static void on_frame(conn_t *c, int opcode, const unsigned char *p, size_t n) {
    if (opcode == 9) { /* WebSocket ping: answer with a pong of the same data */
        unsigned char out[140];
        if (n <= 125) write_all(c->fd, out, build_frame(out, 10, p, n));
        return;
    }
    if (opcode == 8) {
        if (running) dropped++;
        return;
    }
    if (opcode == 1 && n > 0) {
        if (!c->open) {
            if (p[0] == '0') {
                c->open = 1;
                send_message(c);
            }
            return;
        }
        if (p[0] == '2') {
            write_all(c->fd, pong_frame, sizeof pong_frame);
            return;
        }
        if (p[0] != '4') return;
    } else if (opcode != 2) {
        return;
    }
    if (!c->open) return;
    if (n != expect_len) bad++;
    double t = now_ms();
    if (measuring) {
        count++;
        if (nlat < cap_lat) lat[nlat++] = t - c->sent_at;
    }
    if (running) send_message(c);
}

static void consume(conn_t *c) {
    size_t off = 0;
    if (!c->upgraded) {
        unsigned char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
        if (!end) return;
        if (c->len < 12 || memcmp(c->buf + 9, "101", 3)) emit_error("upgrade refused");
        c->upgraded = 1;
        off = end - c->buf + 4;
    }
    for (;;) {
        size_t left = c->len - off;
        if (left < 2) break;
        unsigned char *p = c->buf + off;
        int opcode = p[0] & 0x0f;
        size_t n = p[1] & 0x7f, h = 2;
        if (n == 126) {
            if (left < 4) break;
            n = (p[2] << 8) | p[3];
            h = 4;
        } else if (n == 127) {
            if (left < 10) break;
            n = 0;
            for (int i = 2; i < 10; i++) n = (n << 8) | p[i];
            h = 10;
        }
        if (p[1] & 0x80) h += 4; /* a server never masks; skip a key if it did */
        if (n + h > BUF_SIZE) emit_error("frame larger than the buffer");
        if (left < h + n) break;
        on_frame(c, opcode, p + h, n);
        off += h + n;
    }
    if (off) {
        memmove(c->buf, c->buf + off, c->len - off);
        c->len -= off;
    }
}

static int open_conn(int epfd, conn_t *c, int i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char req[1024];
    const char *sep = strchr(path, '?') ? "&" : "?";
    int n = snprintf(req, sizeof req,
                     "GET %s%sEIO=4&transport=websocket HTTP/1.1\r\n"
                     "Host: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
                     path, sep, port);
    if (write_all(fd, (unsigned char *)req, n) < 0) return -1;
    c->fd = fd;
    c->buf = malloc(BUF_SIZE);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void poll_once(int epfd, int timeout_ms) {
    struct epoll_event evs[512];
    int n = epoll_wait(epfd, evs, 512, timeout_ms);
    for (int i = 0; i < n; i++) {
        conn_t *c = &cs[evs[i].data.u32];
        if (c->fd < 0) continue;
        ssize_t r = read(c->fd, c->buf + c->len, BUF_SIZE - c->len);
        if (r <= 0) {
            if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (running) dropped++;
            epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
            close(c->fd);
            c->fd = -1;
            continue;
        }
        c->len += r;
        consume(c);
    }
}

/* -- measurement: the same readings as loadgen.js ------------------------ */
static double process_cpu(int pid) {
    char fn[64], s[2048];
    snprintf(fn, sizeof fn, "/proc/%d/stat", pid);
    FILE *f = fopen(fn, "r");
    if (!f) return -1;
    size_t n = fread(s, 1, sizeof s - 1, f);
    fclose(f);
    s[n] = 0;
    char *p = strrchr(s, ')');
    if (!p) return -1;
    p += 2;
    unsigned long ut = 0, st = 0;
    /* fields after ")": state(3) ... utime is field 14, stime 15 */
    for (int field = 3; field <= 15 && p; field++) {
        if (field == 14) ut = strtoul(p, NULL, 10);
        if (field == 15) st = strtoul(p, NULL, 10);
        p = strchr(p, ' ');
        if (p) p++;
    }
    return (double)(ut + st) / clk_tck;
}

static long rss_kb(void) {
    long total = 0;
    for (int i = 0; i < npids; i++) {
        char fn[64], line[256];
        snprintf(fn, sizeof fn, "/proc/%d/status", pids[i]);
        FILE *f = fopen(fn, "r");
        if (!f) return -1;
        long kb = -1;
        while (fgets(line, sizeof line, f))
            if (!strncmp(line, "VmRSS:", 6)) kb = strtol(line + 6, NULL, 10);
        fclose(f);
        if (kb < 0) return -1;
        total += kb;
    }
    return total;
}

static int core_times(unsigned long long busy[], unsigned long long total[]) {
    FILE *f = fopen("/proc/stat", "r");
    char line[512];
    int ncores = 0;
    if (!f) return 0;
    while (fgets(line, sizeof line, f)) {
        int k;
        unsigned long long v[8] = {0};
        if (strncmp(line, "cpu", 3) || line[3] < '0' || line[3] > '9') continue;
        if (sscanf(line, "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu", &k, &v[0], &v[1],
                   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) < 9 || k >= MAX_CORES)
            continue;
        unsigned long long t = 0;
        for (int j = 0; j < 8; j++) t += v[j];
        total[k] = t;
        busy[k] = t - v[3] - v[4];
        if (k + 1 > ncores) ncores = k + 1;
    }
    fclose(f);
    return ncores;
}

static double self_cpu(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void on_alarm(int sig) {
    (void)sig;
    static const char msg[] = "wsecho: hard limit reached\n";
    write(2, msg, sizeof msg - 1);
    _exit(3);
}

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "ws-echo")) {
        fprintf(stderr, "usage: wsecho ws-echo --port P --conns N ...\n");
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--hist")) { want_hist = 1; continue; }
        if (!v) break;
        if (!strcmp(a, "--port")) port = atoi(v);
        else if (!strcmp(a, "--conns")) conns = atoi(v);
        else if (!strcmp(a, "--payload")) payload_kind = v;
        else if (!strcmp(a, "--path")) path = v;
        else if (!strcmp(a, "--warmup")) warmup = atof(v);
        else if (!strcmp(a, "--duration")) duration = atof(v);
        else if (!strcmp(a, "--clk-tck")) clk_tck = atol(v);
        else if (!strcmp(a, "--start-at")) start_at_ms = atof(v);
        else if (!strcmp(a, "--server-pid")) {
            char *s = strdup(v), *tok, *save;
            for (tok = strtok_r(s, ",", &save); tok && npids < MAX_PIDS;
                 tok = strtok_r(NULL, ",", &save))
                pids[npids++] = atoi(tok);
        } else if (strcmp(a, "--open-concurrency")) {
            fprintf(stderr, "unknown option %s\n", a);
            return 2;
        }
        i++;
    }
    if (!port) {
        fprintf(stderr, "--port is required\n");
        return 2;
    }
    double wait_start = start_at_ms > 0 ? fmax(0, (start_at_ms - epoch_ms()) / 1e3) : 0;
    signal(SIGALRM, on_alarm);
    alarm((unsigned)(warmup + duration + 120 + wait_start));
    signal(SIGPIPE, SIG_IGN);
    make_payload();
    lat = malloc(cap_lat * sizeof *lat);
    cs = calloc(conns, sizeof *cs);
    int epfd = epoll_create1(0);
    for (int i = 0; i < conns; i++) {
        if (open_conn(epfd, &cs[i], i) < 0) emit_error("connect failed");
    }
    /* Wait (at most 10 s) until every session got its open packet. */
    double deadline = now_ms() + 10000;
    for (;;) {
        int opened = 0;
        for (int i = 0; i < conns; i++) opened += cs[i].open;
        if (opened == conns) break;
        if (now_ms() > deadline) emit_error("sessions did not open");
        poll_once(epfd, 50);
    }
    /* Warm-up (or until --start-at), then the measured window. */
    double t_start = start_at_ms > 0 ? now_ms() + fmax(0, start_at_ms - epoch_ms())
                                     : now_ms() + warmup * 1e3;
    while (now_ms() < t_start) poll_once(epfd, 5);
    double late_ms = start_at_ms > 0 ? fmax(0, epoch_ms() - start_at_ms) : 0;
    double srv0[MAX_PIDS], srv1[MAX_PIDS];
    int srv_ok = npids > 0;
    for (int i = 0; i < npids; i++) if ((srv0[i] = process_cpu(pids[i])) < 0) srv_ok = 0;
    static unsigned long long b0[MAX_CORES], t0c[MAX_CORES], b1[MAX_CORES], t1c[MAX_CORES];
    int ncores = core_times(b0, t0c);
    double self0 = self_cpu(), w0 = now_ms();
    measuring = 1;
    double w_end = w0 + duration * 1e3;
    while (now_ms() < w_end) poll_once(epfd, 5);
    measuring = 0;
    double w1 = now_ms(), self1 = self_cpu();
    core_times(b1, t1c);
    for (int i = 0; i < npids; i++) if ((srv1[i] = process_cpu(pids[i])) < 0) srv_ok = 0;
    running = 0;
    long rss = rss_kb();
    for (int i = 0; i < conns; i++) {
        if (cs[i].fd < 0) continue;
        unsigned char out[16];
        unsigned char code[2] = {0x03, 0xe8};
        write_all(cs[i].fd, out, build_frame(out, 8, code, 2));
        close(cs[i].fd);
    }

    double secs = (w1 - w0) / 1e3;
    printf("{\"scenario\": \"ws-echo\", \"conns\": %d, \"payload\": \"%s\", "
           "\"seconds\": %.6f, \"count\": %lld, \"rate\": %.3f, \"loadgen_cpu_pct\": %.3f",
           conns, payload_kind, secs, count, count / secs, 100 * (self1 - self0) / secs);
    for (int k = 0; k < ncores; k++)
        if (t1c[k] > t0c[k])
            printf(", \"core%d_busy_pct\": %.3f", k,
                   100.0 * (b1[k] - b0[k]) / (t1c[k] - t0c[k]));
    if (srv_ok) {
        double cpu = 0;
        for (int i = 0; i < npids; i++) cpu += srv1[i] - srv0[i];
        printf(", \"server_cpu_s\": %.6f, \"server_cpu_pct\": %.3f", cpu, 100 * cpu / secs);
        if (count) printf(", \"server_cpu_us_per_op\": %.4f", 1e6 * cpu / count);
        else printf(", \"server_cpu_us_per_op\": null");
        if (npids > 1) {
            printf(", \"server_cpu_pct_per_pid\": [");
            for (int i = 0; i < npids; i++)
                printf("%s%.3f", i ? ", " : "", 100 * (srv1[i] - srv0[i]) / secs);
            printf("]");
        }
    }
    qsort(lat, nlat, sizeof *lat, cmp_double);
#define PICK(p) (nlat ? lat[(size_t)fmin(nlat - 1, floor((p) * nlat))] : NAN)
    printf(", \"samples\": %zu", nlat);
    if (nlat)
        printf(", \"p50_ms\": %.6f, \"p90_ms\": %.6f, \"p99_ms\": %.6f, \"max_ms\": %.6f",
               PICK(0.5), PICK(0.9), PICK(0.99), lat[nlat - 1]);
    else
        printf(", \"p50_ms\": null, \"p90_ms\": null, \"p99_ms\": null, \"max_ms\": null");
    if (want_hist) {
        /* Sparse {bucket: count}; bucket b holds [1.02^b, 1.02^(b+1)) us. */
        printf(", \"hist\": {");
        size_t i = 0;
        int first = 1;
        while (i < nlat) {
            long b = (long)floor(log(fmax(1, lat[i] * 1000)) / log(1.02));
            size_t j = i;
            while (j < nlat && (long)floor(log(fmax(1, lat[j] * 1000)) / log(1.02)) == b) j++;
            printf("%s\"%ld\": %zu", first ? "" : ", ", b, j - i);
            first = 0;
            i = j;
        }
        printf("}");
    }
    printf(", \"bad_frames\": %lld, \"dropped_connections\": %lld", bad, dropped);
    if (rss >= 0) printf(", \"server_rss_kb\": %ld", rss);
    else printf(", \"server_rss_kb\": null");
    printf(", \"start_late_ms\": %.3f}\n", late_ms);
    fflush(stdout);
    return 0;
}
