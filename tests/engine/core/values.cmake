# Values, events, the organisation and the expression language (engine/core):
# types.h, value.h, event.h, org.h and core/expr.h.
approval_core_test(approval_values_tests
  types_test.cc
  value_test.cc
  event_test.cc
  org_test.cc
  expr_test.cc
  copy_on_write_test.cc
)
