// getenv, setenv and unsetenv over a program's `environ` array, which
// starts out as exec built it on the stack. The first setenv that adds a
// name moves the array to the heap; every "NAME=value" string setenv makes
// is remembered, so that replacing or removing it frees it, while strings
// from exec are never freed. Pure code: memory comes from an Allocator
// (malloc on the target, the host's in the tests) and errors are returned
// as error numbers, which the C wrappers put in errno.
//
// If the program assigns `environ` itself, the next change works on its
// array (copied to the heap before growing it); an array of ours it
// replaced is left alone, as the program may still use it.
#pragma once

#include <cstddef>

namespace os::libc {

class Allocator {
 public:
  virtual void* allocate(size_t size) = 0;  // nullptr when out of memory
  virtual void release(void* ptr) = 0;

 protected:
  ~Allocator() = default;
};

class Environment {
 public:
  static constexpr int kInvalid = 22;   // EINVAL
  static constexpr int kNoMemory = 12;  // ENOMEM

  constexpr Environment(char**& variables, Allocator& allocator) : m_vars(variables), m_alloc(allocator) {}
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

  // getenv: the value of the first entry for name, or nullptr. A name with
  // '=' in it matches nothing.
  char* get(const char* name) const;

  // setenv: 0, or kInvalid for a null or empty name or one containing '=',
  // or kNoMemory (nothing changed then).
  int set(const char* name, const char* value, bool overwrite);

  // unsetenv: removes every entry for name. 0 or kInvalid as for set.
  int unset(const char* name);

 private:
  static bool valid_name(const char* name);
  long find(const char* name, size_t length) const;
  size_t count() const;
  bool reserve_array(size_t entries);
  bool reserve_owned();
  void forget(char* entry);

  char**& m_vars;
  Allocator& m_alloc;
  char** m_array = nullptr;  // the heap array we made; m_vars while the program keeps it
  size_t m_array_capacity = 0;  // entries, the terminating null included
  char** m_owned = nullptr;  // the strings set() made that are still in use
  size_t m_owned_count = 0;
  size_t m_owned_capacity = 0;
};

}  // namespace os::libc
