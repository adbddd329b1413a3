// How fast one thread reads 6 KiB blocks (one KV block of one layer: 16 slots x 384 B) scattered
// over 256 MiB, as attention reads a sequence's K or V, with software prefetch of the block D
// ahead either spread one line per line read (burst = 0) or all at once per block (burst = 1).
//   gcc -O2 -o /tmp/block_reads scripts/probes/block_reads.c
//   for a in "0 0" "1 0" "2 0" "1 1" "2 1"; do /tmp/block_reads $a; done
// 2026-12-02 (AMD EPYC Zen 4 VM): sequential 17 GB/s; D=0 5.6, D=1 spread 7.8, D=2 spread 7.7,
// D=1 burst 5.6 GB/s.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    const size_t n = 256u << 20, block = 6144;
    const int ahead = argc > 1 ? atoi(argv[1]) : 0, burst = argc > 2 ? atoi(argv[2]) : 0;
    char *a = aligned_alloc(64, n);
    memset(a, 1, n);
    volatile uint64_t sink = 0;
    double t0 = seconds();
    uint64_t acc = 0;
    for (size_t i = 0; i < n; i += 64) acc += *(uint64_t *)(a + i);
    sink += acc;
    printf("sequential %.2f GB/s\n", n / (seconds() - t0) / 1e9);
    const size_t blocks = n / block;
    uint32_t *order = malloc(blocks * sizeof *order);
    for (size_t i = 0; i < blocks; i++) order[i] = (uint32_t)i;
    srand(1);
    for (size_t i = blocks - 1; i > 0; i--) {
        size_t j = (size_t)rand() % (i + 1);
        uint32_t t = order[i]; order[i] = order[j]; order[j] = t;
    }
    for (int run = 0; run < 3; run++) {
        t0 = seconds();
        acc = 0;
        for (size_t b = 0; b < blocks; b++) {
            const char *p = a + (size_t)order[b] * block;
            const char *q = ahead && b + ahead < blocks ? a + (size_t)order[b + ahead] * block : NULL;
            if (q && burst) for (size_t i = 0; i < block; i += 64) __builtin_prefetch(q + i);
            for (size_t i = 0; i < block; i += 64) {
                if (q && !burst) __builtin_prefetch(q + i);
                acc += *(const uint64_t *)(p + i);
            }
        }
        sink += acc;
        printf("ahead=%d burst=%d: scattered 6 KiB blocks %.2f GB/s\n", ahead, burst, n / (seconds() - t0) / 1e9);
    }
    return 0;
}
