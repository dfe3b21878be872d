// Tests for the parts of <stdlib.h> and <string.h> with logic of their own:
// the environment (libos/core/env.h) over a fake allocator that counts and
// can fail, qsort and bsearch (libos/core/sort.h) against std::sort and
// std::lower_bound, and strerror's list (libos/core/error_text.h) against
// the host's glibc and the servers' errno list.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/posix_errno.h"
#include "env.h"
#include "error_text.h"
#include "sort.h"

namespace {

// ---- environment ----------------------------------------------------------

class CountingAllocator final : public os::libc::Allocator {
 public:
  void* allocate(size_t size) override {
    if (fail_after == 0) return nullptr;
    if (fail_after > 0) --fail_after;
    void* p = std::malloc(size);
    live.insert(p);
    return p;
  }
  void release(void* ptr) override {
    if (ptr == nullptr) return;
    EXPECT_EQ(live.erase(ptr), 1u) << "released memory it did not allocate";
    std::free(ptr);
  }
  std::set<void*> live;
  int fail_after = -1;  // allocations that succeed before one fails; -1: all
};

class EnvTest : public ::testing::Test {
 protected:
  // As exec lays it out: strings and array the library does not own.
  char a[8] = "A=1";
  char b[8] = "B=two";
  char path[16] = "PATH=/bin";
  char* initial[4] = {a, b, path, nullptr};
  char** vars = initial;
  CountingAllocator alloc;
  os::libc::Environment env{vars, alloc};

  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (char** v = vars; *v != nullptr; ++v) out.emplace_back(*v);
    return out;
  }
};

TEST_F(EnvTest, GetFindsExactNamesOnly) {
  EXPECT_STREQ(env.get("A"), "1");
  EXPECT_STREQ(env.get("PATH"), "/bin");
  EXPECT_EQ(env.get("PAT"), nullptr);
  EXPECT_EQ(env.get("PATH=/bin"), nullptr);
  EXPECT_EQ(env.get(""), nullptr);
  EXPECT_EQ(env.get(nullptr), nullptr);
}

TEST_F(EnvTest, SetAddsReplacesAndKeepsWithoutOverwrite) {
  EXPECT_EQ(env.set("HOME", "/", true), 0);
  EXPECT_STREQ(env.get("HOME"), "/");
  EXPECT_NE(vars, initial);  // the array moved to the heap to grow
  EXPECT_EQ(env.set("A", "changed", false), 0);
  EXPECT_STREQ(env.get("A"), "1");
  EXPECT_EQ(env.set("A", "changed", true), 0);
  EXPECT_STREQ(env.get("A"), "changed");
  EXPECT_EQ(env.set("EMPTY", nullptr, true), 0);
  EXPECT_STREQ(env.get("EMPTY"), "");
  EXPECT_EQ(entries(), (std::vector<std::string>{"A=changed", "B=two", "PATH=/bin", "HOME=/", "EMPTY="}));
  EXPECT_STREQ(a, "A=1");  // exec's string is left as it was
}

TEST_F(EnvTest, ReplacedStringsOfOursAreFreed) {
  ASSERT_EQ(env.set("X", "1", true), 0);
  const size_t after_first = alloc.live.size();  // array, list, string
  for (int i = 0; i < 100; ++i) ASSERT_EQ(env.set("X", std::to_string(i).c_str(), true), 0);
  EXPECT_EQ(alloc.live.size(), after_first);
  EXPECT_STREQ(env.get("X"), "99");
  EXPECT_EQ(env.unset("X"), 0);
  EXPECT_EQ(alloc.live.size(), after_first - 1);
}

TEST_F(EnvTest, UnsetRemovesEveryEntryAndKeepsOrder) {
  char dup[8] = "A=again";
  char* with_dup[] = {a, b, dup, path, nullptr};
  vars = with_dup;
  EXPECT_EQ(env.unset("A"), 0);
  EXPECT_EQ(entries(), (std::vector<std::string>{"B=two", "PATH=/bin"}));
  EXPECT_EQ(env.unset("NOT_THERE"), 0);
  EXPECT_TRUE(alloc.live.empty());  // nothing allocated to remove
}

TEST_F(EnvTest, BadNamesAreInvalid) {
  EXPECT_EQ(env.set("", "x", true), os::libc::Environment::kInvalid);
  EXPECT_EQ(env.set("A=B", "x", true), os::libc::Environment::kInvalid);
  EXPECT_EQ(env.set(nullptr, "x", true), os::libc::Environment::kInvalid);
  EXPECT_EQ(env.unset("A=1"), os::libc::Environment::kInvalid);
  EXPECT_EQ(entries().size(), 3u);
}

TEST_F(EnvTest, OutOfMemoryChangesNothing) {
  for (int fail_after = 0; fail_after < 3; ++fail_after) {
    alloc.fail_after = fail_after;
    EXPECT_EQ(env.set("NEW", "v", true), os::libc::Environment::kNoMemory) << fail_after;
    EXPECT_EQ(env.get("NEW"), nullptr);
    EXPECT_EQ(entries().size(), 3u);
  }
  alloc.fail_after = -1;
  EXPECT_EQ(env.set("NEW", "v", true), 0);
  EXPECT_EQ(entries().size(), 4u);
}

