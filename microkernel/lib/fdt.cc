// Reading a flattened device tree in place. parse() checks the header and
// the bounds of the three blocks, counts the memory-reservation entries, then
// walks the structure block once, token by token, so that a tree it accepts
// is well formed: every token known, every node name and property name
// NUL-terminated inside its block, every property value inside the structure
// block, properties before child nodes, nesting balanced and at most
// kMaxDepth deep, exactly one root, and an FDT_END after it.
//
// The accessors do not rely on that walk for memory safety: they decode
// tokens through the same bounds-checked piece_at(), so even a Node made up
// by a caller cannot make them read outside the blob; it only gets empty
// answers. Every walk moves strictly forward through the structure block, so
// no walk can loop. All multi-byte values are read a byte at a time: the blob
// has no alignment guarantee in memory, and the kernel must not take
// misaligned-access traps.
#include "fdt.h"

#include <array>

namespace kern::fdt {

namespace {

using namespace std::string_view_literals;

constexpr uint32_t kMagic = 0xd00dfeed;
// Version 17 is the first with size_dt_struct, which the bounds checks need;
// it is what dtc and QEMU write.
constexpr uint32_t kVersion = 17;
constexpr uint32_t kHeaderSize = 40;
constexpr uint32_t kTokenSize = 4;
constexpr uint32_t kRsvEntrySize = 16;
constexpr uint32_t kRsvAlign = 8;
// Real trees nest a handful of levels; the limit bounds parent()'s stack.
constexpr size_t kMaxDepth = 64;

// Byte offsets of the header fields (all big-endian 32-bit).
enum class HeaderField : uint32_t {
  Magic = 0,
  TotalSize = 4,
  StructOffset = 8,
  StringsOffset = 12,
  RsvmapOffset = 16,
  Version = 20,
  LastCompatibleVersion = 24,
  BootCpu = 28,
  StringsSize = 32,
  StructSize = 36,
};

enum class Token : uint32_t {
  BeginNode = 1,
  EndNode = 2,
  Prop = 3,
  Nop = 4,
  End = 9,
};

// Callers check that four (eight) bytes are available.
uint32_t load_be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
}

uint64_t load_be64(const uint8_t* p) { return uint64_t{load_be32(p)} << 32 | load_be32(p + 4); }

std::optional<uint32_t> be32_at(std::span<const uint8_t> bytes, uint64_t offset) {
  if (offset > bytes.size() || bytes.size() - offset < 4) return std::nullopt;
  return load_be32(bytes.data() + offset);
}

uint32_t header_field(std::span<const uint8_t> blob, HeaderField field) {
  return load_be32(blob.data() + static_cast<uint32_t>(field));
}

// The NUL-terminated text starting at `offset`, or nullopt if no NUL follows
// it inside `bytes`.
std::optional<std::string_view> text_at(std::span<const uint8_t> bytes, uint64_t offset) {
  if (offset >= bytes.size()) return std::nullopt;
  std::string_view rest(reinterpret_cast<const char*>(bytes.data() + offset), bytes.size() - offset);
  size_t end = rest.find('\0');
  if (end == std::string_view::npos) return std::nullopt;
  return rest.substr(0, end);
}

// True if a node called `name` answers to the path component `component`:
// the same text, or `component` has no unit address and `name` is
// `component` followed by "@unit".
bool component_matches(std::string_view name, std::string_view component, bool exact) {
  if (name == component) return true;
  if (exact || component.find('@') != std::string_view::npos) return false;
  return name.starts_with(component) && name.size() > component.size() && name[component.size()] == '@';
}

// A block [offset, offset + size) lies inside the blob, after the header.
bool block_fits(uint32_t offset, uint32_t size, uint32_t total) {
  return offset >= kHeaderSize && uint64_t{offset} + size <= total;
}

// A value of `cells` big-endian cells (at most two) starting at cell `first`.
uint64_t read_cells(const Property& prop, size_t first, uint32_t cells) {
  uint64_t value = 0;
  for (uint32_t i = 0; i < cells; ++i) value = value << 32 | prop.cell(first + i).value_or(0);
  return value;
}

}  // namespace

struct Fdt::Piece {
  Token kind = Token::End;
  uint32_t next = 0;                 // offset of the token after this piece
  std::string_view name{};           // BeginNode: node name; Prop: property name
  std::span<const uint8_t> value{};  // Prop: property value
};

std::optional<uint32_t> Property::cell(size_t index) const {
  if (index >= cell_count()) return std::nullopt;
  return load_be32(value.data() + index * 4);
}

