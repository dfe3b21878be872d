// The environment (see env.h). Every change allocates what it needs first
// and only then edits the array, so a failure leaves it as it was.
#include "env.h"

#include "cstring.h"

namespace os::libc {

bool Environment::valid_name(const char* name) {
  return name != nullptr && name[0] != '\0' && strchr(name, '=') == nullptr;
}

size_t Environment::count() const {
  size_t n = 0;
  if (m_vars != nullptr) {
    while (m_vars[n] != nullptr) ++n;
  }
  return n;
}

// The index of the first entry "name=...", or -1.
long Environment::find(const char* name, size_t length) const {
  if (m_vars == nullptr) return -1;
  for (size_t i = 0; m_vars[i] != nullptr; ++i) {
    if (strncmp(m_vars[i], name, length) == 0 && m_vars[i][length] == '=') return long(i);
  }
  return -1;
}

char* Environment::get(const char* name) const {
  if (!valid_name(name)) return nullptr;
  const size_t length = strlen(name);
  const long i = find(name, length);
  return i < 0 ? nullptr : m_vars[i] + length + 1;
}

// Makes m_vars a heap array of ours with room for `entries` pointers.
bool Environment::reserve_array(size_t entries) {
  if (m_vars == m_array && m_array != nullptr && entries <= m_array_capacity) return true;
  size_t capacity = m_array_capacity * 2;
  if (capacity < entries) capacity = entries;
  if (capacity < 16) capacity = 16;
  auto** bigger = static_cast<char**>(m_alloc.allocate(capacity * sizeof(char*)));
  if (bigger == nullptr) return false;
  const size_t n = count();
  for (size_t i = 0; i < n; ++i) bigger[i] = m_vars[i];
  bigger[n] = nullptr;
  if (m_array != nullptr && m_vars == m_array) m_alloc.release(m_array);
  m_array = bigger;
  m_array_capacity = capacity;
  m_vars = bigger;
  return true;
}

// Room to remember one more string of ours.
bool Environment::reserve_owned() {
  if (m_owned_count < m_owned_capacity) return true;
  const size_t capacity = m_owned_capacity < 8 ? 8 : m_owned_capacity * 2;
  auto** bigger = static_cast<char**>(m_alloc.allocate(capacity * sizeof(char*)));
  if (bigger == nullptr) return false;
  for (size_t i = 0; i < m_owned_count; ++i) bigger[i] = m_owned[i];
  m_alloc.release(m_owned);
  m_owned = bigger;
  m_owned_capacity = capacity;
  return true;
}

// Frees an entry that left the array, if set() made it.
void Environment::forget(char* entry) {
  for (size_t i = 0; i < m_owned_count; ++i) {
    if (m_owned[i] == entry) {
      m_owned[i] = m_owned[--m_owned_count];
      m_alloc.release(entry);
      return;
    }
  }
}

int Environment::set(const char* name, const char* value, bool overwrite) {
  if (!valid_name(name)) return kInvalid;
  if (value == nullptr) value = "";
  const size_t name_length = strlen(name);
  const long index = find(name, name_length);
  if (index >= 0 && !overwrite) return 0;

  const size_t value_length = strlen(value);
  auto* entry = static_cast<char*>(m_alloc.allocate(name_length + value_length + 2));
  if (entry == nullptr) return kNoMemory;
  if (!reserve_owned() || (index < 0 && !reserve_array(count() + 2))) {
    m_alloc.release(entry);
    return kNoMemory;
  }
  memcpy(entry, name, name_length);
  entry[name_length] = '=';
  memcpy(entry + name_length + 1, value, value_length + 1);
  m_owned[m_owned_count++] = entry;

  if (index >= 0) {
    char* old = m_vars[index];
    m_vars[index] = entry;
    forget(old);
  } else {
    const size_t n = count();
    m_vars[n] = entry;
    m_vars[n + 1] = nullptr;
  }
  return 0;
}

int Environment::unset(const char* name) {
  if (!valid_name(name)) return kInvalid;
  const size_t length = strlen(name);
  for (long i; (i = find(name, length)) >= 0;) {
    char* old = m_vars[i];
    for (size_t j = size_t(i); m_vars[j] != nullptr; ++j) m_vars[j] = m_vars[j + 1];
    forget(old);
  }
  return 0;
}

}  // namespace os::libc