TEST_F(EnvTest, StartsFromAnEmptyOrNullEnvironment) {
  char* none[] = {nullptr};
  vars = none;
  EXPECT_EQ(env.get("A"), nullptr);
  EXPECT_EQ(env.set("A", "1", false), 0);
  EXPECT_EQ(entries(), std::vector<std::string>{"A=1"});
  vars = nullptr;
  EXPECT_EQ(env.get("A"), nullptr);
  EXPECT_EQ(env.unset("A"), 0);
  EXPECT_EQ(env.set("B", "2", true), 0);
  EXPECT_EQ(entries(), std::vector<std::string>{"B=2"});
}

TEST_F(EnvTest, ManyVariablesGrowTheArray) {
  for (int i = 0; i < 200; ++i) {
    const std::string name = "V" + std::to_string(i);
    ASSERT_EQ(env.set(name.c_str(), name.c_str(), true), 0);
  }
  for (int i = 0; i < 200; ++i) {
    const std::string name = "V" + std::to_string(i);
    EXPECT_STREQ(env.get(name.c_str()), name.c_str());
  }
  EXPECT_EQ(entries().size(), 203u);
}

// ---- qsort and bsearch ----------------------------------------------------

int compare_ints(const void* a, const void* b) {
  const int x = *static_cast<const int*>(a);
  const int y = *static_cast<const int*>(b);
  return (x > y) - (x < y);
}

TEST(Sort, SortsLikeStdSortForManySizesAndShapes) {
  std::mt19937 random(7);
  for (size_t n : {0, 1, 2, 3, 5, 16, 17, 100, 1000}) {
    for (int shape = 0; shape < 4; ++shape) {
      std::vector<int> v(n);
      for (size_t i = 0; i < n; ++i) {
        v[i] = shape == 0 ? int(random() % 1000) : shape == 1 ? int(i) : shape == 2 ? int(n - i) : int(i % 3);
      }
      std::vector<int> expected = v;
      std::sort(expected.begin(), expected.end());
      os::libc::sort(v.data(), n, sizeof(int), compare_ints);
      EXPECT_EQ(v, expected) << "n " << n << " shape " << shape;
    }
  }
}

TEST(Sort, SortsElementsOfAnySize) {
  struct Record {
    char key[7];
    char payload[6];
  };
  std::vector<Record> v;
  for (const char* k : {"pear", "apple", "fig", "kiwi", "banana", "cherry", "date"}) {
    Record r{};
    std::strcpy(r.key, k);
    std::strcpy(r.payload, k + 1);
    v.push_back(r);
  }
  os::libc::sort(v.data(), v.size(), sizeof(Record), [](const void* a, const void* b) {
    return std::strcmp(static_cast<const Record*>(a)->key, static_cast<const Record*>(b)->key);
  });
  for (size_t i = 1; i < v.size(); ++i) EXPECT_LT(std::strcmp(v[i - 1].key, v[i].key), 0);
  for (const Record& r : v) EXPECT_STREQ(r.payload, r.key + 1);  // moved whole
}

TEST(Sort, BinarySearchFindsEveryElementAndNothingElse) {
  for (size_t n : {0, 1, 2, 7, 64, 65}) {
    std::vector<int> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = int(2 * i);
    for (int key = -1; key <= int(2 * n); ++key) {
      const auto* found =
          static_cast<const int*>(os::libc::binary_search(&key, v.data(), n, sizeof(int), compare_ints));
      if (key >= 0 && key % 2 == 0 && key < int(2 * n)) {
        ASSERT_NE(found, nullptr) << n << " " << key;
        EXPECT_EQ(*found, key);
      } else {
        EXPECT_EQ(found, nullptr) << n << " " << key;
      }
    }
  }
}

// ---- strerror -------------------------------------------------------------

TEST(ErrorText, MatchesHostGlibcForEveryNumberItKnows) {
  int known = 0;
  for (int number = 0; number < 200; ++number) {
    const char* ours = os::libc::error_text(number);
    if (ours == nullptr) continue;
    ++known;
    EXPECT_STREQ(ours, std::strerror(number)) << number;
  }
  EXPECT_EQ(known, 44);
  EXPECT_EQ(os::libc::error_text(41), nullptr);
  EXPECT_EQ(os::libc::error_text(-1), nullptr);
  EXPECT_STREQ(os::libc::error_name(2), "ENOENT");
  EXPECT_EQ(os::libc::error_name(0), nullptr);
}

TEST(ErrorText, NamesTheHostsNumbers) {
#define CHECK_AGAINST_HOST(name, number, text) \
  EXPECT_EQ(number, name) << #name;            \
  EXPECT_STREQ(os::libc::error_name(number), #name);
  OS_LIBC_ERRNO_LIST(CHECK_AGAINST_HOST)
#undef CHECK_AGAINST_HOST
}

TEST(ErrorText, CoversEveryErrorTheServersSend) {
#define CHECK_SERVER_ERROR(name, number, text)                   \
  EXPECT_STREQ(os::libc::error_name(number), text) << #name;     \
  EXPECT_NE(os::libc::error_text(number), nullptr) << #name;
  POSIX_ERRNO_LIST(CHECK_SERVER_ERROR)
#undef CHECK_SERVER_ERROR
}

}  // namespace
