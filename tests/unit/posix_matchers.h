// GoogleTest assertion for the servers' posix::Result: that a call failed
// with one exact errno, with the errno names in the message otherwise.
#pragma once

#include <gtest/gtest.h>

#include "common/posix_errno.h"

namespace posix::testing_support {

::testing::AssertionResult fails_with_errno(const auto& result, Errno expected) {
  if (result) return ::testing::AssertionFailure() << "succeeded, expected " << errno_name(expected);
  if (result.error() != expected) {
    return ::testing::AssertionFailure() << "failed with " << errno_name(result.error()) << ", expected "
                                         << errno_name(expected);
  }
  return ::testing::AssertionSuccess();
}

}  // namespace posix::testing_support
