#pragma once
#include <string>
#include <string_view>

namespace installer {

/// `word` as a POSIX shell reads it back unchanged, for commands the operator is told to
/// paste (installer --remove-update ID): as it is when it holds only characters no shell
/// treats specially, in single quotes otherwise, and in bash's $'...' with \xNN escapes when
/// it holds bytes a terminal would act on. Ids journaled by older versions may hold anything.
std::string shell_quote(std::string_view word);

}  // namespace installer
