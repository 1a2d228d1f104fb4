#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>

#include "csystem.h"

int csystem_start_writeback(int fd) {
    return sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
}

int csystem_wait_writeback(int fd) {
    return sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
}

int csystem_sync_filesystem(int fd) {
    return syncfs(fd);
}
