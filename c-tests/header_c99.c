/* The header must compile alone as strict C99: no include beyond its own. */
#include "netproc.h"

int main(void) {
    /* Calling a function also proves the declarations link. */
    return netproc_version() == NETPROC_VERSION_NUMBER ? 0 : 1;
}
