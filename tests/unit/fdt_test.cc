// Tests for the device tree reader (microkernel/lib/fdt.h). Two kinds of
// input: the trees QEMU's virt machine really hands the kernel (dumped by the
// build, paths in DTB_VIRT_64M and DTB_VIRT_2G), and small trees built token
// by token with DtbBuilder (dtb_builder.h), so that each malformation the parser must reject can be
// made on purpose. Blobs live in vectors of exactly their size, so under
// AddressSanitizer any read past the end is caught. The sweeps (every
// truncation, every single-byte corruption, every made-up node offset)
// check that whatever parse() accepts can be walked without leaving the
// blob.
#include "fdt.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <string>
#include <vector>

#include "dtb_builder.h"

namespace kern::fdt {
namespace {

using namespace test_support;

// A small well-formed tree with NOPs in every place they may appear.
DtbBuilder sample_tree() {
  DtbBuilder b;
  b.reserve(0x80000000, 0x200000).reserve(0x90000000, 0x1000);
  b.nop().begin("").nop().cells("#address-cells", {1}).cells("#size-cells", {1});
  b.strings("compatible", {"test,board", "test,generic"}).nop();
  b.begin("chosen").strings("bootargs", {"a=b"}).end().nop();
  b.begin("bus@100").cells("#address-cells", {2}).cells("#size-cells", {2});
  b.begin("dev@1000").strings("compatible", {"acme,dev"}).cells("interrupts", {7});
  b.cells("reg", {0, 0x1000, 0, 0x100, 0x1, 0x2000, 0, 0x200}).end();
  b.begin("dev@3000").strings("compatible", {"acme,other", "acme,dev"}).cells("reg", {0, 0x3000, 0, 0x10}).end();
  b.end();
  b.begin("cpus").cells("#address-cells", {1}).cells("#size-cells", {0}).begin("cpu@0").cells("reg", {0}).end().end();
  b.begin("leaf@40").cells("reg", {0x40, 0x8}).prop("empty", {}).end().nop();
  b.end().nop();
  return b;
}

std::string node_path(const Fdt& tree, Node node) {
  std::string path;
  for (std::optional<Node> n = node; n && *n != tree.root(); n = tree.parent(*n)) {
    path = "/" + std::string(tree.name(*n)) + path;
  }
  return path.empty() ? "/" : path;
}

// Calls every accessor on every node reachable from the root and reads every
// byte they hand out. Returns the number of nodes; fails the test if the walk
// does not end.
size_t walk_everything(const Fdt& tree) {
  constexpr size_t kStepLimit = 100000;
  size_t visited = 0;
  unsigned checksum = 0;
  std::vector<Node> pending{tree.root()};
  while (!pending.empty()) {
    if (++visited > kStepLimit) {
      ADD_FAILURE() << "walk does not end";
      return visited;
    }
    Node node = pending.back();
    pending.pop_back();
    for (char c : tree.name(node)) checksum += static_cast<unsigned char>(c);
    tree.for_each_property(node, [&](const Property& prop) {
      for (char c : prop.name) checksum += static_cast<unsigned char>(c);
      for (uint8_t byte : prop.value) checksum += byte;
      for (size_t i = 0; i <= prop.cell_count(); ++i) checksum += prop.cell(i).value_or(0);
      if (auto text = prop.as_string()) checksum += static_cast<unsigned>(text->size());
      checksum += prop.has_string("okay");
    });
    for (size_t i = 0; i < 2; ++i) {
      if (auto range = tree.reg(node, i)) checksum += static_cast<unsigned>(range->size);
    }
    if (auto up = tree.parent(node)) checksum += up->offset;
    for (auto child = tree.first_child(node); child && pending.size() < kStepLimit;
         child = tree.next_sibling(*child)) {
      pending.push_back(*child);
    }
  }
  auto serial = tree.find_compatible("ns16550a");
  for (size_t n = 0; serial && n < kStepLimit; ++n) serial = tree.find_compatible("ns16550a", serial);
  for (size_t i = 0; i < tree.memreserve_count() && i < kStepLimit; ++i) {
    checksum += static_cast<unsigned>(tree.memreserve(i).value_or(MemReserve{}).size);
  }
  (void)tree.find_path("/soc/serial@10000000");
  volatile unsigned sink = checksum;
  (void)sink;
  return visited;
}


// QEMU dumps its whole 1 MiB FDT buffer; the tests work on the tree itself,
// copied into a vector of exactly its size for ASan.
Blob load_qemu_tree(const char* variable) {
  Blob blob = load_dtb(variable);
  if (blob.size() < 40 || get_be32(blob, kTotalSize) > blob.size()) return {};
  return Blob(blob.begin(), blob.begin() + get_be32(blob, kTotalSize));
}

Result<Fdt> parse(const Blob& blob) { return Fdt::parse(std::span(blob.data(), blob.size())); }

// The error a result carries, or Error{} (no such code) when it succeeded:
// asking a successful std::expected for its error is undefined.
template <typename T>
Error error_of(const Result<T>& result) {
  return result ? Error{} : result.error();
}

class QemuVirt : public ::testing::Test {
 protected:
  void SetUp() override {
    m_blob = load_qemu_tree("DTB_VIRT_64M");
    ASSERT_FALSE(m_blob.empty());
    auto tree = parse(m_blob);
    ASSERT_TRUE(tree) << error_name(tree.error());
    m_tree = *tree;
  }
  Node at(std::string_view path) {
    auto node = m_tree.find_path(path);
    EXPECT_TRUE(node) << path;
    return node.value_or(m_tree.root());
  }

