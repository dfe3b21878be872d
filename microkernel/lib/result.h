// Errors are values. A fallible function returns Result<T> (std::expected with
// our Error codes) and callers propagate failures with TRY. The codes come
// from microkernel/include/abi/errors.def, the one list shared with user space.
#pragma once

#include <cstdint>
#include <expected>
#include <utility>

namespace kern {

enum class Error : uint8_t {
#define X(name, number, text) name = number,
#include "abi/errors.def"
#undef X
};

// Stable name ("InvalidArgument") for logs and test messages.
const char* error_name(Error error);

template <typename T>
using Result = std::expected<T, Error>;
using Status = Result<void>;

inline constexpr std::unexpected<Error> fail(Error error) { return std::unexpected(error); }

}  // namespace kern

// Evaluate a Result; on failure return its error from the enclosing function,
// otherwise yield its value (nothing for Result<void>). GNU statement
// expression: both compilers we use are GCC.
#define TRY(expr)                                                   \
  ({                                                                \
    auto&& try_result_ = (expr);                                    \
    if (!try_result_) return ::kern::fail(try_result_.error());     \
    *std::move(try_result_);                                        \
  })
