// Worker output across real processes: what actors and tasks print reaches
// their driver's stderr prefixed with the class or function, pid and node;
// a worker's last words before it dies too; a driver can turn it off; and
// `glint logs` finds the file an actor wrote from its name.
// This program is also the driver (`logs_integration_test driver ...`).
#include <glint/api.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "common/process.h"
#include "testing/driver_process.h"
#include "testing/test_cluster.h"

namespace {

using glint::testing::ClusterTest;
using glint::testing::ReadFile;
using glint::testing::RunCli;
using glint::testing::WaitUntil;

class Printer {
 public:
  static Printer* Create() { return new Printer(); }
  int Say(std::string what) {
    std::cout << "actor says " << what << std::endl;
    return getpid();
  }
  int Die(std::string what) {
    std::cerr << "last words " << what << "\n";
    std::_Exit(3);
  }
};

int Shout(std::string what) {
  std::cerr << "task says " << what << std::endl;
  return getpid();
}

GLINT_REMOTE(Printer::Create, &Printer::Say, &Printer::Die, Shout);

std::string Token() {
  std::random_device rd;
  return std::to_string(rd()) + std::to_string(rd());
}

class LogsTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() { StartSuite(2); }

  // Starts a driver in `mode`; its first stdout line in *line, its stderr
  // in the file returned.
  std::string Start(const std::vector<std::string>& args, std::string* line,
                    const std::map<std::string, std::string>& env = {}) {
    std::string err = glint::testing::TempDir() + "/driver.err";
    driver_ = glint::testing::StartDriver(cluster_->gcs_address(), args, env, err);
    *line = driver_.Line();
    return err;
  }
  void TearDown() override {
    if (driver_.pid > 0) {
      kill(driver_.pid, SIGKILL);
      driver_.Wait();
    }
  }
  glint::testing::Driver driver_;
};

TEST_F(LogsTest, WhatActorsAndTasksPrintReachesTheDriverPrefixedWithWhereItRan) {
  std::string token = Token();
  std::string line;
  std::string err = Start({"print", token}, &line);
  int actor_pid = 0, task_pid = 0;
  ASSERT_EQ(std::sscanf(line.c_str(), "PIDS %d %d", &actor_pid, &task_pid), 2) << line;
  std::string actor_line = "(Printer pid=" + std::to_string(actor_pid) + " node=";
  std::string task_line = "(Shout pid=" + std::to_string(task_pid) + " node=";
  ASSERT_TRUE(WaitUntil([&] {
    std::string e = ReadFile(err);
    return e.find(actor_line) != std::string::npos && e.find(task_line) != std::string::npos;
  })) << ReadFile(err);
  std::string e = ReadFile(err);
  EXPECT_NE(e.find(") actor says " + token + "\n"), std::string::npos) << e;
  EXPECT_NE(e.find(") task says " + token + "\n"), std::string::npos) << e;
  EXPECT_EQ(e.find("glint-label"), std::string::npos) << "label lines are taken out of the stream: " << e;
}

TEST_F(LogsTest, AWorkersLastWordsBeforeItDiesReachTheDriver) {
  std::string token = Token();
  std::string line;
  std::string err = Start({"crash", token}, &line);
  ASSERT_EQ(line.substr(0, 4), "DIED") << line;
  ASSERT_TRUE(WaitUntil([&] { return ReadFile(err).find(") last words " + token) != std::string::npos; }))
      << ReadFile(err);
  EXPECT_NE(ReadFile(err).find("(Printer pid="), std::string::npos);
}

TEST_F(LogsTest, GlintLogsFindsAnActorsFileByItsNameAndADriverCanTurnTheOutputOff) {
  std::string token = Token();
  std::string line;
  std::string err = Start({"print", token}, &line, {{"GLINT_LOG_TO_DRIVER", "0"}});
  int actor_pid = 0, task_pid = 0;
  ASSERT_EQ(std::sscanf(line.c_str(), "PIDS %d %d", &actor_pid, &task_pid), 2) << line;
  std::string a = " --address " + cluster_->gcs_address();
  // The actor's file is named with its pid, as `glint list actors` shows it.
  std::string list = RunCli("logs" + a);
  EXPECT_NE(list.find("-" + std::to_string(actor_pid) + ".log"), std::string::npos) << list;
  std::string logs;
  ASSERT_TRUE(WaitUntil([&] {
    logs = RunCli("logs --actor printer-" + token + " --namespace logs" + a);
    return logs.find("actor says " + token) != std::string::npos;
  })) << logs;
  EXPECT_NE(RunCli("logs --actor printer-" + token + " --tail 1" + a).find("actor says " + token),
            std::string::npos);
  EXPECT_NE(RunCli("logs --actor nobody-" + token + a).find("no actor"), std::string::npos);
  // The job says it wants no output (the raylets then send none: the
  // monitor's unit tests), and none came by the time its line was in the file.
  std::string jobs = RunCli("list jobs --json --filter driver_pid=" + std::to_string(driver_.pid) + a);
  auto parsed = nlohmann::json::parse(jobs, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(parsed.is_array() && parsed.size() == 1) << jobs;
  EXPECT_EQ(parsed[0].value("log_to_driver", true), false) << jobs;
  EXPECT_EQ(ReadFile(err).find("actor says"), std::string::npos) << ReadFile(err);
}

}  // namespace

// Driver modes (GLINT_ADDRESS set by the test); each then waits on stdin
// until the test ends it:
//   print TOKEN   an actor and a task print TOKEN; "PIDS <actor pid> <task pid>"
//   crash TOKEN   an actor prints TOKEN and dies; "DIED"
int main(int argc, char** argv) {
  if (std::getenv("GLINT_WORKER_MODE")) glint::Init();
  if (argc >= 4 && std::string(argv[1]) == "driver") {
    glint::Init();
    std::string mode = argv[2], token = argv[3];
    auto printer = glint::Actor(Printer::Create).SetName("printer-" + token).SetNamespace("logs").Remote();
    if (mode == "print") {
      int actor_pid = printer.Task(&Printer::Say).Remote(token).Get();
      int task_pid = glint::Task(Shout).Remote(token).Get();
      std::cout << "PIDS " << actor_pid << " " << task_pid << std::endl;
    } else if (mode == "crash") {
      try {
        printer.Task(&Printer::Die).Remote(token).Get();
        std::cout << "LIVED" << std::endl;
      } catch (const glint::Error&) {
        std::cout << "DIED" << std::endl;
      }
    }
    char c;
    while (std::cin.get(c)) {
    }
    glint::Shutdown();
    return 0;
  }
  glint::testing::SetDriverProgram(glint::SelfExePath());
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
