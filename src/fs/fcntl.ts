/**
 * The open(2) flags and lseek(2) whences as x86-64 Linux numbers them
 * (include/uapi/asm-generic/fcntl.h, include/uapi/linux/fs.h), and the few
 * errnos the file calls return that src/vm/mman.ts does not list.
 */
export const O_ACCMODE = 0o3;
export const O_RDONLY = 0o0;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NOCTTY = 0o400;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_DSYNC = 0o10000;
export const O_DIRECT = 0o40000;
export const O_LARGEFILE = 0o100000;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;
export const O_NOATIME = 0o1000000;
export const O_CLOEXEC = 0o2000000;
export const O_SYNC = 0o4010000;
export const O_PATH = 0o10000000;

export const SEEK_SET = 0;
export const SEEK_CUR = 1;
export const SEEK_END = 2;
export const SEEK_DATA = 3;
export const SEEK_HOLE = 4;

export const ESPIPE = 29;
export const ENAMETOOLONG = 36;
export const ENOTEMPTY = 39;
export const ELOOP = 40;

/** MAX_LFS_FILESIZE on 64-bit (LLONG_MAX), kept to what a double holds exactly */
export const MAX_LFS_FILESIZE = Number.MAX_SAFE_INTEGER;
/** NR_OPEN_DEFAULT ... the default RLIMIT_NOFILE soft limit */
export const RLIMIT_NOFILE_CUR = 1024;

/** posix_fadvise(2) advice (include/uapi/linux/fadvise.h, x86-64) */
export const POSIX_FADV_NORMAL = 0;
export const POSIX_FADV_RANDOM = 1;
export const POSIX_FADV_SEQUENTIAL = 2;
export const POSIX_FADV_WILLNEED = 3;
export const POSIX_FADV_DONTNEED = 4;
export const POSIX_FADV_NOREUSE = 5;
