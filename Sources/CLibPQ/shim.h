// CLibPQ: PostgreSQL's client library (Debian's libpq-dev), the fleet ledger's connection.
#include <libpq-fe.h>
