// lft's MPI shim: the handful of collectives data parallelism needs, over MPI_COMM_WORLD, with
// MPI_ERRORS_RETURN so a failure comes back as a code the binding turns into a message (the binding
// checks every pointer and count before calling; counts are elements and fit an int).
//   allreduce/iallreduce:  buf[count]            in place, sum over ranks
//   allgather:             in[count] -> out[size*count]
//   reduce_scatter:        in[size*count] -> out[count], sum; rank r keeps slice r
//   bcast:                 buf[bytes] from root
#define _GNU_SOURCE
#include <dlfcn.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define LFT_MPI_MAX_PENDING 4096

static MPI_Request pending[LFT_MPI_MAX_PENDING];
static int pending_used[LFT_MPI_MAX_PENDING];

// OpenMPI loads its components with dlopen and expects libmpi's symbols to be global; Bun opens this
// shim (and so libmpi) locally, so promote libmpi before MPI_Init (what mpi4py does).
static void promote_libmpi(void) {
  const char *names[] = {"libmpi.so.40", "libmpi.so", "libmpi.so.12"};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    if (dlopen(names[i], RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD)) return;
  }
}

int lft_mpi_init(void) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) return MPI_SUCCESS;
  promote_libmpi();
  int provided = 0;
  int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
  if (rc != MPI_SUCCESS) return rc;
  for (int i = 0; i < LFT_MPI_MAX_PENDING; i++) pending_used[i] = 0;
  return MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}

int lft_mpi_rank(void) {
  int r = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

int lft_mpi_size(void) {
  int s = -1;
  MPI_Comm_size(MPI_COMM_WORLD, &s);
  return s;
}

int lft_mpi_allreduce_f32(float *buf, int count) {
  return MPI_Allreduce(MPI_IN_PLACE, buf, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}

// Starts an in-place sum; returns a handle >= 0 for lft_mpi_wait, or -(MPI error code) - 1.
int lft_mpi_iallreduce_f32(float *buf, int count) {
  for (int i = 0; i < LFT_MPI_MAX_PENDING; i++) {
    if (pending_used[i]) continue;
    int rc = MPI_Iallreduce(MPI_IN_PLACE, buf, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &pending[i]);
    if (rc != MPI_SUCCESS) return -rc - 1;
    pending_used[i] = 1;
    return i;
  }
  return -MPI_ERR_NO_MEM - 1;
}

int lft_mpi_wait(int handle) {
  if (handle < 0 || handle >= LFT_MPI_MAX_PENDING || !pending_used[handle]) return MPI_ERR_REQUEST;
  int rc = MPI_Wait(&pending[handle], MPI_STATUS_IGNORE);
  pending_used[handle] = 0;
  return rc;
}

int lft_mpi_allgather_f32(const float *in, float *out, int count) {
  return MPI_Allgather(in, count, MPI_FLOAT, out, count, MPI_FLOAT, MPI_COMM_WORLD);
}

int lft_mpi_reduce_scatter_f32(const float *in, float *out, int count) {
  return MPI_Reduce_scatter_block(in, out, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}

int lft_mpi_bcast(void *buf, int bytes, int root) { return MPI_Bcast(buf, bytes, MPI_BYTE, root, MPI_COMM_WORLD); }

int lft_mpi_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }

// buf[count] *= factor: the mean after a sum, kept here so a bucket is one call.
void lft_mpi_scale_f32(float *buf, int64_t count, float factor) {
  for (int64_t i = 0; i < count; i++) buf[i] *= factor;
}

// Writes the message for an MPI error code into out[cap] (always terminated); returns its length.
int lft_mpi_error_string(int code, char *out, int cap) {
  if (cap <= 0) return 0;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(code, text, &len) != MPI_SUCCESS) len = snprintf(text, sizeof text, "MPI error %d", code);
  if (len >= cap) len = cap - 1;
  memcpy(out, text, (size_t)len);
  out[len] = 0;
  return len;
}

void lft_mpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

int lft_mpi_finalize(void) {
  int finalized = 0;
  MPI_Finalized(&finalized);
  return finalized ? MPI_SUCCESS : MPI_Finalize();
}
