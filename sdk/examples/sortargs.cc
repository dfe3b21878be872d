// The C++ side of the SDK (build/sdk/bin/ukos-c++): bin/sortargs prints its
// arguments sorted, with header-only libstdc++ (string_view, algorithm,
// memory via new[]) over the SDK's C library.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string_view>

int main(int argc, char** argv) {
  const int n = argc - 1;
  auto* words = new std::string_view[n > 0 ? n : 1];
  for (int i = 0; i < n; ++i) words[i] = argv[i + 1];
  std::sort(words, words + n);
  for (int i = 0; i < n; ++i) std::printf("%.*s\n", static_cast<int>(words[i].size()), words[i].data());
  delete[] words;
  return EXIT_SUCCESS;
}
