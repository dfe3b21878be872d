// Host tests for vfs's request handling (servers/vfs/service.*): requests
// are built word by word as libos and procmgr send them, and replies read
// back the same way, so these tests pin the wire format of protocol.h.
// Parked requests go to a fake ReplyStore that records what is sent through
// each saved reply. Every test ends with the server's memory back where it
// started: no process tables, descriptions, inodes, heap objects or pages
// beyond those of the empty file system.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "fake_page_source.h"
#include "vfs/service.h"

namespace vfs {
namespace {

using FakePages = servers::testing_support::FakePageSource;
using Label = protocol::Label;

constexpr uint64_t kProcmgr = msg::kProcmgrBadge;
constexpr uint64_t kConsoleThread = msg::kConsoleBadge;

int64_t err(Errno e) { return -static_cast<int64_t>(e); }

class StringOutput final : public ConsoleOutput {
 public:
  void write(std::span<const std::byte> bytes) override {
    text.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
  std::string text;
};

class FakeReplies final : public ReplyStore {
 public:
  Result<ReplyToken> save() override {
    if (saved.size() - sent.size() >= limit) return fail(Errno::NoMemory);
    ReplyToken t = next++;
    saved.push_back(t);
    return t;
  }
  bool send(ReplyToken token, const Message& reply) override {
    EXPECT_TRUE(std::find(saved.begin(), saved.end(), token) != saved.end()) << "token never saved";
    EXPECT_EQ(sent.count(token), 0u) << "token used twice";
    sent[token] = reply;
    return gone.count(token) == 0;
  }
  size_t outstanding() const { return saved.size() - sent.size(); }
  // The reply sent through `token`, if any.
  const Message* reply(ReplyToken token) const {
    auto it = sent.find(token);
    return it == sent.end() ? nullptr : &it->second;
  }

  std::vector<ReplyToken> saved;
  std::map<ReplyToken, Message> sent;
  std::set<ReplyToken> gone;  // callers killed or suspended while they waited
  ReplyToken next = 100;
  size_t limit = SIZE_MAX;
};

// A request with label and words.
Message request(Label label, std::initializer_list<uint64_t> words) {
  Message m;
  m.label = static_cast<uint64_t>(label);
  for (uint64_t w : words) m.mr[m.length++] = w;
  return m;
}
// ... followed by a count word and the bytes.
Message request(Label label, std::initializer_list<uint64_t> words, std::string_view bytes) {
  Message m = request(label, words);
  append_bytes(m, std::as_bytes(std::span(bytes.data(), bytes.size())));
  return m;
}

std::string bytes_of(const Message& m, size_t count_word) {
  size_t n = m.mr[count_word];
  return std::string(reinterpret_cast<const char*>(m.bytes_at(count_word + 1)), n);
}

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs.init("/bin", rom));
    base_pages = pages.outstanding();
    base_inodes = fs.inodes_in_use();
    base_objects = heap.objects_in_use();
  }
  void TearDown() override {
    // Every test leaves vfs as it found it (ProcExit for every process).
    EXPECT_EQ(service.processes(), 0u);
    EXPECT_EQ(service.parked(), 0u);
    EXPECT_EQ(service.files().descriptions(), 0u);
    EXPECT_EQ(fs.inodes_in_use(), base_inodes);
    EXPECT_EQ(heap.objects_in_use(), base_objects);
    EXPECT_EQ(pages.outstanding(), base_pages);
    EXPECT_EQ(replies.outstanding(), 0u) << "a saved reply was never sent";
  }

  // A request that must be answered at once.
  Message call(uint64_t badge, const Message& m) {
    auto r = service.handle(badge, m);
    EXPECT_TRUE(r.has_value()) << "request " << m.label << " was parked";
    if (!r) return reply_error(Errno::Io);
    EXPECT_EQ(r->label, 0u);
    EXPECT_GE(r->length, 1u);
    return *r;
  }
  int64_t result(uint64_t badge, const Message& m) { return msg::result_of(call(badge, m).mr[0]); }
  // A request that must be parked: the token its reply was saved under.
  ReplyToken parks(uint64_t badge, const Message& m) {
    auto r = service.handle(badge, m);
    EXPECT_FALSE(r.has_value()) << "answered " << (r ? msg::result_of(r->mr[0]) : 0);
    return replies.saved.empty() ? 0 : replies.saved.back();
  }

  void proc_new(uint64_t pid) { ASSERT_EQ(result(kProcmgr, request(Label::ProcNew, {pid})), 0); }
  void proc_exit(uint64_t pid) { ASSERT_EQ(result(kProcmgr, request(Label::ProcExit, {pid})), 0); }
  void proc_fork(uint64_t parent, uint64_t child) {
    ASSERT_EQ(result(kProcmgr, request(Label::ProcFork, {parent, child})), 0);
  }
  std::pair<int, int> pipe(uint64_t pid) {
    Message r = call(pid, request(Label::Pipe, {}));
    EXPECT_EQ(r.mr[0], 0u);
    EXPECT_EQ(r.length, 3u);
    return {static_cast<int>(r.mr[1]), static_cast<int>(r.mr[2])};
  }
  int64_t write(uint64_t pid, int fd, std::string_view data) {
    return result(pid, request(Label::Write, {static_cast<uint64_t>(fd)}, data));
  }
  // A read answered at once: the bytes, or "<-errno>".
  std::string read(uint64_t pid, int fd, uint64_t count = 512) {
    Message r = call(pid, request(Label::Read, {static_cast<uint64_t>(fd), count}));
    int64_t n = msg::result_of(r.mr[0]);
    if (n < 0) return "<" + std::to_string(n) + ">";
    EXPECT_EQ(r.length, 1 + msg::words_for(n));
    return bytes_of(r, 0);
  }
  int close(uint64_t pid, int fd) { return static_cast<int>(result(pid, request(Label::Close, {uint64_t(fd)}))); }
  int open(uint64_t pid, std::string_view path, uint32_t flags) {
    return static_cast<int>(result(pid, request(Label::Open, {flags}, path)));
  }
  // Remove everything under directory `dir` ("" for the root) but /bin.
  void remove_tree(uint64_t pid, const std::string& dir) {
    int fd = open(pid, dir.empty() ? "/" : dir, kOpenReadOnly | kOpenDirectory);
    ASSERT_GE(fd, 0) << dir;
    std::vector<std::pair<std::string, bool>> entries;
    for (;;) {
      Message r = call(pid, request(Label::Readdir, {uint64_t(fd)}));
      if (r.mr[0] != 1) break;
      std::string name = bytes_of(r, 3);
      if (name != "." && name != "..") entries.emplace_back(name, r.mr[2] == kModeDirectory);
    }
    close(pid, fd);
    for (auto& [name, is_dir] : entries) {
      std::string path = dir + "/" + name;
      if (path == "/bin") continue;
      if (is_dir) {
        remove_tree(pid, path);
        EXPECT_EQ(result(pid, request(Label::Rmdir, {}, path)), 0) << path;
      } else {
        EXPECT_EQ(result(pid, request(Label::Unlink, {}, path)), 0) << path;
      }
    }
  }
  void type(std::string_view typed, uint64_t expect_pgid = 0) {
    EXPECT_EQ(result(kConsoleThread, request(Label::ConsoleInput, {}, typed)), int64_t(expect_pgid));
  }

