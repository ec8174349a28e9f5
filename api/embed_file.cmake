# Writes OUTPUT: a C++ file defining approvald::api::OpenApiDocument() that
# returns the bytes of INPUT. Run at build time (api.cmake), so editing
# api/openapi.json rebuilds the daemon with the new document.
file(READ "${INPUT}" content)
string(FIND "${content}" ")openapi\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string terminator )openapi\"")
endif()
file(WRITE "${OUTPUT}.tmp"
"// Generated from api/openapi.json by api/embed_file.cmake; do not edit.
#include <string_view>

namespace approvald::api {

std::string_view OpenApiDocument() {
  static constexpr char kText[] = R\"openapi(${content})openapi\";
  return std::string_view(kText, sizeof(kText) - 1);
}

}  // namespace approvald::api
")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
