// Group "shared": descriptors across fork. A descriptor inherited over fork
// names the same open-file description, so parent and child share its
// offset; a file each opens after the fork has its own.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "posixtest.h"

namespace {

struct Pipe {
  int r = -1, w = -1;
};

bool contents_are(const char* path, const char* expected) {
  const int fd = open(path, O_RDONLY);
  if (fd < 0) return false;
  char buf[256];
  const long got = pt::read_full(fd, buf, sizeof buf);
  (void)close(fd);
  const size_t n = pt::length(expected);
  return got == static_cast<long>(n) && pt::same_bytes(buf, expected, n);
}

}  // namespace

PTEST(shared, parent_and_child_writes_follow_each_other) {
  const pt::Path f("file");
  int fd;
  CHECK_OK(fd = open(f, O_WRONLY | O_CREAT | O_TRUNC, 0644));  // no O_APPEND: the shared offset alone
  CHECK_EQ(write(fd, "P0", 2), 2L);
  Pipe to_child, to_parent;
  CHECK_OK(pipe(&to_child.r));
  CHECK_OK(pipe(&to_parent.r));
  pid_t child;
  CHECK_OK(child = pt::spawn([&] {
    CHECK_EQ(pt::wait_token(to_child.r), '.');
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 2L);
    CHECK_EQ(write(fd, "C1", 2), 2L);
    CHECK(pt::send_token(to_parent.w));
    CHECK_EQ(pt::wait_token(to_child.r), '.');
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 6L);
    CHECK_EQ(write(fd, "C3", 2), 2L);
  }));
  CHECK(pt::send_token(to_child.w));
  CHECK_EQ(pt::wait_token(to_parent.r), '.');
  CHECK_EQ(lseek(fd, 0, SEEK_CUR), 4L);  // moved by the child's write
  CHECK_EQ(write(fd, "P2", 2), 2L);
  CHECK(pt::send_token(to_child.w));
  CHECK_EXITS(child, 0);
  CHECK_EQ(lseek(fd, 0, SEEK_CUR), 8L);
  CHECK_EQ(write(fd, "P4", 2), 2L);  // the description outlives the child
  CHECK_OK(close(fd));
  for (int d : {to_child.r, to_child.w, to_parent.r, to_parent.w}) CHECK_OK(close(d));
  CHECK_M(contents_are(f, "P0C1P2C3P4"), "file is not P0C1P2C3P4");
}

PTEST(shared, concurrent_writes_lose_nothing) {
  // Parent and child each write 100 lines of 10 bytes through the shared
  // descriptor at the same time: the file gets all 200, none torn.
  const pt::Path f("file");
  int fd;
  CHECK_OK(fd = open(f, O_RDWR | O_CREAT | O_TRUNC, 0644));
  auto write_lines = [&](char who) {
    for (int i = 0; i < 100; ++i) {
      char line[10] = {who, ' ', 'l', 'i', 'n', 'e', ' ', static_cast<char>('0' + i / 10),
                       static_cast<char>('0' + i % 10), '\n'};
      if (write(fd, line, sizeof line) != static_cast<ssize_t>(sizeof line)) return false;
    }
    return true;
  };
  pid_t child;
  CHECK_OK(child = pt::spawn([&] { CHECK(write_lines('C')); }));
  CHECK(write_lines('P'));
  CHECK_EXITS(child, 0);
  CHECK_EQ(lseek(fd, 0, SEEK_CUR), 2000L);
  static char buf[2000];
  CHECK_EQ(lseek(fd, 0, SEEK_SET), 0L);
  CHECK_EQ(pt::read_full(fd, buf, sizeof buf), 2000L);
  CHECK_OK(close(fd));
  int next[2] = {0, 0};  // each writer's lines in its own order
  for (int at = 0; at < 2000; at += 10) {
    const char* line = buf + at;
    CHECK_M(line[0] == 'P' || line[0] == 'C', "torn line at " << at << ": \"" << line[0] << "\"");
    int& n = next[line[0] == 'C'];
    const char expected[10] = {line[0], ' ', 'l', 'i', 'n', 'e', ' ', static_cast<char>('0' + n / 10),
                               static_cast<char>('0' + n % 10), '\n'};
    CHECK_M(pt::same_bytes(line, expected, 10), "line at " << at << " out of order or torn");
    ++n;
  }
  CHECK_EQ(next[0], 100);
  CHECK_EQ(next[1], 100);
}

PTEST(shared, child_moves_the_parents_offset) {
  const pt::Path f("file");
  CHECK(pt::make_file(f, "0123456789"));
  int fd;
  CHECK_OK(fd = open(f, O_RDONLY));
  char c[3];
  CHECK_EQ(read(fd, c, 2), 2L);
  pid_t child;
  CHECK_OK(child = pt::spawn([&] {
    CHECK_EQ(read(fd, c, 3), 3L);  // "234"
    CHECK(pt::same_bytes(c, "234", 3));
  }));
  CHECK_EXITS(child, 0);
  CHECK_EQ(read(fd, c, 1), 1L);
  CHECK_EQ(c[0], '5');
  CHECK_OK(child = pt::spawn([&] { CHECK_EQ(lseek(fd, 8, SEEK_SET), 8L); }));
  CHECK_EXITS(child, 0);
  CHECK_EQ(read(fd, c, 1), 1L);
  CHECK_EQ(c[0], '8');
  CHECK_OK(close(fd));
}

PTEST(shared, file_opened_after_fork_is_not_shared) {
  const pt::Path f("file");
  CHECK(pt::make_file(f, "0123456789"));
  Pipe go;
  CHECK_OK(pipe(&go.r));
  pid_t child;
  CHECK_OK(child = pt::spawn([&] {
    int fd;
    CHECK_OK(fd = open(f, O_RDWR));
    char c[5];
    CHECK_EQ(read(fd, c, 5), 5L);
    CHECK_EQ(write(fd, "AB", 2), 2L);  // at 5: the data is shared, the offset is not
    CHECK(pt::send_token(go.w));
    CHECK_OK(close(fd));
  }));
  int fd;
  CHECK_OK(fd = open(f, O_RDONLY));
  CHECK_EQ(pt::wait_token(go.r), '.');
  CHECK_EQ(lseek(fd, 0, SEEK_CUR), 0L);
  char c[8] = {};
  CHECK_EQ(read(fd, c, 7), 7L);
  CHECK(pt::same_bytes(c, "01234AB", 7));
  CHECK_EXITS(child, 0);
  CHECK_OK(close(fd));
  CHECK_OK(close(go.r));
  CHECK_OK(close(go.w));
}

PTEST(shared, close_and_dup2_in_child_leave_parent_alone) {
  const pt::Path f("file"), g("other");
  CHECK(pt::make_file(f, "parent"));
  CHECK(pt::make_file(g, "child"));
  int fd;
  CHECK_OK(fd = open(f, O_RDONLY));
  pid_t child;
  CHECK_OK(child = pt::spawn([&] {
    CHECK_OK(close(fd));
    int other;
    CHECK_OK(other = open(g, O_RDONLY));
    CHECK_EQ(dup2(other, fd), fd);  // the child's fd now names another file
    char c[5];
    CHECK_EQ(read(fd, c, 5), 5L);
    CHECK(pt::same_bytes(c, "child", 5));
  }));
  CHECK_EXITS(child, 0);
  char c[6];
  CHECK_EQ(read(fd, c, 6), 6L);
  CHECK(pt::same_bytes(c, "parent", 6));
  CHECK_OK(close(fd));
}
