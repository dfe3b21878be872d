// The file calls, as requests to vfs (vfs/protocol.h). Data travels in the
// messages: a read or write moves at most what one message carries, and
// write loops until everything is written, as write(2) does for a blocking
// descriptor.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "calls.h"
#include "vfs/protocol.h"

using posix_calls::call;
using posix_calls::ret;
using posix_calls::Server;
namespace proto = vfs::protocol;

extern "C" void* malloc(size_t size);
extern "C" void free(void* p);

namespace {

uint64_t label(proto::Label l) { return static_cast<uint64_t>(l); }
uint64_t word(int64_t v) { return static_cast<uint64_t>(v); }

// A request whose only argument is a path.
int64_t path_call(proto::Label l, const char* path, os::Reply* reply = nullptr) {
  const int64_t n = posix_calls::path_length(path);
  if (n < 0) return -1;
  const os::Reply r = call(Server::Vfs, label(l), {}, path, static_cast<size_t>(n));
  if (reply != nullptr) *reply = r;
  return ret(r);
}

void fill_stat(const os::Reply& r, struct stat* st) {
  st->st_ino = r.mr[1];
  st->st_mode = static_cast<mode_t>(r.mr[2]);
  st->st_nlink = r.mr[3];
  st->st_size = static_cast<off_t>(r.mr[4]);
  st->st_blocks = static_cast<blkcnt_t>(r.mr[5]);
}

}  // namespace

struct DIR {
  int fd;
  struct dirent entry;
};

