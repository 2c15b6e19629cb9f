/* Prints which kernels OpenBLAS picks on this CPU when nothing is forced: "corename\tconfig".
 * Run as a separate process because the choice is made once, when the library loads. */
#include <stdio.h>
extern char *openblas_get_corename(void);
extern char *openblas_get_config(void);
int main(void) {
  printf("%s\t%s\n", openblas_get_corename(), openblas_get_config());
  return 0;
}
