# Helpers that keep every module's CMakeLists.txt to a few lines and give all
# targets the same warnings.
#
#   arbiter_module(NAME <name> SOURCES ... [PUBLIC_DEPS ...] [DEPS ...])
#     -> static library arbiter_<name>. PUBLIC_DEPS and DEPS are its only allowed
#        dependencies: PUBLIC_DEPS are those its headers expose (users get them too),
#        DEPS are PRIVATE (used only by its .cc files).
#   arbiter_test_library(NAME <name> SOURCES ... DEPS ...)
#     -> static library arbiter_<name> for tests only (fixtures), never linked into the product.
#   arbiter_tests(NAME <name> SOURCES ... DEPS ...)
#     -> test binary arbiter_<name>_tests, registered with ctest (label "unit").
# Tests, test libraries and fuzzers also get arbiter_testing (src/arbiter/testing).
#
# scripts/check_module_deps.py (ctest: module_deps) fails when a file includes
# arbiter/<module>/... that its target does not declare directly (a dependency that
# only arrives transitively does not count), when a header exposes a DEPS (private)
# module, and on cycles. See CONTRIBUTING.md, "Module dependencies".

function(arbiter_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
    -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough)
  if(ARBITER_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
    if(ARBITER_PCH AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      # GCC 12's flow-sensitive bounds warnings misfire inside libstdc++'s std::string
      # (GCC bugs 105329, 105651) depending on what was inlined, which precompiled
      # headers change; they stay warnings, shown, instead of failing the build.
      target_compile_options(${target} PRIVATE -Wno-error=array-bounds
        -Wno-error=stringop-overflow -Wno-error=restrict)
    endif()
  endif()
endfunction()

# Precompiled headers (ARBITER_PCH): the third-party headers most files include.
# Files still include what they use; a build with -DARBITER_PCH=OFF checks that.
function(arbiter_pch target)
  if(ARBITER_PCH)
    target_precompile_headers(${target} PRIVATE <nlohmann/json.hpp> <string> <vector> <map>
      <memory> <optional> <functional> <chrono> ${ARGN})
  endif()
endfunction()

function(arbiter_module)
  cmake_parse_arguments(M "" "NAME" "SOURCES;PUBLIC_DEPS;DEPS" ${ARGN})
  add_library(arbiter_${M_NAME} STATIC ${M_SOURCES})
  target_include_directories(arbiter_${M_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(arbiter_${M_NAME} PUBLIC ${M_PUBLIC_DEPS} PRIVATE ${M_DEPS})
  arbiter_warnings(arbiter_${M_NAME})
  arbiter_pch(arbiter_${M_NAME})
endfunction()

function(arbiter_test_library)
  cmake_parse_arguments(L "" "NAME" "SOURCES;DEPS" ${ARGN})
  if(NOT ARBITER_BUILD_TESTS)
    return()
  endif()
  add_library(arbiter_${L_NAME} STATIC ${L_SOURCES})
  target_include_directories(arbiter_${L_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(arbiter_${L_NAME} PUBLIC ${L_DEPS} arbiter_testing)
  target_compile_definitions(arbiter_${L_NAME} PRIVATE ARBITER_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  arbiter_warnings(arbiter_${L_NAME})
  arbiter_pch(arbiter_${L_NAME})
endfunction()

function(arbiter_tests)
  cmake_parse_arguments(T "" "NAME;LABEL" "SOURCES;DEPS" ${ARGN})
  if(NOT ARBITER_BUILD_TESTS)
    return()
  endif()
  if(NOT T_LABEL)
    set(T_LABEL unit)
  endif()
  add_executable(arbiter_${T_NAME}_tests ${T_SOURCES})
  target_link_libraries(arbiter_${T_NAME}_tests PRIVATE ${T_DEPS} arbiter_testing GTest::gmock
                        GTest::gtest_main)
  target_compile_definitions(arbiter_${T_NAME}_tests PRIVATE
    ARBITER_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  arbiter_warnings(arbiter_${T_NAME}_tests)
  arbiter_pch(arbiter_${T_NAME}_tests <gmock/gmock.h> <gtest/gtest.h>)
  # JAVA_HOME: the JDK setup chose, for tests whose emulated platforms run spark-submit.
  gtest_discover_tests(arbiter_${T_NAME}_tests DISCOVERY_MODE PRE_TEST
    PROPERTIES LABELS ${T_LABEL} ENVIRONMENT "JAVA_HOME=${ARBITER_JAVA_HOME}")
endfunction()

#   arbiter_fuzzer(NAME <name> SOURCES ... DEPS ...)
#     -> libFuzzer target arbiter_<name>_fuzz (only with ARBITER_BUILD_FUZZ, clang).
#        Its seed corpus lives in fuzz/corpus/<name>/; scripts/fuzz.sh runs it.
function(arbiter_fuzzer)
  cmake_parse_arguments(F "" "NAME" "SOURCES;DEPS" ${ARGN})
  if(NOT ARBITER_BUILD_FUZZ)
    return()
  endif()
  add_executable(arbiter_${F_NAME}_fuzz ${F_SOURCES})
  target_link_libraries(arbiter_${F_NAME}_fuzz PRIVATE ${F_DEPS} arbiter_testing)
  target_link_options(arbiter_${F_NAME}_fuzz PRIVATE -fsanitize=fuzzer)
  arbiter_warnings(arbiter_${F_NAME}_fuzz)
endfunction()
