// Descriptor tables and open-file descriptions; the model is in files.h.
#include "files.h"

namespace vfs {

namespace {
inline constexpr uint32_t kInitialFds = 8;
}

bool OpenFile::read_ready() const {
  switch (kind) {
    case FileKind::PipeReader: return pipe->read_ready();
    case FileKind::Device: return device->read_ready();
    default: return true;
  }
}

bool OpenFile::write_ready(size_t size) const {
  return kind == FileKind::PipeWriter ? pipe->write_ready(size) : true;
}

// ---- Tables ----

Status Files::ensure_capacity(FdTable& table, uint32_t needed) {
  if (needed <= table.capacity) return {};
  if (needed > m_max_fds) return fail(Errno::TooManyFiles);
  uint32_t grown = table.capacity == 0 ? kInitialFds : table.capacity;
  while (grown < needed) grown *= 2;
  if (grown > m_max_fds) grown = m_max_fds;
  auto mem = m_heap.alloc(grown * sizeof(OpenFile*));
  if (!mem) return fail(to_errno(mem.error()));
  auto** slots = static_cast<OpenFile**>(*mem);
  for (uint32_t i = 0; i < grown; ++i) slots[i] = i < table.capacity ? table.slots[i] : nullptr;
  if (table.slots != nullptr) m_heap.free(table.slots, table.capacity * sizeof(OpenFile*));
  table.slots = slots;
  table.capacity = grown;
  return {};
}

// The lowest descriptor that is free and not `taken` (-1 for none), growing
// the table if every slot is in use. Nothing is installed.
Result<int> Files::lowest_free(FdTable& table, int taken) {
  for (uint32_t fd = 0; fd < table.capacity; ++fd)
    if (table.slots[fd] == nullptr && static_cast<int>(fd) != taken) return static_cast<int>(fd);
  uint32_t fd = table.capacity;
  if (static_cast<int>(fd) == taken) ++fd;
  VFS_TRY(ensure_capacity(table, fd + 1));
  return static_cast<int>(fd);
}

Result<FdTable*> Files::create_table(Inode* cwd) {
  auto table = m_heap.make<FdTable>();
  if (!table) return fail(to_errno(table.error()));
  (*table)->cwd = cwd;
  m_fs.retain(cwd);
  return *table;
}

Result<FdTable*> Files::fork_table(const FdTable& parent) {
  auto made = m_heap.make<FdTable>();
  if (!made) return fail(to_errno(made.error()));
  FdTable* child = *made;
  if (parent.capacity != 0) {
    auto mem = m_heap.alloc(parent.capacity * sizeof(OpenFile*));
    if (!mem) {
      m_heap.destroy(child);
      return fail(to_errno(mem.error()));
    }
    child->slots = static_cast<OpenFile**>(*mem);
    child->capacity = parent.capacity;
  }
  // Nothing can fail from here on.
  for (uint32_t fd = 0; fd < parent.capacity; ++fd) {
    child->slots[fd] = parent.slots[fd];
    if (child->slots[fd] != nullptr) ++child->slots[fd]->refs;
  }
  child->cwd = parent.cwd;
  m_fs.retain(child->cwd);
  return child;
}

void Files::release_table(FdTable* table) {
  for (uint32_t fd = 0; fd < table->capacity; ++fd)
    if (table->slots[fd] != nullptr) unref(table->slots[fd]);
  if (table->slots != nullptr) m_heap.free(table->slots, table->capacity * sizeof(OpenFile*));
  m_fs.release(table->cwd);
  m_heap.destroy(table);
}

// ---- Descriptions ----

Result<OpenFile*> Files::new_description(uint32_t flags, FileKind kind) {
  auto file = m_heap.make<OpenFile>();
  if (!file) return fail(to_errno(file.error()));
  (*file)->flags = flags;
  (*file)->kind = kind;
  ++m_descriptions;
  return *file;
}

// Free a description that never got its object (a failed open or pipe).
void Files::discard(OpenFile* file) {
  m_heap.destroy(file);
  --m_descriptions;
}

void Files::unref(OpenFile* file) {
  if (--file->refs != 0) return;
  switch (file->kind) {
    case FileKind::Inode: m_fs.release(file->inode); break;
    case FileKind::PipeReader: file->pipe->drop_reader(); break;
    case FileKind::PipeWriter: file->pipe->drop_writer(); break;
    case FileKind::Device: break;
  }
  m_heap.destroy(file);
  --m_descriptions;
}

Result<OpenFile*> Files::get(const FdTable& table, int fd) const {
  if (fd < 0 || static_cast<uint32_t>(fd) >= table.capacity || table.slots[fd] == nullptr) return fail(Errno::BadFd);
  return table.slots[fd];
}

// ---- Calls that make descriptors ----

Result<int> Files::open(FdTable& table, std::string_view path, uint32_t flags) {
  int fd = VFS_TRY(lowest_free(table, -1));
  OpenFile* file = VFS_TRY(new_description(flags & (kOpenAccessMask | kOpenAppend), FileKind::Inode));
  auto inode = m_fs.open(table.cwd, path, flags);
  if (!inode) {
    discard(file);
    return fail(inode.error());
  }
  file->inode = *inode;
  table.slots[fd] = file;
  return fd;
}

Result<int> Files::open_device(FdTable& table, Device& device, uint32_t flags) {
  if ((flags & ~(kOpenAccessMask | kOpenAppend)) != 0 || (flags & kOpenAccessMask) == kOpenAccessMask)
    return fail(Errno::Invalid);
  int fd = VFS_TRY(lowest_free(table, -1));
  OpenFile* file = VFS_TRY(new_description(flags, FileKind::Device));
  file->device = &device;
  table.slots[fd] = file;
  return fd;
}

Result<std::array<int, 2>> Files::pipe(FdTable& table) {
  int read_fd = VFS_TRY(lowest_free(table, -1));
  int write_fd = VFS_TRY(lowest_free(table, read_fd));
  OpenFile* reader = VFS_TRY(new_description(kOpenReadOnly, FileKind::PipeReader));
  auto writer = new_description(kOpenWriteOnly, FileKind::PipeWriter);
  if (!writer) {
    discard(reader);
    return fail(writer.error());
  }
  auto pipe = Pipe::create(m_heap);
  if (!pipe) {
    discard(reader);
    discard(*writer);
    return fail(pipe.error());
  }
  reader->pipe = *pipe;
  (*writer)->pipe = *pipe;
  table.slots[read_fd] = reader;
  table.slots[write_fd] = *writer;
  return std::array<int, 2>{read_fd, write_fd};
}

Status Files::close(FdTable& table, int fd) {
  OpenFile* file = VFS_TRY(get(table, fd));
  table.slots[fd] = nullptr;
  unref(file);
  return {};
}

Result<int> Files::dup(FdTable& table, int fd) {
  OpenFile* file = VFS_TRY(get(table, fd));
  int copy = VFS_TRY(lowest_free(table, -1));
  ++file->refs;
  table.slots[copy] = file;
  return copy;
}

Result<int> Files::dup2(FdTable& table, int from, int to) {
  OpenFile* file = VFS_TRY(get(table, from));
  if (to < 0 || static_cast<uint32_t>(to) >= m_max_fds) return fail(Errno::BadFd);
  if (from == to) return to;
  VFS_TRY(ensure_capacity(table, static_cast<uint32_t>(to) + 1));
  // Take the new reference before dropping the old one: harmless here (they
  // differ), and the order that stays right if they ever could be the same.
  ++file->refs;
  OpenFile* old = table.slots[to];
  table.slots[to] = file;
  if (old != nullptr) unref(old);
  return to;
}

// ---- Calls on descriptors ----

Result<size_t> Files::read(FdTable& table, int fd, std::span<std::byte> buf) {
  OpenFile* file = VFS_TRY(get(table, fd));
  if (!open_readable(file->flags)) return fail(Errno::BadFd);
  switch (file->kind) {
    case FileKind::Inode: {
      size_t n = VFS_TRY(m_fs.read(file->inode, file->offset, buf));
      file->offset += n;
      return n;
    }
    case FileKind::PipeReader: return file->pipe->read(buf);
    case FileKind::Device: return file->device->read(buf);
    case FileKind::PipeWriter: break;
  }
  return fail(Errno::BadFd);
}

Result<size_t> Files::write(FdTable& table, int fd, std::span<const std::byte> data) {
  OpenFile* file = VFS_TRY(get(table, fd));
  if (!open_writable(file->flags)) return fail(Errno::BadFd);
  switch (file->kind) {
    case FileKind::Inode: {
      uint64_t at = (file->flags & kOpenAppend) ? file->inode->size : file->offset;
      size_t n = VFS_TRY(m_fs.write(file->inode, at, data));
      file->offset = at + n;
      return n;
    }
    case FileKind::PipeWriter: return file->pipe->write(data);
    case FileKind::Device: return file->device->write(data);
    case FileKind::PipeReader: break;
  }
  return fail(Errno::BadFd);
}

Result<uint64_t> Files::lseek(FdTable& table, int fd, int64_t offset, int whence) {
  OpenFile* file = VFS_TRY(get(table, fd));
  if (file->kind != FileKind::Inode) return fail(Errno::IllegalSeek);
  int64_t base = 0;
  switch (static_cast<Whence>(whence)) {
    case Whence::Set: base = 0; break;
    case Whence::Current: base = static_cast<int64_t>(file->offset); break;
    case Whence::End: base = static_cast<int64_t>(file->inode->size); break;
    default: return fail(Errno::Invalid);
  }
  int64_t target = 0;
  if (__builtin_add_overflow(base, offset, &target) || target < 0) return fail(Errno::Invalid);
  file->offset = static_cast<uint64_t>(target);
  return file->offset;
}

Result<Stat> Files::fstat(FdTable& table, int fd) {
  OpenFile* file = VFS_TRY(get(table, fd));
  Stat st;
  switch (file->kind) {
    case FileKind::Inode: return m_fs.stat(file->inode);
    case FileKind::PipeReader:
    case FileKind::PipeWriter:
      st.mode = kModeFifo | 0600;
      st.links = 1;
      st.size = file->pipe->buffered();
      return st;
    case FileKind::Device:
      st.mode = kModeCharDevice | 0620;
      st.links = 1;
      return st;
  }
  return st;
}

Result<std::optional<DirListing>> Files::readdir(FdTable& table, int fd) {
  OpenFile* file = VFS_TRY(get(table, fd));
  if (file->kind != FileKind::Inode) return fail(Errno::NotDir);
  auto entry = VFS_TRY(m_fs.readdir(file->inode, file->offset));
  if (entry) ++file->offset;
  return entry;
}

Status Files::chdir(FdTable& table, std::string_view path) {
  Inode* dir = VFS_TRY(m_fs.lookup(table.cwd, path));
  if (dir->type != InodeType::Directory) return fail(Errno::NotDir);
  m_fs.retain(dir);
  m_fs.release(table.cwd);
  table.cwd = dir;
  return {};
}

}  // namespace vfs
