/* Everything the bindings cover: the public libauparse API (auparse.h pulls in auparse-defs.h). */
#include <auparse.h>
