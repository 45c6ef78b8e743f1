// Jobs, across real processes: `glint job submit` runs a command on the head
// under the dashboard's job supervisor (a real driver that joins the cluster
// among them), streams its output and exits with how it ended; `glint job
// stop` ends the entrypoint and everything it started; the jobs API asks
// for the cluster token and turns bad requests away with a clear error; the
// records live in the GCS's store.
#include <glint/api.h>
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "common/digest.h"
#include "common/http_client.h"
#include "proto/jobs.pb.h"
#include "testing/test_cluster.h"

namespace {

using glint::testing::ClusterTest;
using glint::testing::Contains;
using glint::testing::WaitUntil;

class JobsTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() { StartSuite(2, "", "", {}, {}, /*dashboard=*/true); }

  // A request to the dashboard with the cluster's token (or `token`).
  static glint::HttpReply Api(const std::string& method, const std::string& target, const std::string& body = "",
                              const std::string* token = nullptr) {
    glint::HttpCallOptions o;
    o.token = token ? *token : cluster_->auth_token();
    auto reply = glint::HttpCall(cluster_->dashboard_address(), method, target, body, o);
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? *reply : glint::HttpReply{};
  }
  static nlohmann::json Job(const std::string& id) {
    auto r = Api("GET", "/api/jobs/" + id);
    EXPECT_EQ(r.status, 200) << r.body;
    return nlohmann::json::parse(r.body, nullptr, false);
  }
  static bool Ended(const std::string& id) {
    std::string s = Job(id).value("status", "");
    return s == "SUCCEEDED" || s == "FAILED" || s == "STOPPED";
  }
  // `glint job submit FLAGS -- COMMAND`: its output and exit status.
  static std::pair<std::string, int> Submit(const std::string& flags, const std::string& command) {
    int status = 0;
    std::string out = glint::testing::RunCommand(std::string(GLINT_CLI_PATH) + " job submit " + flags + " --address " +
                                                     cluster_->gcs_address() + " -- " + command + " 2>&1",
                                                 &status);
    return {out, WEXITSTATUS(status)};
  }
  static size_t JobCount() { return nlohmann::json::parse(Api("GET", "/api/jobs/").body, nullptr, false).size(); }
  // The head's CPUs: in all, and free (as the GCS last heard).
  static std::pair<double, double> HeadCpus() {
    for (auto& n : CliJson("list nodes")) {
      if (n.value("is_head", false)) {
        return {n["total_resources"].value("CPU", 0.0), n["available_resources"].value("CPU", 0.0)};
      }
    }
    return {-1, -1};
  }
  // The jobs whose entrypoint CPUs are reserved now (by their placement groups' names).
  static std::set<std::string> Reservations() {
    std::set<std::string> out;
    for (auto& g : CliJson("list placement-groups")) {
      if (g.value("ray_namespace", "") == "_glint_jobs" && g.value("state", "") != "PG_REMOVED") {
        out.insert(g.value("name", ""));
      }
    }
    return out;
  }
  // A tar.gz of one file made by `tar` (with `flags`), as a user would make
  // one to upload with curl ("" if tar failed).
  static std::string TarOf(const std::string& name, const std::string& content, const std::string& flags = "") {
    std::string dir = glint::testing::TempDir("glint-jobs-tar");
    std::ofstream(dir + "/" + name) << content;
    std::string out = glint::testing::TempDir("glint-jobs-tar") + "/p.tgz";
    if (std::system(("tar -C " + dir + " -czf " + out + " " + flags + " " + name + " 2>/dev/null").c_str()) != 0) {
      return "";
    }
    std::ifstream f(out, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  }
  // The process has exited (gone, or a zombie no one reaped yet).
  static bool Exited(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    auto paren = stat.rfind(')');
    return paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] == 'Z';
  }
};

