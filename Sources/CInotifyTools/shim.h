// CInotifyTools: libinotifytools (Debian's libinotifytools0-dev), used only by ConvdWatch's
// owner thread: the library keeps one process-global inotify instance and is not thread-safe.
#include <sys/inotify.h>
#include <sys/vfs.h>
#include <inotifytools/inotifytools.h>
