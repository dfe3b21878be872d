// Host tests for what the vfs server is built on at start-up: its pages
// (servers/vfs/pool_pages.*, mapped in growing batches from a pool that can
// run dry, against a fake mapper over host memory) and the boot archive's
// files under /bin (servers/vfs/boot_mount.*).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "fake_page_source.h"
#include "vfs/boot_mount.h"
#include "vfs/files.h"
#include "vfs/pool_pages.h"

namespace vfs {
namespace {

// "Maps" pages of a host buffer: the pool holds `pool_pages` pages and can
// hand out at most `largest_piece` in one batch.
class FakeMapper final : public FrameMapper {
 public:
  explicit FakeMapper(size_t space_pages)
      : space(static_cast<std::byte*>(std::aligned_alloc(kPageSize, space_pages * kPageSize))),
        space_pages(space_pages) {}
  ~FakeMapper() { std::free(space); }

  kern::Status map_fresh(uint64_t va, size_t count) override {
    calls.push_back(count);
    EXPECT_EQ(va % kPageSize, 0u);
    EXPECT_EQ(va, base() + mapped * kPageSize) << "batches are not contiguous";
    if (count > pool_pages || count > largest_piece) return kern::fail(kern::Error::NotEnoughMemory);
    EXPECT_LE(mapped + count, space_pages);
    pool_pages -= count;
    mapped += count;
    return {};
  }
  uint64_t base() const { return reinterpret_cast<uint64_t>(space); }

  std::byte* space;
  size_t space_pages;
  size_t pool_pages = SIZE_MAX;
  size_t largest_piece = SIZE_MAX;
  size_t mapped = 0;
  std::vector<size_t> calls;
};

TEST(PoolPages, BatchesGrowAndAreHandedOutInOrder) {
  FakeMapper mapper(1024);
  PoolPageSource pages(mapper, mapper.base(), 1024);
  std::set<void*> seen;
  for (size_t i = 0; i < 16 + 32 + 64 + 1; ++i) {
    void* p = *pages.alloc_page();
    EXPECT_EQ(reinterpret_cast<uint64_t>(p), mapper.base() + i * kPageSize);
    std::memset(p, 0x11, kPageSize);  // really ours
    seen.insert(p);
  }
  EXPECT_EQ(mapper.calls, (std::vector<size_t>{16, 32, 64, 128}));
  EXPECT_EQ(pages.in_use(), seen.size());
  EXPECT_EQ(pages.mapped(), 240u);
}

TEST(PoolPages, BatchesStopGrowingAtTheMaximum) {
  FakeMapper mapper(2048);
  PoolPageSource pages(mapper, mapper.base(), 2048, 16, 64);
  for (size_t i = 0; i < 16 + 32 + 64 * 3; ++i) ASSERT_TRUE(pages.alloc_page());
  EXPECT_EQ(mapper.calls, (std::vector<size_t>{16, 32, 64, 64, 64}));
}

TEST(PoolPages, FromOnePageEachBatchIsAsLargeAsAllBefore) {
  // What keeps the server's batches aligned: 1, 2, 4, ... pages, each as
  // large as all before it (plus the first page's worth), so each starts
  // where a block of its own size would.
  FakeMapper mapper(512);
  PoolPageSource pages(mapper, mapper.base(), 512, 1);
  for (size_t i = 0; i < 256; ++i) ASSERT_TRUE(pages.alloc_page());
  EXPECT_EQ(mapper.calls, (std::vector<size_t>{1, 2, 4, 8, 16, 32, 64, 128, 128}));
}

TEST(PoolPages, FreedPagesComeBackFirst) {
  FakeMapper mapper(64);
  PoolPageSource pages(mapper, mapper.base(), 64);
  void* a = *pages.alloc_page();
  void* b = *pages.alloc_page();
  pages.free_page(a);
  pages.free_page(b);
  EXPECT_EQ(pages.in_use(), 0u);
  EXPECT_EQ(*pages.alloc_page(), b);
  EXPECT_EQ(*pages.alloc_page(), a);
  EXPECT_EQ(mapper.calls.size(), 1u);
}

TEST(PoolPages, SmallerBatchesWhenThePoolIsShortThenDry) {
  FakeMapper mapper(64);
  mapper.pool_pages = 16 + 5;
  PoolPageSource pages(mapper, mapper.base(), 64);
  std::vector<void*> got;
  for (;;) {
    auto p = pages.alloc_page();
    if (!p) {
      EXPECT_EQ(p.error(), kern::Error::NotEnoughMemory);
      break;
    }
    got.push_back(*p);
  }
  EXPECT_EQ(got.size(), 21u);  // every page of the pool, none more
  EXPECT_TRUE(pages.dry());
  // 32 fails; 16, 8 fail; 4 and then 1 succeed; then nothing is left.
  size_t calls = mapper.calls.size();
  EXPECT_FALSE(pages.alloc_page());
  EXPECT_EQ(mapper.calls.size(), calls) << "a dry pool is not asked again";
  // Pages given back are still handed out.
  pages.free_page(got.back());
  EXPECT_EQ(*pages.alloc_page(), got.back());
}

TEST(PoolPages, AddressRangeLimitsTheMapping) {
  FakeMapper mapper(40);
  PoolPageSource pages(mapper, mapper.base(), 40);
  size_t n = 0;
  while (pages.alloc_page()) ++n;
  EXPECT_EQ(n, 40u);
  EXPECT_EQ(mapper.calls, (std::vector<size_t>{16, 24}));
}

TEST(PoolPages, FileSystemRunsDryWithNoSpaceNotACrash) {
  FakeMapper mapper(64);
  mapper.pool_pages = 20;
  PoolPageSource pages(mapper, mapper.base(), 64);
  Heap heap(pages);
  MemFs fs(heap);
  ASSERT_TRUE(fs.init("", {}));
  Inode* file = *fs.open(fs.root(), "big", kOpenCreate | kOpenWriteOnly);
  std::string chunk(kPageSize, 'x');
  uint64_t offset = 0;
  for (;;) {
    auto n = fs.write(file, offset, std::as_bytes(std::span(chunk.data(), chunk.size())));
    if (!n) {
      EXPECT_EQ(n.error(), Errno::NoSpace);
      break;
    }
    offset += *n;
  }
  EXPECT_GT(offset, 10 * kPageSize);
  EXPECT_TRUE(pages.dry());
  fs.release(file);
  ASSERT_TRUE(fs.unlink(fs.root(), "big"));
  EXPECT_GT(pages.free_pages(), 10u);
  fs.clear();
  EXPECT_EQ(pages.in_use(), 0u);
}

// ---------------- The boot mount ----------------

// A newc archive as the build writes it (scripts/mkbootfs.py uses cpio).
class Newc {
 public:
  Newc& add(const std::string& name, uint32_t mode, const std::string& data) {
    char header[111];
    std::snprintf(header, sizeof(header), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", m_ino++, mode,
                  0u, 0u, 1u, 0u, static_cast<unsigned>(data.size()), 0u, 0u, 0u, 0u,
                  static_cast<unsigned>(name.size() + 1), 0u);
    m_bytes.insert(m_bytes.end(), header, header + 110);
    m_bytes.insert(m_bytes.end(), name.begin(), name.end());
    m_bytes.push_back(0);
    pad();
    m_bytes.insert(m_bytes.end(), data.begin(), data.end());
    pad();
    return *this;
  }
  std::vector<uint8_t> finish() {
    add("TRAILER!!!", 0, "");
    return m_bytes;
  }

