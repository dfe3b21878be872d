// Group "files": open, read, write, close, lseek, dup, dup2, stat and
// fstat, unlink, mkdir and rmdir, chdir and getcwd, directory listings, the
// read-only /bin, and every error each of them promises.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "posixtest.h"

namespace {

template <typename T>
T opaque(uintptr_t value) {
  asm volatile("" : "+r"(value));
  return reinterpret_cast<T>(value);
}

constexpr uintptr_t kKernelAddress = 0xffffffc000000000ULL;
constexpr uintptr_t kUnmappedUserAddress = 0x1000000000ULL;  // 64 GiB: between heap and stack

// The size stat() gives, or -1.
long size_of(const char* path) {
  struct stat st;
  return stat(path, &st) == 0 ? static_cast<long>(st.st_size) : -1;
}

// Whether the whole file is exactly `expected` (n bytes).
bool contents_are(const char* path, const void* expected, size_t n) {
  const int fd = open(path, O_RDONLY);
  if (fd < 0) return false;
  char buf[512];
  const long got = pt::read_full(fd, buf, sizeof buf);
  (void)close(fd);
  return got == static_cast<long>(n) && pt::same_bytes(buf, expected, n);
}

#define CHECK_CONTENTS(path, text)                                                                        \
  do {                                                                                                    \
    const char pt_expected[] = text;                                                                      \
    CHECK_M(contents_are((path), pt_expected, sizeof pt_expected - 1), "expected \"" << pt_expected << "\""); \
  } while (0)

#define CHECK_READS(fd, text)                                                                             \
  do {                                                                                                    \
    const char pt_expected[] = text;                                                                      \
    char pt_buf[sizeof pt_expected] = {};                                                                 \
    const ssize_t pt_n = read((fd), pt_buf, sizeof pt_expected - 1);                                      \
    CHECK_M(pt_n == static_cast<ssize_t>(sizeof pt_expected - 1) &&                                       \
                pt::same_bytes(pt_buf, pt_expected, sizeof pt_expected - 1),                              \
            "read " << pt_n << " bytes \"" << pt_buf << "\", expected \"" << pt_expected << "\"");        \
  } while (0)

}  // namespace

PTEST(files, create_write_read_close) {
  const pt::Path f("file");
  int fd;
  CHECK_OK(fd = open(f, O_WRONLY | O_CREAT | O_TRUNC, 0644));
  CHECK(fd > 2);
  CHECK_EQ(write(fd, "hello, world\n", 13), 13L);
  CHECK_EQ(write(fd, "", 0), 0L);
  CHECK_OK(close(fd));
  CHECK_EQ(size_of(f), 13L);

  CHECK_OK(fd = open(f, O_RDONLY));
  char buf[64] = {};
  CHECK_EQ(read(fd, buf, sizeof buf), 13L);  // a short read: the file ends
  CHECK(pt::same_bytes(buf, "hello, world\n", 13));
  CHECK_EQ(read(fd, buf, sizeof buf), 0L);  // end of file
  CHECK_EQ(read(fd, buf, 0), 0L);
  CHECK_OK(close(fd));

  // O_RDWR: reads and writes move one offset.
  CHECK_OK(fd = open(f, O_RDWR));
  CHECK_EQ(write(fd, "HE", 2), 2L);
  CHECK_READS(fd, "llo");
  CHECK_OK(close(fd));
  CHECK_CONTENTS(f, "HEllo, world\n");

  // The lowest free descriptor is reused.
  int a, b, c;
  CHECK_OK(a = open(f, O_RDONLY));
  CHECK_OK(b = open(f, O_RDONLY));
  CHECK(b > a);
  CHECK_OK(close(a));
  CHECK_OK(c = open(f, O_RDONLY));
  CHECK_EQ(c, a);
  CHECK_OK(close(b));
  CHECK_OK(close(c));
}

PTEST(files, o_trunc_and_o_creat) {
  const pt::Path f("file");
  CHECK(pt::make_file(f, "abcdef"));
  int fd;
  // O_CREAT on an existing file without O_TRUNC keeps it; writing overwrites.
  CHECK_OK(fd = open(f, O_WRONLY | O_CREAT, 0644));
  CHECK_EQ(write(fd, "XY", 2), 2L);
  CHECK_OK(close(fd));
  CHECK_CONTENTS(f, "XYcdef");
  // O_TRUNC empties it.
  CHECK_OK(fd = open(f, O_WRONLY | O_TRUNC));
  struct stat st;
  CHECK_OK(fstat(fd, &st));
  CHECK_EQ(st.st_size, 0L);
  CHECK_OK(close(fd));
  CHECK_EQ(size_of(f), 0L);
  // creat() is open(O_WRONLY | O_CREAT | O_TRUNC).
  CHECK(pt::make_file(f, "again"));
  CHECK_OK(fd = creat(f, 0644));
  CHECK_OK(close(fd));
  CHECK_EQ(size_of(f), 0L);
}

