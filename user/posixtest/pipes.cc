// Group "pipes": data both ways between parent and child, end of file when
// the last writer goes (by close or by death), EPIPE and SIGPIPE, readers
// and writers blocking and waking, writes larger than the pipe, atomic
// small writes, and pipelines between children.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "posixtest.h"
#include "runner.h"

namespace {

struct Pipe {
  int r = -1, w = -1;
};

char letter(long i) { return static_cast<char>('a' + i % 26); }

// Writes n bytes of letter(i) in chunks of `chunk`; false on an error.
bool write_letters(int fd, long n, long chunk) {
  char buf[1024];
  for (long done = 0; done < n;) {
    const long k = n - done < chunk ? n - done : chunk;
    for (long i = 0; i < k; ++i) buf[i] = letter(done + i);
    if (!pt::write_all(fd, buf, static_cast<size_t>(k))) return false;
    done += k;
  }
  return true;
}

// Reads to end of file in reads of at most `chunk`, checking letter(i);
// the byte count, or -1 on an error or a wrong byte.
long read_letters(int fd, long chunk) {
  char buf[1024];
  long total = 0;
  for (;;) {
    const ssize_t n = read(fd, buf, static_cast<size_t>(chunk));
    if (n < 0) return -1;
    if (n == 0) return total;
    for (ssize_t i = 0; i < n; ++i) {
      if (buf[i] != letter(total + i)) return -1;
    }
    total += n;
  }
}

}  // namespace

PTEST(pipes, parent_to_child) {
  Pipe p;
  CHECK_OK(pipe(&p.r));
  CHECK(p.r != p.w);
  pid_t child;
  CHECK_OK(child = pt::spawn([&] {
    CHECK_OK(close(p.w));
    char buf[64] = {};
    CHECK_EQ(pt::read_full(p.r, buf, sizeof buf), 22L);  // then end of file
    CHECK(pt::same_bytes(buf, "hello through the pipe", 22));
    CHECK_EQ(read(p.r, buf, 1), 0L);
  }));
  CHECK_OK(close(p.r));
  CHECK(pt::write_text(p.w, "hello through the pipe"));
  CHECK_OK(close(p.w));
  CHECK_EXITS(child, 0);
}

PTEST(pipes, child_to_parent) {
  Pipe p;
  CHECK_OK(pipe(&p.r));
  pid_t child;
  CHECK_OK(child = pt::spawn([&] {
    CHECK_OK(close(p.r));
    CHECK(pt::write_text(p.w, "hello from the child"));
  }));
  CHECK_OK(close(p.w));
  char buf[64] = {};
  CHECK_EQ(pt::read_full(p.r, buf, sizeof buf), 20L);
  CHECK(pt::same_bytes(buf, "hello from the child", 20));
  CHECK_OK(close(p.r));
  CHECK_EXITS(child, 0);
}

PTEST(pipes, eof_only_when_the_last_writer_closes) {
  Pipe p;
  CHECK_OK(pipe(&p.r));
  int w2;
  CHECK_OK(w2 = dup(p.w));
  CHECK_EQ(write(p.w, "a", 1), 1L);
  CHECK_OK(close(p.w));
  CHECK_EQ(write(w2, "b", 1), 1L);  // the dup keeps the pipe writable
  char buf[4] = {};
  CHECK_EQ(read(p.r, buf, 2), 2L);
  CHECK(pt::same_bytes(buf, "ab", 2));
  CHECK_OK(close(w2));
  CHECK_EQ(read(p.r, buf, 1), 0L);
  CHECK_EQ(read(p.r, buf, 1), 0L);  // and stays at end of file
  CHECK_OK(close(p.r));

  // A writer in a child: our read waits for its data, then its exit.
  CHECK_OK(pipe(&p.r));
  pid_t child;
  CHECK_OK(child = pt::spawn([&] {
    CHECK_OK(close(p.r));
    pt::pause_ms(30);
    CHECK(pt::write_text(p.w, "x"));
    pt::pause_ms(30);
  }));
  CHECK_OK(close(p.w));
  CHECK_EQ(read(p.r, buf, sizeof buf), 1L);
  CHECK_EQ(buf[0], 'x');
  CHECK_EQ(read(p.r, buf, sizeof buf), 0L);
  CHECK_OK(close(p.r));
  CHECK_EXITS(child, 0);
}

