// The VNNI batched matmul (Sources/BatonKernelsC/BatchedGemv.c) alone on one thread: random
// weights of a type, T tokens of random activation quants; prints the best of 5 timings, GMAC/s
// and a checksum of the outputs (equal checksums: equal results).
//   F="-O3 -ffp-contract=off -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mfma -mf16c"
//   clang $F -I Sources/BatonKernelsC/include -o /tmp/vnni_gemv scripts/probes/vnni_gemv.c Sources/BatonKernelsC/BatchedGemv.c
//   /tmp/vnni_gemv TYPE N K T WIDE ITERS     (TYPE 0 Q4_1, 1 Q4_0, 2 Q8_0), e.g. 0 1536 576 16 1 1000
// 2026-12-03 (Sapphire Rapids VM), 0 1536 576 16 1 1000, best of 4 alternating runs: 308.5 us; with
// quad_pairs' `s = dx * d[r]` replaced by `s = dx` (sed on a copy; wrong results, timing only)
// 241.2 us (22% faster); with vpdpbusd replaced by an integer add, 301.8 us. Pinned to each vCPU
// at once (taskset -c 0 / -c 1): 432-452 us on both (the VM was slower by then).
#include "BatonKernelsC.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <immintrin.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(int argc, char **argv) {
  if (argc < 7) { fprintf(stderr, "usage: vnni_gemv TYPE N K T WIDE ITERS\n"); return 2; }
  int type=atoi(argv[1]); long n=atol(argv[2]), k=atol(argv[3]), T=atol(argv[4]); int wide=atoi(argv[5]); int iters=atoi(argv[6]);
  long nb=k/32, bb= type==0?20: type==1?18:34; long rowBytes=nb*bb;
  uint8_t*w=malloc(n*rowBytes); srand(1);
  for(long i=0;i<n*rowBytes;i++) w[i]=rand();
  for(long r=0;r<n;r++) for(long b=0;b<nb;b++){ uint8_t*p=w+r*rowBytes+b*bb; uint16_t h=_cvtss_sh(0.01f*(1+rand()%7),0); memcpy(p,&h,2); if(type==0){h=_cvtss_sh(-0.02f,0);memcpy(p+2,&h,2);} }
  long qStride=k, xStride=k+2*nb;
  int8_t*q=malloc(T*qStride); float*xf=malloc(T*xStride*4);
  for(long i=0;i<T*qStride;i++) q[i]=(rand()%255)-127;
  for(long t=0;t<T;t++) for(long b=0;b<2*nb;b++) xf[t*xStride+k+b]=0.01f*(1+rand()%5);
  float*out=malloc(T*n*4);
  baton_vnni_batched_gemv(type,w,rowBytes,k,q,qStride,xf,xStride,0,T,out,n,0,n,0,wide);
  double best=1e9;
  for(int rep=0;rep<5;rep++){ double t0=now(); for(int i=0;i<iters;i++) baton_vnni_batched_gemv(type,w,rowBytes,k,q,qStride,xf,xStride,0,T,out,n,0,n,0,wide); double d=(now()-t0)/iters; if(d<best)best=d;}
  double cs=0; for(long i=0;i<T*n;i++) cs+=out[i]*(1+i%7);
  printf("type %d n %ld k %ld T %ld wide %d: %.1f us  (%.2f GMAC/s) cs %.6g\n",type,n,k,T,wide,best*1e6,n*k*T/best*1e-9,cs);
}
