/* The workload of the v2 host rig's containers, built static on the build host (gcc -static) and
 * copied into the guest's container image (tests/rigs/build_v2_host.sh).
 *
 *   load burn MIB              allocate and touch MIB MiB, then burn one CPU forever
 *   load alloc MIB             allocate and touch MIB MiB, then sleep forever (OOM: give it more
 *                              than its --memory)
 *   load spike BASE SPIKE MS   hold BASE MiB; on each SIGUSR1 allocate and touch SPIKE MiB, hold it
 *                              MS ms, free it (munmap: memory.current drops at once), then create
 *                              /tmp/spiked-N (N counts from 1) to say it is over
 *   load dio FILE MIB          write MIB MiB to FILE with O_DIRECT, read them back with O_DIRECT,
 *                              fsync, then sleep forever (io.stat then stays put)
 *   load peakfd PATH FILE MS   open PATH (a memory.peak) read-write, reset this descriptor's
 *                              watermark, wait until FILE exists (at most MS ms), print the
 *                              descriptor's watermark (Linux >= 6.12: the reset is this
 *                              descriptor's own)
 * Every mode prints one line when its setup is done, so a caller can wait for it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024UL * 1024UL)

static void die(const char *what) {
    fprintf(stderr, "load: %s: %s\n", what, strerror(errno));
    exit(1);
}

static char *touch(unsigned long mib) {
    if (mib == 0) return NULL;
    char *p = mmap(NULL, mib * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) die("mmap");
    for (unsigned long off = 0; off < mib * MIB; off += 4096) p[off] = (char)(off >> 12) | 1;
    return p;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static volatile sig_atomic_t spikes_asked;
static void on_usr1(int sig) {
    (void)sig;
    spikes_asked++;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) {
        fprintf(stderr, "usage: load burn|alloc|spike|dio|peakfd ...\n");
        return 64;
    }
    const char *mode = argv[1];
    if (strcmp(mode, "burn") == 0 && argc == 3) {
        touch(strtoul(argv[2], NULL, 10));
        printf("burning\n");
        volatile unsigned long x = 0;
        for (;;) x++;
    } else if (strcmp(mode, "alloc") == 0 && argc == 3) {
        touch(strtoul(argv[2], NULL, 10));
        printf("allocated\n");
        for (;;) pause();
    } else if (strcmp(mode, "spike") == 0 && argc == 5) {
        unsigned long spike = strtoul(argv[3], NULL, 10);
        long hold = strtol(argv[4], NULL, 10);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_usr1;
        sigaction(SIGUSR1, &sa, NULL);
        touch(strtoul(argv[2], NULL, 10));
        printf("waiting\n");
        sig_atomic_t done = 0;
        for (;;) {
            while (done == spikes_asked) pause();
            done++;
            char *p = touch(spike);
            sleep_ms(hold);
            if (p) munmap(p, spike * MIB);
            char marker[64];
            snprintf(marker, sizeof marker, "/tmp/spiked-%d", (int)done);
            int m = open(marker, O_WRONLY | O_CREAT, 0644);
            if (m >= 0) close(m);
            printf("spiked %lu MiB for %ld ms\n", spike, hold);
        }
    } else if (strcmp(mode, "dio") == 0 && argc == 4) {
        unsigned long mib = strtoul(argv[3], NULL, 10);
        int fd = open(argv[2], O_RDWR | O_CREAT | O_DIRECT, 0644);
        if (fd < 0) die(argv[2]);
        void *buf;
        if (posix_memalign(&buf, 4096, MIB) != 0) die("posix_memalign");
        memset(buf, 0x5a, MIB);
        for (unsigned long i = 0; i < mib; i++)
            if (pwrite(fd, buf, MIB, (off_t)(i * MIB)) != (ssize_t)MIB) die("pwrite");
        for (unsigned long i = 0; i < mib; i++)
            if (pread(fd, buf, MIB, (off_t)(i * MIB)) != (ssize_t)MIB) die("pread");
        if (fsync(fd) != 0) die("fsync");
        printf("direct I/O done: %lu MiB written, %lu MiB read\n", mib, mib);
        for (;;) pause();
    } else if (strcmp(mode, "peakfd") == 0 && argc == 5) {
        int fd = open(argv[2], O_RDWR);
        if (fd < 0) die(argv[2]);
        if (write(fd, "reset\n", 6) != 6) die("reset");
        printf("reset\n");
        for (long waited = 0; access(argv[3], F_OK) != 0 && waited < strtol(argv[4], NULL, 10); waited += 10)
            sleep_ms(10);
        char text[64];
        ssize_t n = pread(fd, text, sizeof text - 1, 0);
        if (n <= 0) die("pread");
        text[n] = 0;
        printf("%s", text);
        return 0;
    }
    fprintf(stderr, "load: bad arguments for %s\n", mode);
    return 64;
}