 private:
  void pad() {
    while (m_bytes.size() % 4 != 0) m_bytes.push_back(0);
  }
  std::vector<uint8_t> m_bytes;
  uint32_t m_ino = 1;
};

constexpr uint32_t kFile = 0100755, kDir = 0040755;

TEST(BootMount, OnlyRegularFilesUnderBin) {
  auto bytes = Newc()
                   .add("bin", kDir, "")
                   .add("bin/init", kFile, "INIT")
                   .add("bin/sh", kFile, "SHELL")
                   .add("bin/sub", kDir, "")
                   .add("bin/sub/tool", kFile, "T")
                   .add("etc/motd", kFile, "hi")
                   .add("binary", kFile, "no")
                   .add("bin/", kFile, "no name")
                   .finish();
  auto archive = kern::cpio::Archive::parse(bytes);
  ASSERT_TRUE(archive);
  RomFile files[8];
  auto n = collect_boot_files(*archive, files);
  ASSERT_TRUE(n);
  ASSERT_EQ(*n, 3u);
  EXPECT_EQ(files[0].path, "init");
  EXPECT_EQ(files[1].path, "sh");
  EXPECT_EQ(files[2].path, "sub/tool");
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(files[1].data.data()), files[1].data.size()), "SHELL");

  // Mounted: the files read back, and they are read-only.
  servers::testing_support::FakePageSource pages;
  Heap heap(pages);
  MemFs fs(heap);
  ASSERT_TRUE(fs.init(kBootMountPoint, std::span(files, *n)));
  Inode* sh = *fs.lookup(fs.root(), "/bin/sh");
  char buf[8] = {};
  EXPECT_EQ(*fs.read(sh, 0, std::as_writable_bytes(std::span(buf))), 5u);
  EXPECT_EQ(std::string(buf, 5), "SHELL");
  EXPECT_TRUE(fs.lookup(fs.root(), "/bin/sub/tool"));
  EXPECT_FALSE(fs.open(fs.root(), "/bin/sh", kOpenWriteOnly));
  fs.clear();
}

TEST(BootMount, TooManyFilesIsNoSpace) {
  Newc archive_bytes;
  for (int i = 0; i < 5; ++i) archive_bytes.add("bin/p" + std::to_string(i), kFile, "x");
  auto bytes = archive_bytes.finish();
  auto archive = kern::cpio::Archive::parse(bytes);
  ASSERT_TRUE(archive);
  RomFile files[4];
  auto n = collect_boot_files(*archive, files);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error(), Errno::NoSpace);
}

}  // namespace
}  // namespace vfs
