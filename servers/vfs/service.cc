// vfs's request handling: permissions, decoding, the operations and the
// parked requests. The model is in service.h.
#include "service.h"

namespace vfs {

namespace {

size_t min_size(uint64_t a, size_t b) { return a < b ? static_cast<size_t>(a) : b; }

uint64_t type_bits(InodeType type) { return type == InodeType::Directory ? kModeDirectory : kModeRegular; }

bool valid_pid(uint64_t pid) { return pid != 0 && !msg::is_server_badge(pid); }

}  // namespace

Service::~Service() {
  while (m_parked != nullptr) {
    (void)m_replies.send(m_parked->token, reply_error(Errno::Interrupted));
    unlink_parked(&m_parked);
  }
  while (FdTable* table = m_tables.remove_any()) m_files.release_table(table);
}

// ---- Dispatch ----

std::optional<Message> Service::handle(uint64_t badge, const Message& request) {
  if (request.label < kCountedLabels) ++m_requests[request.label];
  if (badge == msg::kProcmgrBadge) ++m_from_procmgr;
  else if (!msg::is_server_badge(badge)) ++m_from_processes;
  Result<Message> answer = serve(badge, request);
  if (!answer && answer.error() == Errno::Again) return park(badge, request);
  // Anything but a parked request may have made room or data for others.
  if (m_parked != nullptr) wake_parked();
  return answer ? *answer : reply_error(answer.error());
}

Result<Message> Service::serve(uint64_t badge, const Message& request) {
  RequestReader in(request);
  auto label = static_cast<Label>(request.label);
  switch (label) {
    case Label::Ping: return reply_value(static_cast<int64_t>(VFS_TRY(in.word(0))));
    case Label::Stats: return reply_words(0, {m_from_procmgr, m_from_processes});

    case Label::ProcNew:
    case Label::ProcFork:
    case Label::ProcExit:
    case Label::ReadPath:
      if (badge != msg::kProcmgrBadge) return fail(Errno::NotPermitted);
      return serve_procmgr(label, in);

    case Label::ConsoleInput: {
      if (badge != msg::kConsoleBadge) return fail(Errno::NotPermitted);
      auto typed = VFS_TRY(in.bytes(0, msg::max_bytes_after(1)));
      return reply_value(static_cast<int64_t>(m_console.input(typed)));
    }

    case Label::Open:
    case Label::Close:
    case Label::Read:
    case Label::Write:
    case Label::Lseek:
    case Label::Dup:
    case Label::Dup2:
    case Label::Pipe:
    case Label::Fstat:
    case Label::Stat:
    case Label::Unlink:
    case Label::Mkdir:
    case Label::Rmdir:
    case Label::Chdir:
    case Label::Getcwd:
    case Label::Readdir:
    case Label::Isatty:
    case Label::SetForeground:
    case Label::GetForeground: {
      if (msg::is_server_badge(badge)) return fail(Errno::NotPermitted);
      FdTable* table = m_tables.find(badge);
      if (table == nullptr) return fail(Errno::NoSuchProcess);
      return serve_process(*table, label, in);
    }
  }
  return fail(Errno::NoSys);
}

Result<Message> Service::serve_procmgr(Label label, const RequestReader& in) {
  switch (label) {
    case Label::ProcNew: return proc_new(VFS_TRY(in.word(0)));
    case Label::ProcFork: {
      uint64_t parent = VFS_TRY(in.word(0));
      return proc_fork(parent, VFS_TRY(in.word(1)));
    }
    case Label::ProcExit: return proc_exit(VFS_TRY(in.word(0)));
    case Label::ReadPath: {
      uint64_t pid = VFS_TRY(in.word(0));
      uint64_t offset = VFS_TRY(in.word(1));
      return read_path(pid, offset, VFS_TRY(in.path(2)));
    }
    default: return fail(Errno::NoSys);
  }
}

Result<Message> Service::serve_process(FdTable& table, Label label, const RequestReader& in) {
  switch (label) {
    case Label::Open: {
      uint64_t flags = VFS_TRY(in.word(0));
      std::string_view path = VFS_TRY(in.path(1));
      if (flags > UINT32_MAX) return fail(Errno::Invalid);
      return reply_value(VFS_TRY(m_files.open(table, path, static_cast<uint32_t>(flags))));
    }
    case Label::Close:
      VFS_TRY(m_files.close(table, VFS_TRY(in.fd(0))));
      return reply_value(0);
    case Label::Read: {
      int fd = VFS_TRY(in.fd(0));
      return read(table, fd, min_size(VFS_TRY(in.word(1)), protocol::kMaxRead));
    }
    case Label::Write: {
      int fd = VFS_TRY(in.fd(0));
      return write(table, fd, VFS_TRY(in.bytes(1, protocol::kMaxWrite)));
    }
    case Label::Lseek: {
      int fd = VFS_TRY(in.fd(0));
      int64_t offset = VFS_TRY(in.signed_word(1));
      uint64_t whence = VFS_TRY(in.word(2));
      if (whence > static_cast<uint64_t>(Whence::End)) return fail(Errno::Invalid);
      uint64_t at = VFS_TRY(m_files.lseek(table, fd, offset, static_cast<int>(whence)));
      return reply_value(static_cast<int64_t>(at));
    }
    case Label::Dup: return reply_value(VFS_TRY(m_files.dup(table, VFS_TRY(in.fd(0)))));
    case Label::Dup2: {
      int from = VFS_TRY(in.fd(0));
      int to = VFS_TRY(in.fd(1));
      return reply_value(VFS_TRY(m_files.dup2(table, from, to)));
    }
    case Label::Pipe: {
      auto ends = VFS_TRY(m_files.pipe(table));
      return reply_words(0, {static_cast<uint64_t>(ends[0]), static_cast<uint64_t>(ends[1])});
    }
    case Label::Fstat: return stat_reply(VFS_TRY(m_files.fstat(table, VFS_TRY(in.fd(0)))));
    case Label::Stat: {
      Inode* inode = VFS_TRY(m_fs.lookup(table.cwd, VFS_TRY(in.path(0))));
      return stat_reply(m_fs.stat(inode));
    }
    case Label::Unlink:
      VFS_TRY(m_fs.unlink(table.cwd, VFS_TRY(in.path(0))));
      return reply_value(0);
    case Label::Mkdir:
      VFS_TRY(m_fs.mkdir(table.cwd, VFS_TRY(in.path(0))));
      return reply_value(0);
    case Label::Rmdir:
      VFS_TRY(m_fs.rmdir(table.cwd, VFS_TRY(in.path(0))));
      return reply_value(0);
    case Label::Chdir:
      VFS_TRY(m_files.chdir(table, VFS_TRY(in.path(0))));
      return reply_value(0);
    case Label::Getcwd: {
      // A cwd may be longer than one message: the caller asks from an
      // offset (mr0, 0 when absent) and gets the total length in mr0 and
      // as many bytes from the offset as fit.
      char path[protocol::kCwdMax];
      const size_t n = VFS_TRY(m_files.getcwd(table, path));
      const uint64_t offset = in.length() >= 1 ? VFS_TRY(in.word(0)) : 0;
      if (offset > n) return fail(Errno::Invalid);
      const size_t chunk = n - offset < protocol::kMaxRead ? n - offset : protocol::kMaxRead;
      Message r = reply_value(n);
      r.length = 1;
      msg::pack(&r.mr[1], path + offset, chunk);
      r.length += msg::words_for(chunk);
      return r;
    }
    case Label::Readdir: return readdir(table, VFS_TRY(in.fd(0)));
    case Label::Isatty:
      VFS_TRY(console_file(table, VFS_TRY(in.fd(0))));
      return reply_value(1);
    case Label::SetForeground: {
      VFS_TRY(console_file(table, VFS_TRY(in.fd(0))));
      int64_t pgid = VFS_TRY(in.signed_word(1));
      if (pgid <= 0 || pgid > INT32_MAX) return fail(Errno::Invalid);
      m_console.set_foreground(static_cast<uint64_t>(pgid));
      return reply_value(0);
    }
    case Label::GetForeground:
      VFS_TRY(console_file(table, VFS_TRY(in.fd(0))));
      return reply_value(static_cast<int64_t>(m_console.foreground()));
    default: return fail(Errno::NoSys);
  }
}

// ---- Process hooks ----

Result<Message> Service::proc_new(uint64_t pid) {
  if (!valid_pid(pid)) return fail(Errno::Invalid);
  if (m_tables.find(pid) != nullptr) return fail(Errno::Exists);
  FdTable* table = VFS_TRY(m_files.create_table(m_fs.root()));
  // Descriptors 0, 1 and 2 share one description of the console, as after
  // a shell's open of the terminal and two dups.
  auto build = [&]() -> Status {
    VFS_TRY(m_files.open_device(*table, m_console, kOpenReadWrite));
    VFS_TRY(m_files.dup(*table, 0));
    VFS_TRY(m_files.dup(*table, 0));
    return m_tables.insert(pid, table);
  };
  if (Status built = build(); !built) {
    m_files.release_table(table);
    return fail(built.error());
  }
  return reply_value(0);
}

Result<Message> Service::proc_fork(uint64_t parent, uint64_t child) {
  FdTable* from = m_tables.find(parent);
  if (from == nullptr) return fail(Errno::NoSuchProcess);
  if (!valid_pid(child)) return fail(Errno::Invalid);
  if (m_tables.find(child) != nullptr) return fail(Errno::Exists);
  FdTable* table = VFS_TRY(m_files.fork_table(*from));
  if (Status inserted = m_tables.insert(child, table); !inserted) {
    m_files.release_table(table);
    return fail(inserted.error());
  }
  return reply_value(0);
}

Result<Message> Service::proc_exit(uint64_t pid) {
  FdTable* table = m_tables.remove(pid);
  if (table == nullptr) return fail(Errno::NoSuchProcess);
  drop_parked(pid);
  m_files.release_table(table);
  return reply_value(0);
}

Result<Message> Service::read_path(uint64_t pid, uint64_t offset, std::string_view path) {
  FdTable* table = m_tables.find(pid);
  if (table == nullptr) return fail(Errno::NoSuchProcess);
  Inode* inode = VFS_TRY(m_fs.lookup(table->cwd, path));
  if (inode->type == InodeType::Directory) return fail(Errno::IsDir);
  Message r = reply_value(0);
  size_t n = VFS_TRY(m_fs.read(inode, offset, std::span(r.bytes_at(1), protocol::kMaxRead)));
  r.mr[0] = n;
  r.length = 1 + msg::words_for(n);
  return r;
}

// ---- Operations on descriptors ----

Result<Message> Service::read(FdTable& table, int fd, size_t count) {
  // The bytes go straight into the reply, after mr0; the rest stays zero.
  Message r = reply_value(0);
  size_t n = VFS_TRY(m_files.read(table, fd, std::span(r.bytes_at(1), count)));
  r.mr[0] = n;
  r.length = 1 + msg::words_for(n);
  return r;
}

Result<Message> Service::write(FdTable& table, int fd, std::span<const std::byte> data) {
  size_t n = VFS_TRY(m_files.write(table, fd, data));
  return reply_value(static_cast<int64_t>(n));
}

Result<Message> Service::readdir(FdTable& table, int fd) {
  auto entry = VFS_TRY(m_files.readdir(table, fd));
  if (!entry) return reply_value(0);
  Message r = reply_words(1, {entry->inode, type_bits(entry->type)});
  append_bytes(r, std::as_bytes(std::span(entry->name.data(), entry->name.size())));
  return r;
}

Result<Message> Service::stat_reply(const Stat& st) {
  return reply_words(0, {st.inode, st.mode, st.links, st.size, st.blocks});
}

Result<OpenFile*> Service::console_file(FdTable& table, int fd) {
  OpenFile* file = VFS_TRY(m_files.get(table, fd));
  if (file->kind != FileKind::Device || file->device != &m_console) return fail(Errno::NotTty);
  return file;
}

// ---- Parked requests ----

std::optional<Message> Service::park(uint64_t pid, const Message& request) {
  auto label = static_cast<Label>(request.label);
  RequestReader in(request);
  // serve() decoded these already; only Read and Write answer Again.
  auto fd = in.fd(0);
  auto count = in.word(1);
  if ((label != Label::Read && label != Label::Write) || !fd || !count) return reply_error(Errno::Again);
  auto made = m_heap.make<Parked>();
  if (!made) return reply_error(Errno::NoMemory);
  Parked* p = *made;
  p->next = nullptr;
  p->pid = pid;
  p->label = label;
  p->fd = *fd;
  if (label == Label::Read) {
    p->count = static_cast<uint32_t>(min_size(*count, protocol::kMaxRead));
  } else {
    auto data = in.bytes(1, protocol::kMaxWrite);
    if (!data) {
      m_heap.destroy(p);
      return reply_error(data.error());
    }
    p->count = static_cast<uint32_t>(data->size());
    __builtin_memcpy(p->data, data->data(), data->size());
  }
  auto token = m_replies.save();
  if (!token) {
    m_heap.destroy(p);
    return reply_error(token.error());
  }
  p->token = *token;
  *m_parked_tail = p;
  m_parked_tail = &p->next;
  ++m_parked_count;
  return std::nullopt;
}

void Service::unlink_parked(Parked** link) {
  Parked* p = *link;
  *link = p->next;
  if (m_parked_tail == &p->next) m_parked_tail = link;
  m_heap.destroy(p);
  --m_parked_count;
}

void Service::wake_parked() {
  for (bool progress = true; progress;) {
    progress = false;
    for (Parked** link = &m_parked; *link != nullptr;) {
      if (!retry(**link)) {
        link = &(*link)->next;
        continue;
      }
      unlink_parked(link);
      progress = true;
    }
  }
}

bool Service::retry(Parked& p) {
  auto failed = [&](Errno e) {
    (void)m_replies.send(p.token, reply_error(e));
    return true;
  };
  FdTable* table = m_tables.find(p.pid);
  if (table == nullptr) return failed(Errno::NoSuchProcess);
  // The caller is blocked, so its descriptor still names what it did.
  auto got = m_files.get(*table, p.fd);
  if (!got) return failed(got.error());
  OpenFile& file = **got;
  if (p.label == Label::Read) {
    if (!file.read_ready()) return false;
    bool console = file.kind == FileKind::Device && file.device == &m_console;
    if (file.kind != FileKind::PipeReader && !console) return failed(Errno::Io);  // only these park
    Message r = reply_value(0);
    std::span<std::byte> buf(r.bytes_at(1), p.count);
    size_t n = console ? m_console.peek(buf) : file.pipe->peek(buf);
    r.mr[0] = n;
    r.length = 1 + msg::words_for(n);
    if (!m_replies.send(p.token, r)) return true;  // nobody to take them: the bytes stay
    if (console) m_console.consume(n);
    else file.pipe->consume(n);
    return true;
  }
  if (!file.write_ready(p.count)) return false;
  if (file.kind != FileKind::PipeWriter) return failed(Errno::Io);
  if (file.pipe->readers() == 0) return failed(Errno::BrokenPipe);
  // Room for all of it (a Write is below kPipeAtomic): the answer is known.
  static_assert(protocol::kMaxWrite <= kPipeAtomic);
  if (!m_replies.send(p.token, reply_value(p.count))) return true;  // the bytes never go in
  (void)file.pipe->write(std::span(p.data, p.count));
  return true;
}

void Service::drop_parked(uint64_t pid) {
  for (Parked** link = &m_parked; *link != nullptr;) {
    if ((*link)->pid != pid) {
      link = &(*link)->next;
      continue;
    }
    (void)m_replies.send((*link)->token, reply_error(Errno::Interrupted));
    unlink_parked(link);
  }
}

}  // namespace vfs