PTEST(files, o_append_writes_at_the_end) {
  const pt::Path f("file");
  CHECK(pt::make_file(f, "abc"));
  int fd, other;
  CHECK_OK(fd = open(f, O_WRONLY | O_APPEND));
  CHECK_EQ(lseek(fd, 0, SEEK_SET), 0L);
  CHECK_EQ(write(fd, "d", 1), 1L);  // at the end, whatever the offset
  CHECK_EQ(lseek(fd, 0, SEEK_CUR), 4L);
  CHECK_CONTENTS(f, "abcd");
  // Two appending descriptions interleave at the end.
  CHECK_OK(other = open(f, O_WRONLY | O_APPEND));
  CHECK_EQ(write(fd, "1", 1), 1L);
  CHECK_EQ(write(other, "2", 1), 1L);
  CHECK_EQ(write(fd, "3", 1), 1L);
  CHECK_CONTENTS(f, "abcd123");
  // A description without O_APPEND writes at its own offset.
  int plain;
  CHECK_OK(plain = open(f, O_WRONLY));
  CHECK_EQ(write(plain, "Z", 1), 1L);
  CHECK_CONTENTS(f, "Zbcd123");
  for (int d : {fd, other, plain}) CHECK_OK(close(d));
}

PTEST(files, lseek_set_cur_end_and_beyond) {
  const pt::Path f("file");
  CHECK(pt::make_file(f, "0123456789"));
  int fd;
  CHECK_OK(fd = open(f, O_RDWR));
  CHECK_EQ(lseek(fd, 3, SEEK_SET), 3L);
  CHECK_READS(fd, "34");
  CHECK_EQ(lseek(fd, 0, SEEK_CUR), 5L);
  CHECK_EQ(lseek(fd, -2, SEEK_CUR), 3L);
  CHECK_READS(fd, "3");
  CHECK_EQ(lseek(fd, 0, SEEK_END), 10L);
  CHECK_EQ(lseek(fd, -1, SEEK_END), 9L);
  CHECK_READS(fd, "9");
  // Past the end: reads give end of file, a write extends with zeros.
  CHECK_EQ(lseek(fd, 100, SEEK_SET), 100L);
  char c;
  CHECK_EQ(read(fd, &c, 1), 0L);
  CHECK_EQ(write(fd, "x", 1), 1L);
  CHECK_EQ(size_of(f), 101L);
  CHECK_EQ(lseek(fd, 10, SEEK_SET), 10L);
  char gap[90];
  pt::fill(gap, 0xee, sizeof gap);
  CHECK_EQ(pt::read_full(fd, gap, sizeof gap), 90L);
  for (char g : gap) CHECK_EQ(g, 0);
  CHECK_READS(fd, "x");
  CHECK_EQ(lseek(fd, 10, SEEK_END), 111L);
  CHECK_EQ(size_of(f), 101L);  // seeking alone does not grow the file
  CHECK_OK(close(fd));
}

PTEST(files, lseek_errors) {
  const pt::Path f("file");
  CHECK(pt::make_file(f, "0123456789"));
  int fd;
  CHECK_OK(fd = open(f, O_RDONLY));
  CHECK_EQ(lseek(fd, 4, SEEK_SET), 4L);
  CHECK_ERR(lseek(fd, -1, SEEK_SET), EINVAL);
  CHECK_ERR(lseek(fd, -5, SEEK_CUR), EINVAL);
  CHECK_ERR(lseek(fd, -11, SEEK_END), EINVAL);
  CHECK_ERR(lseek(fd, 0, 77), EINVAL);  // (3 and 4 are Linux's SEEK_DATA and SEEK_HOLE)
  CHECK_ERR(lseek(fd, 0, -1), EINVAL);
  CHECK_EQ(lseek(fd, 0, SEEK_CUR), 4L);  // the errors moved nothing
  CHECK_OK(close(fd));
  CHECK_ERR(lseek(fd, 0, SEEK_SET), EBADF);
  CHECK_ERR(lseek(-1, 0, SEEK_SET), EBADF);
  int p[2];
  CHECK_OK(pipe(p));
  CHECK_ERR(lseek(p[0], 0, SEEK_CUR), ESPIPE);
  CHECK_ERR(lseek(p[1], 0, SEEK_SET), ESPIPE);
  CHECK_OK(close(p[0]));
  CHECK_OK(close(p[1]));
  if (isatty(STDIN_FILENO)) CHECK_ERR(lseek(STDIN_FILENO, 0, SEEK_CUR), ESPIPE);
}

PTEST(files, access_modes) {
  const pt::Path f("file");
  CHECK(pt::make_file(f, "data"));
  int r, w;
  CHECK_OK(r = open(f, O_RDONLY));
  CHECK_OK(w = open(f, O_WRONLY));
  char c;
  CHECK_ERR(write(r, "x", 1), EBADF);
  CHECK_ERR(read(w, &c, 1), EBADF);
  CHECK_OK(close(r));
  CHECK_OK(close(w));
  CHECK_CONTENTS(f, "data");
}

