# The browser UI (web/): `npm ci` when package-lock.json changes, then
# esbuild bundles web/src into ${PROJECT_BINARY_DIR}/web/dist, which
# `approvald serve` serves by default (config key web_root). Included from
# api/api.cmake. Needs node and npm (scripts/install-deps.sh); without them
# the UI is skipped with a warning and the daemon serves the API alone.
# Fuzzing builds (cmake/fuzz.cmake) have no use for the UI.
if(APPROVAL_FUZZ)
  set(_approval_web_default OFF)
else()
  set(_approval_web_default ON)
endif()
option(APPROVAL_BUILD_WEB "Build the web UI with npm + esbuild" ${_approval_web_default})
find_program(APPROVAL_NODE node)
find_program(APPROVAL_NPM npm)

set(APPROVAL_WEB_DIST ${PROJECT_BINARY_DIR}/web/dist)
if(APPROVAL_BUILD_WEB AND APPROVAL_NODE AND APPROVAL_NPM)
  set(_web ${PROJECT_SOURCE_DIR}/web)
  # npm writes node_modules/.package-lock.json on every install: the stamp.
  set(_installed ${_web}/node_modules/.package-lock.json)
  add_custom_command(
    OUTPUT ${_installed}
    COMMAND ${APPROVAL_NPM} ci --no-audit --no-fund --loglevel=error
    COMMAND ${CMAKE_COMMAND} -E touch ${_installed}
    WORKING_DIRECTORY ${_web}
    DEPENDS ${_web}/package.json ${_web}/package-lock.json
    COMMENT "npm ci in web/ (esbuild, Preact, htm, playwright-core)"
    VERBATIM)
  file(GLOB_RECURSE _web_sources CONFIGURE_DEPENDS ${_web}/src/*)
  add_custom_command(
    OUTPUT ${APPROVAL_WEB_DIST}/index.html
    COMMAND ${APPROVAL_NODE} ${_web}/build.mjs --outdir ${APPROVAL_WEB_DIST}
    DEPENDS ${_installed} ${_web}/build.mjs ${_web_sources}
    COMMENT "Bundling the web UI into ${APPROVAL_WEB_DIST}"
    VERBATIM)
  add_custom_target(approval_web ALL DEPENDS ${APPROVAL_WEB_DIST}/index.html)
else()
  message(WARNING "web UI not built (APPROVAL_BUILD_WEB=${APPROVAL_BUILD_WEB}, node='${APPROVAL_NODE}', "
                  "npm='${APPROVAL_NPM}'); run scripts/install-deps.sh for node and npm")
endif()
