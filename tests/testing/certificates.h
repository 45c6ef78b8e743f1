// Certificates for TLS tests, made at run time with the openssl program: a
// cluster CA and a node certificate it signed (for 127.0.0.1 and localhost,
// good as server and as client), and a stranger's CA with a certificate of
// its own.
#pragma once
#include <fstream>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/tls.h"
#include "testing/shell.h"

namespace glint::testing {

struct TestCertificates {
  std::string dir;
  TlsFiles cluster;   // the node certificate, its key and the cluster CA
  TlsFiles stranger;  // a certificate from another CA, and that CA
};

inline bool HaveOpenssl() {
  int status = 0;
  RunCommand("openssl version >/dev/null 2>&1", &status);
  return status == 0;
}

// nullopt (with the reason in *why) if openssl is missing or fails.
inline std::optional<TestCertificates> MakeTestCertificates(std::string* why) {
  if (!HaveOpenssl()) {
    *why = "no openssl program to make certificates with (apt-get install openssl)";
    return std::nullopt;
  }
  TestCertificates c;
  c.dir = TempDir();
  std::ofstream(c.dir + "/node.ext") << "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                                        "extendedKeyUsage=serverAuth,clientAuth\n"
                                        "basicConstraints=CA:FALSE\n";
  auto ca = [&](const std::string& name) {
    return absl::StrCat("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2",
                        " -subj /CN=", name, " -addext basicConstraints=critical,CA:TRUE",
                        " -addext keyUsage=critical,keyCertSign,cRLSign -keyout ", name, ".key -out ", name, ".pem");
  };
  auto signed_by = [&](const std::string& name, const std::string& by) {
    return absl::StrCat("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=", name,
                        " -keyout ", name, ".key -out ", name, ".csr && openssl x509 -req -days 2 -in ", name,
                        ".csr -CA ", by, ".pem -CAkey ", by, ".key -CAcreateserial -extfile node.ext -out ", name,
                        ".pem");
  };
  std::string script = absl::StrCat("cd ", c.dir, " && ", ca("cluster-ca"), " && ", signed_by("node", "cluster-ca"),
                                    " && ", ca("other-ca"), " && ", signed_by("stranger", "other-ca"));
  int status = 0;
  std::string out = RunCommand("(" + script + ") 2>&1", &status);
  if (status != 0) {
    *why = "openssl failed: " + out;
    return std::nullopt;
  }
  c.cluster = TlsFiles{c.dir + "/node.pem", c.dir + "/node.key", c.dir + "/cluster-ca.pem", false, ""};
  c.stranger = TlsFiles{c.dir + "/stranger.pem", c.dir + "/stranger.key", c.dir + "/other-ca.pem", false, ""};
  return c;
}

// The same certificates for every test of a program, made once (openssl
// takes a moment); nullopt (the reason in *why) as MakeTestCertificates.
inline const std::optional<TestCertificates>& SharedTestCertificates(std::string* why) {
  static std::string reason;
  static const std::optional<TestCertificates> certs = MakeTestCertificates(&reason);
  *why = reason;
  return certs;
}

}  // namespace glint::testing
