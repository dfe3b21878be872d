// Turning the device tree into PlatformInfo. Each fact is looked up the way
// the Devicetree Specification and Linux's early boot code find it: RAM in
// the root's children whose device_type is "memory", reservations in the
// /memreserve/ map and under /reserved-memory, the console named by /chosen
// stdout-path, and devices by their "compatible" strings. Nodes whose
// "status" says they are not available are skipped, as Linux does.
//
// Every "reg" goes through Fdt::reg(), which decodes it with the parent's
// cell counts; a device we need whose reg cannot be decoded makes the whole
// tree Malformed rather than leaving the kernel with a half-known device.
#include "platform.h"

namespace kern {

namespace {

using fdt::Fdt;
using fdt::Node;
using fdt::Property;
using namespace std::string_view_literals;

constexpr auto kUartCompatible = "ns16550a"sv;
constexpr std::string_view kPlicCompatibles[] = {"riscv,plic0"sv, "sifive,plic-1.0.0"sv};
constexpr auto kFinisherCompatible = "sifive,test0"sv;


// A node without "status" is available; otherwise it must say "okay" (or the
// older "ok").
bool is_available(const Fdt& tree, Node node) {
  auto status = tree.property(node, "status"sv);
  if (!status) return true;
  return status->has_string("okay"sv) || status->has_string("ok"sv);
}

bool has_device_type(const Fdt& tree, Node node, std::string_view type) {
  auto prop = tree.property(node, "device_type"sv);
  return prop && prop->has_string(type);
}

// A frequency property is one cell or two (a 64-bit value).
Result<uint64_t> read_frequency(const Property& prop) {
  if (prop.value.size() == 4) return *prop.cell(0);
  if (prop.value.size() == 8) return uint64_t{*prop.cell(0)} << 32 | *prop.cell(1);
  return fail(Error::Malformed);
}

// Appends range to array[0..count), RangeError when the array is full.
template <size_t N>
Status append(std::array<PhysRange, N>& array, size_t& count, PhysRange range) {
  if (count == N) return fail(Error::RangeError);
  array[count++] = range;
  return {};
}

// Appends every non-empty entry of the node's "reg"; a node without "reg"
// adds nothing.
template <size_t N>
Status append_reg(const Fdt& tree, Node node, std::array<PhysRange, N>& array, size_t& count) {
  for (size_t index = 0;; ++index) {
    auto range = tree.reg(node, index);
    if (!range) {
      if (range.error() == Error::RangeError || range.error() == Error::NotFound) return {};
      return fail(range.error());
    }
    if (range->size != 0) TRY(append(array, count, *range));
  }
}

Status read_memory(const Fdt& tree, PlatformInfo& info) {
  for (auto node = tree.first_child(tree.root()); node; node = tree.next_sibling(*node)) {
    if (has_device_type(tree, *node, "memory"sv) && is_available(tree, *node)) {
      TRY(append_reg(tree, *node, info.memory, info.memory_count));
    }
  }
  if (info.memory_count == 0) return fail(Error::Malformed);
  return {};
}

// /reserved-memory children with only a "size" ask the OS to allocate a
// region somewhere; nothing is reserved yet, so they add nothing here.
Status read_reserved(const Fdt& tree, PlatformInfo& info) {
  for (size_t i = 0; i < tree.memreserve_count(); ++i) {
    fdt::MemReserve entry = TRY(tree.memreserve(i));
    if (entry.size == 0) continue;
    if (entry.size > ~entry.address) return fail(Error::Malformed);
    TRY(append(info.reserved, info.reserved_count, PhysRange{PhysAddr(entry.address), entry.size}));
  }
  auto reserved = tree.find_path("/reserved-memory"sv);
  if (!reserved) return {};
  for (auto node = tree.first_child(*reserved); node; node = tree.next_sibling(*node)) {
    if (is_available(tree, *node)) TRY(append_reg(tree, *node, info.reserved, info.reserved_count));
  }
  return {};
}

// "" when /chosen or its bootargs is absent or empty; Malformed when bootargs
// is not a NUL-terminated string.
Result<std::string_view> read_bootargs(const Fdt& tree) {
  auto chosen = tree.find_path("/chosen"sv);
  if (!chosen) return ""sv;
  auto prop = tree.property(*chosen, "bootargs"sv);
  if (!prop || prop->value.empty()) return ""sv;
  auto text = prop->as_string();
  if (!text) return fail(Error::Malformed);
  return *text;
}

// A 32- or 64-bit big-endian property value.
std::optional<uint64_t> read_number(const fdt::Property& prop) {
  if (prop.value.size() == 4) return prop.cell(0);
  if (prop.value.size() == 8) return (uint64_t{*prop.cell(0)} << 32) | *prop.cell(1);
  return std::nullopt;
}

// Absent unless both ends are there; Malformed if either is not a 32/64-bit
// number or the end is before the start.
Result<std::optional<PhysRange>> read_initrd(const Fdt& tree) {
  auto chosen = tree.find_path("/chosen"sv);
  if (!chosen) return std::optional<PhysRange>();
  auto start_prop = tree.property(*chosen, "linux,initrd-start"sv);
  auto end_prop = tree.property(*chosen, "linux,initrd-end"sv);
  if (!start_prop || !end_prop) return std::optional<PhysRange>();
  auto start = read_number(*start_prop);
  auto end = read_number(*end_prop);
  if (!start || !end || *end < *start) return fail(Error::Malformed);
  return std::optional<PhysRange>(PhysRange{PhysAddr(*start), *end - *start});
}

// The PLIC's "riscv,ndev" counts sources 1..ndev.
uint32_t read_plic_sources(const Fdt& tree, const std::optional<Device>& plic) {
  if (!plic) return 0;
  for (std::string_view compatible : kPlicCompatibles) {
    auto node = tree.find_compatible(compatible);
    if (!node) continue;
    auto prop = tree.property(*node, "riscv,ndev"sv);
    auto ndev = prop ? prop->cell(0) : std::nullopt;
    return ndev && *ndev < 1024 ? *ndev + 1 : 0;
  }
  return 0;
}

// The timebase is a property of /cpus, but some trees put it on each cpu
// node instead; then the first cpu that has it is used. Every node with
// device_type "cpu" counts as a hart, whatever its status: hart IDs index
// per-hart tables, and skipping a disabled hart would make the count smaller
// than the largest ID plus one.
Status read_cpus(const Fdt& tree, PlatformInfo& info) {
  auto cpus = tree.find_path("/cpus"sv);
  if (!cpus) return fail(Error::Malformed);
  if (auto prop = tree.property(*cpus, "timebase-frequency"sv)) {
    info.timebase_frequency = TRY(read_frequency(*prop));
  }
  for (auto node = tree.first_child(*cpus); node; node = tree.next_sibling(*node)) {
    if (!has_device_type(tree, *node, "cpu"sv)) continue;
    ++info.hart_count;
    auto prop = tree.property(*node, "timebase-frequency"sv);
    if (prop && info.timebase_frequency == 0) info.timebase_frequency = TRY(read_frequency(*prop));
  }
  if (info.timebase_frequency == 0 || info.hart_count == 0) return fail(Error::Malformed);
  return {};
}

// Malformed when the node's reg cannot give an MMIO range.
Result<Device> read_device(const Fdt& tree, Node node) {
  auto mmio = tree.reg(node, 0);
  if (!mmio) return fail(Error::Malformed);
  Device device{*mmio};
  if (auto interrupts = tree.property(node, "interrupts"sv)) {
    device.irq = interrupts->cell(0).value_or(0);
  }
  return device;
}

// The first available node, in document order, compatible with any of
// `compatibles`.
std::optional<Node> find_device(const Fdt& tree, std::span<const std::string_view> compatibles) {
  std::optional<Node> best;
  for (std::string_view compatible : compatibles) {
    for (auto node = tree.find_compatible(compatible); node; node = tree.find_compatible(compatible, node)) {
      if (!is_available(tree, *node)) continue;
      if (!best || node->offset < best->offset) best = node;
      break;
    }
  }
  return best;
}

Result<std::optional<Device>> read_optional_device(const Fdt& tree,
                                                   std::span<const std::string_view> compatibles) {
  auto node = find_device(tree, compatibles);
  if (!node) return std::optional<Device>();
  return std::optional<Device>(TRY(read_device(tree, *node)));
}

// The node /chosen stdout-path names. The value is a path or an alias (a
// property of /aliases holding a path), optionally followed by ":options"
// such as a baud rate. nullopt when absent or when it names nothing.
std::optional<Node> stdout_node(const Fdt& tree) {
  auto chosen = tree.find_path("/chosen"sv);
  if (!chosen) return std::nullopt;
  auto prop = tree.property(*chosen, "stdout-path"sv);
  if (!prop) return std::nullopt;
  auto path = prop->as_string();
  if (!path) return std::nullopt;
  path = path->substr(0, path->find(':'));
  if (path->empty()) return std::nullopt;
  if ((*path)[0] != '/') {
    auto aliases = tree.find_path("/aliases"sv);
    if (!aliases) return std::nullopt;
    auto alias = tree.property(*aliases, *path);
    if (!alias) return std::nullopt;
    path = alias->as_string();
    if (!path) return std::nullopt;
  }
  auto node = tree.find_path(*path);
  if (!node) return std::nullopt;
  return *node;
}

// The kernel drives only a 16550, so stdout-path is honoured when it names
// one that is available; otherwise the first available 16550 is the console.
Result<std::optional<Device>> read_uart(const Fdt& tree) {
  if (auto node = stdout_node(tree)) {
    auto compatible = tree.property(*node, "compatible"sv);
    if (compatible && compatible->has_string(kUartCompatible) && is_available(tree, *node)) {
      return std::optional<Device>(TRY(read_device(tree, *node)));
    }
  }
  return read_optional_device(tree, std::span(&kUartCompatible, 1));
}

}  // namespace

uint64_t PlatformInfo::total_memory() const {
  uint64_t total = 0;
  for (size_t i = 0; i < memory_count; ++i) total += memory[i].size;
  return total;
}

// Malformed also when a hart count of zero is found, or when a UART, PLIC or
// finisher that is present has a "reg" that cannot be decoded.
Result<PlatformInfo> read_platform(const fdt::Fdt& tree) {
  PlatformInfo info;
  TRY(read_memory(tree, info));
  TRY(read_reserved(tree, info));
  info.bootargs = TRY(read_bootargs(tree));
  TRY(read_cpus(tree, info));
  info.uart = TRY(read_uart(tree));
  info.plic = TRY(read_optional_device(tree, kPlicCompatibles));
  info.test_finisher = TRY(read_optional_device(tree, std::span(&kFinisherCompatible, 1)));
  info.plic_sources = read_plic_sources(tree, info.plic);
  info.initrd = TRY(read_initrd(tree));
  return info;
}

}  // namespace kern
