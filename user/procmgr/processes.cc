#include "processes.h"

#include <initializer_list>
#include <new>
#include <string_view>

#include "common/message.h"
#include "common/posix_errno.h"
#include "counters.h"
#include "os/kernel.h"
#include "os/print.h"
#include "os/syscall.h"
#include "pager/protocol.h"
#include "procmgr/policy_choice.h"
#include "procmgr/process_table.h"
#include "procmgr/protocol.h"
#include "procmgr/stats.h"
#include "resources.h"
#include "vfs/protocol.h"

namespace procmgr {

namespace {

using posix::Errno;
using uapi::MessageInfo;
using uapi::ObjectType;
using uapi::Rights;
using uapi::Syscall;
namespace proto = protocol;
namespace pproto = pager::protocol;
namespace vproto = vfs::protocol;

// Processes run below the servers (100) and procmgr (255).
constexpr uint64_t kProcessPriority = 50;
// The exchange area: the ELF image from offset 0, the exec block at the top.
constexpr uint64_t kBlockOffset = pproto::kExchangeBytes - proto::kExecBlockMax;

constexpr int64_t neg(Errno e) { return -static_cast<int64_t>(e); }
// A word that is a pid or a selector: a signed 32-bit value.
constexpr bool fits_pid(uint64_t word) {
  const auto v = static_cast<int64_t>(word);
  return v >= INT32_MIN && v <= INT32_MAX;
}

struct Request {
  uint64_t badge;
  uint64_t label;
  uint64_t length;
  uint64_t mr[msg::kWords];
};

// The answer to a request: none (the caller is gone or parked), or words.
struct Answer {
  bool send = false;
  uint64_t length = 0;
  uint64_t mr[msg::kWords] = {};
};
Answer words(std::initializer_list<uint64_t> values) {
  Answer a;
  a.send = true;
  for (uint64_t v : values) a.mr[a.length++] = v;
  return a;
}
Answer result(int64_t value) { return words({msg::result_word(value)}); }
Answer no_answer() { return {}; }

// The manager answers choose_policy's PolicyName questions at boot by
// asking the pager (PolicyNames).
class Manager final : private PolicyNames {
 public:
  Manager(BootServers& servers, uint64_t endpoint, const Config& config)
      : m_servers(servers), m_endpoint(endpoint), m_config(config), m_table(heap()) {}

  bool start_init();
  [[noreturn]] void serve();

 private:
  // The pager's PolicyName for `index` (PolicyNames).
  posix::Result<PolicyName> name(uint64_t index) override;
  // Turns bootarg pager.policy into init's policy and says which it is.
  uint32_t choose_init_policy();

  // Calls on the servers.
  os::Reply call(uint64_t cap, uint64_t label, std::initializer_list<uint64_t> mrs, const void* bytes = nullptr,
                 uint64_t byte_count = 0);
  os::Reply pager(pproto::Label label, std::initializer_list<uint64_t> mrs) {
    return call(m_servers.pager.client, static_cast<uint64_t>(label), mrs);
  }
  os::Reply vfs(vproto::Label label, std::initializer_list<uint64_t> mrs, const void* bytes = nullptr,
                uint64_t byte_count = 0) {
    return call(m_servers.vfs.client, static_cast<uint64_t>(label), mrs, bytes, byte_count);
  }
  static int64_t result_of(const os::Reply& r) {
    return r.info.is_error() ? neg(Errno::Io) : msg::result_of(r.mr[0]);
  }

  // Process objects.
  int64_t make_objects(Process& p);
  void drop_objects(Process& p);
  int64_t bind_address_space(Process& p, uint64_t aspace);
  int64_t read_program(Process& p, std::string_view path);
  int64_t load(Process& p, uint64_t block_length, uint64_t& aspace, uint64_t& entry, uint64_t& sp);
  bool start_thread(Process& p, uint64_t pc, uint64_t sp);

  // Process life.
  Answer do_fork(Process& parent);
  Answer do_exec(Process& p, uint64_t address, uint64_t length);
  Answer do_wait(Process& p, Pid selector, uint64_t options);
  Answer do_kill(Pid caller, Pid target, int64_t signal);
  void terminate(Process& p, int status);
  void retry_wait(Pid parent);
  Answer proc_info(Pid cursor);
  Answer set_policy(Pid caller, const Request& r);
  Answer stats(const Request& r);

