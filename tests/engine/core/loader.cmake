# Loading definitions (engine/core): the workflow and organisation loaders,
# the workflow registry, the diagrams, every shipped file in workflows/ and
# the broken files in tests/workflows/invalid/ with their .expected errors.
approval_core_test(approval_loader_tests
  loader_test.cc
  org_loader_test.cc
  registry_test.cc
  diagram_test.cc
  workflows_test.cc
  ${PROJECT_SOURCE_DIR}/tests/workflows/invalid_files_test.cc
)

# The command line over the same folders: `approvald check workflows` exits 0,
# and on the broken folder it exits 1 and prints the expected
# file:line:column errors.
if(TARGET approvald)
  add_test(NAME approvald_check_cli
    COMMAND sh ${PROJECT_SOURCE_DIR}/tests/workflows/check_cli_test.sh
            $<TARGET_FILE:approvald>
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endif()