PTEST(pipes, eof_when_the_writer_is_killed) {
  // W holds the only write end and waits on `gate` forever; K kills W a
  // little later, while we are blocked in read: the read must end with 0.
  Pipe p, gate;
  CHECK_OK(pipe(&p.r));
  CHECK_OK(pipe(&gate.r));
  pid_t w, k;
  CHECK_OK(w = pt::spawn([&] {
    (void)close(p.r);
    (void)close(gate.w);
    (void)pt::wait_token(gate.r);
  }));
  CHECK_OK(close(p.w));
  CHECK_OK(close(gate.r));
  CHECK_OK(k = pt::spawn([&] {
    (void)close(p.r);
    pt::pause_ms(50);
    CHECK_OK(kill(w, SIGKILL));
  }));
  char c;
  CHECK_EQ(read(p.r, &c, 1), 0L);
  CHECK_KILLED(w, SIGKILL);
  CHECK_EXITS(k, 0);
  CHECK_OK(close(p.r));
  CHECK_OK(close(gate.w));
}

PTEST(pipes, writer_killed_while_blocked) {
  // A writer blocked on a full pipe is killed: what it had written stays
  // readable, then end of file; its parked write must not complete later.
  Pipe p;
  CHECK_OK(pipe(&p.r));
  pid_t child;
  CHECK_OK(child = pt::spawn([&] {
    (void)close(p.r);
    (void)write_letters(p.w, 1024 * 1024, 1024);  // far more than any pipe holds
  }));
  CHECK_OK(close(p.w));
  pt::pause_ms(50);  // it fills the pipe and blocks
  CHECK_EQ(waitpid(child, nullptr, WNOHANG), 0);
  CHECK_OK(kill(child, SIGKILL));
  CHECK_KILLED(child, SIGKILL);
  const long got = read_letters(p.r, 1000);
  CHECK_M(got > 0 && got < 1024 * 1024, "read " << got << " bytes after the writer died");
  CHECK_EQ(read(p.r, &child, 1), 0L);
  CHECK_OK(close(p.r));
}

PTEST(pipes, sigpipe_kills_the_writer_by_default) {
  Pipe p;
  CHECK_OK(pipe(&p.r));
  CHECK_OK(close(p.r));
  pid_t child;
  CHECK_OK(child = pt::spawn([&] {
    (void)write(p.w, "x", 1);
    pt::Line() << "  (child " << getpid() << ") survived a write to a pipe without readers";
  }));
  CHECK_KILLED(child, SIGPIPE);
  CHECK_OK(close(p.w));

  // A writer blocked on a full pipe is woken when the last reader closes.
  CHECK_OK(pipe(&p.r));
  CHECK_OK(child = pt::spawn([&] {
    (void)close(p.r);
    (void)write_letters(p.w, 1024 * 1024, 1024);  // far more than any pipe holds
    pt::Line() << "  (child " << getpid() << ") wrote 1 MiB to a pipe whose reader had gone";
  }));
  CHECK_OK(close(p.w));
  char buf[10];
  CHECK_EQ(read(p.r, buf, sizeof buf), 10L);
  pt::pause_ms(30);  // the writer fills the pipe and blocks
  CHECK_OK(close(p.r));
  CHECK_KILLED(child, SIGPIPE);
}

PTEST(pipes, epipe_when_sigpipe_is_ignored) {
  Pipe p;
  CHECK_OK(pipe(&p.r));
  CHECK_OK(close(p.r));
  CHECK(signal(SIGPIPE, SIG_IGN) != SIG_ERR);
  CHECK_ERR(write(p.w, "x", 1), EPIPE);
  CHECK_ERR(write(p.w, "x", 1), EPIPE);
  CHECK(signal(SIGPIPE, SIG_DFL) == SIG_IGN);
  CHECK_OK(close(p.w));

  // The blocked writer again, ignoring SIGPIPE: its write ends short or
  // with EPIPE, and the next one fails with EPIPE.
  CHECK_OK(pipe(&p.r));
  pid_t child;
  CHECK_OK(child = pt::spawn([&] {
    (void)close(p.r);
    CHECK(signal(SIGPIPE, SIG_IGN) != SIG_ERR);
    constexpr size_t kBig = 1024 * 1024;  // far more than any pipe holds
    auto* big = static_cast<char*>(malloc(kBig));
    CHECK(big != nullptr);
    pt::fill(big, 'x', kBig);
    errno = 0;
    const ssize_t n = write(p.w, big, kBig);
    const int e = errno;
    CHECK_M((n >= 0 && n < static_cast<ssize_t>(kBig)) || (n == -1 && e == EPIPE),
            "write returned " << n << ", errno " << pt::errno_name(e));
    CHECK_ERR(write(p.w, "x", 1), EPIPE);
  }));
  CHECK_OK(close(p.w));
  char buf[10];
  CHECK_EQ(read(p.r, buf, sizeof buf), 10L);
  pt::pause_ms(30);
  CHECK_OK(close(p.r));
  CHECK_EXITS(child, 0);
}

