// Checks every fuzz target applies to a router response: what must hold for
// any request, however hostile. A violation aborts, so libFuzzer records the
// input as a crash.
#ifndef APPROVALD_TESTS_FUZZ_ORACLE_H_
#define APPROVALD_TESTS_FUZZ_ORACLE_H_

#include "api/http_types.h"

namespace approvald::fuzz {

// Aborts (after printing the response) when:
//  - the status is 500: the router turns unexpected exceptions into 500s, and
//    the memory store never fails, so a 500 here is a bug;
//  - a header value holds CR, LF or NUL (response splitting);
//  - a body labelled application/json is not JSON, or a JSON error
//    (status >= 400) lacks the {"error":{"code","message"}} shape.
void CheckResponse(const api::Response& res);

}  // namespace approvald::fuzz

#endif  // APPROVALD_TESTS_FUZZ_ORACLE_H_