TEST_F(JobsTest, SubmitRunsADriverOnTheHeadAndStreamsItsOutput) {
  auto [out, status] = Submit("--submission-id hello-1", GLINT_HELLO_PATH);
  EXPECT_EQ(status, 0) << out;
  // The driver found the cluster from its environment and ran its calls there.
  EXPECT_PRED2(Contains, out, "hello, glint");
  EXPECT_PRED2(Contains, out, "Plus(Plus(1, 2), 10) = 13");
  EXPECT_PRED2(Contains, out, "job 'hello-1' SUCCEEDED");
  auto job = Job("hello-1");
  EXPECT_EQ(job["status"], "SUCCEEDED") << job;
  EXPECT_EQ(job["driver_exit_code"], 0) << job;
  EXPECT_GT(job["end_ms"].get<int64_t>(), 0);
  EXPECT_TRUE(std::filesystem::is_directory(job["working_dir"].get<std::string>())) << job;
  // `job logs` prints what the run printed, `job list` shows it.
  auto [logs, logs_status] = Cli("job logs hello-1");
  EXPECT_EQ(logs_status, 0);
  EXPECT_PRED2(Contains, logs, "hello, glint");
  auto listed = CliJson("job list");
  ASSERT_TRUE(listed.is_array()) << listed;
  bool found = false;
  for (auto& j : listed) found |= j["submission_id"] == "hello-1" && j["status"] == "SUCCEEDED";
  EXPECT_TRUE(found) << listed;
}

TEST_F(JobsTest, AFailingEntrypointFailsTheJobWithItsExitCode) {
  auto [out, status] = Submit("--submission-id fails-1", "sh -c 'echo to-stdout; echo to-stderr >&2; exit 3'");
  EXPECT_EQ(status, 1) << out;
  EXPECT_PRED2(Contains, out, "to-stdout");
  EXPECT_PRED2(Contains, out, "to-stderr");
  EXPECT_PRED2(Contains, out, "job 'fails-1' FAILED");
  auto job = Job("fails-1");
  EXPECT_EQ(job["status"], "FAILED");
  EXPECT_EQ(job["driver_exit_code"], 3);
  EXPECT_PRED2(Contains, job["message"].get<std::string>(), "exited with code 3");
  // A command that does not exist is a failed job too, saying so in its log.
  auto [missing, missing_status] = Submit("", "/no/such/program");
  EXPECT_EQ(missing_status, 1) << missing;
  EXPECT_PRED2(Contains, missing, "/no/such/program");
}

TEST_F(JobsTest, StopEndsTheEntrypointAndWhatItStarted) {
  auto [out, status] = Submit("--no-wait --submission-id sleeper", "sh -c 'sleep 300 & echo started; wait'");
  ASSERT_EQ(status, 0) << out;
  ASSERT_TRUE(WaitUntil([] { return Contains(Api("GET", "/api/jobs/sleeper/logs").body, "started"); }));
  auto job = Job("sleeper");
  EXPECT_EQ(job["status"], "RUNNING") << job;
  pid_t group = job["driver_pid"].get<int>();
  ASSERT_GT(group, 0);
  ASSERT_EQ(kill(-group, 0), 0);  // the entrypoint's process group runs
  auto [stopped, stop_status] = Cli("job stop sleeper");
  EXPECT_EQ(stop_status, 0) << stopped;
  EXPECT_PRED2(Contains, stopped, "job 'sleeper' STOPPED");
  EXPECT_EQ(Job("sleeper")["status"], "STOPPED");
  // The shell and the sleep it started in the background are both gone.
  EXPECT_TRUE(WaitUntil([&] { return kill(-group, 0) != 0 && errno == ESRCH; }, std::chrono::seconds(10)));
  // Stopping a job that ended changes nothing.
  auto again = nlohmann::json::parse(Api("POST", "/api/jobs/sleeper/stop").body, nullptr, false);
  EXPECT_EQ(again["stopped"], false) << again;
  EXPECT_EQ(Job("sleeper")["status"], "STOPPED");
}