PTEST(files, large_write_and_read_back) {
  // More than one message and one page: write and read loop underneath.
  // In a child, so the buffers' memory goes with it.
  const pt::Path f("big");
  pid_t child;
  CHECK_OK(child = pt::spawn([&] {
    constexpr size_t kBytes = 100000;
    auto* out = static_cast<unsigned char*>(malloc(kBytes));
    auto* in = static_cast<unsigned char*>(malloc(kBytes));
    CHECK(out != nullptr && in != nullptr);
    for (size_t i = 0; i < kBytes; ++i) out[i] = static_cast<unsigned char>(i * 13 + (i >> 8));
    int fd;
    CHECK_OK(fd = open(f, O_RDWR | O_CREAT | O_TRUNC, 0644));
    CHECK_EQ(write(fd, out, kBytes), static_cast<long>(kBytes));
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), static_cast<long>(kBytes));
    CHECK_EQ(size_of(f), static_cast<long>(kBytes));
    CHECK_EQ(lseek(fd, 0, SEEK_SET), 0L);
    const ssize_t first = read(fd, in, kBytes);
    CHECK(first > 0 && first <= static_cast<ssize_t>(kBytes));
    CHECK_EQ(pt::read_full(fd, in + first, kBytes - first), static_cast<long>(kBytes - first));
    CHECK(pt::same_bytes(in, out, kBytes));
    CHECK_EQ(read(fd, in, 1), 0L);
    CHECK_OK(close(fd));
  }));
  CHECK_EXITS(child, 0);
}

PTEST(files, dup_shares_the_offset) {
  const pt::Path f("file");
  CHECK(pt::make_file(f, "abcdefgh"));
  int a, b, d;
  CHECK_OK(a = open(f, O_RDONLY));
  CHECK_OK(b = open(f, O_RDONLY));
  CHECK_OK(close(a));
  CHECK_OK(d = dup(b));
  CHECK_EQ(d, a);  // the lowest free descriptor
  CHECK_READS(b, "abc");
  CHECK_READS(d, "def");  // one offset for both
  CHECK_EQ(lseek(d, 1, SEEK_SET), 1L);
  CHECK_EQ(lseek(b, 0, SEEK_CUR), 1L);
  CHECK_OK(close(b));
  CHECK_READS(d, "bc");  // the description lives on
  CHECK_OK(close(d));
  CHECK_ERR(dup(d), EBADF);
  CHECK_ERR(dup(-1), EBADF);
}

PTEST(files, dup2) {
  const pt::Path f("file"), g("other");
  CHECK(pt::make_file(f, "abcdef"));
  CHECK(pt::make_file(g, "XYZ"));
  int fd, other;
  CHECK_OK(fd = open(f, O_RDONLY));
  CHECK_EQ(dup2(fd, 20), 20);
  CHECK_READS(fd, "ab");
  CHECK_READS(20, "cd");
  // Onto an open descriptor: it is closed first, silently.
  CHECK_OK(other = open(g, O_RDONLY));
  CHECK_EQ(dup2(fd, other), other);
  CHECK_READS(other, "ef");
  // The highest descriptor a process is sure to have (Linux's limit is
  // usually 1024, ours 256).
  CHECK_EQ(dup2(fd, 255), 255);
  CHECK_OK(close(255));
  // Onto itself: nothing happens.
  CHECK_EQ(dup2(fd, fd), fd);
  CHECK_EQ(lseek(fd, 0, SEEK_CUR), 6L);
  // Errors: a bad source, a target out of range; nothing changes.
  CHECK_ERR(dup2(200, 21), EBADF);
  CHECK_ERR(dup2(-1, 21), EBADF);
  CHECK_ERR(dup2(fd, -1), EBADF);
  CHECK_ERR(dup2(fd, 100000), EBADF);
  CHECK_ERR(close(21), EBADF);
  for (int d : {20, other, fd}) CHECK_OK(close(d));
  CHECK_ERR(dup2(fd, 21), EBADF);  // closed
  CHECK_ERR(dup2(fd, fd), EBADF);
}

