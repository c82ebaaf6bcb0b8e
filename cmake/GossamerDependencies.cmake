# Every third-party dependency, found from Debian 12 packages (scripts/install-deps.sh).
# Nothing is downloaded: a missing package is a configure error naming it.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS filesystem)  # Asio, Beast, Process: headers
find_package(CURL REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(yaml-cpp REQUIRED)
pkg_check_modules(SECCOMP REQUIRED IMPORTED_TARGET libseccomp)
pkg_check_modules(GUMBO REQUIRED IMPORTED_TARGET gumbo)
if(GOSSAMER_BUILD_TESTS)
  find_package(doctest REQUIRED)
  include(doctest)  # doctest_discover_tests
endif()