std::optional<std::string_view> Property::as_string() const {
  if (value.empty() || value.back() != 0) return std::nullopt;
  return text_at(value, 0);
}

// Entries are the NUL-terminated strings of the value; a trailing fragment
// without a terminator is not an entry.
bool Property::has_string(std::string_view entry) const {
  uint64_t offset = 0;
  while (offset < value.size()) {
    auto text = text_at(value, offset);
    if (!text) return false;
    if (*text == entry) return true;
    offset += text->size() + 1;
  }
  return false;
}

// Malformed for a missing or wrong magic number or a totalsize smaller than
// the header; InvalidArgument for a null pointer. `header` must point at 8
// readable bytes.
Result<uint32_t> Fdt::total_size(const void* header) {
  if (header == nullptr) return fail(Error::InvalidArgument);
  const auto* bytes = static_cast<const uint8_t*>(header);
  if (load_be32(bytes) != kMagic) return fail(Error::Malformed);
  uint32_t total = load_be32(bytes + static_cast<uint32_t>(HeaderField::TotalSize));
  if (total < kHeaderSize) return fail(Error::Malformed);
  return total;
}

// Malformed for any defect listed at the top of this file, a totalsize larger
// than `blob`, or a version other than one compatible with 17. Bytes of
// `blob` past totalsize are ignored.
Result<Fdt> Fdt::parse(std::span<const uint8_t> blob) {
  if (blob.size() < kHeaderSize) return fail(Error::Malformed);
  uint32_t total = TRY(total_size(blob.data()));
  if (total > blob.size()) return fail(Error::Malformed);
  if (header_field(blob, HeaderField::Version) < kVersion ||
      header_field(blob, HeaderField::LastCompatibleVersion) > kVersion) {
    return fail(Error::Malformed);
  }

  Fdt tree;
  tree.m_blob = blob.first(total);
  tree.m_struct_off = header_field(blob, HeaderField::StructOffset);
  tree.m_struct_size = header_field(blob, HeaderField::StructSize);
  tree.m_strings_off = header_field(blob, HeaderField::StringsOffset);
  tree.m_strings_size = header_field(blob, HeaderField::StringsSize);
  tree.m_rsvmap_off = header_field(blob, HeaderField::RsvmapOffset);
  // Tokens are 4-byte aligned relative to the block, which itself is 4-byte
  // aligned in the blob; a size that is not a multiple of 4 cannot end in a
  // token.
  if (!block_fits(tree.m_struct_off, tree.m_struct_size, total) ||
      tree.m_struct_off % kTokenSize != 0 || tree.m_struct_size % kTokenSize != 0 ||
      !block_fits(tree.m_strings_off, tree.m_strings_size, total) ||
      !block_fits(tree.m_rsvmap_off, 0, total) || tree.m_rsvmap_off % kRsvAlign != 0) {
    return fail(Error::Malformed);
  }

  // The reservation map ends with an all-zero entry, which must lie inside
  // the blob; that bounds the loop.
  for (uint64_t entry = tree.m_rsvmap_off;; entry += kRsvEntrySize) {
    if (entry + kRsvEntrySize > total) return fail(Error::Malformed);
    if (load_be64(blob.data() + entry) == 0 && load_be64(blob.data() + entry + 8) == 0) break;
    ++tree.m_rsv_count;
  }

  size_t depth = 0;
  bool seen_root = false;
  bool properties_allowed = false;  // only between a node's name and its first child
  uint32_t offset = 0;
  while (true) {
    auto piece = tree.piece_at(offset);
    if (!piece) return fail(Error::Malformed);
    switch (piece->kind) {
      case Token::BeginNode:
        if ((depth == 0 && seen_root) || depth == kMaxDepth) return fail(Error::Malformed);
        ++depth;
        seen_root = true;
        properties_allowed = true;
        break;
      case Token::EndNode:
        if (depth == 0) return fail(Error::Malformed);
        --depth;
        properties_allowed = false;
        break;
      case Token::Prop:
        if (!properties_allowed) return fail(Error::Malformed);
        break;
      case Token::Nop:
        break;
      case Token::End:
        if (!seen_root || depth != 0) return fail(Error::Malformed);
        return tree;
    }
    // piece_at() guarantees next > offset, so the walk ends.
    offset = piece->next;
  }
}