PTEST(files, stat_and_fstat) {
  const pt::Path f("file"), d("dir");
  CHECK(pt::make_file(f, "12345"));
  CHECK_OK(mkdir(d, 0755));
  struct stat st, st2;
  CHECK_OK(stat(f, &st));
  CHECK(S_ISREG(st.st_mode));
  CHECK(!S_ISDIR(st.st_mode));
  CHECK_EQ(st.st_size, 5L);
  CHECK_EQ(st.st_nlink, 1UL);
  int fd;
  CHECK_OK(fd = open(f, O_RDONLY));
  CHECK_OK(fstat(fd, &st2));
  CHECK_EQ(st2.st_ino, st.st_ino);
  CHECK_EQ(st2.st_size, 5L);
  CHECK(S_ISREG(st2.st_mode));
  CHECK_OK(close(fd));

  CHECK_OK(stat(d, &st2));
  CHECK(S_ISDIR(st2.st_mode));
  CHECK(st2.st_ino != st.st_ino);
  const char* const dirs[] = {"/", "/bin", "/tmp", pt::scratch_dir()};
  for (const char* dir : dirs) {
    CHECK_OK(stat(dir, &st));
    CHECK_M(S_ISDIR(st.st_mode), dir << ": mode 0" << st.st_mode);
  }
  CHECK_OK(stat(pt::self_path(), &st));
  CHECK(S_ISREG(st.st_mode));
  CHECK(st.st_size > 4096);
  CHECK_OK(stat("/bin/../bin/./posixtest", &st2));  // "." and ".." resolve
  CHECK_EQ(st2.st_ino, st.st_ino);

  int p[2];
  CHECK_OK(pipe(p));
  CHECK_OK(fstat(p[0], &st));
  CHECK(S_ISFIFO(st.st_mode));
  CHECK_OK(fstat(p[1], &st));
  CHECK(S_ISFIFO(st.st_mode));
  CHECK_OK(close(p[0]));
  CHECK_OK(close(p[1]));
  if (isatty(STDIN_FILENO)) {
    CHECK_OK(fstat(STDIN_FILENO, &st));
    CHECK(S_ISCHR(st.st_mode));
  }
  CHECK_ERR(stat(pt::Path("file/"), &st), ENOTDIR);  // a trailing slash wants a directory
  CHECK_ERR(fstat(-1, &st), EBADF);
}

PTEST(files, unlink) {
  const pt::Path f("file"), d("dir");
  CHECK(pt::make_file(f, "x"));
  CHECK_OK(unlink(f));
  struct stat st;
  CHECK_ERR(stat(f, &st), ENOENT);
  CHECK_ERR(open(f, O_RDONLY), ENOENT);
  CHECK_ERR(unlink(f), ENOENT);
  // A directory is rmdir's: Linux says EISDIR, POSIX EPERM.
  CHECK_OK(mkdir(d, 0755));
  CHECK_ERR2(unlink(d), EISDIR, EPERM);
  CHECK_OK(stat(d, &st));
  // An open file outlives its name.
  int fd;
  CHECK_OK(fd = open(f, O_RDWR | O_CREAT | O_EXCL, 0644));
  CHECK_EQ(write(fd, "keep", 4), 4L);
  CHECK_OK(unlink(f));
  CHECK_ERR(stat(f, &st), ENOENT);
  CHECK_OK(fstat(fd, &st));
  CHECK_EQ(st.st_nlink, 0UL);
  CHECK_EQ(st.st_size, 4L);
  CHECK_EQ(lseek(fd, 0, SEEK_SET), 0L);
  CHECK_READS(fd, "keep");
  CHECK_EQ(write(fd, "!", 1), 1L);
  CHECK_OK(close(fd));
  // The name is free again: a new, empty file.
  CHECK_OK(fd = open(f, O_RDWR | O_CREAT | O_EXCL, 0644));
  CHECK_OK(fstat(fd, &st));
  CHECK_EQ(st.st_size, 0L);
  CHECK_OK(close(fd));
}

PTEST(files, mkdir_rmdir) {
  const pt::Path d("dir"), sub("dir/sub"), f("file");
  CHECK_OK(mkdir(d, 0755));
  struct stat st;
  CHECK_OK(stat(d, &st));
  CHECK(S_ISDIR(st.st_mode));
  CHECK_ERR(mkdir(d, 0755), EEXIST);
  CHECK(pt::make_file(f, ""));
  CHECK_ERR(mkdir(f, 0755), EEXIST);
  CHECK_OK(mkdir(sub, 0755));
  CHECK_ERR2(rmdir(d), ENOTEMPTY, EEXIST);  // POSIX allows either
  CHECK_OK(rmdir(sub));
  CHECK_OK(rmdir(d));
  CHECK_ERR(stat(d, &st), ENOENT);
  CHECK_ERR(rmdir(d), ENOENT);
  CHECK_ERR(rmdir(f), ENOTDIR);
  CHECK_ERR(mkdir(pt::Path("missing/x"), 0755), ENOENT);
  CHECK_ERR(mkdir(pt::Path("file/x"), 0755), ENOTDIR);
  // A trailing slash is fine on a directory.
  CHECK_OK(mkdir(pt::Path("slash/"), 0755));
  CHECK_OK(rmdir(pt::Path("slash/")));
  // Files in a directory, then the directory: all gone.
  CHECK_OK(mkdir(d, 0755));
  CHECK(pt::make_file(pt::Path("dir/a"), "a"));
  CHECK_ERR2(rmdir(d), ENOTEMPTY, EEXIST);
  CHECK_OK(unlink(pt::Path("dir/a")));
  CHECK_OK(rmdir(d));
}