  static constexpr std::string_view kProgram = "\x7f" "ELF program bytes";
  const std::byte* program = reinterpret_cast<const std::byte*>(kProgram.data());
  RomFile rom[2] = {{"sh", {program, kProgram.size()}}, {"init", {program, 4}}};
  FakePages pages;
  Heap heap{pages};
  MemFs fs{heap};
  StringOutput out;
  Console console{out};
  FakeReplies replies;
  Service service{heap, fs, console, replies};
  size_t base_pages = 0, base_inodes = 0, base_objects = 0;
};

// ---------------- Who may ask what ----------------

TEST_F(ServiceTest, PingAnswersAnyone) {
  for (uint64_t badge : {uint64_t{0}, uint64_t{5}, kProcmgr, kConsoleThread}) {
    Message r = call(badge, request(Label::Ping, {0x70696e67}));
    EXPECT_EQ(r.mr[0], 0x70696e67u);
    EXPECT_EQ(r.length, 1u);
  }
  EXPECT_EQ(result(5, request(Label::Ping, {})), err(Errno::Invalid));
}

TEST_F(ServiceTest, UnknownLabelIsNoSys) {
  for (uint64_t label : {uint64_t{0}, uint64_t{6}, uint64_t{30}, uint64_t{41}, uint64_t{1} << 40}) {
    Message m;
    m.label = label;
    m.length = 1;
    EXPECT_EQ(result(kProcmgr, m), err(Errno::NoSys)) << label;
    EXPECT_EQ(result(3, m), err(Errno::NoSys)) << label;
  }
}

TEST_F(ServiceTest, ProcmgrLabelsAreProcmgrsOnly) {
  proc_new(2);
  for (Label l : {Label::ProcNew, Label::ProcFork, Label::ProcExit, Label::ReadPath}) {
    EXPECT_EQ(result(2, request(l, {2, 3, 0})), err(Errno::NotPermitted));
    EXPECT_EQ(result(kConsoleThread, request(l, {2, 3, 0})), err(Errno::NotPermitted));
  }
  EXPECT_EQ(service.processes(), 1u);
  proc_exit(2);
}

TEST_F(ServiceTest, ConsoleInputIsTheConsoleThreadsOnly) {
  proc_new(2);
  EXPECT_EQ(result(2, request(Label::ConsoleInput, {}, "x\n")), err(Errno::NotPermitted));
  EXPECT_EQ(result(kProcmgr, request(Label::ConsoleInput, {}, "x\n")), err(Errno::NotPermitted));
  EXPECT_FALSE(console.read_ready());
  proc_exit(2);
}

TEST_F(ServiceTest, ServersCannotUseProcessCalls) {
  for (uint64_t badge : {kProcmgr, kConsoleThread, msg::kPagerBadge}) {
    EXPECT_EQ(result(badge, request(Label::Close, {0})), err(Errno::NotPermitted));
    EXPECT_EQ(result(badge, request(Label::Open, {0}, "/")), err(Errno::NotPermitted));
  }
}

TEST_F(ServiceTest, UnknownProcessGetsNoSuchProcess) {
  EXPECT_EQ(result(9, request(Label::Close, {0})), err(Errno::NoSuchProcess));
  EXPECT_EQ(result(0, request(Label::Getcwd, {})), err(Errno::NoSuchProcess));
  EXPECT_EQ(result(9, request(Label::Read, {0, 10})), err(Errno::NoSuchProcess));
  EXPECT_EQ(result(kProcmgr, request(Label::ProcExit, {9})), err(Errno::NoSuchProcess));
  EXPECT_EQ(result(kProcmgr, request(Label::ProcFork, {9, 10})), err(Errno::NoSuchProcess));
  EXPECT_EQ(result(kProcmgr, request(Label::ReadPath, {9, 0}, "/bin/sh")), err(Errno::NoSuchProcess));
}

// ---------------- Process hooks ----------------

TEST_F(ServiceTest, ProcNewGivesConsoleOnZeroOneTwo) {
  proc_new(1);
  EXPECT_EQ(service.files().descriptions(), 1u);  // one description, three descriptors
  for (uint64_t fd : {0, 1, 2}) EXPECT_EQ(result(1, request(Label::Isatty, {fd})), 1);
  EXPECT_EQ(result(1, request(Label::Isatty, {3})), err(Errno::BadFd));
  EXPECT_EQ(write(1, 1, "hello\n"), 6);
  EXPECT_EQ(out.text, "hello\n");
  Message cwd = call(1, request(Label::Getcwd, {}));
  EXPECT_EQ(bytes_of(cwd, 0), "/");
  EXPECT_EQ(cwd.length, 2u);
  proc_exit(1);
}

