// The builtins: the commands that must change the shell itself (cd, exit,
// wait) and pwd. A builtin alone in the foreground runs in the shell; in a
// pipeline or in the background it runs in a child like any command.
#pragma once

#include "parse.h"

namespace sh {

class Shell;

using Builtin = int (*)(Shell& shell, const Arguments& args);

// The builtin called `name`, or nullptr.
Builtin find_builtin(const char* name);

}  // namespace sh