  Blob m_blob;
  Fdt m_tree;
};

TEST_F(QemuVirt, HeaderAndTotalSize) {
  auto total = Fdt::total_size(m_blob.data());
  ASSERT_TRUE(total);
  EXPECT_EQ(*total, m_blob.size());
  EXPECT_EQ(m_tree.blob().size(), m_blob.size());
  EXPECT_EQ(m_tree.blob().data(), m_blob.data());
  EXPECT_EQ(m_tree.memreserve_count(), 0u);
  EXPECT_EQ(error_of(m_tree.memreserve(0)), Error::RangeError);

  // The whole dump is longer than totalsize; the rest is ignored.
  Blob whole = load_dtb("DTB_VIRT_64M");
  ASSERT_GT(whole.size(), m_blob.size());
  EXPECT_EQ(parse(whole).value().blob().size(), m_blob.size());
}

TEST_F(QemuVirt, FindPath) {
  EXPECT_EQ(m_tree.find_path("/").value(), m_tree.root());
  EXPECT_EQ(m_tree.name(m_tree.root()), "");
  EXPECT_EQ(m_tree.name(at("/chosen")), "chosen");
  EXPECT_EQ(m_tree.name(at("/soc/serial@10000000")), "serial@10000000");
  EXPECT_EQ(m_tree.name(at("/soc/serial")), "serial@10000000");
  EXPECT_EQ(m_tree.name(at("/memory")), "memory@80000000");
  EXPECT_EQ(m_tree.name(at("/cpus/cpu@1")), "cpu@1");
  EXPECT_EQ(m_tree.name(at("/cpus/cpu-map/cluster0/core1")), "core1");
  EXPECT_EQ(at("/soc/"), at("/soc"));
  EXPECT_EQ(at("//soc//plic@c000000"), at("/soc/plic"));
  EXPECT_EQ(error_of(m_tree.find_path("/soc/serial@1")), Error::NotFound);
  EXPECT_EQ(error_of(m_tree.find_path("/soc/seria")), Error::NotFound);
  EXPECT_EQ(error_of(m_tree.find_path("/nothing/here")), Error::NotFound);
  EXPECT_EQ(error_of(m_tree.find_path("/chosen/bootargs")), Error::NotFound);
  EXPECT_EQ(error_of(m_tree.find_path("chosen")), Error::InvalidArgument);
  EXPECT_EQ(error_of(m_tree.find_path("")), Error::InvalidArgument);
}

TEST_F(QemuVirt, Properties) {
  Node chosen = at("/chosen");
  auto bootargs = m_tree.property(chosen, "bootargs");
  ASSERT_TRUE(bootargs);
  EXPECT_EQ(bootargs->as_string(), "console=uart pager.policy=cow quiet");
  EXPECT_FALSE(m_tree.property(chosen, "bootarg"));
  EXPECT_FALSE(m_tree.property(chosen, "bootargsx"));

  Node serial = at("/soc/serial@10000000");
  auto interrupts = m_tree.property(serial, "interrupts");
  ASSERT_TRUE(interrupts);
  EXPECT_EQ(interrupts->cell_count(), 1u);
  EXPECT_EQ(interrupts->cell(0), 10u);
  EXPECT_EQ(interrupts->cell(1), std::nullopt);
  EXPECT_EQ(interrupts->as_string(), std::nullopt);  // no terminating NUL

  std::vector<std::string> names;
  m_tree.for_each_property(serial, [&](const Property& p) { names.emplace_back(p.name); });
  EXPECT_NE(std::find(names.begin(), names.end(), "compatible"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "reg"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "interrupts"), names.end());

  auto compatible = m_tree.property(at("/soc/test@100000"), "compatible");
  ASSERT_TRUE(compatible);
  EXPECT_TRUE(compatible->has_string("sifive,test1"));
  EXPECT_TRUE(compatible->has_string("sifive,test0"));
  EXPECT_TRUE(compatible->has_string("syscon"));
  EXPECT_FALSE(compatible->has_string("sifive,test"));
  EXPECT_FALSE(compatible->has_string(""));
  EXPECT_EQ(compatible->as_string(), "sifive,test1");

  auto timebase = m_tree.property(at("/cpus"), "timebase-frequency");
  ASSERT_TRUE(timebase);
  EXPECT_EQ(timebase->cell(0), 10000000u);

  auto ranges = m_tree.property(at("/soc"), "ranges");
  ASSERT_TRUE(ranges);
  EXPECT_TRUE(ranges->value.empty());
  EXPECT_EQ(ranges->as_string(), std::nullopt);
  EXPECT_FALSE(ranges->has_string(""));
}

TEST_F(QemuVirt, Reg) {
  auto memory = m_tree.reg(at("/memory@80000000"), 0);
  ASSERT_TRUE(memory);
  EXPECT_EQ(memory->base, PhysAddr(0x80000000));
  EXPECT_EQ(memory->size, 64u << 20);
  EXPECT_EQ(error_of(m_tree.reg(at("/memory@80000000"), 1)), Error::RangeError);

  auto serial = m_tree.reg(at("/soc/serial@10000000"), 0);
  ASSERT_TRUE(serial);
  EXPECT_EQ(serial->base, PhysAddr(0x10000000));
  EXPECT_EQ(serial->size, 0x100u);

  auto flash1 = m_tree.reg(at("/flash@20000000"), 1);
  ASSERT_TRUE(flash1);
  EXPECT_EQ(flash1->base, PhysAddr(0x22000000));

  // /cpus has #size-cells 0.
  auto cpu1 = m_tree.reg(at("/cpus/cpu@1"), 0);
  ASSERT_TRUE(cpu1);
  EXPECT_EQ(cpu1->base, PhysAddr(1));
  EXPECT_EQ(cpu1->size, 0u);

  EXPECT_EQ(error_of(m_tree.reg(at("/chosen"), 0)), Error::NotFound);
}

TEST(QemuVirt2G, MemorySize) {
  Blob blob = load_qemu_tree("DTB_VIRT_2G");
  auto tree = parse(blob);
  ASSERT_TRUE(tree);
  auto memory = tree->reg(tree->find_path("/memory").value(), 0);
  ASSERT_TRUE(memory);
  EXPECT_EQ(memory->base, PhysAddr(0x80000000));
  EXPECT_EQ(memory->size, uint64_t{2} << 30);
}

TEST_F(QemuVirt, FindCompatible) {
  auto serial = m_tree.find_compatible("ns16550a");
  ASSERT_TRUE(serial);
  EXPECT_EQ(*serial, at("/soc/serial@10000000"));
  EXPECT_EQ(m_tree.find_compatible("ns16550a", serial), std::nullopt);

  EXPECT_EQ(m_tree.find_compatible("riscv,plic0"), at("/soc/plic@c000000"));
  EXPECT_EQ(m_tree.find_compatible("sifive,plic-1.0.0"), at("/soc/plic@c000000"));
  EXPECT_EQ(m_tree.find_compatible("sifive,test0"), at("/soc/test@100000"));
  EXPECT_EQ(m_tree.find_compatible("riscv-virtio"), m_tree.root());
  EXPECT_EQ(m_tree.find_compatible("no,such-device"), std::nullopt);

  // Eight virtio-mmio transports, found in document order.
  std::vector<uint64_t> bases;
  for (auto node = m_tree.find_compatible("virtio,mmio"); node;
       node = m_tree.find_compatible("virtio,mmio", node)) {
    bases.push_back(m_tree.reg(*node, 0).value().base.value());
  }
  ASSERT_EQ(bases.size(), 8u);
  EXPECT_EQ(bases.front(), 0x10008000u);
  EXPECT_EQ(bases.back(), 0x10001000u);
}

TEST_F(QemuVirt, Navigation) {
  Node root = m_tree.root();
  Node soc = at("/soc");
  Node cpus = at("/cpus");
  EXPECT_EQ(m_tree.parent(root), std::nullopt);
  EXPECT_EQ(m_tree.parent(soc), root);
  EXPECT_EQ(m_tree.parent(at("/soc/serial@10000000")), soc);
  EXPECT_EQ(m_tree.parent(at("/cpus/cpu@0/interrupt-controller")), at("/cpus/cpu@0"));
  EXPECT_EQ(m_tree.next_sibling(root), std::nullopt);

  std::vector<std::string> children;
  for (auto c = m_tree.first_child(cpus); c; c = m_tree.next_sibling(*c)) children.emplace_back(m_tree.name(*c));
  EXPECT_EQ(children, (std::vector<std::string>{"cpu@0", "cpu@1", "cpu-map"}));
  EXPECT_EQ(m_tree.first_child(at("/soc/serial@10000000")), std::nullopt);
}

// Every node's children name it as their parent and find_path of its path
// comes back to it.
TEST_F(QemuVirt, TreeInvariants) {
  size_t nodes = 0;
  std::vector<Node> pending{m_tree.root()};
  while (!pending.empty()) {
    Node node = pending.back();
    pending.pop_back();
    ++nodes;
    EXPECT_EQ(m_tree.find_path(node_path(m_tree, node)).value(), node) << node_path(m_tree, node);
    for (auto c = m_tree.first_child(node); c; c = m_tree.next_sibling(*c)) {
      EXPECT_EQ(m_tree.parent(*c), node);
      pending.push_back(*c);
    }
  }
  EXPECT_GE(nodes, 30u);  // 33 with QEMU 7.2
  EXPECT_EQ(walk_everything(m_tree), nodes);
}

// Made-up Node values never lead outside the blob; most give empty answers.
TEST_F(QemuVirt, ArbitraryNodeOffsets) {
  uint32_t struct_size = get_be32(m_blob, kStructSize);
  for (uint32_t offset = 0; offset < struct_size + 16; ++offset) {
    Node node{offset};
    (void)m_tree.name(node);
    (void)m_tree.first_child(node);
    (void)m_tree.next_sibling(node);
    (void)m_tree.parent(node);
    (void)m_tree.property(node, "reg");
    (void)m_tree.reg(node, 0);
    (void)m_tree.find_compatible("ns16550a", node);
    m_tree.for_each_property(node, [](const Property& p) { (void)p.as_string(); });
  }
  EXPECT_EQ(m_tree.name(Node{2}), "");
  EXPECT_EQ(m_tree.first_child(Node{struct_size}), std::nullopt);
  EXPECT_EQ(m_tree.parent(Node{struct_size}), std::nullopt);
}

TEST(FdtTotalSize, Header) {
  EXPECT_EQ(error_of(Fdt::total_size(nullptr)), Error::InvalidArgument);
  Blob blob = sample_tree().build();
  EXPECT_EQ(Fdt::total_size(blob.data()).value(), blob.size());
  put_be32(blob, kTotalSize, 39);
  EXPECT_EQ(error_of(Fdt::total_size(blob.data())), Error::Malformed);
  blob[0] ^= 1;
  EXPECT_EQ(error_of(Fdt::total_size(blob.data())), Error::Malformed);
}

TEST(FdtBuilt, SampleTree) {
  Blob blob = sample_tree().build();
  auto tree = parse(blob);
  ASSERT_TRUE(tree) << error_name(tree.error());
  EXPECT_EQ(tree->memreserve_count(), 2u);
  EXPECT_EQ(tree->memreserve(0).value().address, 0x80000000u);
  EXPECT_EQ(tree->memreserve(1).value().size, 0x1000u);
  EXPECT_EQ(error_of(tree->memreserve(2)), Error::RangeError);

  // The root sits after a NOP.
  EXPECT_EQ(tree->root().offset, 4u);
  EXPECT_EQ(tree->property(tree->root(), "compatible")->as_string(), "test,board");

  Node dev = tree->find_path("/bus@100/dev@1000").value();
  EXPECT_EQ(tree->find_compatible("acme,dev"), dev);
  EXPECT_EQ(tree->find_compatible("acme,dev", dev), tree->find_path("/bus/dev@3000").value());
  auto second = tree->reg(dev, 1);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->base, PhysAddr(0x100002000));
  EXPECT_EQ(second->size, 0x200u);
  EXPECT_EQ(error_of(tree->reg(dev, 2)), Error::RangeError);

