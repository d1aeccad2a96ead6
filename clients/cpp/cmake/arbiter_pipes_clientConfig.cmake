# find_package(arbiter_pipes_client) support: brings in the dependencies, then the target
# arbiter::arbiter_pipes_client.
include(CMakeFindDependencyMacro)
find_dependency(nlohmann_json)
find_dependency(ZLIB)
include(${CMAKE_CURRENT_LIST_DIR}/arbiter_pipes_client_targets.cmake)