PTEST(files, chdir_getcwd_relative_paths) {
  char cwd[256];
  const pt::Path sub("sub");
  CHECK_OK(chdir(pt::scratch_dir()));
  CHECK(getcwd(cwd, sizeof cwd) != nullptr);
  CHECK_STREQ(cwd, pt::scratch_dir());
  CHECK(pt::make_file("rel", "relative"));  // relative to the cwd
  CHECK_EQ(size_of(pt::Path("rel")), 8L);
  CHECK_OK(mkdir("sub", 0755));
  CHECK_OK(chdir("sub"));
  CHECK(getcwd(cwd, sizeof cwd) != nullptr);
  CHECK_STREQ(cwd, sub.c_str());
  CHECK_CONTENTS("../rel", "relative");
  CHECK_OK(chdir(".."));
  CHECK(getcwd(cwd, sizeof cwd) != nullptr);
  CHECK_STREQ(cwd, pt::scratch_dir());
  CHECK_OK(chdir("./sub/../sub/."));
  CHECK(getcwd(cwd, sizeof cwd) != nullptr);
  CHECK_STREQ(cwd, sub.c_str());
  CHECK_OK(chdir("/"));
  CHECK(getcwd(cwd, sizeof cwd) != nullptr);
  CHECK_STREQ(cwd, "/");
  CHECK_OK(chdir(".."));  // "/.." is "/"
  CHECK(getcwd(cwd, sizeof cwd) != nullptr);
  CHECK_STREQ(cwd, "/");

  // A child starts in its parent's directory; its chdir is its own.
  CHECK_OK(chdir(pt::scratch_dir()));
  pid_t child;
  CHECK_OK(child = pt::spawn([&] {
    char here[256];
    CHECK(getcwd(here, sizeof here) != nullptr);
    CHECK_STREQ(here, pt::scratch_dir());
    CHECK_OK(chdir("sub"));
  }));
  CHECK_EXITS(child, 0);
  CHECK(getcwd(cwd, sizeof cwd) != nullptr);
  CHECK_STREQ(cwd, pt::scratch_dir());

  // Errors.
  CHECK_ERR(chdir("rel"), ENOTDIR);
  CHECK_ERR(chdir("nothing"), ENOENT);
  CHECK_FAILS(getcwd(cwd, 3) == nullptr, ERANGE);
  // A removed working directory: getcwd fails, nothing can be made in it.
  CHECK_OK(chdir("sub"));
  CHECK_OK(rmdir(sub));
  CHECK_FAILS(getcwd(cwd, sizeof cwd) == nullptr, ENOENT);
  CHECK_ERR(open("new", O_WRONLY | O_CREAT, 0644), ENOENT);
  CHECK_OK(chdir(pt::scratch_dir()));
}

PTEST(files, readdir_lists_entries) {
  const pt::Path dir("list");
  CHECK_OK(mkdir(dir, 0755));
  const char* const names[] = {"a", "b", "c", "d"};
  for (const char* n : names) {
    pt::Text path;
    path << dir.c_str() << '/' << n;
    if (n[0] == 'd') CHECK_OK(mkdir(path.c_str(), 0755));
    else CHECK(pt::make_file(path.c_str(), n));
  }
  struct stat a_stat;
  CHECK_OK(stat(pt::Path("list/a"), &a_stat));

  // Each name once, "." and ".." allowed, nothing else.
  for (int round = 0; round < 2; ++round) {
    int seen[4] = {0, 0, 0, 0};
    DIR* d = opendir(dir);
    CHECK(d != nullptr);
    while (struct dirent* e = readdir(d)) {
      if (pt::same_string(e->d_name, ".") || pt::same_string(e->d_name, "..")) continue;
      int i = 0;
      while (i < 4 && !pt::same_string(e->d_name, names[i])) ++i;
      CHECK_M(i < 4, "unexpected entry \"" << e->d_name << "\"");
      ++seen[i];
      CHECK_EQ(static_cast<int>(e->d_type), static_cast<int>(i == 3 ? DT_DIR : DT_REG));
      if (i == 0) CHECK_EQ(e->d_ino, a_stat.st_ino);
    }
    CHECK(readdir(d) == nullptr);  // stays at the end
    CHECK_OK(closedir(d));
    const int expected_b = round == 0 ? 1 : 0;
    CHECK_M(seen[0] == 1 && seen[1] == expected_b && seen[2] == 1 && seen[3] == 1,
            "seen a " << seen[0] << ", b " << seen[1] << ", c " << seen[2] << ", d " << seen[3]);
    if (round == 0) CHECK_OK(unlink(pt::Path("list/b")));  // the second round must not list it
  }

  // An empty directory lists nothing but "." and "..".
  DIR* d = opendir(pt::Path("list/d"));
  CHECK(d != nullptr);
  while (struct dirent* e = readdir(d)) {
    CHECK_M(pt::same_string(e->d_name, ".") || pt::same_string(e->d_name, ".."),
            "entry \"" << e->d_name << "\" in an empty directory");
  }
  CHECK_OK(closedir(d));

  // /bin holds the programs.
  bool posixtest = false, init = false;
  CHECK((d = opendir("/bin")) != nullptr);
  while (struct dirent* e = readdir(d)) {
    posixtest = posixtest || pt::same_string(e->d_name, "posixtest");
    init = init || pt::same_string(e->d_name, "init");
  }
  CHECK_OK(closedir(d));
  CHECK(posixtest && init);

  CHECK_FAILS(opendir(pt::Path("missing")) == nullptr, ENOENT);
  CHECK_FAILS(opendir(pt::Path("list/a")) == nullptr, ENOTDIR);
}