  // The root's #address-cells 1 / #size-cells 1 apply to its children.
  auto leaf = tree->reg(tree->find_path("/leaf").value(), 0);
  ASSERT_TRUE(leaf);
  EXPECT_EQ(leaf->base, PhysAddr(0x40));
  EXPECT_EQ(leaf->size, 8u);
  EXPECT_TRUE(tree->property(tree->find_path("/leaf").value(), "empty"));

  // Siblings across NOPs; the NOP after the root is skipped.
  std::vector<std::string> names;
  for (auto c = tree->first_child(tree->root()); c; c = tree->next_sibling(*c)) names.emplace_back(tree->name(*c));
  EXPECT_EQ(names, (std::vector<std::string>{"chosen", "bus@100", "cpus", "leaf@40"}));
  EXPECT_EQ(walk_everything(*tree), 8u);
}

TEST(FdtBuilt, RegDefaultsAndBadCells) {
  // No #address-cells/#size-cells: 2 and 1.
  Blob defaults = DtbBuilder().begin("").begin("d").cells("reg", {0x1, 0x2000, 0x30}).end().end().build();
  auto tree = parse(defaults);
  ASSERT_TRUE(tree);
  auto range = tree->reg(tree->find_path("/d").value(), 0);
  ASSERT_TRUE(range);
  EXPECT_EQ(range->base, PhysAddr(0x100002000));
  EXPECT_EQ(range->size, 0x30u);

  auto reg_error = [](std::initializer_list<uint32_t> address_cells, std::initializer_list<uint32_t> reg) {
    DtbBuilder b;
    b.begin("").cells("#address-cells", address_cells).cells("#size-cells", {1}).begin("d").cells("reg", reg).end().end();
    Blob blob = b.build();
    auto t = parse(blob);
    if (!t) return Error{};
    return error_of(t->reg(t->find_path("/d").value(), 0));
  };
  EXPECT_EQ(reg_error({3}, {0, 0, 0, 1}), Error::Malformed);     // 3 address cells
  EXPECT_EQ(reg_error({0}, {1}), Error::Malformed);              // 0 address cells
  EXPECT_EQ(reg_error({1, 1}, {1, 1}), Error::Malformed);        // #address-cells of 8 bytes
  EXPECT_EQ(reg_error({1}, {0x1000, 0x10, 0x5}), Error::Malformed);  // 1.5 entries
  EXPECT_EQ(reg_error({2}, {0xffffffff, 0xfffff000, 0x1000}), Error::Malformed);  // wraps
}

// --- Malformed headers and blocks ---

TEST(FdtMalformed, HeaderFields) {
  const Blob good = sample_tree().build();
  ASSERT_TRUE(parse(good));
  auto with = [&](size_t field, uint32_t value) {
    Blob blob = good;
    put_be32(blob, field, value);
    return parse(blob);
  };
  uint32_t total = static_cast<uint32_t>(good.size());
  uint32_t struct_offset = get_be32(good, kStructOffset);
  uint32_t struct_size = get_be32(good, kStructSize);
  uint32_t strings_size = get_be32(good, kStringsSize);

  EXPECT_EQ(error_of(with(0, 0xd00dfeee)), Error::Malformed);
  EXPECT_EQ(error_of(with(kTotalSize, total + 1)), Error::Malformed);
  EXPECT_EQ(error_of(with(kTotalSize, 0xffffffff)), Error::Malformed);
  EXPECT_EQ(error_of(with(kTotalSize, 8)), Error::Malformed);
  EXPECT_EQ(error_of(with(kTotalSize, total - 1)), Error::Malformed);  // strings block now sticks out
  EXPECT_EQ(error_of(with(kVersion, 16)), Error::Malformed);
  EXPECT_EQ(error_of(with(kLastCompVersion, 18)), Error::Malformed);
  EXPECT_TRUE(with(kVersion, 18));

  EXPECT_EQ(error_of(with(kStructOffset, total)), Error::Malformed);
  EXPECT_EQ(error_of(with(kStructOffset, struct_offset - 4)), Error::Malformed);  // rsvmap zeros: token 0
  EXPECT_EQ(error_of(with(kStructOffset, struct_offset + 2)), Error::Malformed);  // misaligned
  EXPECT_EQ(error_of(with(kStructOffset, 0)), Error::Malformed);                 // over the header
  EXPECT_EQ(error_of(with(kStructOffset, 0xfffffffc)), Error::Malformed);        // offset + size wraps in 32 bits
  EXPECT_EQ(error_of(with(kStructSize, total)), Error::Malformed);
  EXPECT_EQ(error_of(with(kStructSize, 0xffffffff)), Error::Malformed);
  EXPECT_EQ(error_of(with(kStructSize, struct_size - 2)), Error::Malformed);
  EXPECT_EQ(error_of(with(kStructSize, struct_size - 4)), Error::Malformed);  // FDT_END cut off
  EXPECT_EQ(error_of(with(kStructSize, 0)), Error::Malformed);

  EXPECT_EQ(error_of(with(kStringsOffset, total)), Error::Malformed);
  EXPECT_EQ(error_of(with(kStringsOffset, 0xffffffff)), Error::Malformed);
  EXPECT_EQ(error_of(with(kStringsOffset, 4)), Error::Malformed);
  EXPECT_EQ(error_of(with(kStringsSize, strings_size + 1)), Error::Malformed);
  EXPECT_EQ(error_of(with(kStringsSize, 0xfffffffc)), Error::Malformed);
  EXPECT_EQ(error_of(with(kStringsSize, 1)), Error::Malformed);  // names outside the block

  EXPECT_EQ(error_of(with(kRsvmapOffset, total)), Error::Malformed);
  EXPECT_EQ(error_of(with(kRsvmapOffset, 0xfffffff8)), Error::Malformed);
  EXPECT_EQ(error_of(with(kRsvmapOffset, 44)), Error::Malformed);  // misaligned
  EXPECT_EQ(error_of(with(kRsvmapOffset, 0)), Error::Malformed);   // the header
}

// A reservation map without its zero terminator runs into the end of the blob.
TEST(FdtMalformed, ReservationMapWithoutTerminator) {
  Blob blob = sample_tree().build();
  uint32_t total = static_cast<uint32_t>(blob.size());
  put_be32(blob, kRsvmapOffset, (total - 16) & ~7u);
  for (size_t i = (total - 16) & ~7u; i < total; ++i) blob[i] = 0xff;
  EXPECT_EQ(error_of(parse(blob)), Error::Malformed);
}

// Every prefix of the real blob, first as is (totalsize then exceeds the
// span) and then with the header rewritten to describe only the prefix, so
// that each block check and the structure walk meet the cut.
TEST(FdtMalformed, EveryTruncationOfQemuTree) {
  const Blob full = load_qemu_tree("DTB_VIRT_64M");
  ASSERT_FALSE(full.empty());
  uint32_t struct_offset = get_be32(full, kStructOffset);
  uint32_t struct_size = get_be32(full, kStructSize);
  uint32_t strings_offset = get_be32(full, kStringsOffset);
  uint32_t strings_size = get_be32(full, kStringsSize);
  size_t nodes = walk_everything(parse(full).value());
  for (size_t length = 0; length < full.size(); ++length) {
    Blob prefix(full.begin(), full.begin() + static_cast<ptrdiff_t>(length));
    ASSERT_EQ(error_of(parse(prefix)), Error::Malformed) << length;
    if (length < 40) continue;

    auto clip = [&](uint32_t offset, uint32_t size) -> uint32_t {
      if (offset >= length) return 0;
      return static_cast<uint32_t>(std::min<size_t>(size, length - offset));
    };
    put_be32(prefix, kTotalSize, static_cast<uint32_t>(length));
    put_be32(prefix, kStructSize, clip(struct_offset, struct_size) & ~3u);
    put_be32(prefix, kStringsSize, clip(strings_offset, strings_size));
    auto tree = parse(prefix);
    // Only a prefix that keeps the whole structure block and every name in
    // use can be accepted, and then the tree is complete.
    if (tree) {
      EXPECT_EQ(walk_everything(*tree), nodes) << length;
    }
  }
}

// Every byte of the real blob replaced by 0x00 and by its complement: parse
// either refuses or hands out a tree the walk can cover without leaving the
// blob.
TEST(FdtMalformed, EverySingleByteCorruption) {
  const Blob full = load_qemu_tree("DTB_VIRT_64M");
  ASSERT_FALSE(full.empty());
  size_t accepted = 0;
  for (size_t i = 0; i < full.size(); ++i) {
    for (bool complement : {false, true}) {
      Blob blob = full;
      blob[i] = complement ? static_cast<uint8_t>(~blob[i]) : 0;
      if (auto tree = parse(blob)) {
        ++accepted;
        walk_everything(*tree);
      }
    }
  }
  EXPECT_GT(accepted, 0u);  // value bytes are free to change
}

// --- Malformed structure blocks, built token by token ---

Error structure_error(const DtbBuilder& builder, bool with_end = true) {
  return error_of(parse(builder.build(with_end)));
}

TEST(FdtMalformed, BogusToken) {
  EXPECT_EQ(structure_error(DtbBuilder().begin("").token(5).end()), Error::Malformed);
  EXPECT_EQ(structure_error(DtbBuilder().begin("").token(0).end()), Error::Malformed);
  EXPECT_EQ(structure_error(DtbBuilder().begin("").token(0x01000000).end()), Error::Malformed);
}

TEST(FdtMalformed, MissingEnd) {
  EXPECT_EQ(structure_error(DtbBuilder().begin("").end(), false), Error::Malformed);
  EXPECT_EQ(structure_error(DtbBuilder().begin("").end().nop().nop(), false), Error::Malformed);
  EXPECT_EQ(structure_error(DtbBuilder(), true), Error::Malformed);  // FDT_END, no root
}

TEST(FdtMalformed, UnbalancedNesting) {
  EXPECT_EQ(structure_error(DtbBuilder().begin("").begin("a")), Error::Malformed);
  EXPECT_EQ(structure_error(DtbBuilder().begin("").begin("a").end()), Error::Malformed);
  EXPECT_EQ(structure_error(DtbBuilder().begin("").end().end()), Error::Malformed);
  EXPECT_EQ(structure_error(DtbBuilder().end()), Error::Malformed);
  EXPECT_EQ(structure_error(DtbBuilder().begin("").end().begin("second").end()), Error::Malformed);
}

TEST(FdtMalformed, NestingDepthLimit) {
  auto nested = [](size_t depth) {
    DtbBuilder b;
    for (size_t i = 0; i < depth; ++i) b.begin(i == 0 ? "" : "n");
    for (size_t i = 0; i < depth; ++i) b.end();
    return b;
  };
  Blob deep = nested(64).build();
  auto tree = parse(deep);
  ASSERT_TRUE(tree);
  std::string path;
  for (int i = 1; i < 64; ++i) path += "/n";
  Node deepest = tree->find_path(path).value();
  EXPECT_EQ(tree->parent(deepest), tree->find_path(path.substr(0, path.size() - 2)).value());
  EXPECT_EQ(structure_error(nested(65)), Error::Malformed);
}

TEST(FdtMalformed, PropertyPlacement) {
  EXPECT_EQ(structure_error(DtbBuilder().cells("x", {1}).begin("").end()), Error::Malformed);
  EXPECT_EQ(structure_error(DtbBuilder().begin("").begin("a").end().cells("late", {1}).end()),
            Error::Malformed);
  EXPECT_EQ(structure_error(DtbBuilder().begin("").end().cells("after", {1})), Error::Malformed);
}

// Rewrites the header of a one-property tree so that the property's length
// or name offset is bad.
class BadProperty : public ::testing::Test {
 protected:
  void SetUp() override {
    m_blob = DtbBuilder().begin("").cells("p", {0x11223344}).end().build();
    ASSERT_TRUE(parse(m_blob));
    // begin("") is 8 bytes; then FDT_PROP, len, nameoff.
    m_prop = get_be32(m_blob, kStructOffset) + 8;
    ASSERT_EQ(get_be32(m_blob, m_prop), kProp);
  }
  Error with(size_t field, uint32_t value) {
    Blob blob = m_blob;
    put_be32(blob, m_prop + field, value);
    return error_of(parse(blob));
  }
  Blob m_blob;
  size_t m_prop = 0;
};

TEST_F(BadProperty, LengthPastBlock) {
  EXPECT_EQ(with(4, 0xffffffff), Error::Malformed);
  EXPECT_EQ(with(4, 0xfffffffc), Error::Malformed);
  EXPECT_EQ(with(4, 13), Error::Malformed);  // eats FDT_END_NODE and FDT_END, then runs off
  EXPECT_EQ(with(4, 12), Error::Malformed);  // ends exactly at the block's end: no FDT_END
  EXPECT_EQ(with(4, 5), Error::Malformed);   // swallows FDT_END_NODE
}

TEST_F(BadProperty, NameOffsetOutsideStrings) {
  EXPECT_EQ(with(8, 2), Error::Malformed);  // strings block is "p\0"
  EXPECT_EQ(with(8, 0xffffffff), Error::Malformed);
  EXPECT_EQ(with(8, 0x80000000), Error::Malformed);

  // The name must end inside the strings block, not merely start there.
  Blob blob = m_blob;
  put_be32(blob, kStringsSize, 1);
  EXPECT_EQ(error_of(parse(blob)), Error::Malformed);
}

TEST(FdtMalformed, NodeNameWithoutTerminator) {
  Blob blob = DtbBuilder().begin("").end().build();
  // Replace the structure with FDT_BEGIN_NODE followed by name bytes up to its end.
  size_t struct_offset = get_be32(blob, kStructOffset);
  for (size_t i = struct_offset + 4; i < struct_offset + get_be32(blob, kStructSize); ++i) blob[i] = 'x';
  EXPECT_EQ(error_of(parse(blob)), Error::Malformed);
}

TEST(FdtMalformed, EmptyDefaultTreeIsHarmless) {
  Fdt tree;
  EXPECT_EQ(tree.name(tree.root()), "");
  EXPECT_EQ(tree.first_child(tree.root()), std::nullopt);
  EXPECT_EQ(error_of(tree.find_path("/chosen")), Error::NotFound);
  EXPECT_EQ(tree.find_compatible("x"), std::nullopt);
  EXPECT_EQ(tree.memreserve_count(), 0u);
}

}  // namespace
}  // namespace kern::fdt
