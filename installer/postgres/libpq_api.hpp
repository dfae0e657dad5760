#pragma once
// libpq's functions, reached through the library opened on first use
// (util/shared_library.hpp): libpq() instead of linking the program against libpq.so.
#include <libpq-fe.h>

namespace installer {

// clang-format off
#define INSTALLER_LIBPQ_FUNCTIONS(X)  \
  X(PQbackendPID)                     \
  X(PQcancel)                         \
  X(PQclear)                          \
  X(PQconnectdb)                      \
  X(PQenterPipelineMode)              \
  X(PQerrorMessage)                   \
  X(PQexec)                           \
  X(PQexecPrepared)                   \
  X(PQexitPipelineMode)               \
  X(PQfinish)                         \
  X(PQfreeCancel)                     \
  X(PQfreemem)                        \
  X(PQgetCancel)                      \
  X(PQgetCopyData)                    \
  X(PQgetResult)                      \
  X(PQgetisnull)                      \
  X(PQgetvalue)                       \
  X(PQnfields)                        \
  X(PQntuples)                        \
  X(PQpipelineSync)                   \
  X(PQprepare)                        \
  X(PQputCopyEnd)                     \
  X(PQresultErrorField)               \
  X(PQresultErrorMessage)             \
  X(PQresultStatus)                   \
  X(PQsendFlushRequest)               \
  X(PQsendQueryParams)                \
  X(PQsendQueryPrepared)              \
  X(PQserverVersion)                  \
  X(PQsetNoticeProcessor)             \
  X(PQstatus)                         \
  X(PQuser)
// clang-format on

struct LibPq {
// A declarator cannot be parenthesised.
// NOLINTNEXTLINE(bugprone-macro-parentheses)
#define INSTALLER_LIBPQ_SLOT(name) decltype(&::name) name = nullptr;
  INSTALLER_LIBPQ_FUNCTIONS(INSTALLER_LIBPQ_SLOT)
#undef INSTALLER_LIBPQ_SLOT
};

/// libpq, opened and bound on the first call (thread-safe); throws a UserError naming the
/// package when the library is missing.
const LibPq& libpq();

}  // namespace installer
