// The header must compile alone as C++11; linking proves the extern "C" guards
// (without them the call below would look for a mangled name).
#include "netproc.h"

int main() {
    return netproc_version() == NETPROC_VERSION_NUMBER ? 0 : 1;
}
