// GoogleTest assertions for Result<T>: that a call failed with one exact
// error, or succeeded, with the error's name in the message otherwise.
//   EXPECT_TRUE(fails_with(alloc.free(frame), Error::IllegalOperation));
#pragma once

#include <gtest/gtest.h>

#include "result.h"

namespace kern::testing_support {

template <typename T>
::testing::AssertionResult fails_with(const Result<T>& result, Error expected) {
  if (result) return ::testing::AssertionFailure() << "succeeded, expected " << error_name(expected);
  if (result.error() != expected) {
    return ::testing::AssertionFailure() << "failed with " << error_name(result.error()) << ", expected "
                                         << error_name(expected);
  }
  return ::testing::AssertionSuccess();
}

inline ::testing::AssertionResult ok(const Status& status) {
  if (status) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "failed with " << error_name(status.error());
}

}  // namespace kern::testing_support