PTEST(pipes, reader_blocks_until_data_arrives) {
  Pipe p, go;
  CHECK_OK(pipe(&p.r));
  CHECK_OK(pipe(&go.r));
  pid_t child;
  CHECK_OK(child = pt::spawn([&] {
    (void)close(p.r);
    pt::pause_ms(100);
    CHECK(pt::write_text(p.w, "late"));
    CHECK_EQ(pt::wait_token(go.r), '.');  // keep the write end open meanwhile
  }));
  CHECK_OK(close(p.w));
  char buf[100] = {};
  // What is there comes back at once, without waiting to fill the buffer.
  CHECK_EQ(read(p.r, buf, sizeof buf), 4L);
  CHECK(pt::same_bytes(buf, "late", 4));
  CHECK(pt::send_token(go.w));
  CHECK_EQ(read(p.r, buf, sizeof buf), 0L);
  CHECK_EXITS(child, 0);
  for (int d : {p.r, go.r, go.w}) CHECK_OK(close(d));
}

// A buffer of n bytes of letter(i), from the heap: the caller is a child
// that exits, so the runner's memory stays small.
char* letters(long n) {
  auto* buf = static_cast<char*>(malloc(static_cast<size_t>(n)));
  if (buf != nullptr) {
    for (long i = 0; i < n; ++i) buf[i] = letter(i);
  }
  return buf;
}

PTEST(pipes, more_than_the_capacity) {
  constexpr long kBytes = 64 * 1024;
  // The child writes 64 KiB in one call; we read slowly, in small pieces.
  Pipe p;
  CHECK_OK(pipe(&p.r));
  pid_t child;
  CHECK_OK(child = pt::spawn([&] {
    (void)close(p.r);
    char* big = letters(kBytes);
    CHECK(big != nullptr);
    CHECK_EQ(write(p.w, big, kBytes), kBytes);  // blocks until we have read most of it
  }));
  CHECK_OK(close(p.w));
  pt::pause_ms(50);
  CHECK_EQ(read_letters(p.r, 100), kBytes);
  CHECK_OK(close(p.r));
  CHECK_EXITS(child, 0);

  // And the other way: a parent's one write blocks until its child has
  // read (both in a child of ours, whose heap goes with it).
  pid_t parent;
  CHECK_OK(parent = pt::spawn([&] {
    CHECK_OK(pipe(&p.r));
    pid_t reader;
    CHECK_OK(reader = pt::spawn([&] {
      (void)close(p.w);
      pt::pause_ms(50);
      CHECK_EQ(read_letters(p.r, 77), kBytes);
    }));
    CHECK_OK(close(p.r));
    char* big = letters(kBytes);
    CHECK(big != nullptr);
    CHECK_EQ(write(p.w, big, kBytes), kBytes);
    CHECK_OK(close(p.w));
    CHECK_EXITS(reader, 0);
  }));
  CHECK_EXITS(parent, 0);
}

PTEST(pipes, small_writes_are_atomic) {
  // Two writers, 200 messages of 100 bytes each (under PIPE_BUF, 512):
  // the reader sees every message whole.
  Pipe p;
  CHECK_OK(pipe(&p.r));
  pid_t writers[2];
  for (int k = 0; k < 2; ++k) {
    CHECK_OK(writers[k] = pt::spawn([&] {
      (void)close(p.r);
      char message[100];
      for (int i = 0; i < 200; ++i) {
        pt::fill(message, static_cast<unsigned char>('A' + k), sizeof message);
        message[1] = static_cast<char>(i);
        CHECK_EQ(write(p.w, message, sizeof message), 100L);
      }
    }));
  }
  CHECK_OK(close(p.w));
  int next[2] = {0, 0};
  for (int at = 0; at < 2 * 200; ++at) {
    char message[100];
    CHECK_EQ(pt::read_full(p.r, message, sizeof message), 100L);
    const char who = message[0];
    CHECK_M(who == 'A' || who == 'B', "torn message number " << at);
    const int k = who - 'A';
    CHECK_M(static_cast<unsigned char>(message[1]) == next[k], "message number " << at << " out of order");
    ++next[k];
    for (size_t i = 2; i < 100; ++i) CHECK_M(message[i] == who, "torn message number " << at);
  }
  char extra;
  CHECK_EQ(read(p.r, &extra, 1), 0L);  // nothing more
  CHECK_OK(close(p.r));
  for (pid_t w : writers) CHECK_EXITS(w, 0);
}

