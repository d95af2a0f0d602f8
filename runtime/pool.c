/*
** pool.c — a team of threads running one job at a time (see pool.h).
**
** An evaluation lasts tens of microseconds, about what waking a sleeping thread costs, so
** the members spin for a while on the job counter before they sleep on a condition
** variable, and so does the caller waiting for them.  The counter, the pending count and
** the sleepers' count are sequentially consistent atomics: a member that goes to sleep
** and a caller that posts a job cannot miss each other.
*/
#include "pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

enum { SPINS = 1 << 15 };   /* some tens of microseconds */

struct densrt_pool {
  size_t n;
  pthread_t *threads;
  pthread_mutex_t lock;
  pthread_cond_t go, done;
  atomic_ulong generation;   /* one more for every job */
  atomic_size_t pending;     /* members still running the current job */
  atomic_int sleepers;       /* members waiting on go */
  atomic_int quit;
  densrt_pool_job *job;      /* written before generation is raised */
  void *ctx;
};

typedef struct {
  densrt_pool *p;
  size_t member;
} seat;

static inline void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

static void *member_main(void *arg)
{
  seat *s = arg;
  densrt_pool *p = s->p;
  size_t member = s->member;
  free(s);
  unsigned long seen = 0;
  for (;;) {
    for (int i = 0; i < SPINS && atomic_load(&p->generation) == seen && !atomic_load(&p->quit); i++)
      relax();
    if (atomic_load(&p->generation) == seen && !atomic_load(&p->quit)) {
      pthread_mutex_lock(&p->lock);
      atomic_fetch_add(&p->sleepers, 1);
      while (atomic_load(&p->generation) == seen && !atomic_load(&p->quit))
        pthread_cond_wait(&p->go, &p->lock);
      atomic_fetch_sub(&p->sleepers, 1);
      pthread_mutex_unlock(&p->lock);
    }
    if (atomic_load(&p->quit))
      return NULL;
    seen = atomic_load(&p->generation);
    p->job(p->ctx, member);
    if (atomic_fetch_sub(&p->pending, 1) == 1) {
      pthread_mutex_lock(&p->lock);
      pthread_cond_signal(&p->done);
      pthread_mutex_unlock(&p->lock);
    }
  }
}

densrt_pool *densrt_pool_alloc(size_t n)
{
  densrt_pool *p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  p->n = n ? n : 1;
  p->threads = calloc(p->n, sizeof *p->threads);
  if (!p->threads) {
    free(p);
    return NULL;
  }
  pthread_mutex_init(&p->lock, NULL);
  pthread_cond_init(&p->go, NULL);
  pthread_cond_init(&p->done, NULL);
  atomic_init(&p->generation, 0);
  atomic_init(&p->pending, 0);
  atomic_init(&p->sleepers, 0);
  atomic_init(&p->quit, 0);
  for (size_t m = 1; m < p->n; m++) {
    seat *s = malloc(sizeof *s);
    if (!s || (s->p = p, s->member = m, pthread_create(&p->threads[m], NULL, member_main, s) != 0)) {
      free(s);
      p->n = m;   /* the members started so far are stopped by free */
      densrt_pool_free(p);
      return NULL;
    }
  }
  return p;
}

size_t densrt_pool_size(const densrt_pool *p)
{
  return p ? p->n : 1;
}

void densrt_pool_run(densrt_pool *p, densrt_pool_job *job, void *ctx)
{
  p->job = job;
  p->ctx = ctx;
  atomic_store(&p->pending, p->n - 1);
  atomic_fetch_add(&p->generation, 1);
  if (atomic_load(&p->sleepers)) {
    pthread_mutex_lock(&p->lock);
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->lock);
  }
  job(ctx, 0);
  for (int i = 0; i < SPINS && atomic_load(&p->pending); i++)
    relax();
  if (atomic_load(&p->pending)) {
    pthread_mutex_lock(&p->lock);
    while (atomic_load(&p->pending))
      pthread_cond_wait(&p->done, &p->lock);
    pthread_mutex_unlock(&p->lock);
  }
}

void densrt_pool_free(densrt_pool *p)
{
  if (!p)
    return;
  pthread_mutex_lock(&p->lock);
  atomic_store(&p->quit, 1);
  pthread_cond_broadcast(&p->go);
  pthread_mutex_unlock(&p->lock);
  for (size_t m = 1; m < p->n; m++)
    pthread_join(p->threads[m], NULL);
  pthread_cond_destroy(&p->go);
  pthread_cond_destroy(&p->done);
  pthread_mutex_destroy(&p->lock);
  free(p->threads);
  free(p);
}