TEST_F(JobsTest, TheApiAsksForTheTokenAndTurnsBadRequestsAway) {
  const size_t before = JobCount();
  const std::string submit = R"({"entrypoint": "touch should-not-run"})";
  std::string none, wrong = cluster_->auth_token() + "x";
  EXPECT_EQ(Api("POST", "/api/jobs/", submit, &none).status, 401);
  EXPECT_EQ(Api("POST", "/api/jobs/", submit, &wrong).status, 401);
  EXPECT_EQ(Api("GET", "/api/jobs/", "", &none).status, 401);
  struct Case {
    std::string body;
    int status;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {"not json", 400, "JSON object"},
           {R"({"entrypoint": 3})", 400, "'entrypoint' must be a string"},
           {R"({"entrypoint": ""})", 400, "needs an entrypoint"},
           {R"({"entrypoint": "true", "nonsense": 1})", 400, "unknown field 'nonsense'"},
           {R"({"entrypoint": "true", "submission_id": "../x"})", 400, "is not a submission id"},
           {R"({"entrypoint": "true", "working_dir": "relative/dir"})", 400, "not a directory on the head"},
           {R"({"entrypoint": "true", "runtime_env": {"pip": ["x"]}})", 400, "runtime_env 'pip' is not supported"},
       }) {
    auto r = Api("POST", "/api/jobs/", c.body);
    EXPECT_EQ(r.status, c.status) << c.body << " -> " << r.body;
    EXPECT_PRED2(Contains, r.body, c.says);
  }
  EXPECT_EQ(JobCount(), before);  // none of them made a job
  EXPECT_EQ(Api("POST", "/api/jobs/", std::string(2 << 20, 'x')).status, 413);
  EXPECT_EQ(Api("GET", "/api/jobs/no-such-job").status, 404);
  EXPECT_EQ(Api("GET", "/api/jobs/no-such-job/logs").status, 404);
  EXPECT_EQ(Api("POST", "/api/jobs/no-such-job/stop").status, 404);
  EXPECT_EQ(Api("GET", "/api/nothing-here").status, 404);
  EXPECT_EQ(Api("DELETE", "/api/jobs/").status, 405);
  // A submission id is taken once.
  EXPECT_EQ(Api("POST", "/api/jobs/", R"({"entrypoint": "true", "submission_id": "once"})").status, 200);
  auto twice = Api("POST", "/api/jobs/", R"({"entrypoint": "true", "submission_id": "once"})");
  EXPECT_EQ(twice.status, 409) << twice.body;
  EXPECT_TRUE(WaitUntil([] { return Ended("once"); }));
  EXPECT_EQ(Job("once")["status"], "SUCCEEDED");
  EXPECT_EQ(JobCount(), before + 1);
}

