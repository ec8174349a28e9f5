# The report builders (core/reports.h) and the self-check sampling
# (core/sampling.h) over histories of the shipped workflows.
approval_core_test(approval_reports_tests reports_test.cc)
