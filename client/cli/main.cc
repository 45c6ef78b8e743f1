// glint: the command-line tool. `glint --help` and `glint COMMAND --help`
// list the commands and their flags; exit codes are in cli.h.
#include <cstdio>
#include <iostream>

#include "client/cli/cli.h"
#include "common/logging.h"

#ifndef GLINT_VERSION
#define GLINT_VERSION "unknown"
#endif

// Runs the command; what it printed is flushed before the process ends.
int Run(int argc, char** argv) {
  CLI::App app("glint: start, stop and look into a Glint cluster", "glint");
  app.set_version_flag("--version", std::string("glint ") + GLINT_VERSION);
  app.require_subcommand(0, 1);
  app.fallthrough(false);
  int exit_code = 0;
  glint::cli::AddNodeCommands(&app, &exit_code);
  glint::cli::AddInspectCommands(&app, &exit_code);
  glint::cli::AddLogCommands(&app, &exit_code);
  glint::cli::AddHealthCommands(&app, &exit_code);
  glint::cli::AddSummaryCommands(&app, &exit_code);
  glint::cli::AddJobCommands(&app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);  // help on stdout, exit 0
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);  // the message on stderr
    return glint::cli::kUsage;
  } catch (const std::exception& e) {  // e.g. an unreadable token file
    std::cerr << "glint: " << e.what() << "\n";
    return glint::cli::kFailed;
  }
  if (app.get_subcommands().empty()) {  // bare `glint`
    std::cerr << app.help();
    return glint::cli::kUsage;
  }
  return exit_code;
}

int main(int argc, char** argv) {
  // A crash prints its stack to stderr, so that a failed command says where.
  glint::InitLogging("glint", /*crash_handler=*/true);
  int code = Run(argc, argv);
  // Output first: a fault in the libraries' teardown at exit cannot lose it.
  std::cout.flush();
  std::fflush(nullptr);
  return code;
}
