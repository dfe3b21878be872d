// Descriptors and open-file descriptions, the Unix way. Each process has an
// FdTable: an array of pointers to OpenFile descriptions, grown by doubling
// up to a per-process maximum, plus its working directory. A description
// holds what open() created: the access flags, the offset and the object (a
// memfs inode, one end of a pipe, or a device such as the console), with a
// refcount because dup, dup2 and fork share it: two descriptors that share a
// description share its offset. The last close of a description releases the
// object (the inode's reference, the pipe end, which may wake or break the
// other side). Every operation checks and allocates first and changes state
// only when nothing can fail any more, so an error, NoMemory included,
// leaves the tables as they were.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "errno.h"
#include "heap.h"
#include "memfs.h"
#include "pipe.h"
#include "posix.h"

namespace vfs {

// A character device (the console). Lives outside the file layer, longer
// than any description pointing at it. Answers Again to park a request.
class Device {
 public:
  virtual Result<size_t> read(std::span<std::byte> buf) = 0;
  virtual Result<size_t> write(std::span<const std::byte> data) = 0;
  virtual bool read_ready() const = 0;

 protected:
  ~Device() = default;
};

enum class FileKind : uint8_t { Inode, PipeReader, PipeWriter, Device };

struct OpenFile {
  uint32_t refs = 1;      // descriptors (in all tables) naming it
  uint32_t flags = 0;     // open(2) flags as given (access mode, kOpenAppend)
  uint64_t offset = 0;    // file position; readdir index for a directory
  FileKind kind = FileKind::Inode;
  Inode* inode = nullptr;  // kind Inode: one reference held
  Pipe* pipe = nullptr;    // kind PipeReader/PipeWriter: one end held
  Device* device = nullptr;

  // Whether a parked read, or write of `size` bytes, can now be retried.
  bool read_ready() const;
  bool write_ready(size_t size) const;
};

struct FdTable {
  OpenFile** slots = nullptr;  // null entries are free descriptors
  uint32_t capacity = 0;
  Inode* cwd = nullptr;        // one reference held
};

inline constexpr uint32_t kDefaultMaxFds = 256;

class Files {
 public:
  Files(Heap& heap, MemFs& fs, uint32_t max_fds = kDefaultMaxFds) : m_heap(heap), m_fs(fs), m_max_fds(max_fds) {}

  // An empty table whose cwd is `cwd` (a reference is taken). NoMemory.
  Result<FdTable*> create_table(Inode* cwd);
  // fork(): a new table naming the same descriptions (refcounts up, offsets
  // shared) and the same cwd. NoMemory, and then nothing changed.
  Result<FdTable*> fork_table(const FdTable& parent);
  // exit(): close every descriptor, drop the cwd, free the table.
  void release_table(FdTable* table);

  // open(2) on the memory file system: the lowest free descriptor. Errors of
  // MemFs::open, TooManyFiles, NoMemory.
  Result<int> open(FdTable& table, std::string_view path, uint32_t flags);
  // A descriptor for a device (the console on 0, 1, 2 at start-up).
  Result<int> open_device(FdTable& table, Device& device, uint32_t flags);
  // pipe(2): {read end, write end}, the two lowest free descriptors.
  Result<std::array<int, 2>> pipe(FdTable& table);

  Status close(FdTable& table, int fd);
  Result<int> dup(FdTable& table, int fd);
  // dup2(2): `to` names from's description; `to` is closed first if open.
  // from == to only checks from. BadFd for `to` outside [0, max).
  Result<int> dup2(FdTable& table, int from, int to);

  // read/write at the description's offset (pipes and devices have none).
  // BadFd if the descriptor lacks the access. Again means "park and retry
  // when read_ready/write_ready say so"; BrokenPipe means "raise SIGPIPE".
  Result<size_t> read(FdTable& table, int fd, std::span<std::byte> buf);
  Result<size_t> write(FdTable& table, int fd, std::span<const std::byte> data);
  // IllegalSeek on pipes and devices, Invalid for a negative result or a bad whence.
  Result<uint64_t> lseek(FdTable& table, int fd, int64_t offset, int whence);
  Result<Stat> fstat(FdTable& table, int fd);
  // The next directory entry of an open directory (advances the offset).
  Result<std::optional<DirListing>> readdir(FdTable& table, int fd);

  Status chdir(FdTable& table, std::string_view path);
  Result<size_t> getcwd(FdTable& table, std::span<char> out) { return m_fs.path_of(table.cwd, out); }

  // The description behind a descriptor, for the server's parked requests.
  Result<OpenFile*> get(const FdTable& table, int fd) const;

  size_t descriptions() const { return m_descriptions; }
  uint32_t max_fds() const { return m_max_fds; }

 private:
  Result<int> lowest_free(FdTable& table, int taken);
  Status ensure_capacity(FdTable& table, uint32_t needed);
  Result<OpenFile*> new_description(uint32_t flags, FileKind kind);
  void discard(OpenFile* file);
  void unref(OpenFile* file);

  Heap& m_heap;
  MemFs& m_fs;
  uint32_t m_max_fds;
  size_t m_descriptions = 0;
};

}  // namespace vfs