PTEST(pipes, pipeline_between_children) {
  // producer | copier | consumer, the consumer exec'd (the helper reads its
  // stdin), the ends wired with dup2 as a shell does.
  constexpr long kBytes = 20000;
  Pipe a, b;
  CHECK_OK(pipe(&a.r));
  CHECK_OK(pipe(&b.r));
  pid_t producer, copier, consumer;
  CHECK_OK(producer = pt::spawn([&] {
    CHECK_EQ(dup2(a.w, STDOUT_FILENO), STDOUT_FILENO);
    for (int fd : {a.r, a.w, b.r, b.w}) (void)close(fd);
    CHECK(write_letters(STDOUT_FILENO, kBytes, 1000));
  }));
  CHECK_OK(copier = pt::spawn([&] {
    CHECK_EQ(dup2(a.r, STDIN_FILENO), STDIN_FILENO);
    CHECK_EQ(dup2(b.w, STDOUT_FILENO), STDOUT_FILENO);
    for (int fd : {a.r, a.w, b.r, b.w}) (void)close(fd);
    char buf[333];
    for (;;) {
      const ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
      CHECK(n >= 0);
      if (n == 0) break;
      CHECK(pt::write_all(STDOUT_FILENO, buf, static_cast<size_t>(n)));
    }
  }));
  CHECK_OK(consumer = pt::spawn([&] {
    CHECK_EQ(dup2(b.r, STDIN_FILENO), STDIN_FILENO);
    for (int fd : {a.r, a.w, b.r, b.w}) (void)close(fd);
    char* argv[] = {const_cast<char*>("posixtest"), const_cast<char*>("--child-exec"),
                    const_cast<char*>("consume"), const_cast<char*>("20000"), nullptr};
    execve(pt::self_path(), argv, environ);
    _exit(pt::kExecFailed);
  }));
  // Our copies of the ends must go, or the consumer never sees end of file.
  for (int fd : {a.r, a.w, b.r, b.w}) CHECK_OK(close(fd));
  CHECK_EXITS(producer, 0);
  CHECK_EXITS(copier, 0);
  CHECK_EXITS(consumer, pt::kHelperOk);
}

PTEST(pipes, errors) {
  Pipe p;
  CHECK_OK(pipe(&p.r));
  char c;
  CHECK_ERR(write(p.r, "x", 1), EBADF);  // the read end
  CHECK_ERR(read(p.w, &c, 1), EBADF);    // the write end
  CHECK_OK(close(p.r));
  CHECK_OK(close(p.w));
  CHECK_ERR(read(p.r, &c, 1), EBADF);
  CHECK_ERR(write(p.w, "x", 1), EBADF);
}

PTEST(pipes, ping_pong_1000_round_trips) {
  // One byte there and back a thousand times: every blocked read must be
  // woken by the write that follows it.
  Pipe there, back;
  CHECK_OK(pipe(&there.r));
  CHECK_OK(pipe(&back.r));
  pid_t child;
  CHECK_OK(child = pt::spawn([&] {
    (void)close(there.w);
    (void)close(back.r);
    for (int i = 0; i < 1000; ++i) {
      const int c = pt::wait_token(there.r);
      CHECK_EQ(c, 'a' + i % 26);
      CHECK(pt::send_token(back.w, static_cast<char>(c + 1)));
    }
  }));
  CHECK_OK(close(there.r));
  CHECK_OK(close(back.w));
  for (int i = 0; i < 1000; ++i) {
    CHECK(pt::send_token(there.w, static_cast<char>('a' + i % 26)));
    CHECK_M(pt::wait_token(back.r) == 'a' + i % 26 + 1, "round trip " << i + 1);
  }
  CHECK_OK(close(there.w));
  CHECK_OK(close(back.r));
  CHECK_EXITS(child, 0);
}