// A connected socket to the dashboard (-1 if it cannot connect).
int ConnectTo(const std::string& address) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(std::stoi(address.substr(address.rfind(':') + 1)));
  inet_pton(AF_INET, address.substr(0, address.rfind(':')).c_str(), &a.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

TEST_F(JobsTest, MalformedAndExcessiveRequestsLeaveTheDashboardServing) {
  // What is not HTTP ends its connection, and only that.
  int fd = ConnectTo(cluster_->dashboard_address());
  ASSERT_GE(fd, 0);
  const std::string garbage = "\x01\x02 not http at all\r\n\r\n";
  ASSERT_EQ(write(fd, garbage.data(), garbage.size()), static_cast<ssize_t>(garbage.size()));
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  char buf[256];
  EXPECT_LE(read(fd, buf, sizeof(buf)), 0);  // closed without an answer
  close(fd);
  // Headers beyond 16 KiB are refused.
  std::string huge(20 << 10, 'a');
  EXPECT_EQ(Api("GET", "/api/jobs/", "", &huge).status, 431);
  // More connections than it takes (128): the rest are closed at once, and
  // it answers again once they are gone.
  std::vector<int> held;
  for (int i = 0; i < 200; ++i) {
    int c = ConnectTo(cluster_->dashboard_address());
    if (c >= 0) held.push_back(c);
  }
  EXPECT_GT(held.size(), 128u);
  int refused = 0;
  for (int c : held) {
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  for (size_t i = 150; i < held.size(); ++i) {  // the late ones: closed by the server
    refused += read(held[i], buf, sizeof(buf)) == 0;
  }
  EXPECT_EQ(refused, static_cast<int>(held.size()) - 150);
  for (int c : held) close(c);
  EXPECT_TRUE(WaitUntil([] {
    glint::HttpCallOptions o;
    o.token = cluster_->auth_token();
    auto r = glint::HttpCall(cluster_->dashboard_address(), "GET", "/api/jobs/", "", o);
    return r.ok() && r->status == 200;
  }));
}

TEST_F(JobsTest, AnUploadedWorkingDirAndMetadataAndLogsFromAnOffset) {
  std::filesystem::path dir = glint::testing::TempDir("glint-jobs-wd");
  std::filesystem::create_directories(dir / "bin");
  std::ofstream(dir / "data.txt") << "0123456789";
  std::ofstream(dir / "bin" / "run.sh") << "#!/bin/sh\ncat data.txt\ntouch made-by-the-job\n";
  std::filesystem::permissions(dir / "bin" / "run.sh", std::filesystem::perms::owner_all);
  std::filesystem::create_symlink("data.txt", dir / "link.txt");
  // Left out of the upload, as Ray leaves them: what .gitignore and --exclude name.
  std::filesystem::create_directories(dir / "build");
  std::ofstream(dir / ".gitignore") << "*.log\nbuild/\n";
  std::ofstream(dir / "noise.log") << "noise";
  std::ofstream(dir / "build" / "big.o") << "object";
  std::ofstream(dir / "secret.key") << "secret";
  const std::string uploaded = "sh -c 'bin/run.sh && test -L link.txt && test ! -e noise.log && test ! -e build "
                               "&& test ! -e secret.key'";
  auto [out, status] = Submit("--submission-id in-dir --metadata owner=tests --metadata run=7 --exclude 'secret.*' "
                              "--working-dir " + dir.string(), uploaded);
  EXPECT_EQ(status, 0) << out;
  EXPECT_PRED2(Contains, out, "uploaded");
  EXPECT_PRED2(Contains, out, "3 left out by --exclude or .gitignore");
  auto job = Job("in-dir");
  // It ran in a copy on the head, made from the uploaded package: the
  // executable kept its mode, the link stayed a link, and what the job
  // wrote went to the copy, not to the directory it came from.
  std::string copy = job["working_dir"].get<std::string>();
  EXPECT_NE(copy, dir.string());
  EXPECT_EQ(job["package"].get<std::string>().size(), 64u) << job;
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(copy) / "made-by-the-job")) << copy;
  EXPECT_FALSE(std::filesystem::exists(dir / "made-by-the-job"));
  EXPECT_EQ(job["metadata"], (nlohmann::json{{"owner", "tests"}, {"run", "7"}}));
  auto all = nlohmann::json::parse(Api("GET", "/api/jobs/in-dir/logs").body, nullptr, false);
  EXPECT_EQ(all["logs"], "0123456789");
  EXPECT_EQ(all["next_offset"], 10);
  auto tail = nlohmann::json::parse(Api("GET", "/api/jobs/in-dir/logs?offset=4&limit=3").body, nullptr, false);
  EXPECT_EQ(tail["logs"], "456");
  EXPECT_EQ(tail["next_offset"], 7);
  EXPECT_EQ(Api("GET", "/api/jobs/in-dir/logs?offset=-1").status, 400);
  // The same directory again is on the head already: not uploaded twice,
  // and the second job gets a fresh copy of its own.
  auto [again, again_status] = Submit("--submission-id in-dir-again --exclude 'secret.*' --working-dir " + dir.string(),
                                      "sh -c 'test ! -e made-by-the-job && cat data.txt'");
  EXPECT_EQ(again_status, 0) << again;
  EXPECT_PRED2(Contains, again, "on the head already");
  EXPECT_EQ(Job("in-dir-again")["package"], job["package"]);
  EXPECT_NE(Job("in-dir-again")["working_dir"], copy);
  // Without the .gitignore files' say, only --exclude leaves things out.
  auto [all_files, all_status] = Submit("--no-gitignore --exclude 'secret.*' --working-dir " + dir.string(),
                                        "sh -c 'test -e noise.log && test -e build/big.o && test ! -e secret.key'");
  EXPECT_EQ(all_status, 0) << all_files;
  EXPECT_PRED2(Contains, all_files, "1 left out by --exclude or .gitignore");
  // A directory that is not there is the CLI's usage error; nothing is sent.
  EXPECT_EQ(Submit("--working-dir " + (dir / "no-such-dir").string(), "true").second, 2);
}