TEST_F(ServiceTest, ALongCwdComesInPiecesFromAnOffset) {
  proc_new(1);
  // Nested directories of 50-character names, entered one at a time (each
  // path in a request is short): a cwd of 1275 bytes.
  const std::string name(50, 'd');
  std::string expected;
  vfs::Inode* dir = fs.root();
  std::vector<vfs::Inode*> parents;
  for (int i = 0; i < 25; ++i) {
    ASSERT_EQ(fs.mkdir(dir, name), Status{}) << i;
    parents.push_back(dir);
    dir = *fs.lookup(dir, name);
    expected += "/" + name;
    Message chdir = request(Label::Chdir, {});
    append_bytes(chdir, std::as_bytes(std::span(name.data(), name.size())));
    ASSERT_EQ(result(1, chdir), 0) << i;
  }
  std::string got;
  for (uint64_t offset = 0;;) {
    Message r = call(1, request(Label::Getcwd, {offset}));
    ASSERT_EQ(r.mr[0], expected.size());
    const size_t chunk = std::min<size_t>(expected.size() - offset, protocol::kMaxRead);
    got += std::string(reinterpret_cast<const char*>(r.bytes_at(1)), chunk);
    offset += chunk;
    if (offset >= expected.size()) break;
  }
  EXPECT_EQ(got, expected);
  // Without an offset: the length and the first piece; beyond the end: EINVAL.
  EXPECT_EQ(call(1, request(Label::Getcwd, {})).mr[0], expected.size());
  EXPECT_EQ(result(1, request(Label::Getcwd, {expected.size()})), int64_t(expected.size()));
  EXPECT_EQ(result(1, request(Label::Getcwd, {expected.size() + 1})), err(Errno::Invalid));
  proc_exit(1);
  for (auto it = parents.rbegin(); it != parents.rend(); ++it) ASSERT_EQ(fs.rmdir(*it, name), Status{});
}

TEST_F(ServiceTest, ProcNewRejectsBadAndDuplicatePids) {
  EXPECT_EQ(result(kProcmgr, request(Label::ProcNew, {0})), err(Errno::Invalid));
  EXPECT_EQ(result(kProcmgr, request(Label::ProcNew, {msg::kServerBit | 4})), err(Errno::Invalid));
  EXPECT_EQ(result(kProcmgr, request(Label::ProcNew, {})), err(Errno::Invalid));
  proc_new(4);
  EXPECT_EQ(result(kProcmgr, request(Label::ProcNew, {4})), err(Errno::Exists));
  EXPECT_EQ(result(kProcmgr, request(Label::ProcFork, {4, 4})), err(Errno::Exists));
  EXPECT_EQ(result(kProcmgr, request(Label::ProcFork, {4, 0})), err(Errno::Invalid));
  EXPECT_EQ(result(kProcmgr, request(Label::ProcFork, {4})), err(Errno::Invalid));
  EXPECT_EQ(service.processes(), 1u);
  proc_exit(4);
  EXPECT_EQ(result(kProcmgr, request(Label::ProcExit, {4})), err(Errno::NoSuchProcess));
}

TEST_F(ServiceTest, ForkSharesDescriptionsAndCwd) {
  proc_new(1);
  ASSERT_EQ(result(1, request(Label::Mkdir, {}, "/tmp")), 0);
  ASSERT_EQ(result(1, request(Label::Chdir, {}, "/tmp")), 0);
  int fd = open(1, "f", kOpenCreate | kOpenReadWrite);
  ASSERT_EQ(fd, 3);
  ASSERT_EQ(write(1, fd, "abcdef"), 6);
  proc_fork(1, 2);
  EXPECT_EQ(service.files().descriptions(), 2u);
  // The offset is shared: the child's lseek moves the parent's too.
  EXPECT_EQ(result(2, request(Label::Lseek, {3, 2, 0})), 2);
  EXPECT_EQ(read(1, fd, 2), "cd");
  EXPECT_EQ(bytes_of(call(2, request(Label::Getcwd, {})), 0), "/tmp");
  // Each closes its own descriptor; the description goes with the last.
  EXPECT_EQ(close(2, 3), 0);
  EXPECT_EQ(read(1, fd), "ef");
  proc_exit(2);
  proc_exit(1);
  // The file is still there: exit closes, it does not delete.
  proc_new(1);
  EXPECT_EQ(result(1, request(Label::Unlink, {}, "/tmp/f")), 0);
  EXPECT_EQ(result(1, request(Label::Rmdir, {}, "/tmp")), 0);
  proc_exit(1);
}

TEST_F(ServiceTest, ExitClosesEverythingAndLeavesNothing) {
  proc_new(1);
  for (int i = 0; i < 20; ++i) pipe(1);
  ASSERT_EQ(result(1, request(Label::Mkdir, {}, "/d")), 0);
  int fd = open(1, "/d/file", kOpenCreate | kOpenWriteOnly);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(1, fd, std::string(400, 'q')), 400);
  ASSERT_EQ(result(1, request(Label::Unlink, {}, "/d/file")), 0);  // open but unnamed
  ASSERT_EQ(result(1, request(Label::Chdir, {}, "/d")), 0);
  ASSERT_EQ(result(1, request(Label::Dup2, {0, 200})), 200);
  proc_fork(1, 2);
  proc_fork(2, 3);
  EXPECT_EQ(service.processes(), 3u);
  proc_exit(2);
  proc_exit(1);
  proc_exit(3);
  EXPECT_EQ(service.files().descriptions(), 0u);
  ASSERT_EQ(fs.inodes_in_use(), base_inodes + 1);  // /d is still named
  proc_new(1);
  EXPECT_EQ(result(1, request(Label::Rmdir, {}, "/d")), 0);
  proc_exit(1);
}

TEST_F(ServiceTest, ProcNewAndForkOutOfMemoryLeaveNothing) {
  proc_new(1);
  for (int i = 0; i < 3; ++i) pipe(1);
  size_t base = pages.outstanding();
  // Every allocation of each hook failing in turn: -ENOMEM and no trace.
  for (size_t n = 1; n < 20; ++n) {
    pages.fail_in(n);
    int64_t r = result(kProcmgr, request(Label::ProcNew, {7}));
    pages.fail_in(0);
    if (r == 0) {
      proc_exit(7);
    } else {
      EXPECT_EQ(r, err(Errno::NoMemory));
      EXPECT_EQ(service.processes(), 1u);
    }
    EXPECT_EQ(pages.outstanding(), base) << n;
    pages.fail_in(n);
    r = result(kProcmgr, request(Label::ProcFork, {1, 8}));
    pages.fail_in(0);
    if (r == 0) {
      proc_exit(8);
    } else {
      EXPECT_EQ(r, err(Errno::NoMemory));
      EXPECT_EQ(service.processes(), 1u);
    }
    EXPECT_EQ(pages.outstanding(), base) << n;
    EXPECT_EQ(service.files().descriptions(), 7u);
  }
  proc_exit(1);
}

