// Flattened device tree (DTB) reader. The blob comes from the firmware and is
// trusted no more than user input: every offset and length is checked against
// the blob's bounds before use, and a malformed blob gives Error::Malformed,
// never a read outside it. Nothing is copied; names and values are views into
// the blob, which must outlive the Fdt.
//
// The format is the Devicetree Specification v0.4, chapter 5: a header, the
// memory-reservation block, the structure block (FDT_BEGIN_NODE, FDT_PROP,
// FDT_END_NODE, FDT_NOP, FDT_END tokens, big-endian 32-bit) and the strings
// block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "result.h"
#include "types.h"

namespace kern::fdt {

// A node is named by the offset of its FDT_BEGIN_NODE token in the structure
// block. Obtain nodes only from an Fdt; the offset is validated there.
struct Node {
  uint32_t offset = 0;
  constexpr bool operator==(const Node&) const = default;
};

struct Property {
  std::string_view name;
  std::span<const uint8_t> value;

  // Big-endian cell i (32-bit), if the value has that many cells.
  std::optional<uint32_t> cell(size_t index) const;
  // Value as a NUL-terminated string (the terminator not included). Fails if
  // the value is empty or does not end in NUL.
  std::optional<std::string_view> as_string() const;
  // True if the value is a string list containing `entry`.
  bool has_string(std::string_view entry) const;
  size_t cell_count() const { return value.size() / 4; }
};

struct MemReserve {
  uint64_t address = 0;
  uint64_t size = 0;
};

class Fdt {
 public:
  // Reads only the 40-byte header and returns its totalsize field, after
  // checking the magic. Lets the kernel learn how large the blob is before it
  // can make a span of it.
  static Result<uint32_t> total_size(const void* header);

  // Validates the header and every block's bounds; walks the structure block
  // once to check that tokens, names and property offsets are well formed and
  // nesting is balanced. After this succeeds the accessors below cannot read
  // out of bounds.
  static Result<Fdt> parse(std::span<const uint8_t> blob);

  Node root() const;
  // The node at an absolute path such as "/chosen" or "/soc/serial@10000000".
  // A component without "@unit" also matches a node whose name is that
  // component followed by "@..." if exactly that prefix is asked for.
  Result<Node> find_path(std::string_view path) const;
  // Full node name including the unit address ("serial@10000000"); "" for root.
  std::string_view name(Node node) const;
  std::optional<Node> first_child(Node node) const;
  std::optional<Node> next_sibling(Node node) const;
  std::optional<Node> parent(Node node) const;

  std::optional<Property> property(Node node, std::string_view name) const;
  // Calls f(Property) for each property of the node, in order.
  template <typename F>
  void for_each_property(Node node, F&& f) const;

  // The next node, in document order after `after` (or from the root when
  // empty), whose "compatible" list contains `compatible`.
  std::optional<Node> find_compatible(std::string_view compatible,
                                      std::optional<Node> after = std::nullopt) const;

  // The i-th (address, size) pair of the node's "reg", decoded with the
  // parent's #address-cells and #size-cells (defaults 2 and 1). NotFound when
  // the node has no "reg", RangeError when it has fewer than index + 1
  // entries, Malformed for cell counts other than 1..2 (address) and 0..2
  // (size), a length that is not a whole number of entries, or a range that
  // wraps past the end of the address space.
  Result<PhysRange> reg(Node node, size_t index) const;
  // Number of memory-reservation entries and entry i (RangeError past the
  // last one).
  size_t memreserve_count() const;
  Result<MemReserve> memreserve(size_t index) const;

  std::span<const uint8_t> blob() const { return m_blob; }

 private:
  // Property iteration helper: offset of the first token after the node name.
  uint32_t properties_begin(Node node) const;
  std::optional<Property> property_at(uint32_t offset, uint32_t* next) const;
  // One token of the structure block decoded with every bound checked
  // (defined in fdt.cc); nullopt for anything malformed.
  struct Piece;
  std::optional<Piece> piece_at(uint32_t offset) const;

  std::span<const uint8_t> m_blob;
  uint32_t m_struct_off = 0;
  uint32_t m_struct_size = 0;
  uint32_t m_strings_off = 0;
  uint32_t m_strings_size = 0;
  uint32_t m_rsvmap_off = 0;
  size_t m_rsv_count = 0;
};

template <typename F>
void Fdt::for_each_property(Node node, F&& f) const {
  uint32_t offset = properties_begin(node);
  while (true) {
    uint32_t next = 0;
    auto prop = property_at(offset, &next);
    if (!prop) return;
    f(*prop);
    offset = next;
  }
}

}  // namespace kern::fdt
