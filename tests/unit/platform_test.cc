// Tests for read_platform() and bootarg() (microkernel/lib/platform.h). The
// QEMU virt trees the build dumps (DTB_VIRT_64M, DTB_VIRT_2G) give the facts
// the kernel really boots with; small trees built here cover what QEMU does
// not show: aliases in stdout-path, several memory nodes, reserved memory,
// disabled nodes, a timebase only on the cpu nodes, and the error cases.
// Those are written with DtbBuilder (dtb_builder.h).
#include "platform.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <string>
#include <vector>

#include "dtb_builder.h"

namespace kern {
namespace {

using fdt::test_support::Blob;
using fdt::test_support::DtbBuilder;

// Root with 2/2 cells and /cpus (timebase 1 MHz, one hart); `body` adds the
// rest of the root's children.
template <typename Body>
Blob board(Body body) {
  DtbBuilder b;
  b.begin("").cells("#address-cells", {2}).cells("#size-cells", {2});
  b.begin("cpus").cells("#address-cells", {1}).cells("#size-cells", {0}).cells("timebase-frequency", {1000000});
  b.begin("cpu@0").strings("device_type", {"cpu"}).cells("reg", {0}).end();
  b.end();
  body(b);
  b.end();
  return b.build();
}

// "name@<base in hex>", as node names are written.
std::string unit_name(std::string_view name, uint64_t base) {
  char digits[17];
  auto end = std::to_chars(digits, digits + sizeof digits, base, 16).ptr;
  return std::string(name) + "@" + std::string(digits, end);
}

DtbBuilder& memory(DtbBuilder& b, uint64_t base, uint64_t size) {
  return b.begin(unit_name("memory", base))
      .strings("device_type", {"memory"})
      .cells("reg", {static_cast<uint32_t>(base >> 32), static_cast<uint32_t>(base), static_cast<uint32_t>(size >> 32),
                     static_cast<uint32_t>(size)})
      .end();
}

DtbBuilder& uart(DtbBuilder& b, uint32_t base, uint32_t irq, std::string_view compatible = "ns16550a") {
  return b.begin(unit_name("uart", base))
      .strings("compatible", {compatible})
      .cells("reg", {0, base, 0, 0x100})
      .cells("interrupts", {irq})
      .end();
}

// PlatformInfo points into the blob (bootargs), so every blob read here is
// kept until the test program ends.
Result<PlatformInfo> read(Blob blob) {
  static std::deque<Blob> kept;
  const Blob& stored = kept.emplace_back(std::move(blob));
  auto tree = fdt::Fdt::parse(std::span(stored.data(), stored.size()));
  if (!tree) {
    ADD_FAILURE() << "the test built a malformed tree";
    return fail(tree.error());
  }
  return read_platform(*tree);
}

// The error a result carries, or Error{} (no such code) when it succeeded:
// asking a successful std::expected for its error is undefined.
template <typename T>
Error error_of(const Result<T>& result) {
  return result ? Error{} : result.error();
}

using fdt::test_support::load_dtb;

TEST(PlatformQemu, Virt64M) {
  Blob blob = load_dtb("DTB_VIRT_64M");
  ASSERT_FALSE(blob.empty());
  auto info = read(blob);
  ASSERT_TRUE(info) << error_name(info.error());

  ASSERT_EQ(info->memory_count, 1u);
  EXPECT_EQ(info->memory[0].base, PhysAddr(0x80000000));
  EXPECT_EQ(info->memory[0].size, 64u << 20);
  EXPECT_EQ(info->total_memory(), 64u << 20);
  // OpenSBI adds its /reserved-memory node at boot; QEMU's own tree has none.
  EXPECT_EQ(info->reserved_count, 0u);

  EXPECT_EQ(info->bootargs, "console=uart pager.policy=cow quiet");
  EXPECT_EQ(info->timebase_frequency, 10000000u);
  EXPECT_EQ(info->hart_count, 2u);

  ASSERT_TRUE(info->uart);
  EXPECT_EQ(info->uart->mmio.base, PhysAddr(0x10000000));
  EXPECT_EQ(info->uart->mmio.size, 0x100u);
  EXPECT_EQ(info->uart->irq, 10u);

  ASSERT_TRUE(info->plic);
  EXPECT_EQ(info->plic->mmio.base, PhysAddr(0x0c000000));
  EXPECT_EQ(info->plic->mmio.size, 0x600000u);
  EXPECT_EQ(info->plic->irq, 0u);  // the PLIC has interrupts-extended, not interrupts

  ASSERT_TRUE(info->test_finisher);
  EXPECT_EQ(info->test_finisher->mmio.base, PhysAddr(0x100000));
  EXPECT_EQ(info->test_finisher->mmio.size, 0x1000u);
}

TEST(PlatformQemu, PlicSourcesAndNoInitrd) {
  Blob blob = load_dtb("DTB_VIRT_64M");
  ASSERT_FALSE(blob.empty());
  auto info = read(blob);
  ASSERT_TRUE(info) << error_name(info.error());
  EXPECT_EQ(info->plic_sources, 97u);  // QEMU 7.2 virt: riscv,ndev = 96
  EXPECT_FALSE(info->initrd.has_value());
}

TEST(PlatformQemu, Virt2G) {
  Blob blob = load_dtb("DTB_VIRT_2G");
  ASSERT_FALSE(blob.empty());
  auto info = read(blob);
  ASSERT_TRUE(info) << error_name(info.error());
  ASSERT_EQ(info->memory_count, 1u);
  EXPECT_EQ(info->memory[0].base, PhysAddr(0x80000000));
  EXPECT_EQ(info->memory[0].size, uint64_t{2} << 30);
  EXPECT_EQ(info->total_memory(), uint64_t{2} << 30);
  EXPECT_EQ(info->hart_count, 2u);
}

TEST(PlatformBuilt, MinimalBoard) {
  auto info = read(board([](DtbBuilder& b) { memory(b, 0x80000000, 0x1000000); }));
  ASSERT_TRUE(info) << error_name(info.error());
  EXPECT_EQ(info->memory_count, 1u);
  EXPECT_EQ(info->bootargs, "");
  EXPECT_EQ(info->timebase_frequency, 1000000u);
  EXPECT_EQ(info->hart_count, 1u);
  EXPECT_FALSE(info->uart);
  EXPECT_FALSE(info->plic);
  EXPECT_FALSE(info->test_finisher);
}

TEST(PlatformBuilt, SeveralMemoryNodesAndEntries) {
  auto info = read(board([](DtbBuilder& b) {
    b.begin("memory@80000000")
        .strings("device_type", {"memory"})
        .cells("reg", {0, 0x80000000, 0, 0x10000000, 0x1, 0x0, 0, 0x20000000, 0, 0x90000000, 0, 0})
        .end();
    memory(b, 0x200000000, 0x40000000);
    b.begin("memory@300000000").strings("device_type", {"memory"}).strings("status", {"disabled"})
        .cells("reg", {0x3, 0, 0, 0x1000}).end();
    b.begin("memory@400000000").cells("reg", {0x4, 0, 0, 0x1000}).end();  // no device_type
  }));
  ASSERT_TRUE(info) << error_name(info.error());
  ASSERT_EQ(info->memory_count, 3u);  // the empty entry is dropped
  EXPECT_EQ(info->memory[1].base, PhysAddr(0x100000000));
  EXPECT_EQ(info->memory[2].base, PhysAddr(0x200000000));
  EXPECT_EQ(info->total_memory(), 0x10000000u + 0x20000000u + 0x40000000u);
}

TEST(PlatformBuilt, MemoryWithOneCellEach) {
  DtbBuilder b;
  b.begin("").cells("#address-cells", {1}).cells("#size-cells", {1});
  b.begin("cpus").cells("timebase-frequency", {5}).begin("cpu@0").strings("device_type", {"cpu"}).end().end();
  b.begin("memory@0").strings("device_type", {"memory"}).cells("reg", {0x1000, 0x2000}).end();
  b.end();
  auto info = read(b.build());
  ASSERT_TRUE(info) << error_name(info.error());
  EXPECT_EQ(info->memory[0].base, PhysAddr(0x1000));
  EXPECT_EQ(info->memory[0].size, 0x2000u);
}

TEST(PlatformBuilt, MemoryErrors) {
  EXPECT_EQ(error_of(read(board([](DtbBuilder&) {}))), Error::Malformed);
  auto bad_reg = [](DtbBuilder& b) {
    b.begin("memory@0").strings("device_type", {"memory"}).cells("reg", {0, 0, 0}).end();
  };
  EXPECT_EQ(error_of(read(board(bad_reg))), Error::Malformed);
  auto too_many = [](DtbBuilder& b) {
    for (uint64_t i = 0; i <= kMaxMemoryRanges; ++i) memory(b, 0x80000000 + (i << 28), 0x1000);
  };
  EXPECT_EQ(error_of(read(board(too_many))), Error::RangeError);
  EXPECT_TRUE(read(board([](DtbBuilder& b) {
    for (uint64_t i = 0; i < kMaxMemoryRanges; ++i) memory(b, 0x80000000 + (i << 28), 0x1000);
  })));
}

TEST(PlatformBuilt, ReservedMemory) {
  DtbBuilder b;
  b.reserve(0x80000000, 0x80000).reserve(0x88000000, 0);
  b.begin("").cells("#address-cells", {2}).cells("#size-cells", {2});
  b.begin("cpus").cells("timebase-frequency", {5}).begin("cpu@0").strings("device_type", {"cpu"}).end().end();
  memory(b, 0x80000000, 0x8000000);
  b.begin("reserved-memory").cells("#address-cells", {1}).cells("#size-cells", {1}).prop("ranges", {});
  b.begin("mmode_resv0@80000000").cells("reg", {0x80000000, 0x20000, 0x80040000, 0x1000}).end();
  b.begin("pool").cells("size", {0x100000}).end();  // allocated later: nothing reserved yet
  b.begin("off@81000000").strings("status", {"disabled"}).cells("reg", {0x81000000, 0x1000}).end();
  b.end().end();
  auto info = read(b.build());
  ASSERT_TRUE(info) << error_name(info.error());
  ASSERT_EQ(info->reserved_count, 3u);
  EXPECT_EQ(info->reserved[0].base, PhysAddr(0x80000000));
  EXPECT_EQ(info->reserved[0].size, 0x80000u);
  EXPECT_EQ(info->reserved[1].base, PhysAddr(0x80000000));
  EXPECT_EQ(info->reserved[1].size, 0x20000u);
  EXPECT_EQ(info->reserved[2].base, PhysAddr(0x80040000));
}

TEST(PlatformBuilt, ReservedErrors) {
  DtbBuilder wraps;
  wraps.reserve(0xfffffffffffff000, 0x2000);
  wraps.begin("").begin("cpus").cells("timebase-frequency", {5});
  wraps.begin("cpu@0").strings("device_type", {"cpu"}).end().end();
  wraps.begin("memory@0").strings("device_type", {"memory"}).cells("reg", {0, 0, 0x1000}).end().end();
  EXPECT_EQ(error_of(read(wraps.build())), Error::Malformed);

  DtbBuilder many;
  for (size_t i = 0; i <= kMaxReservedRanges; ++i) many.reserve(0x80000000 + i * 0x1000, 0x1000);
  many.begin("").begin("cpus").cells("timebase-frequency", {5});
  many.begin("cpu@0").strings("device_type", {"cpu"}).end().end();
  many.begin("memory@0").strings("device_type", {"memory"}).cells("reg", {0, 0, 0x1000}).end().end();
  EXPECT_EQ(error_of(read(many.build())), Error::RangeError);
}

TEST(PlatformBuilt, Bootargs) {
  auto with_chosen = [](auto chosen) {
    return read(board([&](DtbBuilder& b) {
      memory(b, 0x80000000, 0x1000);
      b.begin("chosen");
      chosen(b);
      b.end();
    }));
  };
  EXPECT_EQ(with_chosen([](DtbBuilder& b) { b.strings("bootargs", {"init=/sbin/x"}); }).value().bootargs,
            "init=/sbin/x");
  EXPECT_EQ(with_chosen([](DtbBuilder&) {}).value().bootargs, "");
  EXPECT_EQ(with_chosen([](DtbBuilder& b) { b.prop("bootargs", {}); }).value().bootargs, "");
  EXPECT_EQ(error_of(with_chosen([](DtbBuilder& b) { b.prop("bootargs", {'a', 'b'}); })), Error::Malformed);
}

TEST(PlatformBuilt, Initrd) {
  auto with_chosen = [](auto chosen) {
    return read(board([&](DtbBuilder& b) {
      memory(b, 0x80000000, 0x1000);
      b.begin("chosen");
      chosen(b);
      b.end();
    }));
  };
  // 64-bit values, as QEMU writes them for rv64.
  auto both64 = with_chosen([](DtbBuilder& b) {
    b.cells("linux,initrd-start", {0, 0x84200000});
    b.cells("linux,initrd-end", {0, 0x84203000});
  });
  ASSERT_TRUE(both64.has_value());
  ASSERT_TRUE(both64->initrd.has_value());
  EXPECT_EQ(both64->initrd->base, PhysAddr(0x84200000));
  EXPECT_EQ(both64->initrd->size, 0x3000u);
  // 32-bit values.
  auto both32 = with_chosen([](DtbBuilder& b) {
    b.cells("linux,initrd-start", {0x1000});
    b.cells("linux,initrd-end", {0x1800});
  });
  ASSERT_TRUE(both32.has_value() && both32->initrd.has_value());
  EXPECT_EQ(both32->initrd->size, 0x800u);
  // Absent, or only one end: no archive.
  EXPECT_FALSE(with_chosen([](DtbBuilder&) {}).value().initrd.has_value());
  EXPECT_FALSE(with_chosen([](DtbBuilder& b) { b.cells("linux,initrd-start", {0x1000}); }).value().initrd);
  // End before start, or a 3-byte value: malformed.
  EXPECT_EQ(error_of(with_chosen([](DtbBuilder& b) {
              b.cells("linux,initrd-start", {0x2000});
              b.cells("linux,initrd-end", {0x1000});
            })),
            Error::Malformed);
  EXPECT_EQ(error_of(with_chosen([](DtbBuilder& b) {
              b.prop("linux,initrd-start", {1, 2, 3});
              b.cells("linux,initrd-end", {0x1000});
            })),
            Error::Malformed);
}

TEST(PlatformBuilt, TimebaseAndHarts) {
  auto with_cpus = [](auto cpus) {
    DtbBuilder b;
    b.begin("").cells("#address-cells", {2}).cells("#size-cells", {2});
    memory(b, 0x80000000, 0x1000);
    b.begin("cpus");
    cpus(b);
    b.end().end();
    return read(b.build());
  };
  auto cpu = [](DtbBuilder& b, std::string_view name) { b.begin(name).strings("device_type", {"cpu"}).end(); };

  // Only on the cpu nodes: the first one that has it.
  auto info = with_cpus([&](DtbBuilder& b) {
    cpu(b, "cpu@0");
    b.begin("cpu@1").strings("device_type", {"cpu"}).cells("timebase-frequency", {0x1, 0x0}).end();
    b.begin("cpu@2").strings("device_type", {"cpu"}).cells("timebase-frequency", {7}).end();
    b.begin("cpu-map").end();
  });
  ASSERT_TRUE(info) << error_name(info.error());
  EXPECT_EQ(info->timebase_frequency, uint64_t{1} << 32);
  EXPECT_EQ(info->hart_count, 3u);

  // A disabled hart still counts: hart IDs index per-hart tables.
  info = with_cpus([&](DtbBuilder& b) {
    b.cells("timebase-frequency", {100});
    b.begin("cpu@0").strings("device_type", {"cpu"}).strings("status", {"disabled"}).end();
    cpu(b, "cpu@1");
  });
  ASSERT_TRUE(info);
  EXPECT_EQ(info->hart_count, 2u);
  EXPECT_EQ(info->timebase_frequency, 100u);

  EXPECT_EQ(error_of(with_cpus([&](DtbBuilder& b) { cpu(b, "cpu@0"); })), Error::Malformed);
  auto three_bytes = [&](DtbBuilder& b) {
    b.prop("timebase-frequency", {0, 0, 1});
    cpu(b, "cpu@0");
  };
  EXPECT_EQ(error_of(with_cpus(three_bytes)), Error::Malformed);
  auto zero = [&](DtbBuilder& b) {
    b.cells("timebase-frequency", {0});
    cpu(b, "cpu@0");
  };
  EXPECT_EQ(error_of(with_cpus(zero)), Error::Malformed);
  EXPECT_EQ(error_of(with_cpus([&](DtbBuilder& b) { b.cells("timebase-frequency", {5}); })), Error::Malformed);

  DtbBuilder no_cpus;
  no_cpus.begin("").cells("#address-cells", {2}).cells("#size-cells", {2});
  memory(no_cpus, 0x80000000, 0x1000);
  no_cpus.end();
  EXPECT_EQ(error_of(read(no_cpus.build())), Error::Malformed);
}

// Two 16550s; which one is the console depends on /chosen stdout-path.
std::optional<Device> console_for(std::initializer_list<std::string_view> stdout_path,
                                  std::string_view first_compatible = "ns16550a",
                                  std::string_view first_status = "okay") {
  auto info = read(board([&](DtbBuilder& b) {
    memory(b, 0x80000000, 0x1000);
    b.begin("aliases").strings("serial0", {"/soc/uart@2000"}).strings("serial1", {"/soc/uart@1000"}).end();
    if (stdout_path.size() > 0) b.begin("chosen").strings("stdout-path", stdout_path).end();
    b.begin("soc").cells("#address-cells", {2}).cells("#size-cells", {2});
    b.begin("uart@1000")
        .strings("compatible", {first_compatible})
        .strings("status", {first_status})
        .cells("reg", {0, 0x1000, 0, 0x100})
        .cells("interrupts", {1})
        .end();
    uart(b, 0x2000, 2);
    b.end();
  }));
  EXPECT_TRUE(info) << error_name(info.error());
  return info ? info->uart : std::nullopt;
}

uint64_t console_base(std::initializer_list<std::string_view> stdout_path,
                      std::string_view first_compatible = "ns16550a", std::string_view first_status = "okay") {
  auto device = console_for(stdout_path, first_compatible, first_status);
  return device ? device->mmio.base.value() : 0;
}

TEST(PlatformBuilt, ConsoleFromStdoutPath) {
  EXPECT_EQ(console_base({}), 0x1000u);  // no stdout-path: the first 16550
  EXPECT_EQ(console_base({"/soc/uart@2000"}), 0x2000u);
  EXPECT_EQ(console_base({"/soc/uart@2000:115200n8"}), 0x2000u);
  EXPECT_EQ(console_base({"serial0"}), 0x2000u);
  EXPECT_EQ(console_base({"serial0:115200n8"}), 0x2000u);
  EXPECT_EQ(console_base({"serial1"}), 0x1000u);
  EXPECT_EQ(console_for({"serial0"})->irq, 2u);
}

TEST(PlatformBuilt, ConsoleFallsBack) {
  EXPECT_EQ(console_base({"/soc/uart@3000"}), 0x1000u);  // names nothing
  EXPECT_EQ(console_base({"serial9"}), 0x1000u);         // unknown alias
  EXPECT_EQ(console_base({":"}), 0x1000u);
  // stdout-path names a UART the kernel has no driver for.
  EXPECT_EQ(console_base({"serial1"}, "sifive,uart0"), 0x2000u);
  // A disabled 16550 is neither the console nor the fallback.
  EXPECT_EQ(console_base({"/soc/uart@1000"}, "ns16550a", "disabled"), 0x2000u);
  EXPECT_EQ(console_base({}, "ns16550a", "disabled"), 0x2000u);
}

TEST(PlatformBuilt, Devices) {
  auto info = read(board([](DtbBuilder& b) {
    memory(b, 0x80000000, 0x1000);
    b.begin("soc").cells("#address-cells", {1}).cells("#size-cells", {1});
    b.begin("interrupt-controller@c000000")
        .strings("compatible", {"riscv,plic0"})
        .cells("reg", {0xc000000, 0x4000000})
        .end();
    b.begin("test@100000").strings("compatible", {"sifive,test0"}).cells("reg", {0x100000, 0x1000}).end();
    b.end();
  }));
  ASSERT_TRUE(info) << error_name(info.error());
  ASSERT_TRUE(info->plic);
  EXPECT_EQ(info->plic->mmio.base, PhysAddr(0xc000000));
  EXPECT_EQ(info->plic->mmio.size, 0x4000000u);
  ASSERT_TRUE(info->test_finisher);
  EXPECT_EQ(info->test_finisher->mmio.base, PhysAddr(0x100000));
  EXPECT_EQ(info->test_finisher->irq, 0u);

  // The first PLIC in document order, whichever string it carries.
  info = read(board([](DtbBuilder& b) {
    memory(b, 0x80000000, 0x1000);
    b.begin("plic@1000").strings("compatible", {"sifive,plic-1.0.0"}).cells("reg", {0, 0x1000, 0, 0x10}).end();
    b.begin("plic@2000").strings("compatible", {"riscv,plic0"}).cells("reg", {0, 0x2000, 0, 0x10}).end();
  }));
  ASSERT_TRUE(info && info->plic);
  EXPECT_EQ(info->plic->mmio.base, PhysAddr(0x1000));
}

TEST(PlatformBuilt, DeviceWithoutUsableReg) {
  auto no_reg = [](DtbBuilder& b) {
    memory(b, 0x80000000, 0x1000);
    b.begin("serial").strings("compatible", {"ns16550a"}).end();
  };
  EXPECT_EQ(error_of(read(board(no_reg))), Error::Malformed);
  auto short_reg = [](DtbBuilder& b) {
    memory(b, 0x80000000, 0x1000);
    b.begin("test").strings("compatible", {"sifive,test0"}).cells("reg", {1, 2}).end();
  };
  EXPECT_EQ(error_of(read(board(short_reg))), Error::Malformed);
}

TEST(Bootarg, QemuCommandLine) {
  constexpr std::string_view kArgs = "console=uart pager.policy=cow quiet";
  EXPECT_EQ(bootarg(kArgs, "console"), "uart");
  EXPECT_EQ(bootarg(kArgs, "pager.policy"), "cow");
  EXPECT_EQ(bootarg(kArgs, "quiet"), "");
  EXPECT_EQ(bootarg(kArgs, "pager"), std::nullopt);
  EXPECT_EQ(bootarg(kArgs, "consol"), std::nullopt);
  EXPECT_EQ(bootarg(kArgs, "uart"), std::nullopt);
  EXPECT_EQ(bootarg(kArgs, "quie"), std::nullopt);
  EXPECT_EQ(bootarg(kArgs, ""), std::nullopt);
}

TEST(Bootarg, Numbers) {
  EXPECT_EQ(bootarg_number("fuzz.seed=7 fuzz.count=1000000", "fuzz.count"), 1000000u);
  EXPECT_EQ(bootarg_number("fuzz.seed=7", "fuzz.seed"), 7u);
  EXPECT_EQ(bootarg_number("a=18446744073709551615", "a"), UINT64_MAX);
  EXPECT_FALSE(bootarg_number("a=18446744073709551616", "a").has_value());  // beyond 64 bits
  EXPECT_FALSE(bootarg_number("a=12abc", "a").has_value());
  EXPECT_FALSE(bootarg_number("a= 1", "a").has_value());
  EXPECT_FALSE(bootarg_number("a", "a").has_value());
  EXPECT_FALSE(bootarg_number("a=", "a").has_value());
  EXPECT_FALSE(bootarg_number("b=1", "a").has_value());
  EXPECT_EQ(bootarg_number("a=1 a=2", "a"), 2u);  // the later word wins
}

TEST(Bootarg, EdgeCases) {
  EXPECT_EQ(bootarg("", "a"), std::nullopt);
  EXPECT_EQ(bootarg("   ", "a"), std::nullopt);
  EXPECT_EQ(bootarg("  a=1   b  ", "a"), "1");
  EXPECT_EQ(bootarg("  a=1   b  ", "b"), "");
  EXPECT_EQ(bootarg("a=\tb=2\n", "a"), "");
  EXPECT_EQ(bootarg("a=\tb=2\n", "b"), "2");
  EXPECT_EQ(bootarg("a=x=y", "a"), "x=y");
  EXPECT_EQ(bootarg("a=1 a=2", "a"), "2");  // the later word wins
  EXPECT_EQ(bootarg("a=1 a", "a"), "");
  EXPECT_EQ(bootarg("=v", "a"), std::nullopt);
  EXPECT_EQ(bootarg("ab=1", "a"), std::nullopt);
}

}  // namespace
}  // namespace kern
