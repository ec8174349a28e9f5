# The built-in checks (engine/core/checks.h) and the unit configuration they
# read (engine/core/unit_config.h): the shipped config/unit.yaml,
# config/procurement-catalogue.yaml and config/holidays.yaml load and drive
# the checks.
approval_core_test(approval_checks_tests checks_test.cc)
