# The libFuzzer build (APPROVAL_FUZZ=ON), included from the top-level
# CMakeLists.txt before the layers are added: every library is instrumented
# for coverage (-fsanitize=fuzzer-no-link) and built with AddressSanitizer and
# UndefinedBehaviorSanitizer (undefined behaviour aborts, so libFuzzer keeps
# the input); tests/fuzz links the targets with -fsanitize=fuzzer.
#
# Needs clang with libFuzzer. Debian 12's clang 14 cannot compile libstdc++
# 12's <expected>; clang 19 (packages clang-19, libclang-rt-19-dev) can, and
# `make fuzz` installs and uses it (scripts/install-deps.sh --fuzz).
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR
    "APPROVAL_FUZZ=ON needs clang with libFuzzer, not ${CMAKE_CXX_COMPILER_ID}: "
    "configure with -DCMAKE_CXX_COMPILER=clang++-19, or run `make fuzz`")
endif()
if(CMAKE_CXX_COMPILER_VERSION VERSION_LESS 17)
  message(FATAL_ERROR
    "APPROVAL_FUZZ=ON needs clang 17 or newer for libstdc++'s std::expected "
    "(found ${CMAKE_CXX_COMPILER_VERSION}): apt-get install clang-19 libclang-rt-19-dev")
endif()
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined
                    -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
add_link_options(-fsanitize=address,undefined)