TEST_F(ServiceTest, ReadPathReadsFilesForExec) {
  proc_new(1);
  Message r = call(kProcmgr, request(Label::ReadPath, {1, 0}, "/bin/sh"));
  EXPECT_EQ(bytes_of(r, 0), kProgram);
  r = call(kProcmgr, request(Label::ReadPath, {1, 4}, "/bin/sh"));
  EXPECT_EQ(bytes_of(r, 0), kProgram.substr(4));
  EXPECT_EQ(result(kProcmgr, request(Label::ReadPath, {1, 1000}, "/bin/sh")), 0);
  // Relative to the process's cwd.
  ASSERT_EQ(result(1, request(Label::Chdir, {}, "/bin")), 0);
  EXPECT_EQ(bytes_of(call(kProcmgr, request(Label::ReadPath, {1, 0}, "init")), 0), kProgram.substr(0, 4));
  EXPECT_EQ(result(kProcmgr, request(Label::ReadPath, {1, 0}, "nothing")), err(Errno::NoEntry));
  EXPECT_EQ(result(kProcmgr, request(Label::ReadPath, {1, 0}, "/bin")), err(Errno::IsDir));
  EXPECT_EQ(result(kProcmgr, request(Label::ReadPath, {1, 0}, "")), err(Errno::NoEntry));
  EXPECT_EQ(result(kProcmgr, request(Label::ReadPath, {1, 0})), err(Errno::Invalid));
  proc_exit(1);
}

TEST_F(ServiceTest, ReadPathMovesAtMostOneMessage) {
  proc_new(1);
  std::string big(3000, 'b');
  int fd = open(1, "/big", kOpenCreate | kOpenWriteOnly);
  ASSERT_EQ(write(1, fd, big.substr(0, 496)), 496);
  ASSERT_EQ(write(1, fd, big.substr(0, 496)), 496);
  Message r = call(kProcmgr, request(Label::ReadPath, {1, 0}, "/big"));
  EXPECT_EQ(msg::result_of(r.mr[0]), int64_t(protocol::kMaxRead));
  EXPECT_EQ(r.length, msg::kWords);
  close(1, fd);
  ASSERT_EQ(result(1, request(Label::Unlink, {}, "/big")), 0);
  proc_exit(1);
}

// ---------------- Decoding ----------------

TEST_F(ServiceTest, MalformedRequestsGetPreciseErrors) {
  proc_new(1);
  // Too short.
  EXPECT_EQ(result(1, request(Label::Close, {})), err(Errno::Invalid));
  EXPECT_EQ(result(1, request(Label::Read, {0})), err(Errno::Invalid));
  EXPECT_EQ(result(1, request(Label::Lseek, {0, 0})), err(Errno::Invalid));
  EXPECT_EQ(result(1, request(Label::Dup2, {0})), err(Errno::Invalid));
  EXPECT_EQ(result(1, request(Label::Open, {0})), err(Errno::Invalid));
  EXPECT_EQ(result(1, request(Label::SetForeground, {0})), err(Errno::Invalid));
  // A byte count beyond the words sent.
  Message w = request(Label::Write, {1, 20}, "");
  w.length = 3;  // count 20 says three words of bytes, one was sent
  w.mr[1] = 20;
  EXPECT_EQ(result(1, w), err(Errno::Invalid));
  Message too_big = request(Label::Write, {1, protocol::kMaxWrite + 1});
  too_big.length = msg::kWords;
  EXPECT_EQ(result(1, too_big), err(Errno::Invalid));
  Message path = request(Label::Stat, {100});  // 100 bytes promised, none sent
  EXPECT_EQ(result(1, path), err(Errno::Invalid));
  // Paths: empty, too long, with a NUL.
  EXPECT_EQ(result(1, request(Label::Stat, {}, "")), err(Errno::NoEntry));
  Message long_path = request(Label::Stat, {protocol::kPathMax + 1});
  long_path.length = msg::kWords;
  EXPECT_EQ(result(1, long_path), err(Errno::NameTooLong));
  EXPECT_EQ(result(1, request(Label::Stat, {}, std::string_view("/bin\0x", 6))), err(Errno::Invalid));
  // Descriptors: negative, huge, not open.
  for (uint64_t fd : {~uint64_t{0}, uint64_t{1} << 32, uint64_t{77}}) {
    EXPECT_EQ(result(1, request(Label::Close, {fd})), err(Errno::BadFd)) << fd;
    EXPECT_EQ(result(1, request(Label::Read, {fd, 1})), err(Errno::BadFd)) << fd;
    EXPECT_EQ(result(1, request(Label::Fstat, {fd})), err(Errno::BadFd)) << fd;
  }
  for (uint64_t fd : {~uint64_t{0}, uint64_t{1} << 32, uint64_t{kDefaultMaxFds}})
    EXPECT_EQ(result(1, request(Label::Dup2, {0, fd})), err(Errno::BadFd)) << fd;
  // Flags and whence out of range.
  EXPECT_EQ(result(1, request(Label::Open, {uint64_t{1} << 32}, "/bin/sh")), err(Errno::Invalid));
  EXPECT_EQ(result(1, request(Label::Open, {0x40000000}, "/bin/sh")), err(Errno::Invalid));
  int fd = open(1, "/bin/sh", kOpenReadOnly);
  EXPECT_EQ(result(1, request(Label::Lseek, {uint64_t(fd), 0, 3})), err(Errno::Invalid));
  EXPECT_EQ(result(1, request(Label::Lseek, {uint64_t(fd), 0, 256})), err(Errno::Invalid));
  EXPECT_EQ(result(1, request(Label::Lseek, {uint64_t(fd), ~uint64_t{0}, 0})), err(Errno::Invalid));
  EXPECT_EQ(result(1, request(Label::Lseek, {0, 0, 0})), err(Errno::IllegalSeek));
  // ConsoleInput's count is checked like any other.
  Message typed = request(Label::ConsoleInput, {9});
  EXPECT_EQ(result(kConsoleThread, typed), err(Errno::Invalid));
  proc_exit(1);
}