  Answer handle(const Request& r, bool& caller_gone);
  Answer handle_process(Process& p, const Request& r, bool& caller_gone);

  BootServers& m_servers;
  uint64_t m_endpoint;
  const Config& m_config;
  ProcessTable m_table;
  MessageCounts m_counts;
};

os::Reply Manager::call(uint64_t cap, uint64_t label, std::initializer_list<uint64_t> mrs, const void* bytes,
                        uint64_t byte_count) {
  uint64_t w[msg::kWords] = {};
  const size_t n = msg::compose(w, mrs, bytes, byte_count);
  if (cap == m_servers.pager.client) ++m_counts.calls_to_pager;
  if (cap == m_servers.vfs.client) ++m_counts.calls_to_vfs;
  return os::call_raw(cap, label, n, w, 0, nullptr);
}

posix::Result<PolicyName> Manager::name(uint64_t index) {
  const os::Reply r = pager(pproto::Label::PolicyName, {index});
  const int64_t length = result_of(r);
  if (length < 0) return posix::fail(static_cast<Errno>(-length));
  const auto n = static_cast<uint64_t>(length);
  if (n > pproto::kPolicyNameMax || r.info.length() < 1 + msg::words_for(n)) return posix::fail(Errno::Io);
  char bytes[pproto::kPolicyNameMax];
  msg::unpack(bytes, r.mr + 1, n);
  const std::optional<PolicyName> name = PolicyName::from(std::string_view(bytes, n));
  if (!name) return posix::fail(Errno::Io);
  return *name;
}

uint32_t Manager::choose_init_policy() {
  const std::string_view wanted(m_config.pager_policy != nullptr ? m_config.pager_policy : "");
  const PolicyChoice choice = choose_policy(*this, wanted);
  if (choice.error || choice.count == 0) {
    os::print("procmgr: the pager names no policies ({})",
              choice.error ? posix::errno_name(*choice.error) : "none registered");
    if (!wanted.empty()) os::print("; pager.policy={} ignored", wanted);
    os::print("\nprocmgr: pager policy 0\n");
    return 0;
  }
  if (!choice.matched) {
    os::print("procmgr: pager.policy={}: no such policy (registered: {}); keeping {}\n", wanted,
              choice.registered_list(), choice.name.view());
  }
  os::print("procmgr: pager policy {} (registered: {})\n", choice.name.view(), choice.registered_list());
  return choice.index;
}

// A TCB and a CSpace, carved from a chunk of the process's own, and in the
// CSpace the process's badged caps to procmgr and vfs (the pager's comes
// with its address space).
int64_t Manager::make_objects(Process& p) {
  ProcessResources& r = p.resources;
  r.chunk = take_chunk();
  r.thread_cap = r.chunk ? slots().take() : 0;
  r.cspace_cap = r.thread_cap ? slots().take() : 0;
  if (r.cspace_cap == 0 || !os::retype(r.chunk, ObjectType::Tcb, 0, 1, kRoot, r.thread_cap) ||
      !os::retype(r.chunk, ObjectType::CNode, proto::kProcessCNodeRadix, 1, kRoot, r.cspace_cap) ||
      !os::cnode_mint(r.cspace_cap, proto::kProcmgrSlot, kRoot, m_endpoint, Rights::Write,
                      static_cast<uint64_t>(p.pid())) ||
      !os::cnode_mint(r.cspace_cap, proto::kVfsSlot, kRoot, m_servers.vfs.endpoint, Rights::Write,
                      static_cast<uint64_t>(p.pid())) ||
      !os::tcb_set_priority(r.thread_cap, kProcessPriority)) {
    drop_objects(p);
    return neg(Errno::NoMemory);
  }
  return 0;
}

// Destroys the thread (wherever it is blocked) and the CSpace, and gives the
// chunk back.
void Manager::drop_objects(Process& p) {
  ProcessResources& r = p.resources;
  for (uint64_t* slot : {&r.thread_cap, &r.cspace_cap}) {
    if (*slot != 0) {
      (void)os::cnode_delete(kRoot, *slot);
      slots().give(*slot);
      *slot = 0;
    }
  }
  give_chunk(r.chunk);
  r.chunk = 0;
}

// Binds the address space the pager just made (its caps wait in the
// mailbox) to the process's thread, with the pager as fault handler (badge
// kFaultBit | id) and a cap to the pager badged with the id.
int64_t Manager::bind_address_space(Process& p, uint64_t aspace) {
  ProcessResources& r = p.resources;
  const uint64_t vspace = slots().take();
  const uint64_t ipc = slots().take();
  const uint64_t fault = slots().take();
  bool ok = fault != 0 &&
            os::cnode_move(kRoot, vspace, m_servers.mailbox, pproto::kMailboxVSpace) &&
            os::cnode_move(kRoot, ipc, m_servers.mailbox, pproto::kMailboxIpcBuffer) &&
            os::cnode_mint(kRoot, fault, kRoot, m_servers.pager.endpoint, Rights::Write,
                           pproto::kFaultBit | aspace) &&
            os::tcb_configure(r.thread_cap, r.cspace_cap, vspace, ipc, pproto::kIpcBufferVa, fault);
  if (ok) {
    (void)os::cnode_delete(r.cspace_cap, proto::kPagerSlot);
    ok = static_cast<bool>(
        os::cnode_mint(r.cspace_cap, proto::kPagerSlot, kRoot, m_servers.pager.endpoint, Rights::Write, aspace));
  }
  for (uint64_t s : {vspace, ipc, fault}) {
    if (s != 0) {
      (void)os::cnode_delete(kRoot, s);
      slots().give(s);
    }
  }
  if (!ok) os::print("procmgr: pid {}: binding address space {} failed\n", p.pid(), aspace);
  return ok ? 0 : neg(Errno::NoMemory);
}

// Reads the program at `path` (relative to p's cwd) through vfs into the
// exchange area. Returns its size or -errno.
int64_t Manager::read_program(Process& p, std::string_view path) {
  auto* area = reinterpret_cast<uint8_t*>(m_servers.exchange_va);
  uint64_t size = 0;
  for (;;) {
    const os::Reply r = vfs(vproto::Label::ReadPath, {static_cast<uint64_t>(p.pid()), size},
                            path.data(), path.size());
    const int64_t n = result_of(r);
    // A directory is not a program: EACCES, as execve(2) says.
    if (n == neg(Errno::IsDir)) return neg(Errno::Access);
    if (n < 0) return n;
    if (n == 0) return static_cast<int64_t>(size);
    if (static_cast<uint64_t>(n) > vproto::kMaxRead || size + static_cast<uint64_t>(n) > kBlockOffset) {
      return neg(Errno::NoMemory);
    }
    msg::unpack(area + size, r.mr + 1, static_cast<uint64_t>(n));
    size += static_cast<uint64_t>(n);
  }
}

// The exec block at kBlockOffset names the program; reads it and asks the
// pager for an address space holding it.
int64_t Manager::load(Process& p, uint64_t block_length, uint64_t& aspace, uint64_t& entry, uint64_t& sp) {
  const auto* block = reinterpret_cast<const char*>(m_servers.exchange_va + kBlockOffset);
  if (block_length <= sizeof(proto::ExecHeader)) return neg(Errno::Invalid);
  const char* path = block + sizeof(proto::ExecHeader);
  uint64_t path_length = 0;
  while (sizeof(proto::ExecHeader) + path_length < block_length && path[path_length] != '\0') ++path_length;
  if (sizeof(proto::ExecHeader) + path_length >= block_length || path_length == 0) return neg(Errno::NoEntry);
  const int64_t size = read_program(p, std::string_view(path, path_length));
  if (size < 0) return size;
  const os::Reply r = pager(pproto::Label::Load, {static_cast<uint64_t>(size), kBlockOffset, block_length,
                                                  p.resources.pager_policy});
  const int64_t id = result_of(r);
  if (id < 0) return id;
  aspace = static_cast<uint64_t>(id);
  entry = r.mr[1];
  sp = r.mr[2];
  // The process's name, for ps: the path's last component.
  std::string_view name(path, path_length);
  const size_t slash = name.rfind('/');
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  (void)m_table.set_name(p.pid(), name);
  return 0;
}

bool Manager::start_thread(Process& p, uint64_t pc, uint64_t sp) {
  uint64_t regs[32] = {};
  regs[0] = pc;
  regs[2] = sp;
  const os::Reply w = os::call_raw(p.resources.thread_cap, static_cast<uint64_t>(uapi::Label::TcbWriteRegisters), 32,
                                   regs, 0, nullptr);
  return !w.info.is_error() && os::tcb_resume(p.resources.thread_cap);
}

bool Manager::start_init() {
  auto init = m_table.create_init("init");
  if (!init) {
    os::print("procmgr: cannot make init: {}\n", posix::errno_name(init.error()));
    return false;
  }
  Process& p = **init;
  // Every process inherits init's policy unless it is given another.
  p.resources.pager_policy = choose_init_policy();
  // The exec block: path, argv = {path, init.args words...}, envp.
  auto* block = reinterpret_cast<char*>(m_servers.exchange_va + kBlockOffset);
  auto* header = reinterpret_cast<proto::ExecHeader*>(block);
  char* out = block + sizeof(proto::ExecHeader);
  auto put = [&](std::string_view s) {
    for (char c : s) *out++ = c;
    *out++ = '\0';
  };
  const std::string_view path(m_config.init_path);
  put(path);
  put(path);
  header->argc = 1;
  std::string_view args(m_config.init_args != nullptr ? m_config.init_args : "");
  while (!args.empty()) {
    const size_t comma = args.find(',');
    put(args.substr(0, comma));
    ++header->argc;
    args = comma == std::string_view::npos ? std::string_view() : args.substr(comma + 1);
  }
  put("PATH=/bin");
  put("HOME=/");
  header->envc = 2;
  const uint64_t block_length = static_cast<uint64_t>(out - block);

  os::print("procmgr: starting init ({})\n", path);
  uint64_t aspace = 0, entry = 0, sp = 0;
  int64_t err = result_of(vfs(vproto::Label::ProcNew, {static_cast<uint64_t>(p.pid())}));
  if (err == 0) err = make_objects(p);
  if (err == 0) err = load(p, block_length, aspace, entry, sp);
  if (err == 0) {
    p.resources.aspace = aspace;
    err = bind_address_space(p, aspace);
  }
  if (err == 0 && !start_thread(p, entry, sp)) err = neg(Errno::Io);
  if (err != 0) {
    os::print("procmgr: init ({}) did not start: {}\n", path, posix::errno_name(static_cast<Errno>(-err)));
    return false;
  }
  return true;
}

Answer Manager::do_fork(Process& parent) {
  // The parent's registers, blocked in its Fork call: the child's, with the
  // answer that call gets in the child (below), and its sp a hint for the
  // pager's policy.
  os::Reply regs = os::call_raw(parent.resources.thread_cap, static_cast<uint64_t>(uapi::Label::TcbReadRegisters),
                                0, nullptr, 0, nullptr);
  if (regs.info.is_error() || regs.info.length() != 32) return result(neg(Errno::Again));
  const uint64_t parent_sp = regs.mr[2];
  auto pending = m_table.fork(parent.pid());
  if (!pending) return result(-static_cast<int64_t>(pending.error()));
  Process& child = pending->child();
  const Pid pid = child.pid();
  int64_t err = make_objects(child);
  if (err != 0) return result(err);

  const os::Reply forked = pager(pproto::Label::Fork, {parent.resources.aspace, parent_sp});
  const int64_t aspace = result_of(forked);
  if (aspace < 0) {
    drop_objects(child);
    return result(aspace == neg(Errno::NoMemory) ? aspace : neg(Errno::Again));
  }
  child.resources.aspace = static_cast<uint64_t>(aspace);
  auto undo_pager = [&] { (void)pager(pproto::Label::Release, {static_cast<uint64_t>(aspace)}); };
  err = bind_address_space(child, static_cast<uint64_t>(aspace));
  if (err == 0) {
    err = result_of(vfs(vproto::Label::ProcFork, {static_cast<uint64_t>(parent.pid()), static_cast<uint64_t>(pid)}));
    // fork(2) fails with ENOMEM or EAGAIN only.
    if (err < 0 && err != neg(Errno::NoMemory)) err = neg(Errno::Again);
  }
  if (err != 0) {
    drop_objects(child);
    undo_pager();
    return result(err);
  }
  // The child returns from the parent's Fork call with label 0, mr0 = 0.
  regs.mr[10] = 0;                            // a0: badge
  regs.mr[11] = MessageInfo::make(0, 1).raw;  // a1: info
  regs.mr[12] = 0;                            // a2: mr0, fork's 0
  const os::Reply w = os::call_raw(child.resources.thread_cap, static_cast<uint64_t>(uapi::Label::TcbWriteRegisters),
                                   32, regs.mr, 0, nullptr);
  if (w.info.is_error() || !os::tcb_resume(child.resources.thread_cap)) {
    drop_objects(child);
    (void)vfs(vproto::Label::ProcExit, {static_cast<uint64_t>(pid)});
    undo_pager();
    return result(neg(Errno::Again));
  }
  pending->commit();
  ++m_counts.forks;
  return result(pid);
}

Answer Manager::do_exec(Process& p, uint64_t address, uint64_t length) {
  if (length > proto::kExecBlockMax) return result(neg(Errno::ArgListTooLong));
  const int64_t copied = result_of(pager(pproto::Label::ReadUser, {p.resources.aspace, address, length, kBlockOffset}));
  if (copied < 0) return result(copied);
  uint64_t aspace = 0, entry = 0, sp = 0;
  const int64_t err = load(p, length, aspace, entry, sp);
  if (err < 0) return result(err);
  // The new address space is complete: only now does the old one go. The
  // thread is blocked in its Exec call; suspend it (that drops the call),
  // rebind and restart it at the new program's entry.
  const uint64_t old = p.resources.aspace;
  if (!os::tcb_suspend(p.resources.thread_cap) || bind_address_space(p, aspace) != 0 ||
      !start_thread(p, entry, sp)) {
    // Half-switched: the process cannot go back. Kill it cleanly.
    os::print("procmgr: pid {}: exec could not switch address spaces\n", p.pid());
    p.resources.aspace = aspace;
    (void)pager(pproto::Label::Release, {old});
    terminate(p, wstatus::signaled(kSigKill));
    return no_answer();
  }
  p.resources.aspace = aspace;
  m_table.mark_exec(p.pid());
  (void)pager(pproto::Label::Release, {old});
  return no_answer();
}

Answer Manager::do_wait(Process& p, Pid selector, uint64_t options) {
  auto outcome = m_table.wait(p.pid(), selector, static_cast<int>(options));
  if (!outcome) return result(-static_cast<int64_t>(outcome.error()));
  switch (outcome->kind) {
    case WaitKind::Reaped: return words({static_cast<uint64_t>(outcome->pid), static_cast<uint64_t>(outcome->status)});
    case WaitKind::NothingYet: return result(0);
    case WaitKind::MustBlock: break;
  }
  // Park the caller: its reply waits in a Reply object until a child exits.
  const uint64_t reply = take_reply();
  if (reply == 0) return result(neg(Errno::NoMemory));
  if (!os::save_reply(reply)) {
    give_reply(reply);
    return result(neg(Errno::Io));
  }
  p.resources.wait_reply = reply;
  p.resources.wait_selector = selector;
  return no_answer();
}

void Manager::retry_wait(Pid parent) {
  Process* p = m_table.find(parent);
  if (p == nullptr || p->resources.wait_reply == 0) return;
  auto outcome = m_table.wait(parent, p->resources.wait_selector, 0);
  uint64_t r0 = 0, r1 = 0;
  if (!outcome) {
    r0 = msg::result_word(-static_cast<int64_t>(outcome.error()));
  } else if (outcome->kind == WaitKind::Reaped) {
    r0 = static_cast<uint64_t>(outcome->pid);
    r1 = static_cast<uint64_t>(outcome->status);
  } else {
    return;  // still nothing: stays parked
  }
  (void)os::send_reply(p->resources.wait_reply, MessageInfo::make(0, 2), r0, r1);
  give_reply(p->resources.wait_reply);
  p->resources.wait_reply = 0;
}

// Tears the process down (thread, CSpace, address space, descriptors) and
// makes it a zombie with `status`; wakes whoever waits for it.
void Manager::terminate(Process& p, int status) {
  const Pid pid = p.pid();
  drop_objects(p);
  if (p.resources.wait_reply != 0) {
    give_reply(p.resources.wait_reply);  // the kernel emptied it with the thread
    p.resources.wait_reply = 0;
  }
  if (p.resources.aspace != 0) (void)pager(pproto::Label::Release, {p.resources.aspace});
  p.resources.aspace = 0;
  (void)vfs(vproto::Label::ProcExit, {static_cast<uint64_t>(pid)});
  if (pid == kInitPid) {
    const int code = wstatus::if_exited(status) ? wstatus::exit_status(status) : 128 + wstatus::term_sig(status);
    os::print("procmgr: init exited with status {}; powering off\n", code);
    (void)os::system_shutdown(m_config.system_control, static_cast<uint64_t>(code));
    for (;;) os::yield();
  }
  auto notice = m_table.exit(pid, status);
  if (!notice) {
    os::print("procmgr: pid {}: exit failed: {}\n", pid, posix::errno_name(notice.error()));
    return;
  }
  retry_wait(notice->parent);
  if (notice->init_gained_zombies && notice->parent != kInitPid) retry_wait(kInitPid);
}

Answer Manager::do_kill(Pid caller, Pid target, int64_t signal) {
  if (signal < 0 || signal > kMaxSignal) return result(neg(Errno::Invalid));
  if (target > 0) {
    auto action = m_table.kill(target, static_cast<int>(signal));
    if (!action) return result(-static_cast<int64_t>(action.error()));
    if (*action == SignalAction::Terminate) terminate(*m_table.find(target), wstatus::signaled(static_cast<int>(signal)));
    return result(0);
  }
  // A group: 0 is the caller's, -1 everyone but init and the caller.
  Pid group = -target;
  if (target == 0) {
    const Process* self = m_table.find(caller);
    if (self == nullptr) return result(neg(Errno::NoSuchProcess));
    group = self->process_group();
  }
  bool found = false;
  Pid next = 0;
  for (const Process* q = m_table.next_after(0); q != nullptr; q = m_table.next_after(next)) {
    next = q->pid();
    if (q->state() != ProcessState::Running) continue;
    if (target == -1 ? (next == kInitPid || next == caller) : q->process_group() != group) continue;
    found = true;
    auto action = m_table.kill(next, static_cast<int>(signal));
    if (action && *action == SignalAction::Terminate) {
      terminate(*m_table.find(next), wstatus::signaled(static_cast<int>(signal)));
    }
  }
  return result(found ? 0 : neg(Errno::NoSuchProcess));
}

Answer Manager::proc_info(Pid cursor) {
  const Process* q = m_table.next_after(cursor > 0 ? cursor - 1 : 0);
  if (q == nullptr) return result(0);
  const auto state = static_cast<uint64_t>(q->state() == ProcessState::Zombie ? proto::ProcState::Zombie
                                            : q->resources.wait_reply != 0  ? proto::ProcState::Waiting
                                                                            : proto::ProcState::Running);
  Answer a = words({static_cast<uint64_t>(q->pid()), static_cast<uint64_t>(q->parent_pid()),
                    state | uint64_t{q->resources.pager_policy} << 8, static_cast<uint64_t>(q->process_group()),
                    q->name().size()});
  msg::pack(a.mr + 5, q->name().data(), q->name().size());
  a.length += msg::words_for(q->name().size());
  return a;
}

// SetPolicy: decoded in full before the pager is asked; the pager refuses
// an index it has no policy under, and then nothing changes.
Answer Manager::set_policy(Pid caller, const Request& r) {
  if (r.length < 2) return result(neg(Errno::Invalid));
  const auto target = static_cast<int64_t>(r.mr[0]);
  if (!fits_pid(r.mr[0]) || target < 0) return result(neg(Errno::NoSuchProcess));
  Process* q = m_table.find(target == 0 ? caller : static_cast<Pid>(target));
  if (q == nullptr || q->state() != ProcessState::Running) return result(neg(Errno::NoSuchProcess));
  const uint64_t index = r.mr[1];
  if (index >= kMaxPolicies) return result(neg(Errno::Invalid));
  const int64_t err = result_of(pager(pproto::Label::SetPolicy, {q->resources.aspace, index}));
  if (err < 0) return result(err);
  q->resources.pager_policy = static_cast<uint32_t>(index);
  return result(0);
}

Answer Manager::stats(const Request& r) {
  if (r.length < 1) return result(neg(Errno::Invalid));
  const std::optional<proto::StatsGroup> group = stats_group(r.mr[0]);
  if (!group) return result(neg(Errno::Invalid));
  StatsWords counts = {};
  switch (*group) {
    case proto::StatsGroup::Messages: counts = m_counts.words(); break;
    case proto::StatsGroup::Instructions: {
      const posix::Result<InstructionCounts> c = read_instruction_counts(m_servers, m_config.system_control);
      if (!c) return result(-static_cast<int64_t>(c.error()));
      counts = c->words();
      break;
    }
  }
  Answer a = result(0);
  for (uint64_t v : counts) a.mr[a.length++] = v;
  return a;
}

Answer Manager::handle_process(Process& p, const Request& r, bool& caller_gone) {
  const Pid pid = p.pid();
  auto need = [&](uint64_t n) { return r.length >= n; };
  switch (static_cast<proto::Label>(r.label)) {
    case proto::Label::Ping:
      if (!need(1)) return result(neg(Errno::Invalid));
      return words({r.mr[0]});
    case proto::Label::Fork: return do_fork(p);
    case proto::Label::Exit:
      caller_gone = true;
      terminate(p, wstatus::exited(static_cast<int>(need(1) ? r.mr[0] & 0xff : 0)));
      return no_answer();
    case proto::Label::Wait:
      if (!need(2) || !fits_pid(r.mr[0])) return result(neg(Errno::Invalid));
      return do_wait(p, static_cast<Pid>(static_cast<int64_t>(r.mr[0])), r.mr[1]);
    case proto::Label::Kill: {
      if (!need(2)) return result(neg(Errno::Invalid));
      const int64_t target = static_cast<int64_t>(r.mr[0]);
      if (target > INT32_MAX || target < INT32_MIN) return result(neg(Errno::NoSuchProcess));
      Answer a = do_kill(pid, static_cast<Pid>(target), static_cast<int64_t>(r.mr[1]));
      if (m_table.find(pid) == nullptr || m_table.find(pid)->state() != ProcessState::Running) {
        caller_gone = true;
        return no_answer();
      }
      return a;
    }
    case proto::Label::GetIds: {
      return words({static_cast<uint64_t>(pid), static_cast<uint64_t>(p.parent_pid()),
                    static_cast<uint64_t>(p.process_group())});
    }
    case proto::Label::Exec:
      if (!need(2)) return result(neg(Errno::Invalid));
      return do_exec(p, r.mr[0], r.mr[1]);
    case proto::Label::SetPgid: {
      if (!need(2) || !fits_pid(r.mr[0]) || !fits_pid(r.mr[1])) return result(neg(Errno::Invalid));
      const auto s = m_table.set_process_group(pid, static_cast<Pid>(static_cast<int64_t>(r.mr[0])),
                                               static_cast<Pid>(static_cast<int64_t>(r.mr[1])));
      return result(s ? 0 : -static_cast<int64_t>(s.error()));
    }
    case proto::Label::SetSignal: {
      if (!need(2) || r.mr[1] > proto::kSigIgnore || r.mr[0] > kMaxSignal) return result(neg(Errno::Invalid));
      auto was = m_table.set_ignored(pid, static_cast<int>(r.mr[0]), r.mr[1] == proto::kSigIgnore);
      if (!was) return result(-static_cast<int64_t>(was.error()));
      return result(*was ? proto::kSigIgnore : proto::kSigDefault);
    }
    case proto::Label::ProcInfo:
      if (!need(1)) return result(neg(Errno::Invalid));
      return proc_info(static_cast<Pid>(r.mr[0] > INT32_MAX ? INT32_MAX : r.mr[0]));
    case proto::Label::SetPolicy: return set_policy(pid, r);
    case proto::Label::Stats: return stats(r);
    case proto::Label::Fault: return result(neg(Errno::NotPermitted));
  }
  return result(neg(Errno::NoSys));
}

Answer Manager::handle(const Request& r, bool& caller_gone) {
  caller_gone = false;
  const BootServers& s = m_servers;
  if (r.badge == s.pager.fault_badge || r.badge == s.vfs.fault_badge) {
    // A boot server faulted: it stays stopped (no reply); say so.
    const char* name = r.badge == s.pager.fault_badge ? "pager" : "vfs";
    const char* fault = uapi::fault_name(r.label);
    os::print("procmgr: {} took a {}: pc {:#x}, {:#x}, {:#x}; left suspended\n", name,
              fault != nullptr ? fault : "unknown fault", r.mr[0], r.mr[1], r.mr[2]);
    return no_answer();
  }
  if (r.badge == msg::kPagerBadge) {
    if (static_cast<proto::Label>(r.label) != proto::Label::Fault) return result(neg(Errno::NoSys));
    if (r.length < 4) return result(neg(Errno::Invalid));
    ++m_counts.fault_reports;
    // The pager could not resolve a fault of address space mr0.
    Pid next = 0;
    for (const Process* q = m_table.next_after(0); q != nullptr; q = m_table.next_after(next)) {
      next = q->pid();
      if (q->state() == ProcessState::Running && q->resources.aspace == r.mr[0]) {
        const int signal = static_cast<int>(r.mr[1] > 0 && r.mr[1] <= kMaxSignal ? r.mr[1] : kSigKill);
        os::print("procmgr: pid {} ({}) killed by signal {}: pc {:#x}, address {:#x}\n", next, q->name(), signal,
                  r.mr[2], r.mr[3]);
        terminate(*m_table.find(next), wstatus::signaled(signal));
        break;
      }
    }
    return result(0);
  }
  if (r.badge == msg::kConsoleBadge) {
    if (static_cast<proto::Label>(r.label) != proto::Label::Kill) return result(neg(Errno::NoSys));
    if (r.length < 2) return result(neg(Errno::Invalid));
    const int64_t target = static_cast<int64_t>(r.mr[0]);
    if (target >= 0 || target < INT32_MIN) return result(neg(Errno::Invalid));  // groups only
    return do_kill(0, static_cast<Pid>(target), static_cast<int64_t>(r.mr[1]));
  }
  if (r.badge == 0 || msg::is_server_badge(r.badge) || r.badge > INT32_MAX) return result(neg(Errno::NotPermitted));
  ++m_counts.from_processes;
  Process* p = m_table.find(static_cast<Pid>(r.badge));
  if (p == nullptr || p->state() != ProcessState::Running) return no_answer();
  return handle_process(*p, r, caller_gone);
}

void Manager::serve() {
  uapi::IpcBuffer* buffer = os::ipc_buffer();
  os::SyscallResult in = os::syscall(Syscall::Recv, m_endpoint, MessageInfo{});
  for (;;) {
    Request r = {};
    r.badge = in.badge;
    r.label = in.info.label();
    r.length = in.info.length() < msg::kWords ? in.info.length() : msg::kWords;
    for (uint64_t i = 0; i < r.length; ++i) r.mr[i] = i < 4 ? in.mr[i] : buffer->mr[i];
    bool caller_gone = false;
    const Answer a = in.info.is_error() ? no_answer() : handle(r, caller_gone);
    if (!a.send || caller_gone) {
      in = os::syscall(Syscall::Recv, m_endpoint, MessageInfo{});
      continue;
    }
    for (uint64_t i = 4; i < a.length; ++i) buffer->mr[i] = a.mr[i];
    in = os::syscall(Syscall::ReplyRecv, m_endpoint, MessageInfo::make(0, a.length), a.mr[0], a.mr[1], a.mr[2],
                     a.mr[3]);
  }
}

}  // namespace

void run(BootServers& servers, uint64_t endpoint, const Config& config) {
  // Lives for ever: placement new, so no destructor is registered (the
  // program has no atexit).
  alignas(Manager) static unsigned char storage[sizeof(Manager)];
  Manager& manager = *new (storage) Manager(servers, endpoint, config);
  if (!manager.start_init()) {
    (void)os::system_shutdown(config.system_control, 1);
    for (;;) os::yield();
  }
  manager.serve();
}

}  // namespace procmgr
