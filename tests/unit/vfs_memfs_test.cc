// Host tests for the in-memory file system (servers/vfs/memfs.*): path
// resolution edge cases, the namespace operations and their errors, file
// data with holes and truncation, unlink while open, the read-only boot
// mount, out-of-memory failures that change nothing, and a seeded random
// run against a plain model (a map from path to contents).
#include <gtest/gtest.h>

#include "fake_page_source.h"
#include "posix_matchers.h"

#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "vfs/memfs.h"

namespace vfs {
namespace {

using FakePages = servers::testing_support::FakePageSource;


std::span<const std::byte> bytes(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

using posix::testing_support::fails_with_errno;

class MemFsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(fs.init("/bin", rom)); }
  void TearDown() override {
    fs.clear();
    EXPECT_EQ(fs.inodes_in_use(), 0u);
    EXPECT_EQ(pages.outstanding(), 0u);
  }
  Inode* root() { return fs.root(); }
  Inode* create(std::string_view path) {
    auto inode = fs.open(root(), path, kOpenCreate | kOpenReadWrite);
    EXPECT_TRUE(inode) << path;
    if (!inode) return nullptr;
    fs.release(*inode);
    return *inode;
  }
  std::string contents(Inode* inode) {
    std::string out(inode->size, '\0');
    auto n = fs.read(inode, 0, std::as_writable_bytes(std::span(out.data(), out.size())));
    EXPECT_TRUE(n);
    out.resize(n.value_or(0));
    return out;
  }
  std::vector<std::string> list(Inode* dir) {
    std::vector<std::string> names;
    for (uint64_t i = 0;; ++i) {
      auto entry = fs.readdir(dir, i);
      EXPECT_TRUE(entry);
      if (!entry || !*entry) break;
      names.emplace_back((*entry)->name);
    }
    return names;
  }

