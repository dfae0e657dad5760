#include "installer/cli/commands.hpp"

int main(int argc, char** argv) { return installer::run_cli(argc, argv); }