TEST_F(ServiceTest, FileCallsRoundTrip) {
  proc_new(1);
  ASSERT_EQ(result(1, request(Label::Mkdir, {}, "/home")), 0);
  EXPECT_EQ(result(1, request(Label::Mkdir, {}, "/home")), err(Errno::Exists));
  EXPECT_EQ(result(1, request(Label::Mkdir, {}, "/bin/x")), err(Errno::ReadOnlyFs));
  int fd = open(1, "/home/notes", kOpenCreate | kOpenReadWrite | kOpenExclusive);
  ASSERT_EQ(fd, 3);
  EXPECT_EQ(open(1, "/home/notes", kOpenCreate | kOpenExclusive | kOpenWriteOnly), err(Errno::Exists));
  EXPECT_EQ(write(1, fd, "0123456789"), 10);
  EXPECT_EQ(result(1, request(Label::Lseek, {3, static_cast<uint64_t>(-4), 2})), 6);
  EXPECT_EQ(read(1, fd), "6789");
  EXPECT_EQ(read(1, fd), "");
  // Fstat and Stat agree.
  Message f = call(1, request(Label::Fstat, {3}));
  EXPECT_EQ(f.length, 6u);
  EXPECT_EQ(f.mr[0], 0u);
  EXPECT_EQ(f.mr[2], kModeRegular | 0644);
  EXPECT_EQ(f.mr[3], 1u);
  EXPECT_EQ(f.mr[4], 10u);
  Message s = call(1, request(Label::Stat, {}, "/home/notes"));
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(s.mr[i], f.mr[i]) << i;
  EXPECT_EQ(call(1, request(Label::Stat, {}, "/bin/sh")).mr[2], kModeRegular | 0555);
  EXPECT_EQ(call(1, request(Label::Fstat, {0})).mr[2], kModeCharDevice | 0620);
  // Dup shares the offset.
  EXPECT_EQ(result(1, request(Label::Dup, {3})), 4);
  EXPECT_EQ(result(1, request(Label::Lseek, {4, 1, 0})), 1);
  EXPECT_EQ(read(1, 3, 3), "123");
  EXPECT_EQ(close(1, 4), 0);
  EXPECT_EQ(close(1, 4), err(Errno::BadFd));
  // Writing a read-only descriptor, reading a write-only one.
  EXPECT_EQ(write(1, open(1, "/bin/sh", kOpenReadOnly), "x"), err(Errno::BadFd));
  EXPECT_EQ(open(1, "/bin/sh", kOpenWriteOnly), err(Errno::ReadOnlyFs));
  EXPECT_EQ(result(1, request(Label::Rmdir, {}, "/home")), err(Errno::NotEmpty));
  EXPECT_EQ(result(1, request(Label::Unlink, {}, "/home/notes")), 0);
  EXPECT_EQ(result(1, request(Label::Unlink, {}, "/home/notes")), err(Errno::NoEntry));
  EXPECT_EQ(result(1, request(Label::Rmdir, {}, "/home")), 0);
  EXPECT_EQ(result(1, request(Label::Chdir, {}, "/bin/sh")), err(Errno::NotDir));
  proc_exit(1);
}

TEST_F(ServiceTest, ReaddirListsEntries) {
  proc_new(1);
  int fd = open(1, "/bin", kOpenReadOnly | kOpenDirectory);
  ASSERT_GE(fd, 0);
  std::vector<std::string> names;
  for (;;) {
    Message r = call(1, request(Label::Readdir, {uint64_t(fd)}));
    ASSERT_GE(msg::result_of(r.mr[0]), 0);
    if (r.mr[0] == 0) break;
    EXPECT_EQ(r.mr[0], 1u);
    EXPECT_NE(r.mr[1], 0u);
    std::string name = bytes_of(r, 3);
    EXPECT_EQ(r.length, 4 + msg::words_for(name.size()));
    EXPECT_EQ(r.mr[2], name == "." || name == ".." ? kModeDirectory : kModeRegular) << name;
    names.push_back(name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{".", "..", "sh", "init"}));
  EXPECT_EQ(result(1, request(Label::Readdir, {0})), err(Errno::NotDir));
  EXPECT_EQ(result(1, request(Label::Readdir, {99})), err(Errno::BadFd));
  proc_exit(1);
}

TEST_F(ServiceTest, ForegroundGroupOnTheConsoleOnly) {
  proc_new(1);
  EXPECT_EQ(result(1, request(Label::GetForeground, {0})), 0);
  EXPECT_EQ(result(1, request(Label::SetForeground, {0, 5})), 0);
  EXPECT_EQ(result(1, request(Label::GetForeground, {2})), 5);
  EXPECT_EQ(result(1, request(Label::SetForeground, {0, 0})), err(Errno::Invalid));
  EXPECT_EQ(result(1, request(Label::SetForeground, {0, ~uint64_t{0}})), err(Errno::Invalid));
  auto [r, w] = pipe(1);
  EXPECT_EQ(result(1, request(Label::SetForeground, {uint64_t(r), 5})), err(Errno::NotTty));
  EXPECT_EQ(result(1, request(Label::GetForeground, {uint64_t(w)})), err(Errno::NotTty));
  EXPECT_EQ(result(1, request(Label::Isatty, {uint64_t(w)})), err(Errno::NotTty));
  EXPECT_EQ(result(1, request(Label::GetForeground, {50})), err(Errno::BadFd));
  // Ctrl-C names the group; other input does not.
  type("abc", 0);
  type("\x03", 5);
  EXPECT_EQ(out.text, "abc^C\n");
  proc_exit(1);
}

// ---------------- Blocking: pipes ----------------

TEST_F(ServiceTest, ReadOfEmptyPipeWaitsForData) {
  proc_new(1);
  auto [r, w] = pipe(1);
  proc_fork(1, 2);
  ReplyToken t = parks(2, request(Label::Read, {uint64_t(r), 100}));
  EXPECT_EQ(service.parked(), 1u);
  EXPECT_EQ(replies.reply(t), nullptr);
  // Something unrelated does not wake it.
  EXPECT_EQ(result(1, request(Label::Ping, {1})), 1);
  EXPECT_EQ(replies.reply(t), nullptr);
  EXPECT_EQ(write(1, w, "hello"), 5);
  ASSERT_NE(replies.reply(t), nullptr);
  EXPECT_EQ(msg::result_of(replies.reply(t)->mr[0]), 5);
  EXPECT_EQ(bytes_of(*replies.reply(t), 0), "hello");
  EXPECT_EQ(service.parked(), 0u);
  proc_exit(1);
  proc_exit(2);
}

