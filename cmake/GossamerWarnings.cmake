# Warnings for gossamer's own targets (not for third-party headers, which are SYSTEM).
add_library(gossamer_warnings INTERFACE)
target_compile_options(gossamer_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
    -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough>
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${GOSSAMER_WERROR}>>:-Werror>
  $<$<AND:$<COMPILE_LANGUAGE:CUDA>,$<BOOL:${GOSSAMER_WERROR}>>:-Werror=all-warnings>)
# GCC 12 reports impossible overlaps in inlined std::string copies (GCC bug 105329), more so
# under -O2 with sanitizers; the warning stays on, but it does not fail the build there.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(gossamer_warnings INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-Wno-error=restrict>)
endif()