PTEST(files, bin_is_read_only) {
  const char* const prog = pt::self_path();
  const long size = size_of(prog);
  CHECK(size > 0);
  CHECK_ERR2(open(prog, O_WRONLY), EROFS, EACCES);
  CHECK_ERR2(open(prog, O_RDWR), EROFS, EACCES);
  CHECK_ERR2(open(prog, O_WRONLY | O_TRUNC), EROFS, EACCES);
  CHECK_ERR2(open("/bin/new-file", O_WRONLY | O_CREAT, 0644), EROFS, EACCES);
  CHECK_ERR2(unlink(prog), EROFS, EACCES);
  CHECK_ERR2(mkdir("/bin/new-dir", 0755), EROFS, EACCES);
  struct stat st;
  CHECK_ERR(stat("/bin/new-file", &st), ENOENT);
  CHECK_EQ(size_of(prog), size);
  // Reading works, and a read-only descriptor cannot write.
  int fd;
  CHECK_OK(fd = open(prog, O_RDONLY));
  CHECK_READS(fd, "\x7f" "ELF");
  CHECK_ERR(write(fd, "x", 1), EBADF);
  CHECK_OK(close(fd));
}

PTEST(files, ebadf) {
  char c = 0;
  struct stat st;
  for (int fd : {-1, 200, 255, 256, 100000}) {
    CHECK_ERR(read(fd, &c, 1), EBADF);
    CHECK_ERR(write(fd, &c, 1), EBADF);
    CHECK_ERR(close(fd), EBADF);
    CHECK_ERR(fstat(fd, &st), EBADF);
    CHECK_ERR(dup(fd), EBADF);
  }
  const pt::Path f("file");
  CHECK(pt::make_file(f, "abc"));
  int fd;
  CHECK_OK(fd = open(f, O_RDWR));
  CHECK_OK(close(fd));
  CHECK_ERR(close(fd), EBADF);  // closed already
  CHECK_ERR(read(fd, &c, 1), EBADF);
  CHECK_ERR(write(fd, &c, 1), EBADF);
  CHECK_ERR(fstat(fd, &st), EBADF);
  CHECK_CONTENTS(f, "abc");
}

PTEST(files, enoent) {
  const pt::Path missing("missing"), in_missing("missing/file");
  struct stat st;
  CHECK_ERR(open(missing, O_RDONLY), ENOENT);
  CHECK_ERR(open(missing, O_WRONLY), ENOENT);
  CHECK_ERR(open(in_missing, O_WRONLY | O_CREAT, 0644), ENOENT);
  CHECK_ERR(stat(missing, &st), ENOENT);
  CHECK_ERR(stat(in_missing, &st), ENOENT);
  CHECK_ERR(unlink(missing), ENOENT);
  CHECK_ERR(rmdir(missing), ENOENT);
  CHECK_ERR(chdir(missing), ENOENT);
  CHECK_ERR(open("", O_RDONLY), ENOENT);
  CHECK_ERR(stat("", &st), ENOENT);
  CHECK_ERR(open("/bin/no-such-program", O_RDONLY), ENOENT);
}

PTEST(files, enotdir_and_eisdir) {
  const pt::Path f("file"), d("dir");
  CHECK(pt::make_file(f, "abc"));
  CHECK_OK(mkdir(d, 0755));
  struct stat st;
  CHECK_ERR(open(pt::Path("file/x"), O_RDONLY), ENOTDIR);
  CHECK_ERR(open(pt::Path("file/x"), O_WRONLY | O_CREAT, 0644), ENOTDIR);
  CHECK_ERR(stat(pt::Path("file/x"), &st), ENOTDIR);
  CHECK_ERR(open(f, O_RDONLY | O_DIRECTORY), ENOTDIR);
  CHECK_ERR(chdir(f), ENOTDIR);
  CHECK_ERR(open(d, O_WRONLY), EISDIR);
  CHECK_ERR(open(d, O_RDWR), EISDIR);
  CHECK_ERR(open(d, O_WRONLY | O_CREAT, 0644), EISDIR);
  // A directory opens for reading, but read(2) is not how to list it.
  int fd;
  CHECK_OK(fd = open(d, O_RDONLY));
  char c;
  CHECK_ERR(read(fd, &c, 1), EISDIR);
  CHECK_ERR(write(fd, "x", 1), EBADF);
  CHECK_OK(fstat(fd, &st));
  CHECK(S_ISDIR(st.st_mode));
  CHECK_OK(close(fd));
  CHECK_OK(fd = open(d, O_RDONLY | O_DIRECTORY));
  CHECK_OK(close(fd));
}

