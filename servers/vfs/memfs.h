// A writable in-memory file system: inodes (regular files and directories)
// made from Heap objects, file data in whole pages reached through a per-file
// block index (a hole is a null entry and reads as zeros, so writing past the
// end grows the file sparsely), and directories as lists of named entries.
// An inode lives while it has a name (links) or a user (refs: open-file
// descriptions and working directories); unlink removes the name only, so an
// open file keeps working until its last close. A removed directory that is
// still someone's cwd stays alive but empty and dead: nothing can be created
// in it and ".." from it fails.
// The boot archive's programs are mounted read-only at construction from
// (path, bytes) spans the caller keeps alive; their data is never copied, and
// any change under the mount point gives ReadOnlyFs.
// Paths: absolute or relative to a cwd inode; "." and ".." as usual ("/.."
// is "/"); repeated slashes collapse; a trailing slash requires a directory;
// a component longer than kNameMax gives NameTooLong, a path longer than
// kPathMax too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "errno.h"
#include "heap.h"
#include "posix.h"

namespace vfs {

inline constexpr size_t kNameMax = 63;
inline constexpr size_t kPathMax = 4096;
// One page of block pointers: files up to 2 MiB. FIXME: a second index level
// when programs need bigger files; until then writes beyond give FileTooBig.
inline constexpr size_t kMaxBlocks = kPageSize / sizeof(void*);
inline constexpr uint64_t kMaxFileSize = kMaxBlocks * kPageSize;

enum class InodeType : uint8_t { Regular, Directory };

struct DirEntry;

// Fields are MemFs's to change; callers only hold pointers and ask MemFs.
struct Inode {
  uint64_t number = 0;
  InodeType type = InodeType::Regular;
  bool read_only = false;
  uint32_t links = 0;  // directory entries naming it (1 for a live directory)
  uint32_t refs = 0;   // descriptions and cwds holding it
  uint64_t size = 0;   // regular: bytes; directory: entries
  // Regular, writable: block index of `block_slots` entries (null = hole).
  void** blocks = nullptr;
  uint32_t block_slots = 0;
  uint32_t blocks_backed = 0;
  // Regular, read-only: the caller's bytes.
  const std::byte* rom = nullptr;
  // Directory.
  DirEntry* entries = nullptr;
  Inode* parent = nullptr;  // null for a removed directory; root's is root
};

struct DirEntry {
  DirEntry* next = nullptr;
  Inode* inode = nullptr;
  uint8_t length = 0;
  char name[kNameMax + 1] = {};
  std::string_view view() const { return {name, length}; }
};

// One file of the read-only mount: its path below the mount point
// ("sh", "sbin/init") and its contents.
struct RomFile {
  std::string_view path;
  std::span<const std::byte> data;
};

// What readdir yields: the name points into the entry, valid until the
// directory changes.
struct DirListing {
  std::string_view name;
  uint64_t inode;
  InodeType type;
};

class MemFs {
 public:
  explicit MemFs(Heap& heap) : m_heap(heap) {}
  MemFs(const MemFs&) = delete;
  MemFs& operator=(const MemFs&) = delete;

  // Create the root and mount `rom` read-only at `mount_point` (e.g. "/bin";
  // intermediate directories are created). NoMemory, or an error from a bad
  // path, leaves no inode behind except the root on a failed mount.
  Status init(std::string_view mount_point, std::span<const RomFile> rom);
  // Free every inode reachable from the root. For tests and shutdown; every
  // description and cwd must be gone.
  void clear();

  Inode* root() const { return m_root; }

  // The inode `path` names (no reference taken).
  Result<Inode*> lookup(Inode* cwd, std::string_view path);
  // open(2)'s file-system half: resolve, create (kOpenCreate, kOpenExclusive),
  // check access (IsDir for writing a directory, ReadOnlyFs for writing a
  // boot file, NotDir for kOpenDirectory on a file), truncate (kOpenTruncate).
  // Returns the inode with a reference taken.
  Result<Inode*> open(Inode* cwd, std::string_view path, uint32_t flags);
  Status mkdir(Inode* cwd, std::string_view path);
  Status rmdir(Inode* cwd, std::string_view path);
  Status unlink(Inode* cwd, std::string_view path);

  void retain(Inode* inode) { ++inode->refs; }
  // Drop a reference; frees the inode if it has no name left either.
  void release(Inode* inode);

  // Bytes at `offset`; 0 at or past the end. IsDir for a directory.
  Result<size_t> read(Inode* inode, uint64_t offset, std::span<std::byte> buf);
  // Write at `offset`, growing the file (holes between read as zeros).
  // Returns the bytes written: fewer than asked when memory ran out part way;
  // NoSpace if not one byte fitted, FileTooBig past kMaxFileSize, ReadOnlyFs,
  // IsDir. A failed write leaves size and contents unchanged.
  Result<size_t> write(Inode* inode, uint64_t offset, std::span<const std::byte> data);
  // Set the size; shrinking frees whole pages past the end and zeroes the
  // tail of the last one so growing again reads zeros.
  Status truncate(Inode* inode, uint64_t size);
  Stat stat(const Inode* inode) const;
  // Entry number `index` ("." is 0, ".." is 1), or nullopt past the last.
  Result<std::optional<DirListing>> readdir(Inode* dir, uint64_t index);
  // The absolute path of a directory into `out`; returns its length.
  // NoEntry for a removed directory, NameTooLong (ERANGE's role) if too small.
  Result<size_t> path_of(Inode* dir, std::span<char> out);

  size_t inodes_in_use() const { return m_inodes; }

 private:
  struct Parent {
    Inode* dir;
    std::string_view name;  // empty for "/" itself
    bool trailing_slash;
  };
  Result<Parent> resolve_parent(Inode* cwd, std::string_view path);
  Result<Inode*> walk(Inode* dir, std::string_view name);
  DirEntry* find(Inode* dir, std::string_view name);
  Result<Inode*> new_inode(InodeType type, Inode* parent);
  Result<Inode*> create_in(Inode* dir, std::string_view name, InodeType type);
  void remove_entry(Inode* dir, DirEntry* entry);
  void free_inode(Inode* inode);
  void free_blocks_from(Inode* inode, uint64_t first_block);
  Status grow_index(Inode* inode, size_t slots);
  void clear_tree(Inode* dir);

  Heap& m_heap;
  Inode* m_root = nullptr;
  uint64_t m_next_number = 1;
  size_t m_inodes = 0;
};

}  // namespace vfs
