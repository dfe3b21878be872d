// The errno values the C library knows, with their names and strerror texts:
// one list, from which <errno.h>'s macros are checked (libos/libc/errno.cc),
// strerror and perror take their texts and the tests compare both with the
// servers' list (servers/common/posix_errno.h) and the host's glibc. The
// numbers and texts are Linux's and glibc's, so output matches what a
// programmer has seen elsewhere. Beyond the servers' list it holds the rest
// of Linux's numbers 1 to 40 and the few C and POSIX name for results of
// the C library itself (EDOM, ERANGE, EOVERFLOW, EILSEQ, ENOTSUP).
#pragma once

// X(name, number, "text")
#define OS_LIBC_ERRNO_LIST(X)                                   \
  X(EPERM, 1, "Operation not permitted")                        \
  X(ENOENT, 2, "No such file or directory")                     \
  X(ESRCH, 3, "No such process")                                \
  X(EINTR, 4, "Interrupted system call")                        \
  X(EIO, 5, "Input/output error")                               \
  X(ENXIO, 6, "No such device or address")                      \
  X(E2BIG, 7, "Argument list too long")                         \
  X(ENOEXEC, 8, "Exec format error")                            \
  X(EBADF, 9, "Bad file descriptor")                            \
  X(ECHILD, 10, "No child processes")                           \
  X(EAGAIN, 11, "Resource temporarily unavailable")             \
  X(ENOMEM, 12, "Cannot allocate memory")                       \
  X(EACCES, 13, "Permission denied")                            \
  X(EFAULT, 14, "Bad address")                                  \
  X(ENOTBLK, 15, "Block device required")                       \
  X(EBUSY, 16, "Device or resource busy")                       \
  X(EEXIST, 17, "File exists")                                  \
  X(EXDEV, 18, "Invalid cross-device link")                     \
  X(ENODEV, 19, "No such device")                               \
  X(ENOTDIR, 20, "Not a directory")                             \
  X(EISDIR, 21, "Is a directory")                               \
  X(EINVAL, 22, "Invalid argument")                             \
  X(ENFILE, 23, "Too many open files in system")                \
  X(EMFILE, 24, "Too many open files")                          \
  X(ENOTTY, 25, "Inappropriate ioctl for device")               \
  X(ETXTBSY, 26, "Text file busy")                              \
  X(EFBIG, 27, "File too large")                                \
  X(ENOSPC, 28, "No space left on device")                      \
  X(ESPIPE, 29, "Illegal seek")                                 \
  X(EROFS, 30, "Read-only file system")                         \
  X(EMLINK, 31, "Too many links")                               \
  X(EPIPE, 32, "Broken pipe")                                   \
  X(EDOM, 33, "Numerical argument out of domain")               \
  X(ERANGE, 34, "Numerical result out of range")                \
  X(EDEADLK, 35, "Resource deadlock avoided")                   \
  X(ENAMETOOLONG, 36, "File name too long")                     \
  X(ENOLCK, 37, "No locks available")                           \
  X(ENOSYS, 38, "Function not implemented")                     \
  X(ENOTEMPTY, 39, "Directory not empty")                       \
  X(ELOOP, 40, "Too many levels of symbolic links")             \
  X(EOVERFLOW, 75, "Value too large for defined data type")     \
  X(EILSEQ, 84, "Invalid or incomplete multibyte or wide character") \
  X(ENOTSUP, 95, "Operation not supported")

namespace os::libc {

// glibc's text for an error number ("No such file or directory"), or nullptr
// for a number not in the list (strerror then says "Unknown error N").
// Number 0 is "Success", as in glibc.
const char* error_text(int number);

// The macro's name ("ENOENT"), or nullptr for a number not in the list.
const char* error_name(int number);

}  // namespace os::libc
