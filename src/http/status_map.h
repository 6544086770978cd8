// The one place where a StatusCode becomes an HTTP status.
#pragma once

#include "common/status.h"
#include "http/handler.h"

namespace sluice::http {

unsigned HttpStatusFor(StatusCode code);

// A JSON error response for a non-OK status: {"message": ..., "error": "<code name>"}.
Response ErrorResponse(const Status& status);

}  // namespace sluice::http