PTEST(files, o_excl) {
  const pt::Path f("file"), d("dir");
  int fd;
  CHECK_OK(fd = open(f, O_WRONLY | O_CREAT | O_EXCL, 0644));
  CHECK_EQ(write(fd, "first", 5), 5L);
  CHECK_OK(close(fd));
  CHECK_ERR(open(f, O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST);
  CHECK_ERR(open(f, O_RDONLY | O_CREAT | O_EXCL | O_TRUNC, 0644), EEXIST);
  CHECK_CONTENTS(f, "first");
  CHECK_OK(mkdir(d, 0755));
  CHECK_ERR(open(d, O_RDONLY | O_CREAT | O_EXCL, 0644), EEXIST);
  CHECK_ERR2(open(pt::self_path(), O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST, EROFS);
}

PTEST(files, bad_buffers_efault) {
  const pt::Path f("file");
  CHECK(pt::make_file(f, "0123456789"));  // data to read, so a read cannot just see end of file
  int fd;
  CHECK_OK(fd = open(f, O_RDWR));
  struct stat st;
  for (uintptr_t bad : {uintptr_t{0}, uintptr_t{8}, kKernelAddress}) {
    CHECK_ERR(write(fd, opaque<const void*>(bad), 10), EFAULT);
    CHECK_ERR(read(fd, opaque<void*>(bad), 10), EFAULT);
    CHECK_ERR(open(opaque<const char*>(bad), O_RDONLY), EFAULT);
    CHECK_ERR(stat(opaque<const char*>(bad), &st), EFAULT);
    CHECK_ERR(stat(f, opaque<struct stat*>(bad)), EFAULT);
    CHECK_ERR(fstat(fd, opaque<struct stat*>(bad)), EFAULT);
    CHECK_ERR(pipe(opaque<int*>(bad)), EFAULT);
    CHECK_ERR(mkdir(opaque<const char*>(bad), 0755), EFAULT);
    CHECK_ERR(chdir(opaque<const char*>(bad)), EFAULT);
    CHECK_ERR(unlink(opaque<const char*>(bad)), EFAULT);
    if (bad != 0) CHECK_FAILS(getcwd(opaque<char*>(bad), 100) == nullptr, EFAULT);  // glibc mallocs for 0
  }
  // A buffer that starts well but runs off the end of user memory.
  CHECK_ERR(write(fd, opaque<const void*>((uintptr_t{1} << 38) - 4), 10), EFAULT);
  CHECK_EQ(lseek(fd, 0, SEEK_CUR), 0L);  // nothing was read or written
  CHECK_OK(fstat(fd, &st));
  CHECK_EQ(st.st_size, 10L);
  CHECK_CONTENTS(f, "0123456789");

  // A buffer in unmapped user memory (an address a process may use):
  // EFAULT as well (libos probes buffers). In a child, since a libos that
  // just copied would die of SIGSEGV.
  for (int write_it = 0; write_it < 2; ++write_it) {
    pid_t child;
    CHECK_OK(child = pt::spawn([&] {
      errno = 0;
      const ssize_t n = write_it ? write(fd, opaque<const void*>(kUnmappedUserAddress), 10)
                                 : read(fd, opaque<void*>(kUnmappedUserAddress), 10);
      const int e = errno;
      CHECK_M(n == -1 && e == EFAULT, (write_it ? "write" : "read") << " returned " << n << ", errno "
                                                                     << pt::errno_name(e));
    }));
    CHECK_EXITS(child, 0);
  }
  // The system keeps working.
  CHECK_EQ(lseek(fd, 0, SEEK_CUR), 0L);
  CHECK_EQ(write(fd, "ok", 2), 2L);
  CHECK_OK(close(fd));
  CHECK_CONTENTS(f, "ok23456789");
}

PTEST(files, names_too_long) {
  // A 300-byte name (NAME_MAX is at most 255 on any system we know).
  static char path[1024];
  const size_t dir_length = pt::length(pt::scratch_dir());
  for (size_t i = 0; i < dir_length; ++i) path[i] = pt::scratch_dir()[i];
  path[dir_length] = '/';
  pt::fill(path + dir_length + 1, 'n', 300);
  path[dir_length + 301] = '\0';
  CHECK_ERR(open(path, O_WRONLY | O_CREAT, 0644), ENAMETOOLONG);
  CHECK_ERR(mkdir(path, 0755), ENAMETOOLONG);
  // A 5,000-byte path (PATH_MAX is 4096 on Linux, 480 bytes fit a message here).
  static char long_path[5001];
  for (int i = 0; i < 5000; ++i) long_path[i] = i % 2 == 0 ? '/' : 'p';
  long_path[5000] = '\0';
  struct stat st;
  CHECK_ERR(stat(long_path, &st), ENAMETOOLONG);
  CHECK_ERR(open(long_path, O_RDONLY), ENAMETOOLONG);
}

PTEST(files, emfile_at_the_descriptor_limit) {
  const pt::Path f("file");
  CHECK(pt::make_file(f, ""));
  static int fds[2048];
  int n = 0, e = 0;
  for (; n < 2048; ++n) {
    errno = 0;
    fds[n] = open(f, O_RDONLY);
    e = errno;
    if (fds[n] < 0) break;
  }
  const int opened = n;
  for (int i = 0; i < opened; ++i) (void)close(fds[i]);
  CHECK_M(opened < 2048, "2048 descriptors and no limit");
  CHECK_M(e == EMFILE, "after " << opened << " opens: errno " << pt::errno_name(e) << ", expected EMFILE");
  CHECK(opened >= 20);
  // All closed again: the table works as before.
  int fd;
  CHECK_OK(fd = open(f, O_RDONLY));
  CHECK_EQ(fd, fds[0]);
  CHECK_OK(close(fd));
}

PTEST(files, many_files_in_one_directory) {
  // 100: each small file takes two pages of vfs's pool (data and block
  // index), which is 1 MiB at -m 64M (docs/boot.md), so about 170 fit.
  constexpr int kFiles = 100;
  for (int i = 0; i < kFiles; ++i) {
    pt::Text name;
    name << "f" << i;
    int fd;
    CHECK_OK(fd = open(pt::Path(name.c_str()), O_WRONLY | O_CREAT | O_EXCL, 0644));
    CHECK_EQ(write(fd, name.c_str(), name.size()), static_cast<long>(name.size()));
    CHECK_OK(close(fd));
  }
  static bool seen[kFiles];
  for (bool& b : seen) b = false;
  DIR* d = opendir(pt::scratch_dir());
  CHECK(d != nullptr);
  int count = 0;
  while (struct dirent* e = readdir(d)) {
    if (pt::same_string(e->d_name, ".") || pt::same_string(e->d_name, "..")) continue;
    long i = -1;
    CHECK_M(e->d_name[0] == 'f' && pt::parse_long(e->d_name + 1, i) && i >= 0 && i < kFiles && !seen[i],
            "entry \"" << e->d_name << "\"");
    seen[i] = true;
    ++count;
  }
  CHECK_OK(closedir(d));
  CHECK_EQ(count, kFiles);
  for (int i = 0; i < kFiles; ++i) {
    pt::Text name;
    name << "f" << i;
    CHECK_M(contents_are(pt::Path(name.c_str()), name.c_str(), name.size()), name.c_str());
    CHECK_OK(unlink(pt::Path(name.c_str())));
  }
  CHECK((d = opendir(pt::scratch_dir())) != nullptr);
  while (struct dirent* e = readdir(d)) {
    CHECK_M(pt::same_string(e->d_name, ".") || pt::same_string(e->d_name, ".."), "left: " << e->d_name);
  }
  CHECK_OK(closedir(d));
}

PTEST(files, deep_directories_and_a_long_cwd) {
  // Ten levels of 60-character names: the working directory's path (over
  // 600 bytes) is longer than one message carries, and longer than the
  // paths libos sends (480 bytes), but well within PATH_MAX.
  char name[61];
  pt::fill(name, 'd', 60);
  name[60] = '\0';
  CHECK_OK(chdir(pt::scratch_dir()));
  static char expected[1024];
  pt::Text t;
  t << pt::scratch_dir();
  for (size_t i = 0; i <= t.size(); ++i) expected[i] = t.c_str()[i];
  size_t n = t.size();
  for (int level = 0; level < 10; ++level) {
    CHECK_OK(mkdir(name, 0755));
    CHECK_OK(chdir(name));  // relative: each path sent is short
    expected[n++] = '/';
    for (int i = 0; i < 60; ++i) expected[n++] = name[i];
    expected[n] = '\0';
  }
  CHECK(pt::make_file("leaf", "deep"));
  CHECK_CONTENTS("leaf", "deep");
  static char cwd[4096];
  errno = 0;
  const bool got = getcwd(cwd, sizeof cwd) != nullptr;
  const int e = errno;
  // Back up level by level before checking: the runner removes scratch
  // directories by absolute path, which these are too long for.
  CHECK_OK(unlink("leaf"));
  for (int level = 0; level < 10; ++level) {
    CHECK_OK(chdir(".."));
    CHECK_OK(rmdir(name));
  }
  CHECK_M(got, "getcwd of a " << n << "-byte path: errno " << pt::errno_name(e));
  CHECK_EQ(pt::length(cwd), n);
  CHECK(pt::same_bytes(cwd, expected, n));
  CHECK(getcwd(cwd, sizeof cwd) != nullptr);
  CHECK_STREQ(cwd, pt::scratch_dir());
}