TEST_F(ServiceTest, LastWriterClosingGivesEndOfFile) {
  proc_new(1);
  auto [r, w] = pipe(1);
  proc_fork(1, 2);
  EXPECT_EQ(close(2, w), 0);
  ReplyToken t = parks(2, request(Label::Read, {uint64_t(r), 10}));
  // The parent still holds a write end: closing its read end changes nothing.
  EXPECT_EQ(close(1, r), 0);
  EXPECT_EQ(replies.reply(t), nullptr);
  EXPECT_EQ(close(1, w), 0);
  ASSERT_NE(replies.reply(t), nullptr);
  EXPECT_EQ(replies.reply(t)->mr[0], 0u);
  EXPECT_EQ(replies.reply(t)->length, 1u);
  proc_exit(2);
  proc_exit(1);
}

TEST_F(ServiceTest, WriterKilledGivesEndOfFileToReader) {
  proc_new(1);
  auto [r, w] = pipe(1);
  proc_fork(1, 2);  // 2 will be the writer
  EXPECT_EQ(close(1, w), 0);
  EXPECT_EQ(close(2, r), 0);
  ReplyToken t = parks(1, request(Label::Read, {uint64_t(r), 10}));
  proc_exit(2);
  ASSERT_NE(replies.reply(t), nullptr);
  EXPECT_EQ(replies.reply(t)->mr[0], 0u);
  proc_exit(1);
}

TEST_F(ServiceTest, FullPipeBlocksWriterUntilRead) {
  proc_new(1);
  auto [r, w] = pipe(1);
  proc_fork(1, 2);
  std::string chunk(protocol::kMaxWrite, 'a');
  size_t written = 0;
  while (written + chunk.size() <= kPipeCapacity) {
    ASSERT_EQ(write(2, w, chunk), int64_t(chunk.size()));
    written += chunk.size();
  }
  // A write fits in part only: it is atomic (PIPE_BUF), so it waits whole.
  ReplyToken t = parks(2, request(Label::Write, {uint64_t(w)}, std::string(chunk.size(), 'b')));
  // A small read does not make enough room.
  EXPECT_EQ(read(1, r, 10), std::string(10, 'a'));
  EXPECT_EQ(replies.reply(t), nullptr);
  EXPECT_EQ(read(1, r, 500).size(), 500u);
  ASSERT_NE(replies.reply(t), nullptr);
  EXPECT_EQ(msg::result_of(replies.reply(t)->mr[0]), int64_t(chunk.size()));
  // Everything arrives in order.
  std::string rest;
  for (std::string got; !(got = read(1, r)).empty() && got[0] != '<';) {
    rest += got;
    if (rest.size() >= written - 510 + chunk.size()) break;
  }
  EXPECT_EQ(rest, std::string(written - 510, 'a') + std::string(chunk.size(), 'b'));
  proc_exit(1);
  proc_exit(2);
}

TEST_F(ServiceTest, LastReaderClosingGivesBrokenPipe) {
  proc_new(1);
  auto [r, w] = pipe(1);
  std::string chunk(protocol::kMaxWrite, 'a');
  for (size_t n = 0; n + chunk.size() <= kPipeCapacity; n += chunk.size()) ASSERT_GT(write(1, w, chunk), 0);
  EXPECT_EQ(call(1, request(Label::Fstat, {uint64_t(w)})).mr[4], kPipeCapacity / chunk.size() * chunk.size());
  proc_fork(1, 2);
  EXPECT_EQ(close(2, r), 0);
  ReplyToken t = parks(2, request(Label::Write, {uint64_t(w)}, chunk));
  EXPECT_EQ(close(1, r), 0);
  ASSERT_NE(replies.reply(t), nullptr);
  EXPECT_EQ(msg::result_of(replies.reply(t)->mr[0]), err(Errno::BrokenPipe));
  // And at once from then on.
  EXPECT_EQ(write(1, w, "x"), err(Errno::BrokenPipe));
  proc_exit(1);
  proc_exit(2);
}

TEST_F(ServiceTest, ReaderKilledGivesBrokenPipeToWriter) {
  proc_new(1);
  auto [r, w] = pipe(1);
  proc_fork(1, 2);  // 2 is the reader
  EXPECT_EQ(close(1, r), 0);
  EXPECT_EQ(close(2, w), 0);
  ReplyToken reader = parks(2, request(Label::Read, {uint64_t(r), 10}));
  std::string chunk(protocol::kMaxWrite, 'z');
  // The first write wakes the reader; then the pipe fills.
  EXPECT_EQ(write(1, w, chunk), int64_t(chunk.size()));
  ASSERT_NE(replies.reply(reader), nullptr);
  EXPECT_EQ(msg::result_of(replies.reply(reader)->mr[0]), 10);
  size_t buffered = chunk.size() - 10;
  while (buffered + chunk.size() <= kPipeCapacity) {
    ASSERT_EQ(write(1, w, chunk), int64_t(chunk.size()));
    buffered += chunk.size();
  }
  ReplyToken writer = parks(1, request(Label::Write, {uint64_t(w)}, chunk));
  proc_exit(2);  // killed: its read end closes
  ASSERT_NE(replies.reply(writer), nullptr);
  EXPECT_EQ(msg::result_of(replies.reply(writer)->mr[0]), err(Errno::BrokenPipe));
  proc_exit(1);
}

TEST_F(ServiceTest, ParkedReadersAreServedInOrder) {
  proc_new(1);
  auto [r, w] = pipe(1);
  proc_fork(1, 2);
  proc_fork(1, 3);
  ReplyToken first = parks(2, request(Label::Read, {uint64_t(r), 3}));
  ReplyToken second = parks(3, request(Label::Read, {uint64_t(r), 3}));
  EXPECT_EQ(write(1, w, "abc"), 3);
  ASSERT_NE(replies.reply(first), nullptr);
  EXPECT_EQ(bytes_of(*replies.reply(first), 0), "abc");
  EXPECT_EQ(replies.reply(second), nullptr);
  EXPECT_EQ(write(1, w, "defgh"), 5);
  ASSERT_NE(replies.reply(second), nullptr);
  EXPECT_EQ(bytes_of(*replies.reply(second), 0), "def");
  EXPECT_EQ(read(1, r), "gh");
  proc_exit(1);
  proc_exit(2);
  proc_exit(3);
}