  static constexpr std::string_view kSh = "#!sh-binary";
  static constexpr std::string_view kInit = "init-binary";
  RomFile rom[2] = {{"sh", bytes(kSh)}, {"sbin/init", bytes(kInit)}};
  FakePages pages;
  Heap heap{pages};
  MemFs fs{heap};
};

TEST_F(MemFsTest, PathResolution) {
  ASSERT_TRUE(fs.mkdir(root(), "/d"));
  ASSERT_TRUE(fs.mkdir(root(), "/d/e"));
  Inode* f = create("/d/e/f");
  Inode* d = *fs.lookup(root(), "/d");
  Inode* e = *fs.lookup(root(), "/d/e");
  EXPECT_EQ(*fs.lookup(root(), "/"), root());
  EXPECT_EQ(*fs.lookup(root(), "///"), root());
  EXPECT_EQ(*fs.lookup(root(), "/.."), root());
  EXPECT_EQ(*fs.lookup(root(), "/../.."), root());
  EXPECT_EQ(*fs.lookup(root(), "."), root());
  EXPECT_EQ(*fs.lookup(root(), "//d//e///f"), f);
  EXPECT_EQ(*fs.lookup(root(), "/d/./e/../e/f"), f);
  EXPECT_EQ(*fs.lookup(e, "f"), f);
  EXPECT_EQ(*fs.lookup(e, ".."), d);
  EXPECT_EQ(*fs.lookup(e, "../../d"), d);
  EXPECT_EQ(*fs.lookup(root(), "d/e/"), e);
  EXPECT_TRUE(fails_with_errno(fs.lookup(root(), "/d/e/f/"), Errno::NotDir));
  EXPECT_TRUE(fails_with_errno(fs.lookup(root(), "/d/e/f/x"), Errno::NotDir));
  EXPECT_TRUE(fails_with_errno(fs.lookup(root(), "/d/e/f/.."), Errno::NotDir));
  EXPECT_TRUE(fails_with_errno(fs.lookup(root(), "/d/x/f"), Errno::NoEntry));
  EXPECT_TRUE(fails_with_errno(fs.lookup(root(), ""), Errno::NoEntry));
  std::string long_name(kNameMax + 1, 'n');
  EXPECT_TRUE(fails_with_errno(fs.lookup(root(), "/" + long_name), Errno::NameTooLong));
  EXPECT_TRUE(fails_with_errno(fs.lookup(root(), "/" + long_name + "/x"), Errno::NameTooLong));
  EXPECT_TRUE(fails_with_errno(fs.open(root(), "/" + long_name, kOpenCreate | kOpenWriteOnly), Errno::NameTooLong));
  std::string max_name(kNameMax, 'm');
  EXPECT_TRUE(create("/" + max_name));
  std::string long_path;
  while (long_path.size() <= kPathMax) long_path += "/.";
  EXPECT_TRUE(fails_with_errno(fs.lookup(root(), long_path), Errno::NameTooLong));
}

TEST_F(MemFsTest, OpenCreateExclusiveTruncate) {
  auto a = fs.open(root(), "/a", kOpenCreate | kOpenWriteOnly);
  ASSERT_TRUE(a);
  EXPECT_EQ((*a)->refs, 1u);
  ASSERT_TRUE(fs.write(*a, 0, bytes("hello")));
  EXPECT_TRUE(fails_with_errno(fs.open(root(), "/a", kOpenCreate | kOpenExclusive | kOpenWriteOnly), Errno::Exists));
  EXPECT_TRUE(fails_with_errno(fs.open(root(), "/b", kOpenWriteOnly), Errno::NoEntry));
  EXPECT_TRUE(fails_with_errno(fs.open(root(), "/b/", kOpenCreate | kOpenWriteOnly), Errno::IsDir));
  EXPECT_TRUE(fails_with_errno(fs.open(root(), "/a", kOpenReadWrite | kOpenDirectory), Errno::NotDir));
  EXPECT_TRUE(fails_with_errno(fs.open(root(), "/a", 3), Errno::Invalid));
  EXPECT_TRUE(fails_with_errno(fs.open(root(), "/bin", kOpenWriteOnly), Errno::IsDir));
  EXPECT_TRUE(fails_with_errno(fs.open(root(), "/", kOpenReadOnly | kOpenTruncate), Errno::IsDir));
  // Read-only O_TRUNC is ignored; with write access it empties the file.
  auto again = fs.open(root(), "/a", kOpenReadOnly | kOpenTruncate);
  EXPECT_EQ((*again)->size, 5u);
  fs.release(*again);
  auto trunc = fs.open(root(), "/a", kOpenCreate | kOpenReadWrite | kOpenTruncate);
  EXPECT_EQ(*trunc, *a);
  EXPECT_EQ((*a)->size, 0u);
  EXPECT_EQ((*a)->refs, 2u);
  fs.release(*trunc);
  fs.release(*a);
  EXPECT_EQ((*a)->refs, 0u);
  EXPECT_EQ(*fs.lookup(root(), "a"), *a);  // still named, still there
}

TEST_F(MemFsTest, ReadWriteSparseAndTruncate) {
  Inode* f = create("/f");
  EXPECT_EQ(*fs.write(f, 10000, bytes("tail")), 4u);
  EXPECT_EQ(f->size, 10004u);
  EXPECT_EQ(fs.stat(f).blocks, 8u);  // only the page holding "tail" is backed
  std::string data = contents(f);
  EXPECT_EQ(data.substr(0, 10000), std::string(10000, '\0'));
  EXPECT_EQ(data.substr(10000), "tail");
  // A write across a page boundary.
  std::string cross(5000, 'x');
  EXPECT_EQ(*fs.write(f, 3000, bytes(cross)), cross.size());
  EXPECT_EQ(contents(f).substr(3000, 5000), cross);
  // Reads past the end give nothing; at the end, what is left.
  std::byte buf[16];
  EXPECT_EQ(*fs.read(f, 20000, buf), 0u);
  EXPECT_EQ(*fs.read(f, 10002, buf), 2u);
  // Shrink into a page, then grow again: the cut-off bytes read as zeros.
  ASSERT_TRUE(fs.truncate(f, 3001));
  EXPECT_EQ(f->size, 3001u);
  ASSERT_TRUE(fs.truncate(f, 9000));
  std::string after = contents(f);
  EXPECT_EQ(after[3000], 'x');
  EXPECT_EQ(after.substr(3001), std::string(9000 - 3001, '\0'));
  ASSERT_TRUE(fs.truncate(f, 0));
  EXPECT_EQ(fs.stat(f).blocks, 0u);
  EXPECT_TRUE(fails_with_errno(fs.truncate(f, kMaxFileSize + 1), Errno::FileTooBig));
  EXPECT_TRUE(fails_with_errno(fs.write(f, kMaxFileSize, bytes("x")), Errno::FileTooBig));
  EXPECT_EQ(*fs.write(f, kMaxFileSize - 2, bytes("xyz")), 2u);  // up to the limit
  EXPECT_TRUE(fails_with_errno(fs.read(root(), 0, buf), Errno::IsDir));
  EXPECT_TRUE(fails_with_errno(fs.write(root(), 0, bytes("x")), Errno::IsDir));
  EXPECT_TRUE(fails_with_errno(fs.truncate(root(), 0), Errno::IsDir));
}

TEST_F(MemFsTest, Stat) {
  Inode* f = create("/f");
  ASSERT_TRUE(fs.write(f, 0, bytes("abc")));
  Stat st = fs.stat(f);
  EXPECT_EQ(st.mode, kModeRegular | 0644);
  EXPECT_EQ(st.size, 3u);
  EXPECT_EQ(st.links, 1u);
  EXPECT_EQ(st.inode, f->number);
  EXPECT_NE(st.inode, fs.stat(root()).inode);
  EXPECT_EQ(fs.stat(root()).mode & kModeTypeMask, kModeDirectory);
  Inode* sh = *fs.lookup(root(), "/bin/sh");
  EXPECT_EQ(fs.stat(sh).mode, kModeRegular | 0555);
  EXPECT_EQ(fs.stat(sh).size, kSh.size());
}

TEST_F(MemFsTest, UnlinkWhileOpen) {
  Inode* f = *fs.open(root(), "/f", kOpenCreate | kOpenReadWrite);
  ASSERT_TRUE(fs.write(f, 0, bytes("still here")));
  size_t inodes = fs.inodes_in_use();
  ASSERT_TRUE(fs.unlink(root(), "/f"));
  EXPECT_TRUE(fails_with_errno(fs.lookup(root(), "/f"), Errno::NoEntry));
  EXPECT_EQ(fs.inodes_in_use(), inodes);
  EXPECT_EQ(contents(f), "still here");
  ASSERT_TRUE(fs.write(f, 10, bytes("!")));
  EXPECT_EQ(fs.stat(f).links, 0u);
  // A new file of the same name is a different inode.
  Inode* g = create("/f");
  EXPECT_NE(g->number, f->number);
  fs.release(f);
  EXPECT_EQ(fs.inodes_in_use(), inodes);  // f gone, g came
}

TEST_F(MemFsTest, UnlinkErrors) {
  ASSERT_TRUE(fs.mkdir(root(), "/d"));
  create("/f");
  EXPECT_TRUE(fails_with_errno(fs.unlink(root(), "/d"), Errno::IsDir));
  EXPECT_TRUE(fails_with_errno(fs.unlink(root(), "/"), Errno::IsDir));
  EXPECT_TRUE(fails_with_errno(fs.unlink(root(), "/d/."), Errno::IsDir));
  EXPECT_TRUE(fails_with_errno(fs.unlink(root(), "/f/"), Errno::NotDir));
  EXPECT_TRUE(fails_with_errno(fs.unlink(root(), "/nope"), Errno::NoEntry));
  EXPECT_TRUE(fails_with_errno(fs.unlink(root(), "/f/x"), Errno::NotDir));
  EXPECT_TRUE(fails_with_errno(fs.unlink(root(), "/bin/sh"), Errno::ReadOnlyFs));
  EXPECT_TRUE(fs.unlink(root(), "f"));
}

TEST_F(MemFsTest, MkdirRmdir) {
  ASSERT_TRUE(fs.mkdir(root(), "/d"));
  EXPECT_TRUE(fails_with_errno(fs.mkdir(root(), "/d"), Errno::Exists));
  EXPECT_TRUE(fails_with_errno(fs.mkdir(root(), "/d/"), Errno::Exists));
  EXPECT_TRUE(fails_with_errno(fs.mkdir(root(), "/"), Errno::Exists));
  EXPECT_TRUE(fails_with_errno(fs.mkdir(root(), "/d/."), Errno::Exists));
  EXPECT_TRUE(fails_with_errno(fs.mkdir(root(), "/x/y"), Errno::NoEntry));
  EXPECT_TRUE(fails_with_errno(fs.mkdir(root(), "/bin/new"), Errno::ReadOnlyFs));
  ASSERT_TRUE(fs.mkdir(root(), "d/sub/"));  // trailing slash is fine for mkdir
  create("/d/f");
  EXPECT_TRUE(fails_with_errno(fs.rmdir(root(), "/d"), Errno::NotEmpty));
  EXPECT_TRUE(fails_with_errno(fs.rmdir(root(), "/d/f"), Errno::NotDir));
  EXPECT_TRUE(fails_with_errno(fs.rmdir(root(), "/d/."), Errno::Invalid));
  EXPECT_TRUE(fails_with_errno(fs.rmdir(root(), "/d/sub/.."), Errno::NotEmpty));
  EXPECT_TRUE(fails_with_errno(fs.rmdir(root(), "/"), Errno::Busy));
  EXPECT_TRUE(fails_with_errno(fs.rmdir(root(), "/nope"), Errno::NoEntry));
  EXPECT_TRUE(fails_with_errno(fs.rmdir(root(), "/bin/sbin"), Errno::ReadOnlyFs));
  EXPECT_EQ(fs.stat(*fs.lookup(root(), "/d")).size, 2u);
  ASSERT_TRUE(fs.rmdir(root(), "/d/sub/"));
  ASSERT_TRUE(fs.unlink(root(), "/d/f"));
  ASSERT_TRUE(fs.rmdir(root(), "/d"));
  EXPECT_TRUE(fails_with_errno(fs.lookup(root(), "/d"), Errno::NoEntry));
}

TEST_F(MemFsTest, RemovedDirectoryStaysAliveWhileHeld) {
  ASSERT_TRUE(fs.mkdir(root(), "/d"));
  Inode* d = *fs.lookup(root(), "/d");
  fs.retain(d);  // as a cwd
  ASSERT_TRUE(fs.rmdir(root(), "/d"));
  EXPECT_EQ(*fs.lookup(d, "."), d);
  EXPECT_TRUE(fails_with_errno(fs.lookup(d, ".."), Errno::NoEntry));
  EXPECT_TRUE(fails_with_errno(fs.open(d, "f", kOpenCreate | kOpenWriteOnly), Errno::NoEntry));
  EXPECT_TRUE(fails_with_errno(fs.mkdir(d, "sub"), Errno::NoEntry));
  char buf[8];
  EXPECT_TRUE(fails_with_errno(fs.path_of(d, buf), Errno::NoEntry));
  EXPECT_EQ(list(d), (std::vector<std::string>{".", ".."}));
  fs.release(d);
}

TEST_F(MemFsTest, DirectoryListingAndPaths) {
  EXPECT_EQ(list(root()), (std::vector<std::string>{".", "..", "bin"}));
  EXPECT_EQ(list(*fs.lookup(root(), "/bin")), (std::vector<std::string>{".", "..", "sh", "sbin"}));
  create("/z");
  create("/a");
  ASSERT_TRUE(fs.mkdir(root(), "/m"));
  EXPECT_EQ(list(root()), (std::vector<std::string>{".", "..", "bin", "z", "a", "m"}));
  auto m = *fs.readdir(root(), 5);
  EXPECT_EQ(m->type, InodeType::Directory);
  EXPECT_EQ(m->inode, (*fs.lookup(root(), "m"))->number);
  EXPECT_EQ((*fs.readdir(*fs.lookup(root(), "m"), 1))->inode, root()->number);
  EXPECT_TRUE(fails_with_errno(fs.readdir(*fs.lookup(root(), "z"), 0), Errno::NotDir));
  char buf[32];
  EXPECT_EQ(std::string(buf, *fs.path_of(root(), buf)), "/");
  Inode* sbin = *fs.lookup(root(), "/bin/sbin");
  EXPECT_EQ(std::string(buf, *fs.path_of(sbin, buf)), "/bin/sbin");
  char tiny[5];
  EXPECT_TRUE(fails_with_errno(fs.path_of(sbin, tiny), Errno::NameTooLong));
}

TEST_F(MemFsTest, ReadOnlyBootMount) {
  Inode* sh = *fs.lookup(root(), "/bin/sh");
  EXPECT_EQ(contents(sh), kSh);
  EXPECT_EQ(contents(*fs.lookup(root(), "/bin/sbin/init")), kInit);
  std::byte buf[4];
  EXPECT_EQ(*fs.read(sh, 3, buf), 4u);
  EXPECT_TRUE(fails_with_errno(fs.write(sh, 0, bytes("x")), Errno::ReadOnlyFs));
  EXPECT_TRUE(fails_with_errno(fs.truncate(sh, 0), Errno::ReadOnlyFs));
  EXPECT_TRUE(fails_with_errno(fs.open(root(), "/bin/sh", kOpenReadWrite), Errno::ReadOnlyFs));
  EXPECT_TRUE(fails_with_errno(fs.open(root(), "/bin/new", kOpenCreate | kOpenWriteOnly), Errno::ReadOnlyFs));
  EXPECT_TRUE(fails_with_errno(fs.open(root(), "/bin/sbin/new", kOpenCreate | kOpenWriteOnly), Errno::ReadOnlyFs));
  EXPECT_TRUE(fails_with_errno(fs.rmdir(root(), "/bin"), Errno::ReadOnlyFs));
  auto opened = fs.open(root(), "/bin/sh", kOpenReadOnly);
  ASSERT_TRUE(opened);
  fs.release(*opened);
}

TEST_F(MemFsTest, BadMountsLeaveOnlyTheRoot) {
  fs.clear();
  RomFile dup[2] = {{"a", bytes("1")}, {"a", bytes("2")}};
  EXPECT_TRUE(fails_with_errno(fs.init("/bin", dup), Errno::Exists));
  EXPECT_EQ(fs.inodes_in_use(), 1u);
  fs.clear();
  RomFile dots[1] = {{"x/..", bytes("1")}};
  EXPECT_TRUE(fails_with_errno(fs.init("/bin", dots), Errno::Invalid));
  EXPECT_EQ(fs.inodes_in_use(), 1u);
  fs.clear();
  EXPECT_TRUE(fails_with_errno(fs.init("bin", {}), Errno::Invalid));
  fs.clear();
  for (size_t budget = 0; budget < 3; ++budget) {
    pages.set_limit(budget);
    auto r = fs.init("/usr/bin", rom);
    if (r) break;
    EXPECT_EQ(r.error(), Errno::NoMemory);
    EXPECT_LE(fs.inodes_in_use(), 1u);
    fs.clear();
    EXPECT_EQ(pages.outstanding(), 0u);
  }
  pages.set_limit(SIZE_MAX);
  EXPECT_EQ(contents(*fs.lookup(root(), "/usr/bin/sbin/init")), kInit);
}

// With the page source dry, every call that needs memory fails and the tree,
// the file contents and the page count are as before.
TEST_F(MemFsTest, OutOfMemoryChangesNothing) {
  Inode* f = create("/f");
  ASSERT_TRUE(fs.write(f, 0, bytes("keep")));
  // No new pages from here: create files until the slabs' pages are full
  // and a create fails; that failure, like the ones after it, must leave
  // nothing behind.
  pages.set_limit(pages.outstanding());
  std::vector<std::string> fillers;
  for (int i = 0;; ++i) {
    std::string name = "/fill" + std::to_string(i);
    auto made = fs.open(root(), name, kOpenCreate | kOpenWriteOnly);
    if (!made) {
      EXPECT_EQ(made.error(), Errno::NoMemory);
      EXPECT_TRUE(fails_with_errno(fs.lookup(root(), name), Errno::NoEntry));
      break;
    }
    fs.release(*made);
    fillers.push_back(name);
  }
  size_t before = pages.outstanding();
  size_t inodes = fs.inodes_in_use();
  pages.set_limit(before);
  EXPECT_FALSE(fs.mkdir(root(), "/newdir"));
  EXPECT_FALSE(fs.open(root(), "/newfile", kOpenCreate | kOpenWriteOnly));
  EXPECT_TRUE(fails_with_errno(fs.write(f, 4096 * 3, bytes("far")), Errno::NoSpace));
  EXPECT_EQ(pages.outstanding(), before);
  EXPECT_EQ(fs.inodes_in_use(), inodes);
  EXPECT_TRUE(fails_with_errno(fs.lookup(root(), "/newdir"), Errno::NoEntry));
  EXPECT_TRUE(fails_with_errno(fs.lookup(root(), "/newfile"), Errno::NoEntry));
  EXPECT_EQ(contents(f), "keep");
  // A write that runs out part way keeps what fitted.
  pages.set_limit(before + 1);
  std::string big(3 * kPageSize, 'b');
  auto n = fs.write(f, 0, bytes(big));
  ASSERT_TRUE(n);
  EXPECT_LT(*n, big.size());
  EXPECT_EQ(f->size, *n);
  pages.set_limit(SIZE_MAX);
  for (const std::string& name : fillers) ASSERT_TRUE(fs.unlink(root(), name));
}

TEST_F(MemFsTest, ManyFilesComeAndGo) {
  size_t before = pages.outstanding();
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(fs.mkdir(root(), "/d"));
    Inode* f = *fs.open(root(), "/d/f", kOpenCreate | kOpenReadWrite);
    ASSERT_TRUE(fs.write(f, static_cast<uint64_t>(i) * 100, bytes("data")));
    ASSERT_TRUE(fs.unlink(root(), "/d/f"));
    ASSERT_TRUE(fs.rmdir(root(), "/d"));
    fs.release(f);
  }
  EXPECT_EQ(pages.outstanding(), before);
}