// Decodes the token at `offset` (relative to the structure block). A piece is
// returned only if the token is known and everything it covers (name, value,
// padding) lies inside the structure block and, for a property name, the
// strings block.
std::optional<Fdt::Piece> Fdt::piece_at(uint32_t offset) const {
  if (offset % kTokenSize != 0) return std::nullopt;
  auto structure = m_blob.subspan(m_struct_off, m_struct_size);
  auto token = be32_at(structure, offset);
  if (!token) return std::nullopt;

  Piece piece;
  piece.kind = static_cast<Token>(*token);
  uint64_t next = uint64_t{offset} + kTokenSize;
  switch (piece.kind) {
    case Token::BeginNode: {
      auto name = text_at(structure, next);
      if (!name) return std::nullopt;
      piece.name = *name;
      next = align_up(next + name->size() + 1, kTokenSize);
      break;
    }
    case Token::Prop: {
      auto length = be32_at(structure, next);
      auto name_offset = be32_at(structure, next + 4);
      if (!length || !name_offset) return std::nullopt;
      uint64_t value_offset = next + 8;
      if (*length > structure.size() - value_offset) return std::nullopt;
      auto name = text_at(m_blob.subspan(m_strings_off, m_strings_size), *name_offset);
      if (!name) return std::nullopt;
      piece.name = *name;
      piece.value = structure.subspan(value_offset, *length);
      next = align_up(value_offset + *length, kTokenSize);
      break;
    }
    case Token::EndNode:
    case Token::Nop:
    case Token::End:
      break;
    default:
      return std::nullopt;
  }
  if (next > structure.size()) return std::nullopt;
  piece.next = static_cast<uint32_t>(next);
  return piece;
}

// The first FDT_BEGIN_NODE, after any FDT_NOPs. For a tree parse() accepted
// it exists; otherwise offset 0 is returned, on which accessors answer empty.
Node Fdt::root() const {
  uint32_t offset = 0;
  while (auto piece = piece_at(offset)) {
    if (piece->kind == Token::BeginNode) return Node{offset};
    if (piece->kind != Token::Nop) break;
    offset = piece->next;
  }
  return Node{0};
}

// InvalidArgument for a path that does not start with '/'; NotFound when a
// component names no child. Empty components ("//", a trailing '/') are
// skipped. Among siblings an exact name match wins over a match that only
// agrees up to '@'.
Result<Node> Fdt::find_path(std::string_view path) const {
  if (path.empty() || path[0] != '/') return fail(Error::InvalidArgument);
  Node node = root();
  size_t start = 1;
  while (start < path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view component = path.substr(start, end - start);
    start = end + 1;
    if (component.empty()) continue;

    std::optional<Node> found;
    for (bool exact : {true, false}) {
      for (auto child = first_child(node); child && !found; child = next_sibling(*child)) {
        if (component_matches(name(*child), component, exact)) found = child;
      }
      if (found) break;
    }
    if (!found) return fail(Error::NotFound);
    node = *found;
  }
  return node;
}

std::string_view Fdt::name(Node node) const {
  auto piece = piece_at(node.offset);
  if (!piece || piece->kind != Token::BeginNode) return {};
  return piece->name;
}

std::optional<Node> Fdt::first_child(Node node) const {
  uint32_t offset = properties_begin(node);
  while (auto piece = piece_at(offset)) {
    if (piece->kind == Token::BeginNode) return Node{offset};
    if (piece->kind != Token::Prop && piece->kind != Token::Nop) break;
    offset = piece->next;
  }
  return std::nullopt;
}

// Skips the node's whole subtree to its FDT_END_NODE, then any FDT_NOPs; the
// sibling is there if the next token opens a node.
std::optional<Node> Fdt::next_sibling(Node node) const {
  auto piece = piece_at(node.offset);
  if (!piece || piece->kind != Token::BeginNode) return std::nullopt;
  size_t depth = 1;
  uint32_t offset = piece->next;
  while (depth > 0) {
    piece = piece_at(offset);
    if (!piece || piece->kind == Token::End) return std::nullopt;
    if (piece->kind == Token::BeginNode) ++depth;
    if (piece->kind == Token::EndNode) --depth;
    offset = piece->next;
  }
  while ((piece = piece_at(offset))) {
    if (piece->kind == Token::BeginNode) return Node{offset};
    if (piece->kind != Token::Nop) break;
    offset = piece->next;
  }
  return std::nullopt;
}