TEST_F(JobsTest, PackagesAreCheckedWhenTheyArriveAndNamedByTheirBytes) {
  // An archive made by hand (tar, as a user might with curl): accepted
  // under its SHA-256, and a job may name it.
  std::string ok = TarOf("hello.txt", "from a package");
  ASSERT_FALSE(ok.empty());
  std::string sha = glint::Sha256Hex(ok);
  EXPECT_EQ(Api("GET", "/api/packages/" + sha).status, 404);
  std::string none;
  EXPECT_EQ(Api("PUT", "/api/packages/" + sha, ok, &none).status, 401);
  EXPECT_EQ(Api("GET", "/api/packages/" + sha).status, 404);  // the refused upload stored nothing
  auto put = Api("PUT", "/api/packages/" + sha, ok);
  EXPECT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(Api("GET", "/api/packages/" + sha).status, 200);
  auto submitted = Api("POST", "/api/jobs/",
                       nlohmann::json{{"entrypoint", "cat hello.txt"}, {"submission_id", "from-package"},
                                      {"runtime_env", {{"working_dir", "package://" + sha}}}}
                           .dump());
  ASSERT_EQ(submitted.status, 200) << submitted.body;
  ASSERT_TRUE(WaitUntil([] { return Ended("from-package"); }));
  EXPECT_EQ(Job("from-package")["status"], "SUCCEEDED") << Job("from-package");
  EXPECT_EQ(nlohmann::json::parse(Api("GET", "/api/jobs/from-package/logs").body)["logs"], "from a package");

  // Refused, each saying why, and nothing stored: a name that is not a
  // SHA-256, bytes that are not the name's, what is not an archive, an
  // archive whose entry climbs out of it, an unknown package for a job,
  // and a body beyond 100 MiB.
  std::string evil = TarOf("hello.txt", "x", "-P --transform=s,^,../,");  // its entry: ../hello.txt
  ASSERT_FALSE(evil.empty());
  struct Case {
    std::string name, body;
    int status;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {"not-a-sha", ok, 400, "is not a package name"},
           {glint::Sha256Hex("other bytes"), ok, 400, "the body's SHA-256 is"},
           {glint::Sha256Hex("not an archive"), "not an archive", 400, "not an archive"},
           {glint::Sha256Hex(evil), evil, 400, "climbs out of it"},
       }) {
    auto r = Api("PUT", "/api/packages/" + c.name, c.body);
    EXPECT_EQ(r.status, c.status) << c.name << " -> " << r.body;
    EXPECT_PRED2(Contains, r.body, c.says);
    EXPECT_NE(Api("GET", "/api/packages/" + c.name).status, 200) << c.name;
  }
  const size_t before = JobCount();
  auto unknown = Api("POST", "/api/jobs/",
                     nlohmann::json{{"entrypoint", "true"}, {"working_dir", "package://" + glint::Sha256Hex("x")}}.dump());
  EXPECT_EQ(unknown.status, 400) << unknown.body;
  EXPECT_PRED2(Contains, unknown.body, "upload it first");
  EXPECT_EQ(JobCount(), before);
  EXPECT_EQ(Api("PUT", "/api/packages/" + sha, std::string((100 << 20) + 1, 'x')).status, 413);
}

TEST_F(JobsTest, OnlyTheNewestEndedJobsKeepTheirCopiesOfAnUploadedDir) {
  std::string bytes = TarOf("f", "x");
  ASSERT_FALSE(bytes.empty());
  std::string sha = glint::Sha256Hex(bytes);
  ASSERT_EQ(Api("PUT", "/api/packages/" + sha, bytes).status, 200);
  // One job more than the 16 copies kept, one after another.
  std::vector<std::string> copies;
  for (int i = 0; i < 17; ++i) {
    std::string id = "copy-" + std::to_string(i);
    auto r = Api("POST", "/api/jobs/",
                 nlohmann::json{{"entrypoint", "test -f f"}, {"submission_id", id}, {"working_dir", "package://" + sha}}
                     .dump());
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_TRUE(WaitUntil([&] { return Ended(id); }));
    EXPECT_EQ(Job(id)["status"], "SUCCEEDED") << Job(id);
    copies.push_back(Job(id)["working_dir"].get<std::string>());
  }
  // The first one's copy went when the 17th ended; the newest 16 stay.
  EXPECT_TRUE(WaitUntil([&] { return !std::filesystem::exists(copies[0]); })) << copies[0];
  for (size_t i = 1; i < copies.size(); ++i) EXPECT_TRUE(std::filesystem::exists(copies[i])) << copies[i];
}