TEST_F(ServiceTest, ExitDropsParkedRequestsWithInterrupted) {
  proc_new(1);
  auto [r, w] = pipe(1);
  proc_fork(1, 2);
  ReplyToken t = parks(2, request(Label::Read, {uint64_t(r), 10}));
  proc_exit(2);
  ASSERT_NE(replies.reply(t), nullptr);
  EXPECT_EQ(msg::result_of(replies.reply(t)->mr[0]), err(Errno::Interrupted));
  // Nothing is left to answer when data comes.
  EXPECT_EQ(write(1, w, "late"), 4);
  EXPECT_EQ(replies.sent.size(), 1u);
  proc_exit(1);
}

TEST_F(ServiceTest, ChainedWakeUpsAcrossPipes) {
  // 2 waits to write into a full pipe A; 3 waits to read pipe B. Reading A
  // lets 2 finish; nothing is lost and nothing is answered twice.
  proc_new(1);
  auto [ar, aw] = pipe(1);
  auto [br, bw] = pipe(1);
  proc_fork(1, 2);
  proc_fork(1, 3);
  std::string chunk(protocol::kMaxWrite, 'a');
  for (size_t n = 0; n + chunk.size() <= kPipeCapacity; n += chunk.size()) ASSERT_GT(write(1, aw, chunk), 0);
  ReplyToken w2 = parks(2, request(Label::Write, {uint64_t(aw)}, chunk));
  ReplyToken r3 = parks(3, request(Label::Read, {uint64_t(br), 5}));
  EXPECT_EQ(service.parked(), 2u);
  EXPECT_EQ(read(1, ar).size(), protocol::kMaxRead);
  ASSERT_NE(replies.reply(w2), nullptr);
  EXPECT_EQ(replies.reply(r3), nullptr);
  EXPECT_EQ(write(1, bw, "bbb"), 3);
  ASSERT_NE(replies.reply(r3), nullptr);
  EXPECT_EQ(bytes_of(*replies.reply(r3), 0), "bbb");
  for (uint64_t pid : {1, 2, 3}) proc_exit(pid);
}

TEST_F(ServiceTest, ParkingWithoutRoomIsNoMemory) {
  proc_new(1);
  auto [r, w] = pipe(1);
  replies.limit = 0;
  EXPECT_EQ(result(1, request(Label::Read, {uint64_t(r), 10})), err(Errno::NoMemory));
  replies.limit = SIZE_MAX;
  pages.set_limit(pages.outstanding());
  // The record of a parked request needs memory too (a fresh slab page).
  int64_t got = result(1, request(Label::Read, {uint64_t(r), 10}));
  EXPECT_EQ(got, err(Errno::NoMemory));
  pages.set_limit(SIZE_MAX);
  EXPECT_EQ(service.parked(), 0u);
  proc_exit(1);
}

TEST_F(ServiceTest, ZeroByteReadOfEmptyPipeDoesNotBlock) {
  proc_new(1);
  auto [r, w] = pipe(1);
  EXPECT_EQ(read(1, r, 0), "");
  EXPECT_EQ(write(1, w, ""), 0);
  proc_exit(1);
}

TEST_F(ServiceTest, ReaderGoneWhileParkedTakesNoBytes) {
  proc_new(1);
  auto [r, w] = pipe(1);
  proc_fork(1, 2);
  proc_fork(1, 3);
  ReplyToken stale = parks(2, request(Label::Read, {uint64_t(r), 10}));
  replies.gone.insert(stale);  // suspended: the kernel emptied its Reply object
  // Resumed, it sends its Read again, and parks again behind 3's.
  ReplyToken other = parks(3, request(Label::Read, {uint64_t(r), 3}));
  ReplyToken again = parks(2, request(Label::Read, {uint64_t(r), 10}));
  EXPECT_EQ(write(1, w, "abcdef"), 6);
  // The stale request was answered into the void and took nothing.
  EXPECT_NE(replies.reply(stale), nullptr);
  ASSERT_NE(replies.reply(other), nullptr);
  EXPECT_EQ(bytes_of(*replies.reply(other), 0), "abc");
  ASSERT_NE(replies.reply(again), nullptr);
  EXPECT_EQ(bytes_of(*replies.reply(again), 0), "def");
  for (uint64_t pid : {1, 2, 3}) proc_exit(pid);
}

TEST_F(ServiceTest, WriterGoneWhileParkedWritesNothing) {
  proc_new(1);
  auto [r, w] = pipe(1);
  proc_fork(1, 2);
  std::string chunk(protocol::kMaxWrite, 'a');
  size_t buffered = 0;
  for (; buffered + chunk.size() <= kPipeCapacity; buffered += chunk.size()) ASSERT_GT(write(1, w, chunk), 0);
  ReplyToken stale = parks(2, request(Label::Write, {uint64_t(w)}, std::string(200, 'S')));
  replies.gone.insert(stale);
  ReplyToken again = parks(2, request(Label::Write, {uint64_t(w)}, std::string(200, 'N')));
  EXPECT_EQ(read(1, r).size(), protocol::kMaxRead);
  ASSERT_NE(replies.reply(again), nullptr);
  EXPECT_EQ(msg::result_of(replies.reply(again)->mr[0]), 200);
  EXPECT_EQ(call(1, request(Label::Fstat, {uint64_t(r)})).mr[4], buffered - protocol::kMaxRead + 200);
  // Everything that arrives is the first chunks' and then N, never S.
  std::string all;
  for (std::string got; (got = read(1, r)).size() > 0 && got[0] != '<';) {
    all += got;
    if (all.size() == buffered - protocol::kMaxRead + 200) break;
  }
  EXPECT_EQ(all.find('S'), std::string::npos);
  EXPECT_EQ(all.substr(all.size() - 200), std::string(200, 'N'));
  proc_exit(2);
  proc_exit(1);
}

TEST_F(ServiceTest, ConsoleReaderGoneWhileParkedLeavesTheLine) {
  proc_new(1);
  proc_fork(1, 2);
  ReplyToken stale = parks(2, request(Label::Read, {0, 100}));
  replies.gone.insert(stale);
  type("kept\n");
  EXPECT_NE(replies.reply(stale), nullptr);
  EXPECT_EQ(read(1, 0), "kept\n");
  proc_exit(2);
  proc_exit(1);
}

// ---------------- Blocking: the console ----------------

