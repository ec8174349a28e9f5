# The daemon's API layer, included from api/CMakeLists.txt.
#
#   approval_user_store  UserStore port: memory (tests) and SQLite backends
#   approval_api_base    JSON codec, error mapping, auth, limits, metrics:
#                        everything the router needs below the engine
#   approval_api         router, Beast server, WebSocket hub, `serve` and
#                        `user` commands; links the engine and the stores

add_library(approval_user_store STATIC
  ${PROJECT_SOURCE_DIR}/engine/store/user_roles.cc
  ${PROJECT_SOURCE_DIR}/engine/store/memory/user_store.cc
  ${PROJECT_SOURCE_DIR}/engine/store/sqlite/user_store.cc
)
target_include_directories(approval_user_store
  PUBLIC ${PROJECT_SOURCE_DIR}/engine/include ${PROJECT_SOURCE_DIR}/engine)
target_link_libraries(approval_user_store PRIVATE SQLite::SQLite3)

add_library(approval_api_base STATIC
  ${CMAKE_CURRENT_LIST_DIR}/http_errors.cc
  ${CMAKE_CURRENT_LIST_DIR}/http_wire.cc
  ${CMAKE_CURRENT_LIST_DIR}/json_codec.cc
  ${CMAKE_CURRENT_LIST_DIR}/auth.cc
  ${CMAKE_CURRENT_LIST_DIR}/limits.cc
  ${CMAKE_CURRENT_LIST_DIR}/metrics.cc
  ${CMAKE_CURRENT_LIST_DIR}/log_format.cc
  ${CMAKE_CURRENT_LIST_DIR}/static_files.cc
)
target_include_directories(approval_api_base PUBLIC ${PROJECT_SOURCE_DIR})
target_compile_definitions(approval_api_base PUBLIC BOOST_ASIO_NO_DEPRECATED)
target_link_libraries(approval_api_base PUBLIC
  approval_core approval_user_store Boost::headers Boost::json OpenSSL::Crypto
  spdlog::spdlog fmt::fmt PRIVATE PkgConfig::ARGON2)

# The OpenAPI document, embedded at build time.
set(APPROVAL_OPENAPI_CC ${CMAKE_CURRENT_BINARY_DIR}/openapi_document.cc)
add_custom_command(
  OUTPUT ${APPROVAL_OPENAPI_CC}
  COMMAND ${CMAKE_COMMAND} -DINPUT=${CMAKE_CURRENT_LIST_DIR}/openapi.json
          -DOUTPUT=${APPROVAL_OPENAPI_CC} -P ${CMAKE_CURRENT_LIST_DIR}/embed_file.cmake
  DEPENDS ${CMAKE_CURRENT_LIST_DIR}/openapi.json ${CMAKE_CURRENT_LIST_DIR}/embed_file.cmake
  COMMENT "Embedding api/openapi.json")

add_library(approval_api STATIC
  ${CMAKE_CURRENT_LIST_DIR}/router.cc
  ${CMAKE_CURRENT_LIST_DIR}/view_head_cache.cc
  ${CMAKE_CURRENT_LIST_DIR}/report_routes.cc
  ${CMAKE_CURRENT_LIST_DIR}/attachment_names.cc
  ${CMAKE_CURRENT_LIST_DIR}/ws_hub.cc
  ${CMAKE_CURRENT_LIST_DIR}/server.cc
  ${CMAKE_CURRENT_LIST_DIR}/bootstrap.cc
  ${CMAKE_CURRENT_LIST_DIR}/startup_audit.cc
  ${CMAKE_CURRENT_LIST_DIR}/checkpointer.cc
  ${CMAKE_CURRENT_LIST_DIR}/serve.cc
  ${CMAKE_CURRENT_LIST_DIR}/cli_users.cc
  ${CMAKE_CURRENT_LIST_DIR}/commands.cc
  ${CMAKE_CURRENT_LIST_DIR}/cli_common.cc
  ${CMAKE_CURRENT_LIST_DIR}/cli_audit.cc
  ${CMAKE_CURRENT_LIST_DIR}/cli_report.cc
  ${CMAKE_CURRENT_LIST_DIR}/selfcheck_trigger.cc
  ${CMAKE_CURRENT_LIST_DIR}/store_metrics.cc
  ${APPROVAL_OPENAPI_CC}
)
target_link_libraries(approval_api
  PUBLIC approval_api_base approval_engine approval_audit approval_config
         Boost::headers Boost::json Boost::url OpenSSL::SSL OpenSSL::Crypto
         spdlog::spdlog fmt::fmt Threads::Threads
  PRIVATE approval_store_sqlite approval_user_store CLI11::CLI11 yaml-cpp)
# Where `web_root: ""` finds the UI: the build's own web/dist (web/web.cmake).
target_compile_definitions(approval_api PRIVATE
  APPROVAL_DEFAULT_WEB_ROOT="${PROJECT_BINARY_DIR}/web/dist")
include(${PROJECT_SOURCE_DIR}/web/web.cmake)
