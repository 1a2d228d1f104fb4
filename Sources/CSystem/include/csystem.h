// CSystem: the Linux calls ConvdSystem needs that Swift's Glibc module does not import.
#ifndef CSYSTEM_H
#define CSYSTEM_H

/// Starts writing `fd`'s dirty pages to the device without waiting for them
/// (sync_file_range with SYNC_FILE_RANGE_WRITE over the whole file); -1 with errno on error.
int csystem_start_writeback(int fd);

/// Writes `fd`'s dirty pages and waits for them (no device flush, no inode); -1 with errno
/// when a write-back of this file failed since `fd` was opened (EIO, ENOSPC, ...).
int csystem_wait_writeback(int fd);

/// syncfs(2): writes every dirty page and inode of the file system holding `fd`, waits, and
/// flushes the device.
int csystem_sync_filesystem(int fd);

#endif
