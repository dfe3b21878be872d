#include "result.h"

namespace kern {

const char* error_name(Error error) {
  switch (error) {
#define X(name, number, text) \
  case Error::name:           \
    return #name;
#include "abi/errors.def"
#undef X
  }
  return "UnknownError";
}

}  // namespace kern
