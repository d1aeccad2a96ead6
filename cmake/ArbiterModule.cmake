# Helpers that keep every module's CMakeLists.txt to a few lines and give all
# targets the same warnings.
#
#   arbiter_module(NAME <name> SOURCES ... DEPS ...)
#     -> static library arbiter_<name>; DEPS are its only allowed dependencies.
#   arbiter_tests(NAME <name> SOURCES ... DEPS ...)
#     -> test binary arbiter_<name>_tests, registered with ctest (label "unit").

function(arbiter_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
    -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough)
  if(ARBITER_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

function(arbiter_module)
  cmake_parse_arguments(M "" "NAME" "SOURCES;DEPS" ${ARGN})
  add_library(arbiter_${M_NAME} STATIC ${M_SOURCES})
  target_include_directories(arbiter_${M_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(arbiter_${M_NAME} PUBLIC ${M_DEPS})
  arbiter_warnings(arbiter_${M_NAME})
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
  target_link_libraries(arbiter_${T_NAME}_tests PRIVATE ${T_DEPS} GTest::gmock GTest::gtest_main)
  target_compile_definitions(arbiter_${T_NAME}_tests PRIVATE
    ARBITER_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  arbiter_warnings(arbiter_${T_NAME}_tests)
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
  target_link_libraries(arbiter_${F_NAME}_fuzz PRIVATE ${F_DEPS})
  target_link_options(arbiter_${F_NAME}_fuzz PRIVATE -fsanitize=fuzzer)
  arbiter_warnings(arbiter_${F_NAME}_fuzz)
endfunction()
