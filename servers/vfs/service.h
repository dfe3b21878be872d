// The vfs server's request handling, without the IPC: a request comes in
// as (badge, Message) and handle() gives the reply, or parks the request
// when it must wait. The server's main loop does the system calls; the
// tests drive this class directly, with a fake ReplyStore.
//
// Who may ask what (protocol.h): procmgr (msg::kProcmgrBadge) the process
// hooks and ReadPath, vfs's console thread (msg::kConsoleBadge)
// ConsoleInput, processes (badged with their pid) the file calls; anyone
// Ping and Stats. A label sent by the wrong party gets -EPERM, an unknown label
// -ENOSYS, a process vfs has no table for -ESRCH, a malformed request a
// precise -errno (request.h).
//
// Blocking. A Read of an empty pipe that has writers or of the console
// without a finished line, and a Write to a pipe without room, answer
// Again in the file layer. Then the request is parked: its reply is saved
// (ReplyStore::save, a kernel Reply object on the target) with what is
// needed to run it again (descriptor, count, the bytes to write), in
// arrival order. After every request that was not itself parked, the
// parked ones are looked at again, oldest first, until none can proceed;
// each one that now has an answer (data, room, end of file when the last
// writer closed, EPIPE when the last reader closed, a console line) is sent
// it through its saved reply. The answer goes out before the state
// changes: the bytes a reader is sent leave the pipe or the console, and a
// writer's bytes enter the pipe, only if the caller was still there to get
// the reply. A caller killed (or suspended, which makes it send its request
// again when resumed) while it waited loses nothing and duplicates nothing.
// A process that exits (ProcExit) has its parked requests dropped before
// its descriptors are closed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "console.h"
#include "errno.h"
#include "files.h"
#include "heap.h"
#include "memfs.h"
#include "process_tables.h"
#include "request.h"
#include "vfs/protocol.h"

namespace vfs {

// A reply kept for later.
using ReplyToken = uint64_t;

class ReplyStore {
 public:
  // Keep the reply owed to the caller of the request being handled, so that
  // the server can receive other requests meanwhile. NoMemory when there is
  // no room for one more.
  virtual Result<ReplyToken> save() = 0;
  // Send `reply` through a saved reply and free the token. False if the
  // caller is gone (killed or suspended while it waited): then nobody got it.
  virtual bool send(ReplyToken token, const Message& reply) = 0;

 protected:
  ~ReplyStore() = default;
};

class Service {
 public:
  Service(Heap& heap, MemFs& fs, Console& console, ReplyStore& replies, uint32_t max_fds = kDefaultMaxFds)
      : m_heap(heap), m_fs(fs), m_files(heap, fs, max_fds), m_console(console), m_replies(replies), m_tables(heap) {}
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;
  // Drops every parked request (answered -EINTR) and every table.
  ~Service();

  // One request from `badge`: the reply to send now, or nullopt when the
  // request was parked (its reply saved through the ReplyStore).
  std::optional<Message> handle(uint64_t badge, const Message& request);

  size_t processes() const { return m_tables.count(); }
  size_t parked() const { return m_parked_count; }
  const Files& files() const { return m_files; }
  // Requests received, by label (protocol::Label values below kCountedLabels).
  static constexpr size_t kCountedLabels = 64;
  uint64_t requests(protocol::Label label) const {
    auto i = static_cast<size_t>(label);
    return i < kCountedLabels ? m_requests[i] : 0;
  }
  // Requests received from procmgr and from processes (any label, Stats's
  // answer): the console thread's are in neither.
  uint64_t from_procmgr() const { return m_from_procmgr; }
  uint64_t from_processes() const { return m_from_processes; }

 private:
  using Label = protocol::Label;

  struct Parked {
    Parked* next;
    uint64_t pid;
    ReplyToken token;
    Label label;  // Read or Write
    int fd;
    uint32_t count;
    std::byte data[protocol::kMaxWrite];  // Write: the bytes to write
  };

  // The answer to a request, or Again from Read/Write: park it.
  Result<Message> serve(uint64_t badge, const Message& request);
  Result<Message> serve_procmgr(Label label, const RequestReader& in);
  Result<Message> serve_process(FdTable& table, Label label, const RequestReader& in);

  Result<Message> proc_new(uint64_t pid);
  Result<Message> proc_fork(uint64_t parent, uint64_t child);
  Result<Message> proc_exit(uint64_t pid);
  Result<Message> read_path(uint64_t pid, uint64_t offset, std::string_view path);
  Result<Message> read(FdTable& table, int fd, size_t count);
  Result<Message> write(FdTable& table, int fd, std::span<const std::byte> data);
  Result<Message> readdir(FdTable& table, int fd);
  Result<Message> stat_reply(const Stat& st);
  Result<OpenFile*> console_file(FdTable& table, int fd);

  // Park a Read or Write that answered Again; nullopt, or the reply to send
  // now if it cannot be parked (-ENOMEM).
  std::optional<Message> park(uint64_t pid, const Message& request);
  // Answer the parked requests that can proceed, until none can.
  void wake_parked();
  // Answer one parked request if it can proceed: true if it is done with.
  bool retry(Parked& p);
  // Answer every parked request of `pid` with -EINTR and drop it.
  void drop_parked(uint64_t pid);
  void unlink_parked(Parked** link);

  Heap& m_heap;
  MemFs& m_fs;
  Files m_files;
  Console& m_console;
  ReplyStore& m_replies;
  ProcessTables m_tables;
  Parked* m_parked = nullptr;  // oldest first
  Parked** m_parked_tail = &m_parked;
  size_t m_parked_count = 0;
  uint64_t m_requests[kCountedLabels] = {};
  uint64_t m_from_procmgr = 0;
  uint64_t m_from_processes = 0;
};

}  // namespace vfs