// The tree stores no parent links, so this walks from the root keeping the
// chain of open nodes until it reaches `node`. Linear in the tree size;
// callers use it a few times at boot.
std::optional<Node> Fdt::parent(Node node) const {
  std::array<uint32_t, kMaxDepth> open;  // open[0..depth) are set
  size_t depth = 0;
  uint32_t offset = root().offset;
  while (offset <= node.offset) {
    auto piece = piece_at(offset);
    if (!piece) return std::nullopt;
    if (piece->kind == Token::BeginNode) {
      if (offset == node.offset) {
        if (depth == 0) return std::nullopt;
        return Node{open[depth - 1]};
      }
      if (depth == kMaxDepth) return std::nullopt;
      open[depth++] = offset;
    } else if (piece->kind == Token::EndNode) {
      if (depth == 0) return std::nullopt;
      --depth;
    } else if (piece->kind == Token::End) {
      return std::nullopt;
    }
    offset = piece->next;
  }
  return std::nullopt;
}

std::optional<Property> Fdt::property(Node node, std::string_view name) const {
  uint32_t offset = properties_begin(node);
  while (true) {
    uint32_t next = 0;
    auto prop = property_at(offset, &next);
    if (!prop) return std::nullopt;
    if (prop->name == name) return prop;
    offset = next;
  }
}

// For something that is not a node, the end of the structure block: no
// property can be read there.
uint32_t Fdt::properties_begin(Node node) const {
  auto piece = piece_at(node.offset);
  if (!piece || piece->kind != Token::BeginNode) return m_struct_size;
  return piece->next;
}

// The property at `offset` after any FDT_NOPs, and in *next where the token
// after it starts; nullopt at the first token that is not a property.
std::optional<Property> Fdt::property_at(uint32_t offset, uint32_t* next) const {
  while (auto piece = piece_at(offset)) {
    if (piece->kind == Token::Prop) {
      *next = piece->next;
      return Property{piece->name, piece->value};
    }
    if (piece->kind != Token::Nop) break;
    offset = piece->next;
  }
  return std::nullopt;
}

std::optional<Node> Fdt::find_compatible(std::string_view compatible,
                                         std::optional<Node> after) const {
  uint32_t offset = root().offset;
  if (after) {
    auto piece = piece_at(after->offset);
    if (!piece || piece->kind != Token::BeginNode) return std::nullopt;
    offset = piece->next;
  }
  while (auto piece = piece_at(offset)) {
    if (piece->kind == Token::End) break;
    if (piece->kind == Token::BeginNode) {
      auto list = property(Node{offset}, "compatible"sv);
      if (list && list->has_string(compatible)) return Node{offset};
    }
    offset = piece->next;
  }
  return std::nullopt;
}

// The "reg" property is looked up first: finding the parent is a walk from
// the root, not worth doing for a node that has no "reg".
Result<PhysRange> Fdt::reg(Node node, size_t index) const {
  auto prop = property(node, "reg"sv);
  if (!prop) return fail(Error::NotFound);

  uint32_t address_cells = 2;
  uint32_t size_cells = 1;
  if (auto up = parent(node)) {
    if (auto cells = property(*up, "#address-cells"sv)) {
      if (cells->value.size() != 4) return fail(Error::Malformed);
      address_cells = *cells->cell(0);
    }
    if (auto cells = property(*up, "#size-cells"sv)) {
      if (cells->value.size() != 4) return fail(Error::Malformed);
      size_cells = *cells->cell(0);
    }
  }
  if (address_cells < 1 || address_cells > 2 || size_cells > 2) return fail(Error::Malformed);

  size_t entry_cells = address_cells + size_cells;
  if (prop->value.size() % (entry_cells * 4) != 0) return fail(Error::Malformed);
  if (index >= prop->cell_count() / entry_cells) return fail(Error::RangeError);

  uint64_t base = read_cells(*prop, index * entry_cells, address_cells);
  uint64_t size = read_cells(*prop, index * entry_cells + address_cells, size_cells);
  if (size > ~base) return fail(Error::Malformed);
  return PhysRange{PhysAddr(base), size};
}

size_t Fdt::memreserve_count() const { return m_rsv_count; }

Result<MemReserve> Fdt::memreserve(size_t index) const {
  if (index >= m_rsv_count) return fail(Error::RangeError);
  // parse() checked that every entry up to the terminator is inside the blob.
  const uint8_t* entry = m_blob.data() + m_rsvmap_off + index * kRsvEntrySize;
  return MemReserve{load_be64(entry), load_be64(entry + 8)};
}

}  // namespace kern::fdt