TEST_F(JobsTest, AnUploadIsAnsweredFromItsHeaderBeforeItsBodyIsSent) {
  // What the server says after the header alone, with 50 MB announced and
  // "Expect: 100-continue" (curl's way with large bodies): no token, and it
  // refuses without waiting for a byte of the body; with it, it asks for it.
  auto first_line = [](const std::string& auth) {
    int fd = ConnectTo(cluster_->dashboard_address());
    if (fd < 0) return std::string("cannot connect");
    std::string head = "PUT /api/packages/" + glint::Sha256Hex("x") +
                       " HTTP/1.1\r\nHost: glint\r\nContent-Length: 50000000\r\nExpect: 100-continue\r\n" + auth +
                       "\r\n";
    timeval timeout{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    std::string got;
    if (write(fd, head.data(), head.size()) == static_cast<ssize_t>(head.size())) {
      char buf[512];
      ssize_t n = read(fd, buf, sizeof(buf));
      if (n > 0) got.assign(buf, static_cast<size_t>(n));
    }
    close(fd);
    return got.substr(0, got.find("\r\n"));
  };
  EXPECT_EQ(first_line(""), "HTTP/1.1 401 Unauthorized");
  EXPECT_EQ(first_line("Authorization: Bearer " + cluster_->auth_token() + "\r\n"), "HTTP/1.1 100 Continue");
  EXPECT_EQ(Api("GET", "/api/packages/" + glint::Sha256Hex("x")).status, 404);
}

TEST_F(JobsTest, EntrypointCpusAreHeldOnTheHeadWhileItRuns) {
  // A worker node with CPUs to spare joins: the reservations go on the head all the same.
  cluster_->AddNode(4);
  ASSERT_TRUE(WaitUntil([] { return CliJson("list nodes").size() == 2; }));
  // Nothing else holds the head's 2 CPUs (the earlier tests' drivers are gone).
  ASSERT_TRUE(WaitUntil([] { return HeadCpus() == std::pair{2.0, 2.0}; })) << CliJson("list nodes");
  // More than the head has is refused at once, saying so; so is a bad number.
  auto [too_many, too_many_status] = Submit("--entrypoint-num-cpus 3", "echo never");
  EXPECT_EQ(too_many_status, 1) << too_many;
  EXPECT_PRED2(Contains, too_many, "the head node has 2 in all");
  EXPECT_EQ(Api("POST", "/api/jobs/", R"({"entrypoint": "true", "entrypoint_num_cpus": "two"})").status, 400);
  EXPECT_EQ(Api("POST", "/api/jobs/", R"({"entrypoint": "true", "entrypoint_num_cpus": -1})").status, 400);
  EXPECT_EQ(Submit("--entrypoint-num-cpus -2", "true").second, 2);
  EXPECT_TRUE(Reservations().empty());

  // A job holding both CPUs runs; the head has none free meanwhile.
  auto [a, a_status] = Submit("--no-wait --submission-id holds-two --entrypoint-num-cpus 2",
                              "sh -c 'echo started; sleep 300'");
  ASSERT_EQ(a_status, 0) << a;
  ASSERT_TRUE(WaitUntil([] { return Job("holds-two")["status"] == "RUNNING"; })) << Job("holds-two");
  EXPECT_EQ(Job("holds-two")["entrypoint_num_cpus"], 2.0);
  EXPECT_TRUE(WaitUntil([] { return HeadCpus().second == 0; })) << CliJson("list nodes");
  auto [same_id, same_id_status] = Submit("--submission-id holds-two --entrypoint-num-cpus 1", "true");
  EXPECT_EQ(same_id_status, 1) << same_id;
  EXPECT_PRED2(Contains, same_id, "a job with the submission id 'holds-two' exists already");

  // Jobs asking for a CPU now wait PENDING, saying for what; one stopped
  // while it waits ends without its entrypoint ever starting.
  ASSERT_EQ(Submit("--no-wait --submission-id waits-one --entrypoint-num-cpus 1", "echo ran-after-waiting").second, 0);
  ASSERT_EQ(Submit("--no-wait --submission-id never-starts --entrypoint-num-cpus 1", "touch should-not-exist").second, 0);
  ASSERT_TRUE(WaitUntil([] {
    return Contains(Job("waits-one").value("message", ""), "waiting for 1 CPUs on the head node: ");
  })) << Job("waits-one");
  EXPECT_EQ(Job("waits-one")["status"], "PENDING");
  EXPECT_EQ(Reservations(), (std::set<std::string>{"holds-two", "waits-one", "never-starts"}));
  auto [stopped, stopped_status] = Cli("job stop never-starts");
  EXPECT_EQ(stopped_status, 0) << stopped;
  auto never = Job("never-starts");
  EXPECT_EQ(never["status"], "STOPPED") << never;
  EXPECT_PRED2(Contains, never["message"].get<std::string>(), "before the entrypoint started");
  EXPECT_EQ(never["driver_pid"], 0);
  EXPECT_FALSE(std::filesystem::exists(never["working_dir"].get<std::string>() + "/should-not-exist"));
  EXPECT_TRUE(WaitUntil([] { return Reservations() == std::set<std::string>{"holds-two", "waits-one"}; }));
  EXPECT_EQ(Job("waits-one")["status"], "PENDING");

  // When the first ends, its CPUs go to the waiting job, which runs.
  EXPECT_EQ(Cli("job stop holds-two").second, 0);
  ASSERT_TRUE(WaitUntil([] { return Ended("waits-one"); })) << Job("waits-one");
  EXPECT_EQ(Job("waits-one")["status"], "SUCCEEDED") << Job("waits-one");
  EXPECT_PRED2(Contains, Api("GET", "/api/jobs/waits-one/logs").body, "ran-after-waiting");
  // Every reservation is returned: the head's CPUs are all free again.
  EXPECT_TRUE(WaitUntil([] { return Reservations().empty() && HeadCpus().second == 2; })) << CliJson("list nodes");
}

TEST_F(JobsTest, ADashboardThatDiedLeavesNoEntrypointRunningNorCpusHeld) {
  auto [out, status] = Submit("--no-wait --submission-id orphaned --entrypoint-num-cpus 1",
                              "sh -c 'echo started; sleep 300'");
  ASSERT_EQ(status, 0) << out;
  ASSERT_TRUE(WaitUntil([] { return Contains(Api("GET", "/api/jobs/orphaned/logs").body, "started"); }));
  pid_t entrypoint = Job("orphaned")["driver_pid"].get<int>();
  ASSERT_GT(entrypoint, 0);
  ASSERT_TRUE(WaitUntil([] { return HeadCpus().second == 1; })) << CliJson("list nodes");
  // The dashboard is killed outright; the next one finds what it left: the
  // job is FAILED, its entrypoint stopped, its CPUs returned.
  cluster_->RestartDashboard();
  auto job = Job("orphaned");
  EXPECT_EQ(job["status"], "FAILED") << job;
  EXPECT_PRED2(Contains, job["message"].get<std::string>(), "its entrypoint was stopped");
  EXPECT_TRUE(WaitUntil([&] { return Exited(entrypoint); }));
  EXPECT_TRUE(WaitUntil([] { return Reservations().empty() && HeadCpus().second == 2; })) << CliJson("list nodes");
  // And it takes jobs (the CLI finds it where it recorded its new address).
  auto [again, again_status] = Submit("--submission-id after-dashboard-restart --entrypoint-num-cpus 1", "echo fine");
  EXPECT_EQ(again_status, 0) << again;
  EXPECT_PRED2(Contains, again, "fine");
}

TEST_F(JobsTest, RecordsLiveInTheGcsStoreAndOutliveItsRestart) {
  auto [out, status] = Submit("--submission-id kept", "echo kept");
  ASSERT_EQ(status, 0) << out;
  auto stored = glint::kv::Get("kept", "jobs");
  ASSERT_TRUE(stored.has_value());
  glint::proto::JobSubmission record;
  ASSERT_TRUE(record.ParseFromString(*stored));
  EXPECT_EQ(record.status(), glint::proto::JOB_SUCCEEDED);
  EXPECT_EQ(record.entrypoint(), "echo kept");
  // The GCS starts again on its store: the record is there, and the
  // dashboard goes on taking jobs.
  cluster_->RestartGcs();
  EXPECT_TRUE(WaitUntil([] { return glint::kv::Get("kept", "jobs").has_value(); }));
  auto [again, again_status] = Submit("--submission-id after-restart", "echo again");
  EXPECT_EQ(again_status, 0) << again;
  EXPECT_TRUE(glint::kv::Get("after-restart", "jobs").has_value());
}

}  // namespace
