// The in-memory file system: path resolution, the namespace operations and
// file data in pages. The model is in memfs.h. Every operation checks
// everything it can before it changes anything, and allocates before it
// links, so a failure (NoMemory above all) leaves the tree as it was.
#include "memfs.h"

namespace vfs {

namespace {

bool is_dot(std::string_view name) { return name == "." || name == ".."; }

// The next component of `path` from `pos` (skipping slashes), or empty at the end.
std::string_view next_component(std::string_view path, size_t& pos) {
  while (pos < path.size() && path[pos] == '/') ++pos;
  size_t start = pos;
  while (pos < path.size() && path[pos] != '/') ++pos;
  // Not substr: it is the one string_view member that can throw.
  return std::string_view(path.data() + start, pos - start);
}

uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

}  // namespace

// ---- Names and paths ----

DirEntry* MemFs::find(Inode* dir, std::string_view name) {
  for (DirEntry* e = dir->entries; e != nullptr; e = e->next)
    if (e->view() == name) return e;
  return nullptr;
}

// One step from directory `dir` through `name`.
Result<Inode*> MemFs::walk(Inode* dir, std::string_view name) {
  if (dir->type != InodeType::Directory) return fail(Errno::NotDir);
  if (name.size() > kNameMax) return fail(Errno::NameTooLong);
  if (name == ".") return dir;
  if (name == "..") {
    if (dir->parent == nullptr) return fail(Errno::NoEntry);  // removed directory
    return dir->parent;
  }
  DirEntry* e = find(dir, name);
  if (e == nullptr) return fail(Errno::NoEntry);
  return e->inode;
}

// Resolve all but the last component; the last one is returned unresolved so
// that create, mkdir and unlink can act on it.
Result<MemFs::Parent> MemFs::resolve_parent(Inode* cwd, std::string_view path) {
  if (path.empty()) return fail(Errno::NoEntry);
  if (path.size() > kPathMax) return fail(Errno::NameTooLong);
  Inode* dir = path[0] == '/' ? m_root : cwd;
  bool trailing = path.back() == '/';
  size_t pos = 0;
  std::string_view name = next_component(path, pos);
  for (;;) {
    size_t lookahead = pos;
    std::string_view following = next_component(path, lookahead);
    if (following.empty()) break;
    dir = VFS_TRY(walk(dir, name));
    name = following;
    pos = lookahead;
  }
  if (dir->type != InodeType::Directory) return fail(Errno::NotDir);
  if (name.size() > kNameMax) return fail(Errno::NameTooLong);
  return Parent{dir, name, trailing};
}

Result<Inode*> MemFs::lookup(Inode* cwd, std::string_view path) {
  Parent p = VFS_TRY(resolve_parent(cwd, path));
  if (p.name.empty()) return p.dir;
  Inode* inode = VFS_TRY(walk(p.dir, p.name));
  if (p.trailing_slash && inode->type != InodeType::Directory) return fail(Errno::NotDir);
  return inode;
}

Result<size_t> MemFs::path_of(Inode* dir, std::span<char> out) {
  if (dir->type != InodeType::Directory) return fail(Errno::NotDir);
  // Built backwards from the end of `out`, then moved to its start.
  size_t end = out.size();
  size_t pos = end;
  for (Inode* cur = dir; cur != m_root;) {
    Inode* parent = cur->parent;
    if (parent == nullptr) return fail(Errno::NoEntry);
    DirEntry* e = parent->entries;
    while (e != nullptr && e->inode != cur) e = e->next;
    if (e == nullptr) return fail(Errno::NoEntry);  // broken invariant; treated as removed
    if (pos < e->length + 1u) return fail(Errno::NameTooLong);
    pos -= e->length;
    __builtin_memcpy(out.data() + pos, e->name, e->length);
    out[--pos] = '/';
    cur = parent;
  }
  if (pos == end) {
    if (out.empty()) return fail(Errno::NameTooLong);
    out[--pos] = '/';
  }
  size_t length = end - pos;
  __builtin_memmove(out.data(), out.data() + pos, length);
  return length;
}

// ---- Inodes and entries ----

Result<Inode*> MemFs::new_inode(InodeType type, Inode* parent) {
  auto made = m_heap.make<Inode>();
  if (!made) return fail(to_errno(made.error()));
  Inode* inode = *made;
  inode->number = m_next_number++;
  inode->type = type;
  inode->parent = type == InodeType::Directory ? parent : nullptr;
  ++m_inodes;
  return inode;
}

// A new inode named `name` in `dir`; the caller has checked that the name is
// free, valid and the directory writable and alive.
Result<Inode*> MemFs::create_in(Inode* dir, std::string_view name, InodeType type) {
  auto entry_made = m_heap.make<DirEntry>();
  if (!entry_made) return fail(to_errno(entry_made.error()));
  DirEntry* entry = *entry_made;
  auto inode = new_inode(type, dir);
  if (!inode) {
    m_heap.destroy(entry);
    return fail(inode.error());
  }
  (*inode)->links = 1;
  entry->inode = *inode;
  entry->length = static_cast<uint8_t>(name.size());
  __builtin_memcpy(entry->name, name.data(), name.size());
  // Appended, so listings come in creation order.
  DirEntry** tail = &dir->entries;
  while (*tail != nullptr) tail = &(*tail)->next;
  *tail = entry;
  ++dir->size;
  return *inode;
}

void MemFs::remove_entry(Inode* dir, DirEntry* entry) {
  DirEntry** link = &dir->entries;
  while (*link != entry) link = &(*link)->next;
  *link = entry->next;
  --dir->size;
  m_heap.destroy(entry);
}

void MemFs::free_inode(Inode* inode) {
  if (inode->type == InodeType::Regular) {
    free_blocks_from(inode, 0);
    if (inode->blocks != nullptr) m_heap.free(inode->blocks, inode->block_slots * sizeof(void*));
  }
  m_heap.destroy(inode);
  --m_inodes;
}

void MemFs::release(Inode* inode) {
  --inode->refs;
  if (inode->refs == 0 && inode->links == 0) free_inode(inode);
}

// ---- Namespace operations ----

Status MemFs::init(std::string_view mount_point, std::span<const RomFile> rom) {
  m_root = VFS_TRY(new_inode(InodeType::Directory, nullptr));
  m_root->parent = m_root;
  m_root->links = 1;
  if (rom.empty() && mount_point.empty()) return {};
  // Building the mount can fail part way: then everything but the root goes.
  auto build = [&]() -> Status {
    if (mount_point.empty() || mount_point[0] != '/') return fail(Errno::Invalid);
    Inode* dir = m_root;
    bool read_only = false;
    auto descend = [&](std::string_view path, bool last_is_file) -> Result<Inode*> {
      size_t pos = 0;
      for (std::string_view name = next_component(path, pos); !name.empty();) {
        size_t lookahead = pos;
        std::string_view following = next_component(path, lookahead);
        if (following.empty() && last_is_file) return dir;
        if (name.size() > kNameMax) return fail(Errno::NameTooLong);
        if (is_dot(name)) return fail(Errno::Invalid);
        DirEntry* e = find(dir, name);
        Inode* next = e != nullptr ? e->inode : VFS_TRY(create_in(dir, name, InodeType::Directory));
        if (next->type != InodeType::Directory) return fail(Errno::NotDir);
        next->read_only = next->read_only || read_only;
        dir = next;
        name = following;
        pos = lookahead;
      }
      return dir;
    };
    Inode* mount = VFS_TRY(descend(mount_point, false));
    mount->read_only = true;
    read_only = true;
    for (const RomFile& file : rom) {
      dir = mount;
      Inode* parent = VFS_TRY(descend(file.path, true));
      size_t slash = file.path.find_last_of('/');
      std::string_view name = slash == std::string_view::npos ? file.path : std::string_view(file.path.data() + slash + 1, file.path.size() - slash - 1);
      if (name.empty() || is_dot(name)) return fail(Errno::Invalid);
      if (name.size() > kNameMax) return fail(Errno::NameTooLong);
      if (find(parent, name) != nullptr) return fail(Errno::Exists);
      Inode* inode = VFS_TRY(create_in(parent, name, InodeType::Regular));
      inode->read_only = true;
      inode->rom = file.data.data();
      inode->size = file.data.size();
    }
    return {};
  };
  Status built = build();
  if (!built) clear_tree(m_root);
  return built;
}

void MemFs::clear_tree(Inode* dir) {
  while (DirEntry* e = dir->entries) {
    Inode* child = e->inode;
    if (child->type == InodeType::Directory) clear_tree(child);
    remove_entry(dir, e);
    free_inode(child);
  }
}

void MemFs::clear() {
  if (m_root == nullptr) return;
  clear_tree(m_root);
  free_inode(m_root);
  m_root = nullptr;
}

Result<Inode*> MemFs::open(Inode* cwd, std::string_view path, uint32_t flags) {
  if ((flags & ~kOpenKnownFlags) != 0 || (flags & kOpenAccessMask) == kOpenAccessMask) return fail(Errno::Invalid);
  bool writable = open_writable(flags);
  Parent p = VFS_TRY(resolve_parent(cwd, path));
  Result<Inode*> found = p.name.empty() ? Result<Inode*>(p.dir) : walk(p.dir, p.name);
  if (!found) {
    if (found.error() != Errno::NoEntry || (flags & kOpenCreate) == 0) return fail(found.error());
    if (p.trailing_slash) return fail(Errno::IsDir);
    if (p.dir->read_only) return fail(Errno::ReadOnlyFs);
    if (p.dir != m_root && p.dir->links == 0) return fail(Errno::NoEntry);
    if (flags & kOpenDirectory) return fail(Errno::NotDir);
    Inode* created = VFS_TRY(create_in(p.dir, p.name, InodeType::Regular));
    retain(created);
    return created;
  }
  Inode* inode = *found;
  if ((flags & kOpenCreate) && (flags & kOpenExclusive)) return fail(Errno::Exists);
  bool is_dir = inode->type == InodeType::Directory;
  if (p.trailing_slash && !is_dir) return fail(Errno::NotDir);
  if ((flags & kOpenDirectory) && !is_dir) return fail(Errno::NotDir);
  if (is_dir && (writable || (flags & kOpenTruncate))) return fail(Errno::IsDir);
  if (writable && inode->read_only) return fail(Errno::ReadOnlyFs);
  // O_TRUNC without write access is unspecified in POSIX; it is ignored here.
  if (writable && (flags & kOpenTruncate)) (void)truncate(inode, 0);
  retain(inode);
  return inode;
}

Status MemFs::mkdir(Inode* cwd, std::string_view path) {
  Parent p = VFS_TRY(resolve_parent(cwd, path));
  if (p.name.empty() || is_dot(p.name) || find(p.dir, p.name) != nullptr) return fail(Errno::Exists);
  if (p.dir->read_only) return fail(Errno::ReadOnlyFs);
  if (p.dir != m_root && p.dir->links == 0) return fail(Errno::NoEntry);
  VFS_TRY(create_in(p.dir, p.name, InodeType::Directory));
  return {};
}

Status MemFs::rmdir(Inode* cwd, std::string_view path) {
  Parent p = VFS_TRY(resolve_parent(cwd, path));
  if (p.name.empty()) return fail(Errno::Busy);  // the root
  if (p.name == ".") return fail(Errno::Invalid);
  if (p.name == "..") return fail(Errno::NotEmpty);
  DirEntry* e = find(p.dir, p.name);
  if (e == nullptr) return fail(Errno::NoEntry);
  Inode* dir = e->inode;
  if (dir->type != InodeType::Directory) return fail(Errno::NotDir);
  if (p.dir->read_only || dir->read_only) return fail(Errno::ReadOnlyFs);
  if (dir->entries != nullptr) return fail(Errno::NotEmpty);
  remove_entry(p.dir, e);
  dir->links = 0;
  dir->parent = nullptr;
  if (dir->refs == 0) free_inode(dir);
  return {};
}

Status MemFs::unlink(Inode* cwd, std::string_view path) {
  Parent p = VFS_TRY(resolve_parent(cwd, path));
  if (p.name.empty() || is_dot(p.name)) return fail(Errno::IsDir);
  DirEntry* e = find(p.dir, p.name);
  if (e == nullptr) return fail(Errno::NoEntry);
  Inode* inode = e->inode;
  if (inode->type == InodeType::Directory) return fail(Errno::IsDir);
  if (p.trailing_slash) return fail(Errno::NotDir);
  if (p.dir->read_only) return fail(Errno::ReadOnlyFs);
  remove_entry(p.dir, e);
  --inode->links;
  if (inode->links == 0 && inode->refs == 0) free_inode(inode);
  return {};
}

Result<std::optional<DirListing>> MemFs::readdir(Inode* dir, uint64_t index) {
  if (dir->type != InodeType::Directory) return fail(Errno::NotDir);
  if (index == 0) return DirListing{".", dir->number, InodeType::Directory};
  if (index == 1) {
    Inode* up = dir->parent != nullptr ? dir->parent : dir;
    return DirListing{"..", up->number, InodeType::Directory};
  }
  DirEntry* e = dir->entries;
  for (uint64_t i = 2; e != nullptr && i < index; ++i) e = e->next;
  if (e == nullptr) return std::optional<DirListing>();
  return DirListing{e->view(), e->inode->number, e->inode->type};
}

Stat MemFs::stat(const Inode* inode) const {
  Stat st;
  st.inode = inode->number;
  st.size = inode->size;
  if (inode->type == InodeType::Directory) {
    st.mode = kModeDirectory | 0755;
    st.links = inode->links == 0 ? 0 : inode->links + 1;  // its name and its "."
  } else {
    st.mode = kModeRegular | (inode->read_only ? 0555 : 0644);
    st.links = inode->links;
    st.blocks = inode->rom != nullptr ? (inode->size + 511) / 512 : uint64_t{inode->blocks_backed} * (kPageSize / 512);
  }
  return st;
}

// ---- File data ----

Status MemFs::grow_index(Inode* inode, size_t slots) {
  if (slots <= inode->block_slots) return {};
  size_t grown = inode->block_slots == 0 ? 8 : inode->block_slots;
  while (grown < slots) grown *= 2;
  if (grown > kMaxBlocks) grown = kMaxBlocks;
  auto mem = m_heap.alloc(grown * sizeof(void*));
  if (!mem) return fail(Errno::NoSpace);
  auto** index = static_cast<void**>(*mem);
  for (size_t i = 0; i < grown; ++i) index[i] = i < inode->block_slots ? inode->blocks[i] : nullptr;
  if (inode->blocks != nullptr) m_heap.free(inode->blocks, inode->block_slots * sizeof(void*));
  inode->blocks = index;
  inode->block_slots = static_cast<uint32_t>(grown);
  return {};
}

void MemFs::free_blocks_from(Inode* inode, uint64_t first_block) {
  for (uint64_t i = first_block; i < inode->block_slots; ++i) {
    if (inode->blocks[i] == nullptr) continue;
    m_heap.free(inode->blocks[i], kPageSize);
    inode->blocks[i] = nullptr;
    --inode->blocks_backed;
  }
}

Result<size_t> MemFs::read(Inode* inode, uint64_t offset, std::span<std::byte> buf) {
  if (inode->type == InodeType::Directory) return fail(Errno::IsDir);
  if (offset >= inode->size) return 0;
  size_t n = static_cast<size_t>(min_u64(buf.size(), inode->size - offset));
  if (inode->rom != nullptr) {
    __builtin_memcpy(buf.data(), inode->rom + offset, n);
    return n;
  }
  for (size_t done = 0; done < n;) {
    uint64_t pos = offset + done;
    uint64_t block = pos / kPageSize;
    size_t in_page = pos % kPageSize;
    size_t chunk = static_cast<size_t>(min_u64(n - done, kPageSize - in_page));
    void* page = block < inode->block_slots ? inode->blocks[block] : nullptr;
    if (page == nullptr) __builtin_memset(buf.data() + done, 0, chunk);  // a hole
    else __builtin_memcpy(buf.data() + done, static_cast<std::byte*>(page) + in_page, chunk);
    done += chunk;
  }
  return n;
}

Result<size_t> MemFs::write(Inode* inode, uint64_t offset, std::span<const std::byte> data) {
  if (inode->type == InodeType::Directory) return fail(Errno::IsDir);
  if (inode->read_only) return fail(Errno::ReadOnlyFs);
  if (data.empty()) return 0;
  if (offset >= kMaxFileSize) return fail(Errno::FileTooBig);
  size_t n = static_cast<size_t>(min_u64(data.size(), kMaxFileSize - offset));
  uint64_t end = offset + n;
  // The index may stay grown after a failed write: invisible, freed with the file.
  VFS_TRY(grow_index(inode, static_cast<size_t>((end + kPageSize - 1) / kPageSize)));
  size_t done = 0;
  while (done < n) {
    uint64_t pos = offset + done;
    uint64_t block = pos / kPageSize;
    size_t in_page = pos % kPageSize;
    size_t chunk = static_cast<size_t>(min_u64(n - done, kPageSize - in_page));
    if (inode->blocks[block] == nullptr) {
      auto page = m_heap.alloc(kPageSize);
      if (!page) break;  // out of memory: keep what was written
      __builtin_memset(*page, 0, kPageSize);
      inode->blocks[block] = *page;
      ++inode->blocks_backed;
    }
    __builtin_memcpy(static_cast<std::byte*>(inode->blocks[block]) + in_page, data.data() + done, chunk);
    done += chunk;
  }
  if (done == 0) return fail(Errno::NoSpace);
  if (offset + done > inode->size) inode->size = offset + done;
  return done;
}

Status MemFs::truncate(Inode* inode, uint64_t size) {
  if (inode->type == InodeType::Directory) return fail(Errno::IsDir);
  if (inode->read_only) return fail(Errno::ReadOnlyFs);
  if (size > kMaxFileSize) return fail(Errno::FileTooBig);
  if (size < inode->size) {
    free_blocks_from(inode, (size + kPageSize - 1) / kPageSize);
    uint64_t block = size / kPageSize;
    size_t in_page = size % kPageSize;
    if (in_page != 0 && block < inode->block_slots && inode->blocks[block] != nullptr)
      __builtin_memset(static_cast<std::byte*>(inode->blocks[block]) + in_page, 0, kPageSize - in_page);
  }
  inode->size = size;
  return {};
}

}  // namespace vfs