// Random creates, writes, truncates, unlinks, mkdirs and rmdirs in a small
// namespace, compared with a map from path to contents.
TEST_F(MemFsTest, RandomAgainstModel) {
  std::map<std::string, std::string> files;
  std::set<std::string> dirs{""};
  std::mt19937 rng(2024);
  const char* dir_names[] = {"", "/p", "/q", "/p/r"};
  auto random_path = [&] {
    std::string dir = dir_names[rng() % 4];
    return dir + "/" + "xyz"[rng() % 3];
  };
  auto parent_of = [](const std::string& path) { return path.substr(0, path.rfind('/')); };
  for (int step = 0; step < 4000; ++step) {
    std::string path = random_path();
    bool parent_exists = dirs.count(parent_of(path)) > 0;
    bool is_file = files.count(path) > 0;
    bool is_dir = dirs.count(path) > 0;
    switch (rng() % 6) {
      case 0: {  // write somewhere
        auto inode = fs.open(root(), path, kOpenCreate | kOpenReadWrite);
        if (!parent_exists) {
          EXPECT_TRUE(fails_with_errno(inode, Errno::NoEntry)) << path;
          break;
        }
        if (is_dir) {
          EXPECT_TRUE(fails_with_errno(inode, Errno::IsDir)) << path;
          break;
        }
        ASSERT_TRUE(inode) << path;
        std::string& model = files[path];
        size_t offset = rng() % 9000, n = rng() % 5000;
        std::string data(n, static_cast<char>('a' + rng() % 26));
        ASSERT_EQ(*fs.write(*inode, offset, bytes(data)), n);
        if (n > 0) {
          if (model.size() < offset + n) model.resize(offset + n, '\0');
          model.replace(offset, n, data);
        }
        fs.release(*inode);
        break;
      }
      case 1: {
        if (!is_file) break;
        size_t size = rng() % 12000;
        ASSERT_TRUE(fs.truncate(*fs.lookup(root(), path), size));
        files[path].resize(size, '\0');
        break;
      }
      case 2: {
        auto r = fs.unlink(root(), path);
        EXPECT_EQ(bool(r), is_file) << path;
        files.erase(path);
        break;
      }
      case 3: {
        auto r = fs.mkdir(root(), path);
        EXPECT_EQ(bool(r), parent_exists && !is_file && !is_dir) << path;
        if (r) dirs.insert(path);
        break;
      }
      case 4: {
        auto r = fs.rmdir(root(), path);
        bool empty = true;
        for (auto& [p, c] : files) empty = empty && parent_of(p) != path;
        for (auto& d : dirs) empty = empty && (d.empty() || parent_of(d) != path);
        EXPECT_EQ(bool(r), is_dir && empty) << path;
        if (r) dirs.erase(path);
        break;
      }
      case 5: {
        auto found = fs.lookup(root(), path);
        EXPECT_EQ(bool(found), is_file || is_dir) << path;
        if (is_file) {
          EXPECT_EQ(contents(*found), files[path]) << path;
        }
        break;
      }
    }
  }
  for (auto& [path, data] : files) EXPECT_EQ(contents(*fs.lookup(root(), path)), data) << path;
}

}  // namespace
}  // namespace vfs
