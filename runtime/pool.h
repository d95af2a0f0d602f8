/*
** pool.h — a fixed team of threads that runs one job on every member and waits for all,
** for splitting one evaluation (the sum over the data rows) across cores.  Member 0 is
** the calling thread; members 1 .. n-1 are threads that sleep between jobs.  A run is a
** full barrier: what the members wrote is visible to the caller when it returns.
*/
#ifndef DENSRT_POOL_H
#define DENSRT_POOL_H

#include <stddef.h>

typedef struct densrt_pool densrt_pool;
typedef void densrt_pool_job(void *ctx, size_t member);

/* n members (n - 1 threads); NULL when a thread cannot be started or out of memory. */
densrt_pool *densrt_pool_alloc(size_t n);
size_t densrt_pool_size(const densrt_pool *p);
/* job(ctx, m) on every member m, at once; returns when all have finished. */
void densrt_pool_run(densrt_pool *p, densrt_pool_job *job, void *ctx);
void densrt_pool_free(densrt_pool *p);

#endif
