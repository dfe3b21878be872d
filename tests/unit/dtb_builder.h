// Building flattened device trees in the host tests. DtbBuilder writes a
// version-17 blob token by token: header, reservation map, structure block,
// strings block. It checks nothing, so a test can write a well-formed tree
// or, on purpose, any malformation (a raw token, a missing FDT_END,
// unbalanced nodes). The big-endian helpers and the header field offsets let
// a test read and rewrite a blob's header after it is built. Blobs come back
// in vectors of exactly their size, so under AddressSanitizer any read past
// the end is caught.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdlib>
#include <fstream>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <string_view>
#include <vector>

namespace kern::fdt::test_support {

using Blob = std::vector<uint8_t>;

// A device tree QEMU dumped at build time; the Meson test environment names
// its file in `variable` (DTB_VIRT_64M, DTB_VIRT_2G). A test failure, and an
// empty blob, when the variable is unset or the file unreadable.
inline Blob load_dtb(const char* variable) {
  const char* path = std::getenv(variable);
  if (path == nullptr) {
    ADD_FAILURE() << variable << " is not set (the Meson test environment sets it)";
    return {};
  }
  std::ifstream file(path, std::ios::binary);
  Blob blob((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  EXPECT_FALSE(blob.empty()) << "cannot read " << path;
  return blob;
}

// Header field offsets, as in the Devicetree Specification, section 5.2.
constexpr size_t kTotalSize = 4;
constexpr size_t kStructOffset = 8;
constexpr size_t kStringsOffset = 12;
constexpr size_t kRsvmapOffset = 16;
constexpr size_t kVersion = 20;
constexpr size_t kLastCompVersion = 24;
constexpr size_t kStringsSize = 32;
constexpr size_t kStructSize = 36;

// Structure block tokens.
constexpr uint32_t kBeginNode = 1, kEndNode = 2, kProp = 3, kNop = 4, kEnd = 9;

inline uint32_t get_be32(const Blob& blob, size_t offset) {
  return uint32_t{blob[offset]} << 24 | uint32_t{blob[offset + 1]} << 16 |
         uint32_t{blob[offset + 2]} << 8 | blob[offset + 3];
}

inline void put_be32(Blob& blob, size_t offset, uint32_t value) {
  for (int i = 0; i < 4; ++i) blob[offset + i] = static_cast<uint8_t>(value >> (24 - 8 * i));
}

inline void append_be32(Blob& out, uint32_t value) {
  out.resize(out.size() + 4);
  put_be32(out, out.size() - 4, value);
}

inline void append_be64(Blob& out, uint64_t value) {
  append_be32(out, static_cast<uint32_t>(value >> 32));
  append_be32(out, static_cast<uint32_t>(value));
}

class DtbBuilder {
 public:
  DtbBuilder& begin(std::string_view name) {
    append_be32(m_struct, kBeginNode);
    m_struct.insert(m_struct.end(), name.begin(), name.end());
    m_struct.push_back(0);
    pad();
    return *this;
  }
  DtbBuilder& end() { return token(kEndNode); }
  DtbBuilder& nop() { return token(kNop); }
  // Any 32-bit value, known token or not.
  DtbBuilder& token(uint32_t raw) {
    append_be32(m_struct, raw);
    return *this;
  }
  DtbBuilder& prop(std::string_view name, const Blob& value) {
    append_be32(m_struct, kProp);
    append_be32(m_struct, static_cast<uint32_t>(value.size()));
    append_be32(m_struct, string_offset(name));
    m_struct.insert(m_struct.end(), value.begin(), value.end());
    pad();
    return *this;
  }
  DtbBuilder& cells(std::string_view name, std::initializer_list<uint32_t> values) {
    Blob value;
    for (uint32_t v : values) append_be32(value, v);
    return prop(name, value);
  }
  // A string list: each entry NUL-terminated.
  DtbBuilder& strings(std::string_view name, std::initializer_list<std::string_view> entries) {
    Blob value;
    for (std::string_view e : entries) {
      value.insert(value.end(), e.begin(), e.end());
      value.push_back(0);
    }
    return prop(name, value);
  }
  DtbBuilder& reserve(uint64_t address, uint64_t size) {
    append_be64(m_reserved, address);
    append_be64(m_reserved, size);
    return *this;
  }

  // The structure block gets an FDT_END unless `with_end` is false.
  Blob build(bool with_end = true) const {
    Blob structure = m_struct;
    if (with_end) append_be32(structure, kEnd);
    Blob blob(40, 0);
    blob.insert(blob.end(), m_reserved.begin(), m_reserved.end());
    append_be64(blob, 0);
    append_be64(blob, 0);
    size_t struct_offset = blob.size();
    blob.insert(blob.end(), structure.begin(), structure.end());
    size_t strings_offset = blob.size();
    blob.insert(blob.end(), m_strings.begin(), m_strings.end());
    // In header order: magic, totalsize, struct, strings and rsvmap offsets,
    // version, last compatible version, boot CPU, strings and struct sizes.
    const size_t header[] = {0xd00dfeed, blob.size(), struct_offset, strings_offset, 40, 17, 16, 0,
                             m_strings.size(), structure.size()};
    for (size_t i = 0; i < std::size(header); ++i) put_be32(blob, 4 * i, static_cast<uint32_t>(header[i]));
    return Blob(blob.begin(), blob.end());  // exactly its size, for ASan
  }

 private:
  void pad() {
    while (m_struct.size() % 4 != 0) m_struct.push_back(0);
  }
  uint32_t string_offset(std::string_view name) {
    auto offset = static_cast<uint32_t>(m_strings.size());
    m_strings.insert(m_strings.end(), name.begin(), name.end());
    m_strings.push_back(0);
    return offset;
  }

  Blob m_struct;
  Blob m_strings;
  Blob m_reserved;
};

}  // namespace kern::fdt::test_support