extern "C" {

int open(const char* path, int flags, ...) {
  const int64_t n = posix_calls::path_length(path);
  if (n < 0) return -1;
  return static_cast<int>(
      ret(call(Server::Vfs, label(proto::Label::Open), {word(flags)}, path, static_cast<size_t>(n))));
}

int creat(const char* path, mode_t) { return open(path, O_WRONLY | O_CREAT | O_TRUNC); }

int close(int fd) { return static_cast<int>(ret(call(Server::Vfs, label(proto::Label::Close), {word(fd)}))); }

ssize_t read(int fd, void* buf, size_t count) {
  if (count == 0) return 0;
  const size_t want = count < proto::kMaxRead ? count : proto::kMaxRead;
  // Checked before vfs moves the file offset or takes data from a pipe.
  if (posix_calls::bad_range(buf, want, true)) return -1;
  const os::Reply r = call(Server::Vfs, label(proto::Label::Read), {word(fd), want});
  const int64_t n = ret(r);
  if (n <= 0) return n;
  const size_t got = static_cast<size_t>(n) < want ? static_cast<size_t>(n) : want;
  msg::unpack(buf, r.mr + 1, got);
  return static_cast<ssize_t>(got);
}

ssize_t write(int fd, const void* buf, size_t count) {
  if (count == 0) return 0;
  if (posix_calls::bad_range(buf, count)) return -1;
  const auto* bytes = static_cast<const char*>(buf);
  size_t done = 0;
  while (done < count) {
    const size_t chunk = count - done < proto::kMaxWrite ? count - done : proto::kMaxWrite;
    const os::Reply r = call(Server::Vfs, label(proto::Label::Write), {word(fd)}, bytes + done, chunk);
    const int64_t n = ret(r);
    if (n < 0) {
      extern int errno;
      if (errno == 32) (void)raise(SIGPIPE);  // EPIPE: the default action ends the writer
      return done > 0 ? static_cast<ssize_t>(done) : -1;
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(done);
}

off_t lseek(int fd, off_t offset, int whence) {
  return static_cast<off_t>(ret(call(Server::Vfs, label(proto::Label::Lseek), {word(fd), word(offset), word(whence)})));
}

int dup(int fd) { return static_cast<int>(ret(call(Server::Vfs, label(proto::Label::Dup), {word(fd)}))); }

int dup2(int fd, int fd2) {
  return static_cast<int>(ret(call(Server::Vfs, label(proto::Label::Dup2), {word(fd), word(fd2)})));
}

int pipe(int fds[2]) {
  if (posix_calls::bad_range(fds, 2 * sizeof(int), true)) return -1;
  const os::Reply r = call(Server::Vfs, label(proto::Label::Pipe), {});
  if (ret(r) < 0) return -1;
  fds[0] = static_cast<int>(r.mr[1]);
  fds[1] = static_cast<int>(r.mr[2]);
  return 0;
}

int fstat(int fd, struct stat* st) {
  if (posix_calls::bad_range(st, sizeof *st, true)) return -1;
  const os::Reply r = call(Server::Vfs, label(proto::Label::Fstat), {word(fd)});
  if (ret(r) < 0) return -1;
  fill_stat(r, st);
  return 0;
}

int stat(const char* path, struct stat* st) {
  if (posix_calls::bad_range(st, sizeof *st, true)) return -1;
  os::Reply r;
  if (path_call(proto::Label::Stat, path, &r) < 0) return -1;
  fill_stat(r, st);
  return 0;
}

int unlink(const char* path) { return static_cast<int>(path_call(proto::Label::Unlink, path)); }
int rmdir(const char* path) { return static_cast<int>(path_call(proto::Label::Rmdir, path)); }
int chdir(const char* path) { return static_cast<int>(path_call(proto::Label::Chdir, path)); }
int mkdir(const char* path, mode_t) { return static_cast<int>(path_call(proto::Label::Mkdir, path)); }

char* getcwd(char* buf, size_t size) {
  if (posix_calls::bad_range(buf, size, true)) return nullptr;
  // The cwd comes in pieces of at most kMaxRead bytes.
  size_t have = 0;
  for (;;) {
    const os::Reply r = call(Server::Vfs, label(proto::Label::Getcwd), {have});
    const int64_t n = ret(r);
    if (n < 0) return nullptr;
    const auto total = static_cast<size_t>(n);
    if (total + 1 > size) {
      posix_calls::set_errno(34);  // ERANGE
      return nullptr;
    }
    const size_t chunk = total - have < proto::kMaxRead ? total - have : proto::kMaxRead;
    msg::unpack(buf + have, r.mr + 1, chunk);
    have += chunk;
    if (have >= total) {
      buf[total] = '\0';
      return buf;
    }
  }
}

int isatty(int fd) { return ret(call(Server::Vfs, label(proto::Label::Isatty), {word(fd)})) > 0 ? 1 : 0; }

pid_t tcgetpgrp(int fd) {
  return static_cast<pid_t>(ret(call(Server::Vfs, label(proto::Label::GetForeground), {word(fd)})));
}

int tcsetpgrp(int fd, pid_t pgrp) {
  return static_cast<int>(ret(call(Server::Vfs, label(proto::Label::SetForeground), {word(fd), word(pgrp)})));
}

DIR* opendir(const char* path) {
  const int fd = open(path, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return nullptr;
  DIR* dir = static_cast<DIR*>(malloc(sizeof(DIR)));
  if (dir == nullptr) {
    (void)close(fd);
    posix_calls::set_errno(12);  // ENOMEM
    return nullptr;
  }
  dir->fd = fd;
  return dir;
}

struct dirent* readdir(DIR* dir) {
  const os::Reply r = call(Server::Vfs, label(proto::Label::Readdir), {word(dir->fd)});
  if (ret(r) <= 0) return nullptr;
  dir->entry.d_ino = r.mr[1];
  const uint64_t type = r.mr[2] & S_IFMT;
  dir->entry.d_type = type == S_IFDIR ? DT_DIR : type == S_IFREG ? DT_REG : type == S_IFCHR ? DT_CHR
                      : type == S_IFIFO ? DT_FIFO : DT_UNKNOWN;
  const uint64_t n = r.mr[3] < sizeof dir->entry.d_name - 1 ? r.mr[3] : sizeof dir->entry.d_name - 1;
  msg::unpack(dir->entry.d_name, r.mr + 4, n);
  dir->entry.d_name[n] = '\0';
  return &dir->entry;
}

int closedir(DIR* dir) {
  const int result = close(dir->fd);
  free(dir);
  return result;
}

}  // extern "C"
