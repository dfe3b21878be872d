// Host tests for procmgr's choice of the boot policy (servers/procmgr/
// policy_choice.*) against a fake pager answering PolicyName, and for the
// words of its Stats answer (servers/procmgr/stats.*).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "procmgr/policy_choice.h"
#include "procmgr/stats.h"

namespace procmgr {
namespace {

using posix::Errno;

// A pager with these policies, in index order; it can also fail at an index.
class FakePager final : public PolicyNames {
 public:
  explicit FakePager(std::vector<std::string> names) : m_names(std::move(names)) {}

  posix::Result<PolicyName> name(uint64_t index) override {
    asked.push_back(index);
    if (fail_at && index >= *fail_at) return posix::fail(failure);
    if (index >= m_names.size()) return posix::fail(Errno::NoEntry);
    return *PolicyName::from(m_names[index]);
  }

  std::vector<uint64_t> asked;
  std::optional<uint64_t> fail_at;
  Errno failure = Errno::NoSys;

 private:
  std::vector<std::string> m_names;
};

std::string list_of(const PolicyChoice& c) { return std::string(c.registered_list()); }
std::string name_of(const PolicyChoice& c) { return std::string(c.name.view()); }

TEST(PolicyChoice, NoNameWantedIsTheDefault) {
  FakePager pager({"hotcopy", "cow", "eager"});
  const PolicyChoice c = choose_policy(pager, "");
  EXPECT_TRUE(c.matched);
  EXPECT_FALSE(c.error);
  EXPECT_EQ(c.index, 0u);
  EXPECT_EQ(name_of(c), "hotcopy");
  EXPECT_EQ(list_of(c), "hotcopy cow eager");
  EXPECT_EQ(c.count, 3u);
  // Every index until the pager says there is none.
  EXPECT_EQ(pager.asked, (std::vector<uint64_t>{0, 1, 2, 3}));
}

TEST(PolicyChoice, ANameBecomesItsIndex) {
  FakePager pager({"hotcopy", "cow", "eager"});
  for (uint32_t i = 0; i < 3; ++i) {
    const std::string wanted = i == 0 ? "hotcopy" : i == 1 ? "cow" : "eager";
    const PolicyChoice c = choose_policy(pager, wanted);
    EXPECT_TRUE(c.matched) << wanted;
    EXPECT_EQ(c.index, i) << wanted;
    EXPECT_EQ(name_of(c), wanted);
    EXPECT_EQ(list_of(c), "hotcopy cow eager");
  }
}

TEST(PolicyChoice, AnUnknownNameKeepsTheDefaultAndListsTheOthers) {
  FakePager pager({"hotcopy", "cow", "eager"});
  for (const char* wanted : {"foo", "co", "cows", "COW", "eager "}) {
    const PolicyChoice c = choose_policy(pager, wanted);
    EXPECT_FALSE(c.matched) << wanted;
    EXPECT_FALSE(c.error);
    EXPECT_EQ(c.index, 0u);
    EXPECT_EQ(name_of(c), "hotcopy");
    EXPECT_EQ(list_of(c), "hotcopy cow eager");
  }
}

TEST(PolicyChoice, APagerThatCannotBeAskedKeepsIndexZero) {
  FakePager pager({"eager", "cow"});
  pager.fail_at = 0;
  PolicyChoice c = choose_policy(pager, "cow");
  ASSERT_TRUE(c.error);
  EXPECT_EQ(*c.error, Errno::NoSys);
  EXPECT_FALSE(c.matched);
  EXPECT_EQ(c.index, 0u);
  EXPECT_EQ(pager.asked, (std::vector<uint64_t>{0}));
  // Failing half-way: what it named before does not count either.
  FakePager flaky({"eager", "cow", "x"});
  flaky.fail_at = 2;
  flaky.failure = Errno::Io;
  c = choose_policy(flaky, "cow");
  ASSERT_TRUE(c.error);
  EXPECT_EQ(*c.error, Errno::Io);
  EXPECT_EQ(c.index, 0u);
  EXPECT_FALSE(c.matched);
  // Without a wanted name, nothing was asked for that failed to match.
  c = choose_policy(flaky, "");
  EXPECT_TRUE(c.matched);
  EXPECT_EQ(c.index, 0u);
}

TEST(PolicyChoice, APagerWithoutPolicies) {
  FakePager pager({});
  PolicyChoice c = choose_policy(pager, "cow");
  EXPECT_FALSE(c.error);
  EXPECT_FALSE(c.matched);
  EXPECT_EQ(c.count, 0u);
  EXPECT_EQ(c.index, 0u);
  EXPECT_EQ(list_of(c), "");
  c = choose_policy(pager, "");
  EXPECT_TRUE(c.matched);
  EXPECT_EQ(name_of(c), "");
}

TEST(PolicyChoice, AtMostTwoHundredFiftySixPoliciesAreAsked) {
  std::vector<std::string> many;
  for (int i = 0; i < 300; ++i) many.push_back("p" + std::to_string(i));
  FakePager pager(many);
  PolicyChoice c = choose_policy(pager, "p255");
  EXPECT_TRUE(c.matched);
  EXPECT_EQ(c.index, 255u);
  EXPECT_EQ(pager.asked.size(), kMaxPolicies);
  // Beyond index 255 a policy cannot be chosen (ProcInfo has 8 bits for it).
  c = choose_policy(pager, "p256");
  EXPECT_FALSE(c.matched);
  EXPECT_EQ(c.index, 0u);
  // The list is cut, never overrun.
  EXPECT_EQ(c.registered_length, PolicyChoice::kListMax);
  EXPECT_EQ(list_of(c).substr(0, 6), "p0 p1 ");
}

TEST(PolicyChoice, TheFirstOfTwoEqualNamesWins) {
  FakePager pager({"eager", "cow", "cow"});
  const PolicyChoice c = choose_policy(pager, "cow");
  EXPECT_EQ(c.index, 1u);
}

TEST(PolicyName, FromText) {
  EXPECT_EQ(PolicyName::from("cow")->view(), "cow");
  EXPECT_EQ(PolicyName::from("")->view(), "");
  EXPECT_EQ(PolicyName::from("fifteen-bytes-x")->length, 15u);
  EXPECT_FALSE(PolicyName::from("sixteen-bytes-xx"));
  EXPECT_FALSE(PolicyName::from(std::string_view("co\0w", 4)));
}

// ---- Stats ----

TEST(Stats, Groups) {
  EXPECT_EQ(stats_group(0), protocol::StatsGroup::Messages);
  EXPECT_EQ(stats_group(1), protocol::StatsGroup::Instructions);
  EXPECT_FALSE(stats_group(2));
  EXPECT_FALSE(stats_group(~uint64_t{0}));
}

TEST(Stats, MessageWordsInProtocolOrder) {
  const MessageCounts m{.from_processes = 1, .calls_to_pager = 2, .calls_to_vfs = 3, .fault_reports = 4, .forks = 5};
  EXPECT_EQ(m.words(), (StatsWords{1, 2, 3, 4, 5}));
}

TEST(Stats, InstructionWordsInProtocolOrder) {
  const InstructionCounts c{.kernel = 10, .procmgr = 20, .pager = 30, .vfs = 40, .total = 100};
  EXPECT_EQ(c.words(), (StatsWords{10, 20, 30, 40, 100}));
}

TEST(Stats, UserInstructionsAreAllLessKernel) {
  // TcbReadCounters: syscalls, sent, received, faults, switches,
  // instructions, cycles, kernel instructions.
  const uint64_t counters[8] = {1, 2, 3, 4, 5, 1000, 2000, 300};
  EXPECT_EQ(user_instructions(counters), 700u);
  const uint64_t all_kernel[8] = {0, 0, 0, 0, 0, 50, 60, 50};
  EXPECT_EQ(user_instructions(all_kernel), 0u);
  // A kernel without KernelInstructions answers seven words.
  EXPECT_FALSE(user_instructions(std::span(counters, 7)));
  const uint64_t broken[8] = {0, 0, 0, 0, 0, 5, 6, 7};
  EXPECT_FALSE(user_instructions(broken));
}

TEST(Stats, SystemCounters) {
  const uint64_t reply[2] = {123, 4567};
  const auto s = system_counters(reply);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->kernel_instructions, 123u);
  EXPECT_EQ(s->instret, 4567u);
  EXPECT_FALSE(system_counters(std::span(reply, 1)));
}

}  // namespace
}  // namespace procmgr