TEST_F(ServiceTest, ConsoleReadWaitsForALine) {
  proc_new(1);
  ReplyToken t = parks(1, request(Label::Read, {0, 100}));
  type("ec");
  EXPECT_EQ(replies.reply(t), nullptr);
  type("ho hi\r");
  ASSERT_NE(replies.reply(t), nullptr);
  EXPECT_EQ(bytes_of(*replies.reply(t), 0), "echo hi\n");
  EXPECT_EQ(out.text, "echo hi\n");
  // A line typed ahead is there at once.
  type("ls\n");
  EXPECT_EQ(read(1, 0), "ls\n");
  // Ctrl-D at the start of a line: end of file for a parked read.
  t = parks(1, request(Label::Read, {0, 100}));
  type("\x04");
  ASSERT_NE(replies.reply(t), nullptr);
  EXPECT_EQ(replies.reply(t)->mr[0], 0u);
  proc_exit(1);
}

TEST_F(ServiceTest, CtrlCWithAWaitingReaderNamesTheGroupAndKeepsItWaiting) {
  proc_new(1);
  ASSERT_EQ(result(1, request(Label::SetForeground, {0, 1})), 0);
  ReplyToken t = parks(1, request(Label::Read, {0, 100}));
  type("half a line\x03", 1);
  EXPECT_EQ(replies.reply(t), nullptr);  // procmgr's SIGINT will end it
  proc_exit(1);
  ASSERT_NE(replies.reply(t), nullptr);
  EXPECT_EQ(msg::result_of(replies.reply(t)->mr[0]), err(Errno::Interrupted));
}

TEST_F(ServiceTest, DestructionAnswersWhatIsParked) {
  auto* extra_service = new Service(heap, fs, console, replies);
  ASSERT_EQ(extra_service->handle(kProcmgr, request(Label::ProcNew, {1}))->mr[0], 0u);
  ASSERT_FALSE(extra_service->handle(1, request(Label::Read, {0, 1})).has_value());
  delete extra_service;
  ASSERT_EQ(replies.sent.size(), 1u);
  EXPECT_EQ(msg::result_of(replies.sent.begin()->second.mr[0]), err(Errno::Interrupted));
}

// Random requests from random parties: every one is answered or parked,
// nothing crashes, and once the server is gone nothing is left. (A second
// Service, since random ProcNew and ProcFork make processes of any pid.)
TEST_F(ServiceTest, RandomRequestsLeaveNothingBehind) {
  auto random_service = std::make_unique<Service>(heap, fs, console, replies);
  std::mt19937_64 rng(12345);
  const uint64_t badges[] = {1, 2, 3, 4, 0, kProcmgr, kConsoleThread, msg::kPagerBadge};
  const std::string_view paths[] = {"/", "/bin/sh", "/tmp", "/tmp/a", "a", "..", "/bin", "x/y"};
  for (uint64_t pid : {1, 2, 3}) random_service->handle(kProcmgr, request(Label::ProcNew, {pid}));
  for (int i = 0; i < 20000; ++i) {
    Message m;
    m.label = rng() % 45;
    m.length = rng() % 8;
    for (size_t w = 0; w < msg::kWords; ++w) {
      switch (rng() % 4) {
        case 0: m.mr[w] = rng() % 8; break;
        case 1: m.mr[w] = rng() % 600; break;
        case 2: m.mr[w] = rng(); break;
        default: m.mr[w] = static_cast<uint64_t>(-static_cast<int64_t>(rng() % 4)); break;
      }
    }
    if (rng() % 3 == 0) {
      // A well-formed path or byte string after a word or two.
      size_t at = rng() % 3;
      m.length = at;
      for (size_t w = 0; w < at; ++w) m.mr[w] = rng() % 6;
      std::string_view p = paths[rng() % std::size(paths)];
      std::string data = rng() % 2 ? std::string(p) : std::string(rng() % 600, 'd');
      if (data.size() > msg::max_bytes_after(at + 1)) data.resize(msg::max_bytes_after(at + 1));
      append_bytes(m, std::as_bytes(std::span(data.data(), data.size())));
    }
    if (rng() % 2) m.length = std::min<size_t>(m.length + rng() % 3, msg::kWords);
    uint64_t badge = badges[rng() % std::size(badges)];
    auto r = random_service->handle(badge, m);
    if (r) {
      EXPECT_EQ(r->label, 0u);
      EXPECT_GE(r->length, 1u);
      EXPECT_LE(r->length, msg::kWords);
    }
    // Keep the processes there (they may have been exited by a random ProcExit).
    for (uint64_t pid : {1, 2, 3})
      if (rng() % 50 == 0) random_service->handle(kProcmgr, request(Label::ProcNew, {pid}));
  }
  EXPECT_GT(random_service->processes(), 3u);
  random_service.reset();
  // Whatever was made in the file system goes too.
  proc_new(1);
  remove_tree(1, "");
  proc_exit(1);
  EXPECT_EQ(fs.inodes_in_use(), base_inodes);
}

TEST_F(ServiceTest, RequestsAreCountedByLabel) {
  proc_new(1);
  call(1, request(Label::Ping, {0}));
  call(1, request(Label::Ping, {0}));
  EXPECT_EQ(service.requests(Label::Ping), 2u);
  EXPECT_EQ(service.requests(Label::ProcNew), 1u);
  proc_exit(1);
}

// Stats: anyone may ask; the counts include the Stats request itself and
// leave out the console thread's messages.
TEST_F(ServiceTest, StatsCountMessagesFromProcmgrAndFromProcesses) {
  proc_new(1);
  call(1, request(Label::Ping, {0}));
  call(kConsoleThread, request(Label::Ping, {0}));
  Message r = call(1, request(Label::Stats, {}));
  ASSERT_EQ(r.length, 3u);
  EXPECT_EQ(r.mr[0], 0u);
  EXPECT_EQ(r.mr[1], 1u);  // ProcNew
  EXPECT_EQ(r.mr[2], 2u);  // Ping and this Stats
  r = call(kProcmgr, request(Label::Stats, {}));
  EXPECT_EQ(r.mr[1], 2u);
  EXPECT_EQ(r.mr[2], 2u);
  EXPECT_EQ(service.from_procmgr(), 2u);
  EXPECT_EQ(service.from_processes(), 2u);
  // A process vfs has no table for is counted and answered too.
  r = call(7, request(Label::Stats, {}));
  EXPECT_EQ(r.mr[0], 0u);
  EXPECT_EQ(r.mr[2], 3u);
  proc_exit(1);
}

}  // namespace
}  // namespace vfs
